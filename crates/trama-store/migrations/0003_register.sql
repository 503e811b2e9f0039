-- The contribution register: the entries of the verifiable log, the stored Merkle hashes, the
-- signed checkpoints, and the links from agents to their pseudonyms. Entries are the exact
-- canonical bytes that were hashed (UTF-8 JSON); hashes are base64. Same portable types as
-- 0001 and 0002.

CREATE TABLE register_entries (
    -- 0-based position in the log.
    idx BIGINT PRIMARY KEY,
    -- The event's @id: the same event is never appended twice.
    event_id TEXT NOT NULL UNIQUE,
    entry TEXT NOT NULL,
    -- Pseudonyms or public IRIs, copied out of the entry for lookups.
    provider TEXT NOT NULL,
    receiver TEXT NOT NULL,
    appended_at BIGINT NOT NULL
);
CREATE INDEX register_entries_provider ON register_entries (provider);
CREATE INDEX register_entries_receiver ON register_entries (receiver);

-- Stored hashes in the sumdb/tlog layout (idx is the stored-hash index).
CREATE TABLE register_hashes (
    idx BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);

CREATE TABLE register_checkpoints (
    size BIGINT PRIMARY KEY,
    root TEXT NOT NULL,
    -- The signed note exactly as published.
    note TEXT NOT NULL,
    signed_at BIGINT NOT NULL
);

-- Who is behind a pseudonym. Erasing a person deletes their row: the salt goes with it, so the
-- pseudonym can no longer be recomputed, and the log stays as it is.
CREATE TABLE register_agents (
    agent TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL UNIQUE,
    salt TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
