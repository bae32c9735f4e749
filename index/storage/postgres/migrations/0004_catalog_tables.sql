-- The catalog's and the profiles' tables, which the catalog and profile modules used to create on first use
-- (a database that has them keeps them: IF NOT EXISTS), and the index behind a project's documents.
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, name TEXT, kind TEXT, source TEXT, sources TEXT, team TEXT, summary TEXT, topics TEXT,
    topic_sources TEXT, owners TEXT, owner_people TEXT, contributors TEXT, links TEXT, first_activity TEXT,
    last_activity TEXT, status TEXT, documents BIGINT, main_doc TEXT, provenance TEXT, vector BYTEA, built_at TEXT);
CREATE TABLE IF NOT EXISTS project_documents (doc_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, unit_id TEXT);
CREATE INDEX IF NOT EXISTS project_documents_project ON project_documents(project_id);
CREATE TABLE IF NOT EXISTS project_content (
    project_id TEXT PRIMARY KEY, fingerprint TEXT, direction BYTEA, passages BYTEA, passage_refs TEXT,
    candidates TEXT, key_phrases TEXT, built_at TEXT);
CREATE TABLE IF NOT EXISTS phrase_vectors (phrase TEXT PRIMARY KEY, vector BYTEA);
CREATE TABLE IF NOT EXISTS project_affinity (
    project_id TEXT NOT NULL, other_id TEXT NOT NULL, maxes BYTEA, PRIMARY KEY (project_id, other_id));
CREATE TABLE IF NOT EXISTS project_pairs (
    a TEXT NOT NULL, b TEXT NOT NULL, lead DOUBLE PRECISION, score DOUBLE PRECISION, built_at TEXT, PRIMARY KEY (a, b));
CREATE TABLE IF NOT EXISTS person_profiles (
    person_id TEXT PRIMARY KEY, vector BYTEA, topics TEXT, documents BIGINT, built_at TEXT);
