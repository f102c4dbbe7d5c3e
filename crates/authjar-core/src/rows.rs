//! The session and user rows that `GET /auth/me` and a refresh read on
//! every call, kept per process so the common call needs no database
//! round trip.
//!
//! Two caches, each correct for its own reason:
//!
//! - **Sessions, keyed by `(session id, the access token's iat)`.** A
//!   session row changes in three ways only: a rotation (which issues a new
//!   access token, so a new key: the old entry is never consulted for the
//!   new token), a revocation (the revoked-session set, checked on every
//!   request before this cache, carries it to every instance), and its end
//!   (`expires_at` only moves forward with rotations, so a cached copy that
//!   says "active" is never wrong about the row; one that says "expired" is
//!   read again). A request with a given token therefore sees the row as it
//!   was when that token was issued, which is what the token vouches for.
//! - **Users, keyed by id, guarded by epochs.** A user row changes on
//!   e-mail verification, password change, identity unlinking and deletion.
//!   Each write bumps the epoch of the user's shard (here, and on every
//!   other instance through the store's change feed); an entry is valid only
//!   while its shard's epoch equals the one read *before* the row was
//!   fetched, so a fill that raced a write is born stale and never used.
//!   256 shards keep one user's change from emptying everyone's entries.
//!
//! Neither trusts an entry older than [`MAX_AGE`] seconds: a change made
//! behind authjar's back (an operator's SQL on a SQLite file, a lost
//! notification) shows within that time.
//!
//! When the change feed is interrupted (another instance's writes may be
//! missed) the service bypasses both caches until it is current again, and
//! every epoch moves on a resync. Memory is bounded by weight:
//! [`SESSION_CAPACITY_BYTES`] and [`USER_CAPACITY_BYTES`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;
use uuid::Uuid;

use crate::clock::UnixTime;
use crate::records::{Session, User};

/// The oldest entry either cache answers with, in seconds.
pub(crate) const MAX_AGE: i64 = 30;

/// The most memory cached sessions take: 8 MiB, about 30,000 sessions.
pub(crate) const SESSION_CAPACITY_BYTES: u64 = 8 * 1024 * 1024;
/// The most memory cached users take: 4 MiB, about 20,000 users.
pub(crate) const USER_CAPACITY_BYTES: u64 = 4 * 1024 * 1024;

/// Bytes an entry costs beyond its strings (allocations, the map's slot).
const OVERHEAD_BYTES: u64 = 160;
const SHARDS: usize = 256;

#[derive(Clone)]
struct SessionWeight;

/// A session row and when it was read.
struct SessionAt {
    at: UnixTime,
    session: Session,
}

impl Weighter<(Uuid, i64), Arc<SessionAt>> for SessionWeight {
    fn weight(&self, _: &(Uuid, i64), e: &Arc<SessionAt>) -> u64 {
        let s = &e.session;
        let strings =
            s.user_agent.as_ref().map_or(0, String::len) + s.ip.as_ref().map_or(0, String::len);
        strings as u64 + std::mem::size_of::<SessionAt>() as u64 + OVERHEAD_BYTES
    }
}

/// A user row, when it was read and the epoch of its shard then.
struct Filled {
    epoch: u64,
    at: UnixTime,
    user: User,
}

#[derive(Clone)]
struct UserWeight;

impl Weighter<Uuid, Arc<Filled>> for UserWeight {
    fn weight(&self, _: &Uuid, f: &Arc<Filled>) -> u64 {
        let strings = f.user.email.as_str().len() + f.user.name.as_ref().map_or(0, String::len);
        strings as u64 + std::mem::size_of::<Filled>() as u64 + OVERHEAD_BYTES
    }
}

/// The per-process caches of session and user rows.
pub(crate) struct RowCache {
    sessions: Cache<(Uuid, i64), Arc<SessionAt>, SessionWeight>,
    users: Cache<Uuid, Arc<Filled>, UserWeight>,
    epochs: Box<[AtomicU64; SHARDS]>,
}

/// A user read's ticket: the shard epoch and the time, taken before the
/// store was asked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    epoch: u64,
    at: UnixTime,
}

impl RowCache {
    pub(crate) fn new() -> RowCache {
        RowCache::with_capacity(SESSION_CAPACITY_BYTES, USER_CAPACITY_BYTES)
    }

