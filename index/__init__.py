"""The knowledge index: store, chunking, embeddings, vectors, hybrid search, people, experts."""
