-- Expired and long-revoked sessions are pruned in small batches, and the
-- revocations of the last access-token lifetime are loaded at start: both
-- by index, never by scanning every session.
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE INDEX sessions_revoked ON sessions(revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX email_tokens_expiry ON email_tokens(expires_at);
-- Deleting a session cascades to its hand-off codes: by index.
CREATE INDEX handoff_codes_session ON handoff_codes(session_id);