    pub(crate) fn with_capacity(session_bytes: u64, user_bytes: u64) -> RowCache {
        RowCache {
            sessions: Cache::with_weighter(
                (session_bytes / 300).max(16) as usize,
                session_bytes,
                SessionWeight,
            ),
            users: Cache::with_weighter(
                (user_bytes / 250).max(16) as usize,
                user_bytes,
                UserWeight,
            ),
            epochs: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }

    /// The epoch of the user's shard (a UUID's last byte is random in v4
    /// and v7 alike).
    fn epoch(&self, user_id: &Uuid) -> &AtomicU64 {
        &self.epochs[usize::from(user_id.as_bytes()[15]) % SHARDS]
    }

    /// The session row as of the access token issued at `iat`, if read
    /// less than [`MAX_AGE`] ago.
    pub(crate) fn session(&self, sid: Uuid, iat: i64, now: UnixTime) -> Option<Session> {
        let e = self.sessions.get(&(sid, iat))?;
        (now - e.at < MAX_AGE).then(|| e.session.clone())
    }

    /// Remembers the session row, read at `now`, that the token issued at
    /// `iat` vouches for.
    pub(crate) fn put_session(&self, iat: i64, session: &Session, now: UnixTime) {
        self.sessions.insert(
            (session.id, iat),
            Arc::new(SessionAt {
                at: now,
                session: session.clone(),
            }),
        );
    }

    /// The user, if cached less than [`MAX_AGE`] ago and unchanged since.
    pub(crate) fn user(&self, id: Uuid, now: UnixTime) -> Option<User> {
        let f = self.users.get(&id)?;
        (f.epoch == self.epoch(&id).load(Ordering::Acquire) && now - f.at < MAX_AGE)
            .then(|| f.user.clone())
    }

    /// Take before reading a user from the store, at `now`; give to
    /// [`RowCache::put_user`].
    pub(crate) fn ticket(&self, id: Uuid, now: UnixTime) -> Ticket {
        Ticket {
            epoch: self.epoch(&id).load(Ordering::Acquire),
            at: now,
        }
    }

    /// Remembers a user read after `ticket` was taken. If the user's shard
    /// changed meanwhile the entry is stored stale, so it is never used.
    pub(crate) fn put_user(&self, ticket: Ticket, user: &User) {
        self.users.insert(
            user.id,
            Arc::new(Filled {
                epoch: ticket.epoch,
                at: ticket.at,
                user: user.clone(),
            }),
        );
    }

    /// A user row changed (here or on another instance): its cached copy,
    /// and any fill in flight, are void.
    pub(crate) fn user_changed(&self, id: Uuid) {
        self.epoch(&id).fetch_add(1, Ordering::AcqRel);
        self.users.remove(&id);
    }

    /// Changes may have been missed (the feed reconnected): every cached
    /// user is void.
    pub(crate) fn all_users_changed(&self) {
        for e in self.epochs.iter() {
            e.fetch_add(1, Ordering::AcqRel);
        }
        self.users.clear();
    }

    /// The entries' total weight (for tests of the bound).
    #[cfg(test)]
    fn weight(&self) -> (u64, u64) {
        (self.sessions.weight(), self.users.weight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::Email;

    fn user(i: u128) -> User {
        User {
            id: Uuid::from_u128(i),
            email: Email::parse(&format!("cat{i}@example.com")).unwrap(),
            name: Some("Tom".into()),
            created_at: 1,
            email_verified_at: None,
        }
    }

    fn session(i: u128) -> Session {
        Session {
            id: Uuid::from_u128(1_000_000 + i),
            user_id: Uuid::from_u128(i),
            created_at: 1,
            last_seen_at: 1,
            expires_at: 1000,
            rotated_at: None,
            revoked_at: None,
            user_agent: Some("x".repeat(120)),
            ip: Some("192.0.2.1".into()),
        }
    }

    #[test]
    fn a_user_changed_after_the_ticket_is_never_served() {
        let rows = RowCache::new();
        let u = user(7);
        // A fill that raced a write: ticket, (write lands), then the old row is put.
        let ticket = rows.ticket(u.id, 0);
        rows.user_changed(u.id);
        rows.put_user(ticket, &u);
        assert!(
            rows.user(u.id, 0).is_none(),
            "a fill older than the write is stale"
        );
        // A fill after the write is good until the next write.
        let ticket = rows.ticket(u.id, 0);
        rows.put_user(ticket, &u);
        assert_eq!(rows.user(u.id, 0), Some(u.clone()));
        rows.user_changed(u.id);
        assert!(rows.user(u.id, 0).is_none());
        // A resync voids every user.
        let ticket = rows.ticket(u.id, 0);
        rows.put_user(ticket, &u);
        rows.all_users_changed();
        assert!(rows.user(u.id, 0).is_none());
    }

    #[test]
    fn another_users_change_leaves_an_entry_of_another_shard_alone() {
        let rows = RowCache::new();
        let (a, b) = (user(1), user(2));
        for u in [&a, &b] {
            let t = rows.ticket(u.id, 0);
            rows.put_user(t, u);
        }
        rows.user_changed(a.id);
        assert!(rows.user(a.id, 0).is_none());
        assert_eq!(rows.user(b.id, 0), Some(b));
    }

    #[test]
    fn a_session_is_found_only_under_the_token_it_was_put_for() {
        let rows = RowCache::new();
        let s = session(1);
        rows.put_session(100, &s, 0);
        assert_eq!(rows.session(s.id, 100, 0), Some(s.clone()));
        assert!(
            rows.session(s.id, 101, 0).is_none(),
            "a token issued later reads the row again"
        );
    }

    #[test]
    fn no_entry_is_trusted_past_its_age() {
        let rows = RowCache::new();
        let (s, u) = (session(3), user(3));
        rows.put_session(100, &s, 1000);
        rows.put_user(rows.ticket(u.id, 1000), &u);
        assert!(rows.session(s.id, 100, 1000 + MAX_AGE - 1).is_some());
        assert!(rows.user(u.id, 1000 + MAX_AGE - 1).is_some());
        assert!(rows.session(s.id, 100, 1000 + MAX_AGE).is_none());
        assert!(rows.user(u.id, 1000 + MAX_AGE).is_none());
    }

    #[test]
    fn memory_stays_within_the_bounds_however_many_rows_arrive() {
        let rows = RowCache::with_capacity(64 * 1024, 32 * 1024);
        for i in 0..10_000 {
            rows.put_session(i as i64, &session(i), 0);
            let u = user(i);
            let t = rows.ticket(u.id, 0);
            rows.put_user(t, &u);
        }
        let (s, u) = rows.weight();
        assert!(s <= 64 * 1024 && s > 32 * 1024, "{s}");
        assert!(u <= 32 * 1024 && u > 16 * 1024, "{u}");
    }
}
