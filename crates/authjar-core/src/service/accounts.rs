//! The account lifecycle over e-mail: verification, password reset and
//! change, deletion. Tokens sent by e-mail are 256 random bits, stored only
//! as SHA-256, single use, short-lived, and bound to the address they were
//! sent to.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AuthError, AuthService};
use crate::email::Email;
use crate::password::Password;
use crate::random;
use crate::records::{EmailToken, Session, TokenPurpose, User};

impl AuthService {
    /// A new token for `user` and `purpose`, stored; the token to send.
    async fn email_token(&self, user: &User, purpose: TokenPurpose) -> Result<String, AuthError> {
        let token = random::token::<32>(self.random.as_ref());
        let now = self.now();
        let ttl = match purpose {
            TokenPurpose::VerifyEmail => self.accounts.verify_ttl,
            TokenPurpose::ResetPassword => self.accounts.reset_ttl,
        };
        self.store
            .insert_email_token(&EmailToken {
                hash: Sha256::digest(token.as_bytes()).into(),
                user_id: user.id,
                purpose,
                email: user.email.clone(),
                created_at: now,
                expires_at: now + ttl,
            })
            .await?;
        Ok(token)
    }

    /// Uses a token: valid, unused, unexpired, of this purpose, and sent to
    /// the address the account still has. The account it belongs to.
    async fn use_token(&self, token: &str, purpose: TokenPurpose) -> Result<User, AuthError> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let t = self
            .store
            .use_email_token(&hash, purpose, self.now())
            .await?
            .ok_or(AuthError::InvalidToken)?;
        match self.store.user_by_id(t.user_id).await? {
            Some(user) if user.email == t.email => Ok(user),
            _ => Err(AuthError::InvalidToken),
        }
    }

    /// Sends `user` a verification link (nothing when mail is not set up).
    pub(crate) async fn send_verification(
        &self,
        user: &User,
        request_id: &str,
    ) -> Result<(), AuthError> {
        let Some(mail) = &self.mail else {
            return Ok(());
        };
        let token = self.email_token(user, TokenPurpose::VerifyEmail).await?;
        let hours = self.accounts.verify_ttl / 3600;
        mail.queue.enqueue(mail.messages.verify_email(
            &user.email,
            &token,
            hours.max(1),
            request_id,
        ));
        Ok(())
    }

    /// Sends a new verification link to `email` if it is an unverified
    /// account; does nothing otherwise. The caller answers the same either
    /// way, so the answer tells nobody whether the address has an account.
    pub async fn request_verification(
        &self,
        email: &Email,
        request_id: &str,
    ) -> Result<(), AuthError> {
        match self.store.user_by_email(email).await? {
            Some(r) if !r.user.email_verified() => {
                self.send_verification(&r.user, request_id).await
            }
            _ => Ok(()),
        }
    }

    /// Proves the address with a verification token.
    pub async fn confirm_email(&self, token: &str) -> Result<User, AuthError> {
        let user = self.use_token(token, TokenPurpose::VerifyEmail).await?;
        let now = self.now();
        self.store.set_email_verified(user.id, now).await?;
        self.rows.user_changed(user.id);
        Ok(User {
            email_verified_at: user.email_verified_at.or(Some(now)),
            ..user
        })
    }

    /// Sends a password-reset link to `email` if it has an account; does
    /// nothing otherwise (same answer either way).
    pub async fn forgot_password(&self, email: &Email, request_id: &str) -> Result<(), AuthError> {
        let Some(mail) = &self.mail else {
            return Ok(());
        };
        let Some(r) = self.store.user_by_email(email).await? else {
            return Ok(());
        };
        let token = self
            .email_token(&r.user, TokenPurpose::ResetPassword)
            .await?;
        let minutes = (self.accounts.reset_ttl / 60).max(1);
        mail.queue.enqueue(mail.messages.reset_password(
            &r.user.email,
            &token,
            minutes,
            request_id,
        ));
        Ok(())
    }

    /// Sets a new password with a reset token: every session of the account
    /// ends, and the e-mail counts as verified (the person read the mailbox).
    pub async fn reset_password(&self, token: &str, password: Password) -> Result<User, AuthError> {
        let user = self.use_token(token, TokenPurpose::ResetPassword).await?;
        let salt = random::bytes::<16>(self.random.as_ref());
        let hash = self.hasher.hash(password, salt).await?;
        self.store.set_password_hash(user.id, Some(&hash)).await?;
        self.rows.user_changed(user.id);
        self.revoke_all(user.id, None).await?;
        let now = self.now();
        self.store.set_email_verified(user.id, now).await?;
        self.rows.user_changed(user.id);
        Ok(User {
            email_verified_at: user.email_verified_at.or(Some(now)),
            ..user
        })
    }

    /// Whether the caller proved it is the account holder just now: the
    /// current password, or for an account without one a login within
    /// `recent_login`.
    async fn reauthenticated(
        &self,
        user_id: Uuid,
        session: &Session,
        password: Option<Password>,
    ) -> Result<bool, AuthError> {
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        let hash = self
            .store
            .user_by_email(&user.email)
            .await?
            .and_then(|r| r.password_hash);
        Ok(match (hash, password) {
            (Some(h), Some(p)) => self.hasher.verify(p, Some(h)).await?,
            (Some(_), None) => false,
            (None, _) => self.now() - session.created_at <= self.accounts.recent_login,
        })
    }

    /// Changes the password of a logged-in user: every other session ends,
    /// this one stays.
    pub async fn change_password(
        &self,
        user_id: Uuid,
        session: &Session,
        current: Option<Password>,
        new: Password,
    ) -> Result<(), AuthError> {
        if !self.reauthenticated(user_id, session, current).await? {
            return Err(AuthError::ReauthenticationRequired);
        }
        let salt = random::bytes::<16>(self.random.as_ref());
        let hash = self.hasher.hash(new, salt).await?;
        self.store.set_password_hash(user_id, Some(&hash)).await?;
        self.rows.user_changed(user_id);
        self.revoke_all(user_id, Some(session.id)).await
    }

    /// Deletes the account of a logged-in user who proved it is them:
    /// sessions end everywhere at once, then the user, its identities and
    /// tokens are removed.
    pub async fn delete_account(
        &self,
        user_id: Uuid,
        session: &Session,
        password: Option<Password>,
    ) -> Result<(), AuthError> {
        if !self.reauthenticated(user_id, session, password).await? {
            return Err(AuthError::ReauthenticationRequired);
        }
        self.revoke_all(user_id, None).await?;
        self.store.delete_user(user_id).await?;
        self.rows.user_changed(user_id);
        Ok(())
    }

    /// Revokes every session of the user but `except`, on this instance at once.
    pub async fn revoke_all(&self, user_id: Uuid, except: Option<Uuid>) -> Result<(), AuthError> {
        let now = self.now();
        for sid in self
            .store
            .revoke_user_sessions(user_id, except, now)
            .await?
        {
            self.revoked.insert(sid, now + self.tokens.ttl_secs(), now);
        }
        Ok(())
    }
}
