-- Every refresh-token hash a rotation retired, for as long as its session
-- lives: presenting any of them is reuse of a stolen token and revokes the
-- session (RFC 9700 §4.14.2), not only the one the last rotation replaced.
CREATE TABLE retired_refresh (
    hash       BLOB PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    retired_at INTEGER NOT NULL
);
CREATE INDEX retired_refresh_session ON retired_refresh(session_id);
