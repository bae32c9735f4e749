-- A document's traits, judged at crawl time (index/ingest/traits.py): its MinHash fingerprint
-- (near-duplicates), its kind of writing (changelog, release notes, ...) and its language.
ALTER TABLE documents ADD COLUMN IF NOT EXISTS fingerprint TEXT;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS genre TEXT;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS lang TEXT;
