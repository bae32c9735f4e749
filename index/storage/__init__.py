"""Storage: every table, file and lock of the index (SQLite + FAISS, or Postgres + pgvector),
chosen once by `factory`. The bottom layer of index/: it imports nothing else of the index."""
