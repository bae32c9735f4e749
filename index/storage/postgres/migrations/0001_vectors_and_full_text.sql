-- pgvector: each chunk's embedding beside SQLite's float32 BLOB (index/pg_vectors.py searches it;
-- the HNSW index is made by index/pg_vectors.py, which knows the model's dimension)
CREATE EXTENSION IF NOT EXISTS vector;
ALTER TABLE chunks ADD COLUMN IF NOT EXISTS embedding halfvec;
-- full text: FTS5's chunks_fts as a table with a weighted tsvector (title A, body D) and a GIN index
CREATE TABLE IF NOT EXISTS chunks_fts (
    rowid BIGINT PRIMARY KEY, title TEXT, body TEXT,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(body, '')), 'D')) STORED);
CREATE INDEX IF NOT EXISTS chunks_fts_tsv ON chunks_fts USING gin (tsv);
