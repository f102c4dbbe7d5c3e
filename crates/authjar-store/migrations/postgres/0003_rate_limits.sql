-- Rate-limit budgets shared by every instance (GCRA): one row per key,
-- holding the theoretical arrival time in microseconds since the epoch.
-- Keys are stored as SHA-256, so client addresses and e-mail addresses
-- are not kept in the clear; a row whose time has passed is the same as
-- no row and is pruned in the background.
CREATE TABLE rate_limits (
    key_hash BYTEA PRIMARY KEY,
    tat      BIGINT NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits(tat);
