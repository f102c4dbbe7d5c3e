-- Every instance keeps a copy of the user rows it serves on every call
-- (`GET /auth/me`, refresh). Any change to a user row, whoever makes it,
-- tells every instance on the channel the revocation feed already follows,
-- so their copies are dropped (payload `user:<id>`).
CREATE FUNCTION authjar_user_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('authjar_revocations', 'user:' || OLD.id::text);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION authjar_user_changed();
