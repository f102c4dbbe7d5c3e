//! `MemoryStore`: a [`Store`] in one process's memory. Every method takes one
//! lock, so each is atomic like a database statement. For tests (the
//! service's own and the store conformance suite run against it) and for
//! trying authjar without a database; everything is lost on exit.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use uuid::Uuid;

use crate::clock::UnixTime;
use crate::email::Email;
use crate::records::{
    EmailToken, HandoffCode, RefreshMatch, Session, TokenPurpose, User, UserRecord,
};
use crate::store::{RefreshHash, Store, StoreError};

struct SessionRow {
    session: Session,
    current: RefreshHash,
    previous: Option<RefreshHash>,
}

#[derive(Default)]
struct State {
    users: HashMap<Uuid, (User, Option<String>)>,
    by_email: HashMap<Email, Uuid>,
    sessions: HashMap<Uuid, SessionRow>,
    retired: HashMap<RefreshHash, Uuid>,
    identities: HashMap<(String, String), Uuid>,
    tokens: HashMap<[u8; 32], (EmailToken, bool)>,
    handoffs: HashMap<[u8; 32], HandoffCode>,
}

/// A [`Store`] in memory.
#[derive(Default)]
pub struct MemoryStore(Mutex<State>);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.0
            .lock()
            .map_err(|_| StoreError::Backend("memory store lock poisoned".into()))
    }
}

impl State {
    fn remove_user(&mut self, id: Uuid) -> bool {
        let Some((user, _)) = self.users.remove(&id) else {
            return false;
        };
        self.by_email.remove(&user.email);
        let sessions: Vec<Uuid> = self
            .sessions
            .iter()
            .filter(|(_, r)| r.session.user_id == id)
            .map(|(sid, _)| *sid)
            .collect();
        for sid in &sessions {
            self.sessions.remove(sid);
        }
        self.retired.retain(|_, sid| !sessions.contains(sid));
        self.identities.retain(|_, uid| *uid != id);
        self.tokens.retain(|_, (t, _)| t.user_id != id);
        true
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn insert_user(
        &self,
        user: &User,
        password_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if s.by_email.contains_key(&user.email) {
            return Err(StoreError::EmailTaken);
        }
        s.by_email.insert(user.email.clone(), user.id);
        s.users
            .insert(user.id, (user.clone(), password_hash.map(str::to_owned)));
        Ok(())
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        let s = self.state()?;
        Ok(s.by_email
            .get(email)
            .and_then(|id| s.users.get(id))
            .map(|(u, h)| UserRecord {
                user: u.clone(),
                password_hash: h.clone(),
            }))
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        Ok(self.state()?.users.get(&id).map(|(u, _)| u.clone()))
    }

    async fn insert_session(
        &self,
        session: &Session,
        refresh: &RefreshHash,
    ) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if !s.users.contains_key(&session.user_id) {
            return Err(StoreError::Backend("session of an unknown user".into()));
        }
        s.sessions.insert(
            session.id,
            SessionRow {
                session: session.clone(),
                current: *refresh,
                previous: None,
            },
        );
        Ok(())
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        Ok(self.state()?.sessions.get(&id).map(|r| r.session.clone()))
    }

