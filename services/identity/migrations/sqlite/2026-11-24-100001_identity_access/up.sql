-- Phone numbers are PII: sealed with AES-256-GCM (weft-secrets), never stored in clear.
ALTER TABLE identity_users ADD COLUMN phone_sealed TEXT;
-- An erased account keeps its row (orders refer to it) but nothing personal.
ALTER TABLE identity_users ADD COLUMN erased_at TIMESTAMP;

-- TOTP (RFC 6238). The secret is sealed; `last_step` is the last accepted time step, so a
-- code cannot be used twice within its window.
CREATE TABLE identity_totp (
    user_id TEXT PRIMARY KEY REFERENCES identity_users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    enabled_at TIMESTAMP,
    last_step BIGINT,
    created_at TIMESTAMP NOT NULL
);

-- Single-use recovery codes, stored as SHA-256 digests (they are random, not chosen).
CREATE TABLE identity_recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX identity_recovery_codes_user ON identity_recovery_codes (user_id);

-- Third-party apps (OAuth2 client credentials). Scopes are space-separated.
CREATE TABLE identity_apps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

-- API keys `wk_live_…`, stored as SHA-256 digests; `prefix` is what lists show.
CREATE TABLE identity_api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

-- A customer's saved addresses, sealed whole (JSON), bound to their id.
CREATE TABLE identity_addresses (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    sealed TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX identity_addresses_user ON identity_addresses (user_id);

-- Social sign-in: a provider's subject linked to a user.
CREATE TABLE identity_oauth_links (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject)
);

-- Social sign-in attempts in flight: the state (digest), the PKCE verifier (sealed).
CREATE TABLE identity_oauth_states (
    state_hash TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    verifier_sealed TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
