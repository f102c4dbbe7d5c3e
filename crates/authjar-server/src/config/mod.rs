//! authjar's configuration: one validated [`Config`], loaded from built-in
//! defaults < `authjar.toml` (or `--config`) < `.env` < `.env.<environment>`
//! < process environment (docs/configuration.md). No globals: the caller passes the
//! environment in, so tests and the CLI load configurations the same way.

mod database;
mod email;
mod error;
mod layers;
mod limits;
mod oauth;
pub mod schema;
mod values;

pub use database::{DatabaseUrl, PoolConfig};
pub use email::EmailSettings;
pub use limits::RateLimits;
pub use oauth::OAuthProvider;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use authjar_policy::{
    findings::ids, AppOriginEntry, CookieDomain, Deployment, Environment, Finding, Lifetimes,
    PublicUrl,
};
use ipnet::IpNet;
use secrecy::SecretString;

pub use error::ConfigError;
pub use layers::Source;
use layers::{Layers, Source as LayerSource};
use values::Reader;

/// The shortest secret accepted (docs/configuration.md, `secret`).
pub const MIN_SECRET_LEN: usize = 32;

/// What to load: the working directory (for `authjar.toml` and `.env*`), an
/// explicit `--config` file, and a snapshot of the process environment.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Directory holding `authjar.toml`, `.env` and `.env.<environment>`.
    pub dir: PathBuf,
    /// `--config FILE`; when set it must exist and `authjar.toml` is not read.
    pub config_file: Option<PathBuf>,
    /// Environment variables (`std::env::vars()` in the binary).
    pub env: Vec<(String, String)>,
}

impl LoadOptions {
    /// Options for the current directory and process environment.
    pub fn from_process(config_file: Option<PathBuf>) -> LoadOptions {
        LoadOptions {
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            config_file,
            env: std::env::vars().collect(),
        }
    }
}

/// Where the server secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSetting {
    /// Given in configuration (`secret` or the contents of `secret_file`).
    Configured(SecretString),
    /// Development only: generated once and kept in this file.
    DevelopmentFile(PathBuf),
    /// Production without a secret: a finding, and `serve` refuses to start.
    Missing,
}

/// TLS certificate and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where browsers reach authjar.
    pub public_url: PublicUrl,
    /// Frontend origins as configured (wildcards kept for the findings).
    pub app_origins: Vec<AppOriginEntry>,
    /// Development or production.
    pub environment: Environment,
    /// True when `environment` was inferred rather than set.
    pub environment_inferred: bool,
    /// Socket to listen on.
    pub listen: SocketAddr,
    /// A second, private socket serving only `/metrics` (`metrics_listen`).
    pub metrics_listen: Option<SocketAddr>,
    /// A bearer token that opens `/metrics` on the public listener (`metrics_token`).
    pub metrics_token: Option<SecretString>,
    /// Database.
    pub database: DatabaseUrl,
    /// The PostgreSQL pool.
    pub pool: PoolConfig,
    /// `serve` applies the migrations first (`--no-migrate` turns it off:
    /// run `authjar migrate` in the deploy instead).
    pub migrate_on_start: bool,
    /// Secret for token, CSRF and cookie-encryption keys.
    pub secret: SecretSetting,
    /// The file `secret` was read from, when `secret_file` is set.
    pub secret_file: Option<PathBuf>,
    /// Secrets replaced by `secret`: their tokens still verify until they expire.
    pub previous_secrets: Vec<SecretString>,
    /// Access-token lifetime.
    pub access_ttl: Duration,
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// Grace window for a just-rotated refresh token.
    pub refresh_reuse_grace: Duration,
    /// `Domain` for session cookies, when set on purpose.
    pub cookie_domain: Option<CookieDomain>,
    /// Peers whose `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// TLS served by authjar itself.
    pub tls: Option<TlsFiles>,
    /// Rate limits.
    pub rate_limit: RateLimits,
    /// OAuth providers by id.
    pub oauth: Vec<OAuthProvider>,
    /// Where e-mail goes and what its links open.
    pub email: EmailSettings,
    /// An account must prove its e-mail before it can log in.
    pub require_verified_email: bool,
    /// `GET /auth/debug` answers (default: in development only).
    pub debug_page: bool,
    /// Log filter (`log`, e.g. `info` or `authjar=debug`).
    pub log: Option<String>,
    /// The sources that were read, lowest precedence first.
    pub sources: Vec<Source>,
    /// `AUTHJAR_*` environment variables that are no setting (ignored; the banner warns).
    pub ignored_variables: Vec<String>,
}

