-- Every document lives in one table keyed by (kind, key). Keys are bytes
-- (a key need not be UTF-8) and compare bytewise, as in SQLite, so List's
-- order and its prefix ranges are the same on both backends.
CREATE TABLE IF NOT EXISTS documents (
    kind  TEXT COLLATE "C" NOT NULL,
    key   BYTEA NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (kind, key)
);
