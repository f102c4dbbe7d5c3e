//! Social login and account linking, safe against pre-account takeover:
//! an address must be proven before an account is created for it or an
//! identity joins it, and an account whose holder never proved its address
//! loses its password, sessions and identities when the address's real
//! owner arrives with a provider that verified it.

use uuid::Uuid;

use super::{AuthError, AuthService, ExternalIdentity, Issued};
use crate::random;
use crate::records::{ClientMeta, User};
use crate::store::StoreError;

impl AuthService {
    /// Logs in with an identity an external provider vouched for:
    /// - an identity linked before logs into its account;
    /// - otherwise the provider must say the e-mail is verified, or nothing
    ///   is created or joined ([`AuthError::EmailNotVerified`]);
    /// - an account with that address whose e-mail authjar verified gets the
    ///   identity linked;
    /// - an account with that address whose holder never proved it is taken
    ///   back for the address's owner first: its password, sessions and
    ///   identities are removed (whoever registered it cannot get in any more);
    /// - no account: one is created, its e-mail verified by the provider.
    pub async fn login_external(
        &self,
        id: ExternalIdentity,
        meta: ClientMeta,
    ) -> Result<Issued, AuthError> {
        let now = self.now();
        if let Some(uid) = self.store.identity_user(&id.provider, &id.subject).await? {
            let user = self
                .store
                .user_by_id(uid)
                .await?
                .ok_or(AuthError::InvalidCredentials)?;
            return self.start_session(user, meta).await;
        }
        if !id.email_verified {
            return Err(AuthError::EmailNotVerified);
        }
        let user = match self.store.user_by_email(&id.email).await? {
            Some(existing) if existing.user.email_verified() => existing.user,
            Some(unproven) => self.take_back(unproven.user, &id.provider).await?,
            None => {
                let user = User {
                    id: random::uuid(self.random.as_ref()),
                    email: id.email,
                    name: id
                        .name
                        .and_then(|n| crate::name::parse_display_name(&n).ok().flatten()),
                    created_at: now,
                    email_verified_at: Some(now),
                };
                match self.store.insert_user(&user, None).await {
                    Err(StoreError::EmailTaken) => return Err(AuthError::EmailTaken),
                    other => other?,
                }
                user
            }
        };
        self.store
            .link_identity(&id.provider, &id.subject, user.id, now)
            .await?;
        self.start_session(user, meta).await
    }

    /// An account registered with an address nobody proved, claimed by the
    /// address's owner through a provider that verified it.
    async fn take_back(&self, user: User, provider: &str) -> Result<User, AuthError> {
        let now = self.now();
        tracing::warn!(
            user = %user.id,
            provider,
            "a verified provider login claimed an account whose e-mail was never verified: its password, sessions and identities are removed"
        );
        self.store.set_password_hash(user.id, None).await?;
        self.store.unlink_identities(user.id).await?;
        self.revoke_all(user.id, None).await?;
        self.store.set_email_verified(user.id, now).await?;
        self.rows.user_changed(user.id);
        Ok(User {
            email_verified_at: Some(now),
            ..user
        })
    }

    /// Links a provider identity to the logged-in `user_id` on purpose (the
    /// person adds "Log in with …" to their account). The account's e-mail
    /// must be verified; the identity must not belong to another account.
    pub async fn link_external(
        &self,
        user_id: Uuid,
        id: &ExternalIdentity,
    ) -> Result<User, AuthError> {
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        if !user.email_verified() {
            return Err(AuthError::AccountNotVerified);
        }
        match self.store.identity_user(&id.provider, &id.subject).await? {
            Some(owner) if owner == user_id => Ok(user),
            Some(_) => Err(AuthError::IdentityTaken),
            None => {
                self.store
                    .link_identity(&id.provider, &id.subject, user_id, self.now())
                    .await?;
                Ok(user)
            }
        }
    }
}
