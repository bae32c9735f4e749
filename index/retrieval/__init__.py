"""Retrieval: hybrid search (FTS5/BM25 + vectors, reciprocal rank fusion), facets, feedback, the query log."""