const MIN_TTL: Duration = Duration::from_secs(1);
const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

impl Config {
    /// Loads and validates the configuration.
    pub fn load(opts: &LoadOptions) -> Result<Config, ConfigError> {
        let layers = collect_layers(opts)?;
        build(&layers, opts)
    }

    /// The deployment the cookie policy derives from.
    pub fn deployment(&self) -> Deployment {
        Deployment::new(
            self.public_url.clone(),
            self.app_origins.clone(),
            self.cookie_domain.clone(),
            self.environment,
        )
    }

    /// Cookie lifetimes.
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access: self.access_ttl,
            refresh: self.refresh_ttl,
        }
    }

    /// Every finding about this configuration: the policy audit plus the
    /// secret's, errors first.
    pub fn findings(&self, now: i64) -> Vec<Finding> {
        let mut out = authjar_policy::audit(&self.deployment(), &self.lifetimes(), now);
        match &self.secret {
            SecretSetting::Missing => out.push(Finding::new(
                ids::SECRET_MISSING_IN_PRODUCTION,
                "environment is production and neither secret nor secret_file is set",
            )),
            SecretSetting::DevelopmentFile(p) => out.push(Finding::new(
                ids::SECRET_FILE_GENERATED,
                format!("kept in {}", p.display()),
            )),
            SecretSetting::Configured(_) => {}
        }
        out.sort_by_key(|f| f.severity);
        out
    }
}

fn collect_layers(opts: &LoadOptions) -> Result<Layers, ConfigError> {
    let mut layers = Layers::default();
    match &opts.config_file {
        Some(f) => layers.add_toml_file(&opts.dir.join(f))?,
        None => {
            let default = opts.dir.join("authjar.toml");
            if default.is_file() {
                layers.add_toml_file(&default)?;
            }
        }
    }
    layers.add_dotenv(&opts.dir.join(".env"))?;
    // Which `.env.<environment>` to read: the environment as set so far
    // (process environment first), else inferred from the public URL.
    let mut probe = Layers::default();
    probe.add_vars(&opts.env, |n| LayerSource::Env(n.to_owned()))?;
    let env_name = probe
        .text("environment")
        .or_else(|| layers.text("environment"))
        .map(|s| s.trim().to_ascii_lowercase())
        .or_else(|| {
            let url = probe
                .text("public_url")
                .or(layers.text("public_url"))
                .or(probe.text(schema::Key::BASE_URL))
                .or(layers.text(schema::Key::BASE_URL))?;
            PublicUrl::parse(&url)
                .ok()
                .map(|u| Environment::infer(&u).as_str().to_owned())
        })
        .unwrap_or_else(|| "development".to_owned());
    if schema::valid_provider_id(&env_name) {
        layers.add_dotenv(&opts.dir.join(format!(".env.{env_name}")))?;
    }
    layers.add_vars(&opts.env, |n| LayerSource::Env(n.to_owned()))?;
    if opts
        .env
        .iter()
        .any(|(k, _)| k.starts_with("AUTHJAR_") || k == "ENVIRONMENT" || k == "BASE_URL")
    {
        layers.loaded.push(LayerSource::Env("AUTHJAR_*".into()));
    }
    Ok(layers)
}

