-- Trust, the penetration test's lower findings: accounts signed up through the site confirm
-- their e-mail address before they can sign in; the demo's auditor changes nothing.

-- When the person confirmed their address (microseconds UTC). NULL: signed up and not
-- confirmed yet; such an account cannot sign in. Accounts that existed before (the demo's,
-- those made by operators) count as confirmed, and so do those the store creates directly.
ALTER TABLE users ADD COLUMN verified_at BIGINT;
UPDATE users SET verified_at = created_at;

-- Links that confirm an address: only the SHA-256 of the random token is kept, with its
-- expiry, and the password hash of the sign-up that asked for it: a link confirms only with
-- that sign-up's password, which then becomes the account's (so nobody who signs up for an
-- address they do not read can set its password, before or after its owner).
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- verify (the only purpose so far)
    purpose TEXT NOT NULL,
    password_hash TEXT,
    -- The name and language that sign-up gave: they become the account's with the password.
    display_name TEXT,
    locale TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

-- The demo's auditor also held the citizen role, and so could post needs and offers: an
-- auditor reads and changes nothing.
DELETE FROM role_grants WHERE role = 'citizen' AND user_id IN (
    SELECT id FROM users WHERE email = 'revisore@demo.trama.it'
);
