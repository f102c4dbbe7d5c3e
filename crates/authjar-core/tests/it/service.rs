use std::sync::{Arc, Mutex};
use std::time::Duration;

use authjar_core::{
    AccountSettings, AuthError, AuthService, BoundedHasher, ClientMeta, Email, ExternalIdentity,
    HashParams, Issued, KeyRing, Letter, MailError, MailQueue, MailSetup, Mailer, ManualClock,
    MemoryStore, Messages, OsRandom, Password, Registration, SessionSettings, Store,
};
use secrecy::SecretString;

const T0: i64 = 1_767_225_600;

#[derive(Clone, Default)]
struct Sent(Arc<Mutex<Vec<Letter>>>);

#[async_trait::async_trait]
impl Mailer for Sent {
    async fn send(&self, letter: &Letter) -> Result<(), MailError> {
        self.0.lock().unwrap().push(letter.clone());
        Ok(())
    }
}

impl Sent {
    async fn token(&self, to: &str, action: &str) -> String {
        for _ in 0..500 {
            let found = self
                .0
                .lock()
                .unwrap()
                .iter()
                .rev()
                .find(|l| l.to.as_str() == to)
                .map(|l| l.text.clone());
            if let Some(text) = found {
                let marker = format!("#{action}=");
                if let Some(i) = text.find(&marker) {
                    return text[i + marker.len()..]
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .to_owned();
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no {action} mail to {to}");
    }
}

struct Fixture {
    service: AuthService,
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    sent: Sent,
}

fn fixture(accounts: AccountSettings) -> Fixture {
    let ring =
        KeyRing::derive(&SecretString::from("0123456789abcdef0123456789abcdef"), &[]).unwrap();
    fixture_with(accounts, &ring)
}

fn fixture_with(accounts: AccountSettings, ring: &KeyRing) -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(T0));
    let sent = Sent::default();
    let service = AuthService::new(
        store.clone(),
        clock.clone(),
        Arc::new(OsRandom),
        BoundedHasher::new(
            HashParams {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
            },
            1,
            [7; 16],
        )
        .unwrap(),
        authjar_core::AccessTokens::new(ring, "http://localhost:8000".into(), 1800).unwrap(),
        SessionSettings {
            refresh_ttl: 30 * 86_400,
            reuse_grace: 10,
        },
    )
    .with_accounts(
        accounts,
        Some(MailSetup {
            queue: MailQueue::start(Arc::new(sent.clone())),
            messages: Messages {
                app_name: "Hub".into(),
                link_base: "http://localhost:3000/".into(),
            },
        }),
    );
    Fixture {
        service,
        clock,
        store,
        sent,
    }
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn password(s: &str) -> Password {
    Password::parse(s.to_owned()).unwrap()
}

async fn register(f: &Fixture, addr: &str) -> Issued {
    match f
        .service
        .register(
            email(addr),
            password("correct horse"),
            None,
            ClientMeta::default(),
            "t",
        )
        .await
        .unwrap()
    {
        Registration::LoggedIn(i) => i,
        Registration::VerificationSent(_) => panic!("verification is not required here"),
    }
}

fn identity(subject: &str, addr: &str, verified: bool) -> ExternalIdentity {
    ExternalIdentity {
        provider: "op".into(),
        subject: subject.into(),
        email: email(addr),
        email_verified: verified,
        name: Some("Someone\u{202E}evil".into()),
    }
}

#[tokio::test]
async fn login_gives_one_error_for_a_wrong_password_and_an_unknown_address() {
    let f = fixture(AccountSettings::default());
    register(&f, "a@b.com").await;
    let meta = ClientMeta::default;
    let wrong = f
        .service
        .login(email("a@b.com"), password("wrong password"), meta())
        .await
        .unwrap_err();
    let unknown = f
        .service
        .login(email("nobody@b.com"), password("correct horse"), meta())
        .await
        .unwrap_err();
    assert!(matches!(wrong, AuthError::InvalidCredentials));
    assert!(matches!(unknown, AuthError::InvalidCredentials));
    assert!(f
        .service
        .login(email("A@B.COM"), password("correct horse"), meta())
        .await
        .is_ok());
}

#[tokio::test]
async fn every_retired_refresh_token_revokes_its_family() {
    let f = fixture(AccountSettings::default());
    let first = register(&f, "r@b.com").await;
    let t1 = first.refresh_token.unwrap();
    let t2 = f.service.refresh(&t1).await.unwrap().refresh_token.unwrap();
    f.clock.advance(5);
    assert!(
        f.service
            .refresh(&t1)
            .await
            .unwrap()
            .refresh_token
            .is_none(),
        "grace: same session, no fork"
    );
    let t3 = f.service.refresh(&t2).await.unwrap().refresh_token.unwrap();
    f.clock.advance(60);
    assert!(matches!(
        f.service.refresh(&t1).await,
        Err(AuthError::InvalidRefresh)
    ));
    assert!(
        matches!(f.service.refresh(&t3).await, Err(AuthError::InvalidRefresh)),
        "the family is dead"
    );
    assert!(
        f.service.verify_access(&first.access_token).is_err(),
        "its access tokens too, at once"
    );
}

/// A token whose signature check is cached is still refused the moment
/// its session is revoked, and once it expires.
#[tokio::test]
async fn a_cached_access_token_is_refused_once_revoked_or_expired() {
    let f = fixture(AccountSettings::default());
    let a = register(&f, "cached@b.com").await;
    let b = register(&f, "other@b.com").await;
    for _ in 0..3 {
        assert!(f.service.verify_access(&a.access_token).is_ok());
        assert!(f.service.verify_access(&b.access_token).is_ok());
    }
    f.service.revoke(a.session.id, T0).await.unwrap();
    assert!(matches!(
        f.service.verify_access(&a.access_token),
        Err(AuthError::Unauthenticated)
    ));
    assert!(f.service.verify_access(&b.access_token).is_ok());
    f.clock.advance(3600);
    assert!(
        f.service.verify_access(&b.access_token).is_err(),
        "expired, though its signature check is cached"
    );
}

#[tokio::test]
async fn an_unproven_password_account_is_taken_back_by_the_verified_owner() {
    let f = fixture(AccountSettings::default());
    let attacker = register(&f, "victim@x.test").await;
    let owner = f
        .service
        .login_external(identity("s1", "Victim@X.test", true), ClientMeta::default())
        .await
        .unwrap();
    assert_eq!(
        owner.user.id, attacker.user.id,
        "the same address is one account"
    );
    assert!(owner.user.email_verified());
    assert!(matches!(
        f.service
            .login(
                email("victim@x.test"),
                password("correct horse"),
                ClientMeta::default()
            )
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(f.service.verify_access(&attacker.access_token).is_err());
    assert!(matches!(
        f.service
            .refresh(attacker.refresh_token.as_ref().unwrap())
            .await,
        Err(AuthError::InvalidRefresh)
    ));
    assert_eq!(f.service.sessions(owner.user.id).await.unwrap().len(), 1);
    assert_eq!(
        owner.user.name, None,
        "a name with a bidirectional override is not stored"
    );
}

#[tokio::test]
async fn an_unverified_identity_neither_creates_nor_joins() {
    let f = fixture(AccountSettings::default());
    assert!(matches!(
        f.service
            .login_external(identity("s2", "new@x.test", false), ClientMeta::default())
            .await,
        Err(AuthError::EmailNotVerified)
    ));
    assert!(f
        .store
        .user_by_email(&email("new@x.test"))
        .await
        .unwrap()
        .is_none());
    register(&f, "mine@x.test").await;
    assert!(matches!(
        f.service
            .login_external(identity("s3", "mine@x.test", false), ClientMeta::default())
            .await,
        Err(AuthError::EmailNotVerified)
    ));
    assert!(f.store.identity_user("op", "s3").await.unwrap().is_none());
}

#[tokio::test]
async fn required_verification_keeps_the_account_out_until_the_link_is_used() {
    let f = fixture(AccountSettings {
        require_verified_email: true,
        ..AccountSettings::default()
    });
    let r = f
        .service
        .register(
            email("v@x.test"),
            password("correct horse"),
            None,
            ClientMeta::default(),
            "t",
        )
        .await
        .unwrap();
    assert!(matches!(r, Registration::VerificationSent(_)));
    assert!(matches!(
        f.service
            .login(
                email("v@x.test"),
                password("correct horse"),
                ClientMeta::default()
            )
            .await,
        Err(AuthError::AccountNotVerified)
    ));
    let token = f.sent.token("v@x.test", "verify_email").await;
    assert!(f
        .service
        .confirm_email(&token)
        .await
        .unwrap()
        .email_verified());
    assert!(matches!(
        f.service.confirm_email(&token).await,
        Err(AuthError::InvalidToken)
    ));
    assert!(f
        .service
        .login(
            email("v@x.test"),
            password("correct horse"),
            ClientMeta::default()
        )
        .await
        .is_ok());
}

#[tokio::test]
async fn reset_change_and_delete_end_the_right_sessions() {
    let f = fixture(AccountSettings::default());
    let a = register(&f, "p@x.test").await;
    let b = f
        .service
        .login(
            email("p@x.test"),
            password("correct horse"),
            ClientMeta::default(),
        )
        .await
        .unwrap();
    f.service
        .change_password(
            a.user.id,
            &a.session,
            Some(password("correct horse")),
            password("second password"),
        )
        .await
        .unwrap();
    assert!(
        f.service.verify_access(&a.access_token).is_ok(),
        "the changing session stays"
    );
    assert!(
        f.service.verify_access(&b.access_token).is_err(),
        "the other one ends"
    );
    assert!(matches!(
        f.service
            .change_password(
                a.user.id,
                &a.session,
                Some(password("correct horse")),
                password("third password")
            )
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));
    f.service
        .forgot_password(&email("p@x.test"), "t")
        .await
        .unwrap();
    let token = f.sent.token("p@x.test", "reset_password").await;
    f.clock.advance(29 * 60);
    f.service
        .reset_password(&token, password("after the reset"))
        .await
        .unwrap();
    assert!(
        f.service.verify_access(&a.access_token).is_err(),
        "a reset ends every session"
    );
    let c = f
        .service
        .login(
            email("p@x.test"),
            password("after the reset"),
            ClientMeta::default(),
        )
        .await
        .unwrap();
    assert!(c.user.email_verified());
    assert!(matches!(
        f.service.delete_account(c.user.id, &c.session, None).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    f.service
        .delete_account(c.user.id, &c.session, Some(password("after the reset")))
        .await
        .unwrap();
    assert!(f.service.verify_access(&c.access_token).is_err());
    assert!(f
        .store
        .user_by_email(&email("p@x.test"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_password_less_account_is_deleted_only_soon_after_a_login() {
    let f = fixture(AccountSettings::default());
    let s = f
        .service
        .login_external(identity("s9", "social@x.test", true), ClientMeta::default())
        .await
        .unwrap();
    f.clock.advance(11 * 60);
    assert!(matches!(
        f.service.delete_account(s.user.id, &s.session, None).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    let again = f
        .service
        .login_external(identity("s9", "social@x.test", true), ClientMeta::default())
        .await
        .unwrap();
    f.service
        .delete_account(again.user.id, &again.session, None)
        .await
        .unwrap();
    assert!(f.store.identity_user("op", "s9").await.unwrap().is_none());
}

/// `current` (what `GET /auth/me` answers) keeps the rows it read, and
/// still never answers with a row that changed: a revocation, a rotation
/// (a new token reads the rotated row), a verified e-mail, a deletion, an
/// expired session, and a change behind the service's back once the
/// cache's age bound has passed.
#[tokio::test]
async fn the_current_rows_follow_every_change_of_the_session_and_the_user() {
    let f = fixture(AccountSettings::default());
    let a = register(&f, "rows@b.com").await;
    let claims = f.service.verify_access(&a.access_token).unwrap();
    for _ in 0..3 {
        let (user, session) = f.service.current(&claims).await.unwrap();
        assert_eq!((user.id, session.id), (a.user.id, a.session.id));
        assert!(!user.email_verified());
    }
    // Verified through the service: the next answer shows it.
    let token = f.sent.token("rows@b.com", "verify_email").await;
    f.service.confirm_email(&token).await.unwrap();
    assert!(f.service.current(&claims).await.unwrap().0.email_verified());
    // A rotation: the new token's answer is the rotated row.
    f.clock.advance(120);
    let rotated = f
        .service
        .refresh(a.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    let new_claims = f.service.verify_access(&rotated.access_token).unwrap();
    let (_, s) = f.service.current(&new_claims).await.unwrap();
    assert_eq!(s.last_seen_at, T0 + 120);
    assert_eq!(s.expires_at, T0 + 120 + 30 * 86_400);
    // Changed behind the service's back (no feed on this store): shown
    // once the age bound has passed, never later.
    f.store
        .revoke_user_sessions(a.user.id, None, T0 + 120)
        .await
        .unwrap();
    f.clock.advance(30);
    assert!(
        matches!(
            f.service.current(&new_claims).await,
            Err(AuthError::Unauthenticated)
        ),
        "a session revoked in the store is refused once the entry is 30 s old"
    );
    // Revoked through the service: refused at once, though cached.
    let b = register(&f, "rows2@b.com").await;
    let claims = f.service.verify_access(&b.access_token).unwrap();
    f.service.current(&claims).await.unwrap();
    f.service
        .revoke(b.session.id, f.service.now())
        .await
        .unwrap();
    assert!(matches!(
        f.service.current(&claims).await,
        Err(AuthError::Unauthenticated)
    ));
    // Deleted: the user is gone at once for every session it had.
    let c = register(&f, "rows3@b.com").await;
    let claims = f.service.verify_access(&c.access_token).unwrap();
    f.service.current(&claims).await.unwrap();
    f.store.delete_user(c.user.id).await.unwrap();
    f.clock.advance(30);
    assert!(f.service.current(&claims).await.is_err());
    // Expired: a session whose refresh lifetime ended is refused.
    let d = register(&f, "rows4@b.com").await;
    let claims = f.service.verify_access(&d.access_token).unwrap();
    f.service.current(&claims).await.unwrap();
    f.clock.advance(30 * 86_400);
    assert!(f.service.current(&claims).await.is_err());
}
