"""The embedded engine: SQLite (WAL, FTS5) in data_dir, FAISS generation files, an flock per crawl."""
