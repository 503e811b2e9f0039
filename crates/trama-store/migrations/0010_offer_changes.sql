-- The offers' change log (issue 14): the server answers suggestions from an in-memory index of
-- the offers that can be suggested, kept current by this version and the offers changed under
-- each ('*' for all of them), written in the same transaction as the change, as the directory
-- does for its search index.
CREATE TABLE offers_version (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO offers_version (id, version) VALUES (1, 0);
CREATE TABLE offer_changes (
    version BIGINT NOT NULL,
    offer_id TEXT NOT NULL,
    PRIMARY KEY (version, offer_id)
);
