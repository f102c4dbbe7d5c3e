//! Sessions revoked on this instance, so their still-valid access tokens
//! stop working at once without a database lookup on the verify path.
//! Entries live only as long as an access token could: after that the
//! token has expired anyway.

use std::collections::HashMap;
use std::sync::RwLock;

use uuid::Uuid;

use crate::clock::UnixTime;

/// An in-process set of revoked session ids with expiry.
#[derive(Debug, Default)]
pub struct RevokedSessions {
    entries: RwLock<HashMap<Uuid, UnixTime>>,
}

impl RevokedSessions {
    /// Marks `sid` revoked until `until` (the last moment a token of it could be valid).
    pub fn insert(&self, sid: Uuid, until: UnixTime, now: UnixTime) {
        let Ok(mut map) = self.entries.write() else {
            return;
        };
        if map.len() >= 1024 {
            map.retain(|_, exp| *exp > now);
        }
        map.insert(sid, until);
    }

    /// True when `sid` was revoked here and a token of it could still be valid.
    pub fn contains(&self, sid: &Uuid, now: UnixTime) -> bool {
        // A poisoned lock fails closed: treat the session as revoked.
        self.entries
            .read()
            .map_or(true, |m| m.get(sid).is_some_and(|exp| *exp > now))
    }
}