fn build(layers: &Layers, opts: &LoadOptions) -> Result<Config, ConfigError> {
    let r = Reader::new(layers);
    let public_url = public_url(&r)?;
    let app_origins = app_origins(&r)?;
    let (environment, environment_inferred) = environment(&r, &public_url)?;
    let database = database_url(&r, opts)?;
    let secret = secret(&r, environment, &database, opts)?;
    let secret_file = r.string("secret_file")?.map(|p| opts.dir.join(p));
    let (access_ttl, refresh_ttl) = token_lifetimes(&r)?;
    let email = email::email(&r, &public_url, &app_origins)?;
    Ok(Config {
        email,
        public_url,
        app_origins,
        environment,
        environment_inferred,
        listen: r
            .parsed(
                "listen",
                "a socket address such as 127.0.0.1:8000 or [::]:8000",
                |s| s.parse().ok(),
            )?
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8000))),
        metrics_listen: r.parsed(
            "metrics_listen",
            "a socket address such as 127.0.0.1:9100",
            |s| s.parse().ok(),
        )?,
        metrics_token: metrics_token(&r)?,
        database,
        pool: database::pool(&r)?,
        migrate_on_start: true,
        secret,
        secret_file,
        previous_secrets: previous_secrets(&r)?,
        access_ttl,
        refresh_ttl,
        refresh_reuse_grace: reuse_grace(&r)?,
        cookie_domain: cookie_domain(&r)?,
        trusted_proxies: trusted_proxies(&r)?,
        tls: tls(&r, &opts.dir)?,
        rate_limit: limits::rate_limits(&r)?,
        oauth: oauth::oauth(layers, &r)?,
        require_verified_email: r
            .bool("require_verified_email")?
            .unwrap_or(environment == Environment::Production),
        debug_page: r
            .bool("debug_page")?
            .unwrap_or(environment == Environment::Development),
        log: r.string("log")?,
        sources: layers.loaded.clone(),
        ignored_variables: layers.ignored_variables.clone(),
    })
}

/// `environment`, or inferred from the public URL (and whether it was).
fn environment(r: &Reader<'_>, public_url: &PublicUrl) -> Result<(Environment, bool), ConfigError> {
    Ok(
        match r.parsed(
            "environment",
            "production or development",
            parse_environment,
        )? {
            Some(e) => (e, false),
            None => (Environment::infer(public_url), true),
        },
    )
}

fn database_url(r: &Reader<'_>, opts: &LoadOptions) -> Result<DatabaseUrl, ConfigError> {
    Ok(r.parsed(
        "database_url",
        "sqlite://PATH, sqlite:///ABSOLUTE/PATH or postgres://USER@HOST/DB",
        |s| DatabaseUrl::parse(s, &opts.dir),
    )?
    .unwrap_or_else(|| DatabaseUrl::Sqlite(opts.dir.join("authjar.db"))))
}

/// `access_ttl` and `refresh_ttl`; the refresh token must outlive the access token.
fn token_lifetimes(r: &Reader<'_>) -> Result<(Duration, Duration), ConfigError> {
    let access_ttl = r
        .duration("access_ttl", MIN_TTL, Duration::from_secs(24 * 3600))?
        .unwrap_or(Duration::from_secs(1800));
    let refresh_ttl = r
        .duration("refresh_ttl", MIN_TTL, MAX_TTL)?
        .unwrap_or(Duration::from_secs(30 * 86_400));
    if refresh_ttl < access_ttl {
        return Err(ConfigError::Inconsistent(format!(
            "refresh_ttl ({}) is shorter than access_ttl ({}); the refresh token must outlive the access token",
            humantime::format_duration(refresh_ttl),
            humantime::format_duration(access_ttl)
        )));
    }
    Ok((access_ttl, refresh_ttl))
}

fn reuse_grace(r: &Reader<'_>) -> Result<Duration, ConfigError> {
    Ok(r.duration(
        "refresh_reuse_grace",
        Duration::ZERO,
        Duration::from_secs(300),
    )?
    .unwrap_or(Duration::from_secs(10)))
}

fn parse_environment(s: &str) -> Option<Environment> {
    match s.to_ascii_lowercase().as_str() {
        "production" => Some(Environment::Production),
        "development" => Some(Environment::Development),
        _ => None,
    }
}

const URL_EXPECTED: &str =
    "an absolute http(s) URL such as https://api.example.com (no query or fragment)";

fn public_url(r: &Reader<'_>) -> Result<PublicUrl, ConfigError> {
    let key = if r.string("public_url")?.is_some() {
        "public_url"
    } else {
        schema::Key::BASE_URL
    };
    Ok(r.parsed(key, URL_EXPECTED, |s| PublicUrl::parse(s).ok())?
        .unwrap_or_else(|| {
            PublicUrl::parse("http://localhost:8000").unwrap_or_else(|_| unreachable!())
        }))
}

fn app_origins(r: &Reader<'_>) -> Result<Vec<AppOriginEntry>, ConfigError> {
    let Some(items) = r.list("app_origins")? else {
        let default = AppOriginEntry::parse("http://localhost:3000")
            .map_err(|e| ConfigError::Inconsistent(e.to_string()))?;
        return Ok(vec![default]);
    };
    items
        .iter()
        .map(|item| {
            AppOriginEntry::parse(item).map_err(|e| {
                r.invalid("app_origins", r.raw("app_origins"), format!(
                    "comma-separated origins such as https://app.example.com,http://localhost:3000 (`{item}`: {e})"
                ))
            })
        })
        .collect()
}

