-- words as FTS5's unicode61 tokenizer cuts them: every run of characters that are not letters or digits
-- separates words, so "hyperopt/tpe.py" holds "tpe" and "fit_transform" holds "fit" and "transform"
-- (Postgres' own parser would keep a file path, a URL or a hyphenated word as one token)
DROP INDEX IF EXISTS chunks_fts_tsv;
ALTER TABLE chunks_fts DROP COLUMN IF EXISTS ntokens;
ALTER TABLE chunks_fts DROP COLUMN IF EXISTS tsv;
ALTER TABLE chunks_fts ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', regexp_replace(coalesce(title, ''), '[\W_]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('english', regexp_replace(coalesce(body, ''), '[\W_]+', ' ', 'g')), 'D')) STORED;
ALTER TABLE chunks_fts ADD COLUMN ntokens integer GENERATED ALWAYS AS (guild_tsv_tokens(
    to_tsvector('english', regexp_replace(coalesce(title, ''), '[\W_]+', ' ', 'g')) ||
    to_tsvector('english', regexp_replace(coalesce(body, ''), '[\W_]+', ' ', 'g')))) STORED;
CREATE INDEX IF NOT EXISTS chunks_fts_tsv ON chunks_fts USING gin (tsv);
