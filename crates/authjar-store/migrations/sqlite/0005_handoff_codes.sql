-- One-time codes handing a session to a cross-site app after an OAuth
-- login: hashes only, removed when used or expired.
CREATE TABLE handoff_codes (
    code_hash    BLOB PRIMARY KEY NOT NULL,
    challenge    BLOB NOT NULL,
    session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    refresh_hash BLOB NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX handoff_codes_expiry ON handoff_codes(expires_at);
