-- Users and sessions. Times are Unix seconds; ids are UUID text.
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

-- One row per session = one refresh-token family. Only SHA-256 hashes of
-- refresh tokens are stored: the current one and the one it replaced.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_hash  BLOB NOT NULL UNIQUE,
    previous_hash BLOB,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    rotated_at    INTEGER,
    revoked_at    INTEGER,
    user_agent    TEXT,
    ip            TEXT
);
CREATE INDEX sessions_previous_hash ON sessions(previous_hash);
CREATE INDEX sessions_user ON sessions(user_id, created_at);
