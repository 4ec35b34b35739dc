-- Index terms (store.DefineIndex) beside the documents they find, bytewise
-- like the keys; doc_index_by_key finds a document's terms when it changes.
CREATE TABLE IF NOT EXISTS doc_index (
    kind TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    term BYTEA NOT NULL,
    key  BYTEA NOT NULL,
    PRIMARY KEY (kind, name, term, key)
);
CREATE INDEX IF NOT EXISTS doc_index_by_key ON doc_index (kind, key);
