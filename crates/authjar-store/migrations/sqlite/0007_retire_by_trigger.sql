-- A refresh rotation is one UPDATE: the hash it replaces is recorded as
-- retired by this trigger, inside that same statement, so a rotation needs
-- no transaction of its own and no second round trip.
CREATE TRIGGER sessions_retire_refresh AFTER UPDATE OF refresh_hash ON sessions
WHEN OLD.refresh_hash <> NEW.refresh_hash
BEGIN
    INSERT OR IGNORE INTO retired_refresh (hash, session_id, retired_at)
    VALUES (OLD.refresh_hash, NEW.id, COALESCE(NEW.rotated_at, NEW.last_seen_at));
END;