    async fn active_sessions(
        &self,
        user_id: Uuid,
        now: UnixTime,
    ) -> Result<Vec<Session>, StoreError> {
        let s = self.state()?;
        let mut out: Vec<Session> = s
            .sessions
            .values()
            .map(|r| &r.session)
            .filter(|x| x.user_id == user_id && x.revoked_at.is_none() && x.expires_at > now)
            .cloned()
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn session_by_refresh(
        &self,
        hash: &RefreshHash,
    ) -> Result<Option<(Session, RefreshMatch)>, StoreError> {
        let s = self.state()?;
        for r in s.sessions.values() {
            if r.current == *hash {
                return Ok(Some((r.session.clone(), RefreshMatch::Current)));
            }
            if r.previous == Some(*hash) {
                return Ok(Some((r.session.clone(), RefreshMatch::Previous)));
            }
        }
        Ok(s.retired
            .get(hash)
            .and_then(|sid| s.sessions.get(sid))
            .map(|r| (r.session.clone(), RefreshMatch::Retired)))
    }

    async fn rotate_refresh(
        &self,
        id: Uuid,
        old: &RefreshHash,
        new: &RefreshHash,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        let Some(r) = s.sessions.get_mut(&id) else {
            return Ok(false);
        };
        if r.current != *old || r.session.revoked_at.is_some() {
            return Ok(false);
        }
        r.previous = Some(r.current);
        r.current = *new;
        r.session.rotated_at = Some(now);
        r.session.last_seen_at = now;
        r.session.expires_at = expires_at;
        s.retired.insert(*old, id);
        Ok(true)
    }

    async fn revoke_session(&self, id: Uuid, now: UnixTime) -> Result<bool, StoreError> {
        let mut s = self.state()?;
        match s.sessions.get_mut(&id) {
            Some(r) if r.session.revoked_at.is_none() => {
                r.session.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn identity_user(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(self
            .state()?
            .identities
            .get(&(provider.to_owned(), subject.to_owned()))
            .copied())
    }

    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        user_id: Uuid,
        _now: UnixTime,
    ) -> Result<(), StoreError> {
        self.state()?
            .identities
            .entry((provider.to_owned(), subject.to_owned()))
            .or_insert(user_id);
        Ok(())
    }

    async fn set_email_verified(&self, user_id: Uuid, at: UnixTime) -> Result<(), StoreError> {
        if let Some((u, _)) = self.state()?.users.get_mut(&user_id) {
            u.email_verified_at = u.email_verified_at.or(Some(at));
        }
        Ok(())
    }

    async fn set_password_hash(&self, user_id: Uuid, hash: Option<&str>) -> Result<(), StoreError> {
        if let Some((_, h)) = self.state()?.users.get_mut(&user_id) {
            *h = hash.map(str::to_owned);
        }
        Ok(())
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        now: UnixTime,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut s = self.state()?;
        let mut revoked = Vec::new();
        for r in s.sessions.values_mut() {
            let x = &mut r.session;
            if x.user_id == user_id && x.revoked_at.is_none() && Some(x.id) != except {
                x.revoked_at = Some(now);
                revoked.push(x.id);
            }
        }
        Ok(revoked)
    }

    async fn delete_user(&self, user_id: Uuid) -> Result<bool, StoreError> {
        Ok(self.state()?.remove_user(user_id))
    }

    async fn unlink_identities(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let mut s = self.state()?;
        let before = s.identities.len();
        s.identities.retain(|_, uid| *uid != user_id);
        Ok((before - s.identities.len()) as u64)
    }

    async fn identities_of(&self, user_id: Uuid) -> Result<Vec<(String, String)>, StoreError> {
        let mut out: Vec<(String, String)> = self
            .state()?
            .identities
            .iter()
            .filter(|(_, uid)| **uid == user_id)
            .map(|(k, _)| k.clone())
            .collect();
        out.sort();
        Ok(out)
    }

    async fn insert_email_token(&self, token: &EmailToken) -> Result<(), StoreError> {
        let mut s = self.state()?;
        if !s.users.contains_key(&token.user_id) {
            return Err(StoreError::Backend("token of an unknown user".into()));
        }
        s.tokens.insert(token.hash, (token.clone(), false));
        Ok(())
    }

    async fn use_email_token(
        &self,
        hash: &[u8; 32],
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<EmailToken>, StoreError> {
        let mut s = self.state()?;
        match s.tokens.get_mut(hash) {
            Some((t, used)) if !*used && t.purpose == purpose && t.expires_at > now => {
                *used = true;
                Ok(Some(t.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn insert_handoff(&self, code: &HandoffCode) -> Result<(), StoreError> {
        self.state()?.handoffs.insert(code.code_hash, code.clone());
        Ok(())
    }

    async fn take_handoff(
        &self,
        code_hash: &[u8; 32],
        now: UnixTime,
    ) -> Result<Option<HandoffCode>, StoreError> {
        let mut s = self.state()?;
        s.handoffs.retain(|_, h| h.expires_at > now);
        Ok(s.handoffs.remove(code_hash))
    }

    async fn revoked_since(&self, since: UnixTime) -> Result<Vec<(Uuid, UnixTime)>, StoreError> {
        Ok(self
            .state()?
            .sessions
            .values()
            .filter_map(|r| {
                r.session
                    .revoked_at
                    .filter(|t| *t >= since)
                    .map(|t| (r.session.id, t))
            })
            .collect())
    }

    async fn prune(
        &self,
        now: UnixTime,
        revoked_before: UnixTime,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let mut s = self.state()?;
        let batch = batch as usize;
        let expired: Vec<Uuid> = s
            .sessions
            .values()
            .filter(|r| r.session.expires_at < now)
            .map(|r| r.session.id)
            .take(batch)
            .collect();
        let revoked: Vec<Uuid> = s
            .sessions
            .values()
            .filter(|r| r.session.revoked_at.is_some_and(|t| t < revoked_before))
            .filter(|r| !expired.contains(&r.session.id))
            .map(|r| r.session.id)
            .take(batch)
            .collect();
        for sid in expired.iter().chain(&revoked) {
            s.sessions.remove(sid);
        }
        s.retired
            .retain(|_, sid| !expired.contains(sid) && !revoked.contains(sid));
        let tokens: Vec<[u8; 32]> = s
            .tokens
            .iter()
            .filter(|(_, (t, _))| t.expires_at < now)
            .map(|(h, _)| *h)
            .take(batch)
            .collect();
        for h in &tokens {
            s.tokens.remove(h);
        }
        let handoffs: Vec<[u8; 32]> = s
            .handoffs
            .values()
            .filter(|h| h.expires_at < now)
            .map(|h| h.code_hash)
            .take(batch)
            .collect();
        for h in &handoffs {
            s.handoffs.remove(h);
        }
        Ok((expired.len() + revoked.len() + tokens.len() + handoffs.len()) as u64)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.state().map(|_| ())
    }
}
