-- BM25 like FTS5's (index/pg_store.py fts): each chunk's length in tokens, title and body together
CREATE OR REPLACE FUNCTION guild_tsv_tokens(tsvector) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(sum(cardinality(positions)), 0)::integer FROM unnest($1) $$;
ALTER TABLE chunks_fts ADD COLUMN IF NOT EXISTS ntokens integer GENERATED ALWAYS AS (
    guild_tsv_tokens(to_tsvector('english', coalesce(title, '')) || to_tsvector('english', coalesce(body, '')))) STORED;
