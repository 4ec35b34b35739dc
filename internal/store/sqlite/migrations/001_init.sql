-- Every document lives in one table keyed by (kind, key); WITHOUT ROWID
-- stores rows in primary-key order, which is the order List returns.
CREATE TABLE IF NOT EXISTS documents (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
