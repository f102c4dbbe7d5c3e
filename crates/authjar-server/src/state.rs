//! Building the running service's state from a validated [`Config`].

use std::sync::Arc;

use authjar_axum::oauth::{OAuth, Provider, ProviderKind};
use authjar_axum::rate_limit::{InMemoryLimiter, Limits, RateLimiter, SharedLimiter, Unlimited};
use authjar_axum::{
    AllowedOrigins, AuthState, AuthStateParts, BrowserGuard, MetricsAccess, SessionBindings,
};
use authjar_core::random::{self, Random};
use authjar_core::Sealer;
use authjar_core::SharedBudgets;
use authjar_core::{
    AccessTokens, AccountSettings, AuthService, BoundedHasher, Clock, CsrfTokens, HashParams,
    KeyRing, MailSetup, SessionSettings,
};
use authjar_policy::{CookieKind, CookiePolicy};
use authjar_store::{PgStore, PoolSettings, SqliteStore};
use secrecy::{ExposeSecret as _, SecretString};

use crate::config::{Config, DatabaseUrl, SecretSetting};
use crate::secret_file;

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The secret file could not be read or created.
    #[error("secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// Production without a secret.
    #[error(
        "production needs a secret: set AUTHJAR_SECRET (at least 32 characters) or secret_file"
    )]
    SecretMissing,
    /// The database could not be opened.
    #[error("database: {0}")]
    Database(String),
    /// Mail cannot be sent as configured, or must be and cannot.
    #[error("{0}")]
    Mail(String),
    /// A setting this build cannot serve yet.
    #[error("{0}")]
    Unsupported(String),
    /// The keys could not be derived from the secret.
    #[error("keys: {0}")]
    Keys(#[from] authjar_core::KeyError),
    /// The cookie sealer has no key.
    #[error("cookie encryption: {0}")]
    Sealer(#[from] authjar_core::SealError),
    /// The password hasher could not start (e.g. invalid argon2 parameters).
    #[error("password hasher: {0}")]
    Hasher(#[from] authjar_core::HasherError),
    /// The HTTP client for OAuth providers could not be built.
    #[error("OAuth: {0}")]
    OAuth(#[from] authjar_axum::oauth::OAuthError),
}

/// What the state is built with besides the configuration: time,
/// randomness and the password-hash cost (tests use cheaper hashes).
#[derive(Clone)]
pub struct Runtime {
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
    /// argon2id parameters.
    pub hash_params: HashParams,
    /// Replaces the configured mail transport (tests read what was sent).
    pub mailer: Option<Arc<dyn authjar_core::Mailer>>,
}

impl Runtime {
    /// The system clock, the OS CSPRNG and OWASP's argon2id parameters.
    pub fn production() -> Runtime {
        Runtime {
            clock: Arc::new(authjar_core::SystemClock),
            random: Arc::new(authjar_core::OsRandom),
            hash_params: HashParams::OWASP,
            mailer: None,
        }
    }
}

/// Notes for the start-up banner about what building the state did.
#[derive(Debug, Default, Clone)]
pub struct StartNotes {
    /// A development secret file was created now.
    pub created_secret_file: Option<String>,
    /// Files holding secrets that other users can read (development only:
    /// production refuses to start).
    pub loose_permissions: Vec<String>,
    /// Signs that a SQLite file is used by more than one instance.
    pub shared_sqlite: Vec<String>,
}

impl StartNotes {
    fn warn_if_open(&mut self, path: &std::path::Path) {
        if secret_file::open_to_others(path).unwrap_or(false) {
            self.loose_permissions
                .push(secret_file::loose_permissions_warning(path));
        }
    }
}

/// Opens the store (migrating it unless `config.migrate_on_start` is off),
/// derives keys, and assembles the auth state: the secret, the store, the
/// auth service with the revoked sessions loaded and followed, then the HTTP
/// layer's parts.
pub async fn build_state(
    config: &Config,
    rt: Runtime,
) -> Result<(AuthState, StartNotes), StartError> {
    let mut notes = StartNotes::default();
    let secret = load_secret(config, rt.random.as_ref(), &mut notes)?;
    let opened = open_store(config, config.migrate_on_start, &mut notes).await?;
    let ring = KeyRing::derive(&secret, &config.previous_secrets)?;
    let service = auth_service(config, &rt, &ring, opened.store)?;
    service
        .load_revocations()
        .await
        .map_err(|e| StartError::Database(e.to_string()))?;
    service.follow_revocations();
    service.prune_in_background(std::time::Duration::from_secs(60));
    let limiter = limiter(config, opened.shared_budgets);
    Ok((http_state(config, service, &ring, limiter)?, notes))
}

/// The server secret: configured, or in development the generated file.
fn load_secret(
    config: &Config,
    rng: &dyn Random,
    notes: &mut StartNotes,
) -> Result<SecretString, StartError> {
    let secret = match &config.secret {
        SecretSetting::Configured(s) => s.clone(),
        SecretSetting::Missing => return Err(StartError::SecretMissing),
        SecretSetting::DevelopmentFile(path) => {
            let (s, created) = secret_file::load_or_create(path, rng).map_err(|source| {
                StartError::SecretFile {
                    path: path.display().to_string(),
                    source,
                }
            })?;
            if created {
                notes.created_secret_file = Some(path.display().to_string());
            } else {
                notes.warn_if_open(path);
            }
            s
        }
    };
    if let Some(path) = &config.secret_file {
        notes.warn_if_open(path);
    }
    Ok(secret)
}

/// The store `database_url` names, and where rate-limit budgets live when
/// several instances share it.
struct OpenedStore {
    store: Arc<dyn authjar_core::Store>,
    /// PostgreSQL: budgets every instance counts against; SQLite: none
    /// (one instance, budgets in this process).
    shared_budgets: Option<Arc<dyn SharedBudgets>>,
}

/// The store `database_url` names: SQLite (created 0600) or PostgreSQL.
async fn open_store(
    config: &Config,
    migrate: bool,
    notes: &mut StartNotes,
) -> Result<OpenedStore, StartError> {
    let db = |e: authjar_core::StoreError| StartError::Database(e.to_string());
    match &config.database {
        DatabaseUrl::Sqlite(path) => {
            secret_file::create_private(path).map_err(|e| StartError::Database(e.to_string()))?;
            notes.warn_if_open(path);
            let store = SqliteStore::open(path).await.map_err(db)?;
            for w in store.sharing_warnings() {
                tracing::warn!("{w}");
                notes.shared_sqlite.push(w.clone());
            }
            Ok(OpenedStore {
                store: Arc::new(store),
                shared_budgets: None,
            })
        }
        DatabaseUrl::Postgres(url) => {
            let store = PgStore::connect(
                url.expose_secret(),
                PoolSettings {
                    max_connections: config.pool.max_connections,
                    acquire_timeout: config.pool.acquire_timeout,
                },
            )
            .map_err(db)?;
            if migrate {
                store.migrate().await.map_err(db)?;
            }
            let store = Arc::new(store);
            Ok(OpenedStore {
                store: store.clone(),
                shared_budgets: Some(store),
            })
        }
    }
}

/// Applies the migrations of `database_url` (`authjar migrate`).
pub async fn migrate(config: &Config) -> Result<String, StartError> {
    let mut notes = StartNotes::default();
    open_store(config, true, &mut notes).await?;
    Ok(config.database.describe())
}

/// The auth rules over `store`, with keys from `secret`.
fn auth_service(
    config: &Config,
    rt: &Runtime,
    ring: &KeyRing,
    store: Arc<dyn authjar_core::Store>,
) -> Result<AuthService, StartError> {
    let tokens = AccessTokens::new(
        ring,
        config.public_url.to_string(),
        config.access_ttl.as_secs() as i64,
    )?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let hasher = BoundedHasher::new(
        rt.hash_params,
        cores,
        random::bytes::<16>(rt.random.as_ref()),
    )?;
    let settings = SessionSettings {
        refresh_ttl: config.refresh_ttl.as_secs() as i64,
        reuse_grace: config.refresh_reuse_grace.as_secs() as i64,
    };
    let mail = mail_setup(config, rt.mailer.clone())?;
    Ok(AuthService::new(
        store,
        rt.clock.clone(),
        rt.random.clone(),
        hasher,
        tokens,
        settings,
    )
    .with_accounts(
        AccountSettings {
            require_verified_email: config.require_verified_email,
            ..AccountSettings::default()
        },
        Some(mail),
    ))
}

/// The brute-force limits of `rate_limit.*`: in the shared store when
/// there is one (PostgreSQL: every instance counts against the same
/// budgets), else in this process.
fn limiter(config: &Config, shared: Option<Arc<dyn SharedBudgets>>) -> Arc<dyn RateLimiter> {
    if !config.rate_limit.enabled {
        return Arc::new(Unlimited);
    }
    let limits = Limits {
        login_per_account: config.rate_limit.login_per_account,
        login_failures_per_account: config.rate_limit.login_failures_per_account,
        per_client: config.rate_limit.per_client,
        refresh_per_client: config.rate_limit.refresh_per_client,
        mail_per_address: config.rate_limit.mail_per_address,
    };
    match shared {
        Some(budgets) => Arc::new(SharedLimiter::new(budgets, limits)),
        None => Arc::new(InMemoryLimiter::new(limits)),
    }
}

/// The HTTP layer's state around `service`: limits, cookies, origins, CSRF, OAuth.
fn http_state(
    config: &Config,
    service: AuthService,
    ring: &KeyRing,
    limiter: Arc<dyn RateLimiter>,
) -> Result<AuthState, StartError> {
    let deployment = config.deployment();
    let cookies = CookiePolicy::derive(&deployment, &config.lifetimes());
    let origins = Arc::new(AllowedOrigins::new(
        deployment
            .app_origins
            .iter()
            .chain(std::iter::once(deployment.api()))
            .map(ToString::to_string),
    ));
    let csrf = CsrfTokens::new(ring.csrf.clone());
    let name = |k: CookieKind| cookies.get(k).map(|c| c.name.clone()).unwrap_or_default();
    let bindings = SessionBindings {
        service: service.clone(),
        access: name(CookieKind::Access),
        refresh: name(CookieKind::Refresh),
        pre_session: name(CookieKind::PreSession),
    };
    let oauth = Arc::new(OAuth::new(
        providers(config)?,
        Sealer::new(ring.cookie.clone())?,
    )?);
    let guard = BrowserGuard {
        origins: origins.clone(),
        csrf: csrf.clone(),
        bindings: Arc::new(bindings),
    };
    let state = AuthState::new(AuthStateParts {
        service,
        deployment,
        cookies,
        limiter,
        metrics: Default::default(),
        trusted_proxies: config.trusted_proxies.clone(),
        csrf,
        origins,
        guard,
        oauth,
        metrics_access: match &config.metrics_token {
            Some(t) => MetricsAccess::bearer(t.expose_secret()),
            None => MetricsAccess::Off,
        },
        debug_page: config.debug_page,
    });
    Ok(state)
}

/// Where mail goes: the runtime's transport (tests), SMTP when
/// `email.smtp_url` is set, else the log; production that requires
/// verified e-mail refuses to start without SMTP.
fn mail_setup(
    config: &Config,
    mailer: Option<Arc<dyn authjar_core::Mailer>>,
) -> Result<MailSetup, StartError> {
    let e = &config.email;
    let transport: Arc<dyn authjar_core::Mailer> = match (mailer, &e.smtp_url) {
        (Some(m), _) => m,
        (None, Some(url)) => Arc::new(
            crate::mail::SmtpMailer::new(url, &e.from).map_err(|err| StartError::Mail(err.to_string()))?,
        ),
        (None, None)
            if config.environment == authjar_policy::Environment::Production
                && config.require_verified_email =>
        {
            return Err(StartError::Mail(
                "production requires verified e-mail (require_verified_email) and has nowhere to send it: set email.smtp_url (e.g. smtps://user:password@smtp.example.com:465) and email.from".into(),
            ))
        }
        (None, None) => Arc::new(crate::mail::LogMailer),
    };
    Ok(MailSetup {
        queue: authjar_core::MailQueue::start(transport),
        messages: authjar_core::Messages {
            app_name: e.app_name.clone(),
            link_base: e.link_base.to_string(),
        },
    })
}

/// Providers from configuration, with the presets of docs/configuration.md filling
/// the endpoints: GitHub (OAuth 2.0 + user API), Google, LinkedIn and
/// Microsoft (OpenID Connect by discovery); any other id needs `issuer`
/// (OIDC) or `auth_url` + `token_url` (+ `userinfo_url`).
fn providers(config: &Config) -> Result<Vec<Provider>, StartError> {
    config
        .oauth
        .iter()
        .map(|p| {
            let s = &p.settings;
            let get = |k: &str| s.get(k).cloned();
            let oidc = |default: &str| ProviderKind::Oidc { issuer: get("issuer").unwrap_or_else(|| default.to_owned()) };
            let (name, kind) = match p.id.as_str() {
                "github" => ("GitHub", ProviderKind::OAuth2 {
                    auth_url: get("auth_url").unwrap_or_else(|| "https://github.com/login/oauth/authorize".into()),
                    token_url: get("token_url").unwrap_or_else(|| "https://github.com/login/oauth/access_token".into()),
                    userinfo_url: get("userinfo_url").unwrap_or_else(|| "https://api.github.com/user".into()),
                }),
                "google" => ("Google", oidc("https://accounts.google.com")),
                "linkedin" => ("LinkedIn", oidc("https://www.linkedin.com/oauth")),
                "microsoft" => {
                    let tenant = get("tenant").unwrap_or_else(|| "common".into());
                    ("Microsoft", oidc(&format!("https://login.microsoftonline.com/{tenant}/v2.0")))
                }
                other => match (get("issuer"), get("auth_url"), get("token_url")) {
                    (Some(issuer), _, _) => (other, ProviderKind::Oidc { issuer }),
                    (None, Some(auth_url), Some(token_url)) => (other, ProviderKind::OAuth2 {
                        auth_url,
                        token_url,
                        userinfo_url: get("userinfo_url").unwrap_or_default(),
                    }),
                    _ => return Err(StartError::Unsupported(format!(
                        "oauth.{other} needs issuer (OpenID Connect) or auth_url and token_url (OAuth 2.0)"
                    ))),
                },
            };
            let scopes = get("scopes").map(|v| v.split([',', ' ']).filter(|x| !x.is_empty()).map(str::to_owned).collect()).unwrap_or_default();
            Ok(Provider::new(
                p.id.clone(),
                get("name").unwrap_or_else(|| name.to_owned()),
                p.client_id.clone(),
                p.client_secret.as_ref().map(|s| secrecy::ExposeSecret::expose_secret(s).to_owned()),
                kind,
                scopes,
            ))
        })
        .collect()
}
