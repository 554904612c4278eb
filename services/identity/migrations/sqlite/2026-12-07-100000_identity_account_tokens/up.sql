-- When the holder of the address proved they read it (a verification link, a password
-- reset, or a sign-in provider that vouches for it); NULL until then.
ALTER TABLE identity_users ADD COLUMN email_verified_at TIMESTAMP;

-- Single-use links sent by e-mail: `password_reset` (30 minutes) and `email_verification`
-- (7 days). Only the SHA-256 digest (hex) of the token is stored; the token itself travels
-- once, in the event that asks for the e-mail. `email` is the address the link went to, so
-- a verification for an address the account no longer has proves nothing.
CREATE TABLE identity_account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX identity_account_tokens_user ON identity_account_tokens (user_id);