fn secret(
    r: &Reader<'_>,
    env: Environment,
    db: &DatabaseUrl,
    opts: &LoadOptions,
) -> Result<SecretSetting, ConfigError> {
    if let Some(s) = r.string("secret")? {
        if s.chars().count() < MIN_SECRET_LEN {
            return Err(r.invalid(
                "secret",
                r.raw("secret"),
                format!("at least {MIN_SECRET_LEN} characters"),
            ));
        }
        return Ok(SecretSetting::Configured(SecretString::from(s)));
    }
    if let Some(path) = r.string("secret_file")? {
        let path = opts.dir.join(path);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            r.invalid(
                "secret_file",
                r.raw("secret_file"),
                format!("a readable file holding the secret ({e})"),
            )
        })?;
        let s = text.trim().to_owned();
        if s.chars().count() < MIN_SECRET_LEN {
            return Err(r.invalid(
                "secret_file",
                r.raw("secret_file"),
                format!("a file holding at least {MIN_SECRET_LEN} characters"),
            ));
        }
        if env == Environment::Production
            && crate::secret_file::open_to_others(&path).unwrap_or(false)
        {
            return Err(r.invalid(
                "secret_file",
                r.raw("secret_file"),
                "a file only its owner can read (chmod 600): other users can read this one",
            ));
        }
        return Ok(SecretSetting::Configured(SecretString::from(s)));
    }
    if env == Environment::Production {
        return Ok(SecretSetting::Missing);
    }
    let dir = match db {
        DatabaseUrl::Sqlite(p) => p
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| opts.dir.clone()),
        DatabaseUrl::Postgres(_) => opts.dir.clone(),
    };
    Ok(SecretSetting::DevelopmentFile(dir.join("authjar.secret")))
}

/// At least 32 characters: it is a password for the metrics endpoint.
fn metrics_token(r: &Reader<'_>) -> Result<Option<SecretString>, ConfigError> {
    match r.string("metrics_token")? {
        None => Ok(None),
        Some(t) if t.chars().count() >= MIN_SECRET_LEN => Ok(Some(SecretString::from(t))),
        Some(_) => Err(r.invalid(
            "metrics_token",
            r.raw("metrics_token"),
            format!("at least {MIN_SECRET_LEN} characters"),
        )),
    }
}

fn previous_secrets(r: &Reader<'_>) -> Result<Vec<SecretString>, ConfigError> {
    let Some(items) = r.list("previous_secrets")? else {
        return Ok(Vec::new());
    };
    if items.iter().any(|s| s.chars().count() < MIN_SECRET_LEN) {
        return Err(r.invalid(
            "previous_secrets",
            r.raw("previous_secrets"),
            format!("comma-separated secrets of at least {MIN_SECRET_LEN} characters"),
        ));
    }
    Ok(items.into_iter().map(SecretString::from).collect())
}

fn cookie_domain(r: &Reader<'_>) -> Result<Option<CookieDomain>, ConfigError> {
    let Some(s) = r.string("cookie_domain")? else {
        return Ok(None);
    };
    if s.is_empty() {
        return Ok(None);
    }
    CookieDomain::parse(&s)
        .map(Some)
        .map_err(|e| r.invalid("cookie_domain", r.raw("cookie_domain"), e))
}

fn trusted_proxies(r: &Reader<'_>) -> Result<Vec<IpNet>, ConfigError> {
    let Some(items) = r.list("trusted_proxies")? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| r.invalid("trusted_proxies", r.raw("trusted_proxies"), format!(
                    "comma-separated IP addresses or CIDR ranges such as 10.0.0.0/8,127.0.0.1 (`{s}` is neither)"
                )))
        })
        .collect()
}

fn tls(r: &Reader<'_>, dir: &Path) -> Result<Option<TlsFiles>, ConfigError> {
    match (r.string("tls_cert")?, r.string("tls_key")?) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert: dir.join(cert), key: dir.join(key) })),
        _ => Err(ConfigError::Inconsistent(
            "tls_cert and tls_key go together: set both (PEM files, e.g. from `authjar dev certs`) or neither".into(),
        )),
    }
}
