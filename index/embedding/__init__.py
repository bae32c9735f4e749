"""Embedding: the sentence-transformers model loaded offline (bf16 PyTorch, ONNX Runtime, torch),
query vectors and document-vector maths (centroids). Builds on storage only."""
