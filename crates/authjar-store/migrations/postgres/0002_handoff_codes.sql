-- One-time codes handing a session to a cross-site app after an OAuth
-- login: hashes only, removed when used or expired; any instance redeems them.
CREATE TABLE handoff_codes (
    code_hash    BYTEA PRIMARY KEY,
    challenge    BYTEA NOT NULL,
    session_id   UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    refresh_hash BYTEA NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX handoff_codes_expiry ON handoff_codes(expires_at);
