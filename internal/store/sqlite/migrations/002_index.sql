-- Index terms (store.DefineIndex) beside the documents they find. Terms
-- are BLOBs so that they compare bytewise against the BLOB bounds Find
-- binds; doc_index_by_key finds a document's terms when it changes.
CREATE TABLE IF NOT EXISTS doc_index (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    term BLOB NOT NULL,
    key  TEXT NOT NULL,
    PRIMARY KEY (kind, name, term, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_index_by_key ON doc_index (kind, key);
