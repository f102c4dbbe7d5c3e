-- The account lifecycle: when the e-mail was proven, and the one-time
-- tokens sent by e-mail (only their SHA-256 is kept).
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

CREATE TABLE email_tokens (
    hash       BLOB PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX email_tokens_user ON email_tokens(user_id);

-- Addresses compare case-insensitively from now on: stored ones become
-- lower-case where that does not merge two accounts.
UPDATE users SET email = lower(email)
WHERE email <> lower(email)
  AND NOT EXISTS (SELECT 1 FROM users AS other WHERE other.email = lower(users.email) AND other.id <> users.id);
