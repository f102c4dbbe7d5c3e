-- authjar on PostgreSQL: the same tables as the SQLite migrations, in one
-- step. Times are Unix seconds; ids are UUIDs; hashes are SHA-256 bytes.
CREATE TABLE users (
    id                UUID PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE,
    name              TEXT,
    password_hash     TEXT,
    created_at        BIGINT NOT NULL,
    email_verified_at BIGINT
);

-- One row per session = one refresh-token family: the current hash and the
-- one it replaced (for the reuse grace window).
CREATE TABLE sessions (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_hash  BYTEA NOT NULL UNIQUE,
    previous_hash BYTEA,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    rotated_at    BIGINT,
    revoked_at    BIGINT,
    user_agent    TEXT,
    ip            TEXT
);
CREATE INDEX sessions_previous_hash ON sessions(previous_hash);
CREATE INDEX sessions_user ON sessions(user_id, created_at);

-- Every hash a rotation retired, while its session lives.
CREATE TABLE retired_refresh (
    hash       BYTEA PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    retired_at BIGINT NOT NULL
);
CREATE INDEX retired_refresh_session ON retired_refresh(session_id);

-- Accounts at external providers linked to users.
CREATE TABLE identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_user ON identities(user_id);

-- One-time tokens sent by e-mail (only their SHA-256).
CREATE TABLE email_tokens (
    hash       BYTEA PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_tokens_user ON email_tokens(user_id);
