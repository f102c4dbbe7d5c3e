//! An OpenID provider's discovery document and signing keys, cached for as
//! long as the provider says (`Cache-Control: max-age` of its JWKS, within
//! [`MIN_TTL`]..[`MAX_TTL`], [`DEFAULT_TTL`] when it says nothing), fetched
//! again when they are stale, and fetched again at once (at most every
//! [`KEY_REFRESH_INTERVAL`]) when an ID token is signed by a key the cached
//! set does not have: providers rotate their keys, and a cache that never
//! forgets would refuse every login after a rotation until a restart.
//!
//! Fetched here rather than with `CoreProviderMetadata::discover_async`
//! because that hides the response headers the lifetime comes from.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::reqwest::header::{HeaderMap, CACHE_CONTROL};

/// Lifetime when the provider gives none.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// Shortest lifetime honoured (a provider saying `max-age=0` is not fetched per login).
pub const MIN_TTL: Duration = Duration::from_secs(300);
/// Longest lifetime honoured: discovery is read again at least daily.
pub const MAX_TTL: Duration = Duration::from_secs(86_400);
/// At most one key refresh for an unknown key in this interval.
pub const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

struct Cached {
    meta: Arc<CoreProviderMetadata>,
    fetched: Instant,
    ttl: Duration,
}

/// One issuer's cached metadata and keys.
pub struct DiscoveryCache {
    issuer: String,
    cached: tokio::sync::RwLock<Option<Cached>>,
    fetching: tokio::sync::Mutex<()>,
    last_key_refresh: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for DiscoveryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryCache")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl DiscoveryCache {
    /// An empty cache for `issuer`.
    pub fn new(issuer: String) -> DiscoveryCache {
        DiscoveryCache {
            issuer,
            cached: tokio::sync::RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            last_key_refresh: Mutex::new(None),
        }
    }

    /// The metadata with its keys: cached while fresh, fetched again when
    /// stale (the stale copy is kept if the provider cannot be reached).
    pub async fn get(
        &self,
        http: &openidconnect::reqwest::Client,
    ) -> Result<Arc<CoreProviderMetadata>, String> {
        if let Some(meta) = self.fresh().await {
            return Ok(meta);
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        if let Some(meta) = self.fresh().await {
            return Ok(meta);
        }
        match fetch(&self.issuer, http).await {
            Ok((meta, ttl)) => Ok(self.store(meta, ttl).await),
            Err(e) => match self.cached.read().await.as_ref() {
                Some(stale) => {
                    tracing::warn!(issuer = %self.issuer, error = %e, "OpenID discovery failed; using the cached copy");
                    Ok(stale.meta.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Fetches everything again because an ID token was signed by a key the
    /// cached set lacks. `None` when a refresh ran within
    /// [`KEY_REFRESH_INTERVAL`] (so a flood of forged tokens cannot make
    /// authjar hammer the provider) or the fetch failed.
    pub async fn refresh_for_unknown_key(
        &self,
        http: &openidconnect::reqwest::Client,
    ) -> Option<Arc<CoreProviderMetadata>> {
        {
            let mut last = self.last_key_refresh.lock().ok()?;
            if last.is_some_and(|t| t.elapsed() < KEY_REFRESH_INTERVAL) {
                return None;
            }
            *last = Some(Instant::now());
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        match fetch(&self.issuer, http).await {
            Ok((meta, ttl)) => Some(self.store(meta, ttl).await),
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %e, "refreshing the provider's keys failed");
                None
            }
        }
    }

    async fn fresh(&self) -> Option<Arc<CoreProviderMetadata>> {
        let cached = self.cached.read().await;
        cached
            .as_ref()
            .filter(|c| c.fetched.elapsed() < c.ttl)
            .map(|c| c.meta.clone())
    }

    async fn store(&self, meta: CoreProviderMetadata, ttl: Duration) -> Arc<CoreProviderMetadata> {
        let meta = Arc::new(meta);
        *self.cached.write().await = Some(Cached {
            meta: meta.clone(),
            fetched: Instant::now(),
            ttl,
        });
        meta
    }
}

/// Discovery (whose `issuer` must be the configured one, OpenID Connect
/// Discovery §4.3) and the JWKS it names, with the JWKS's lifetime.
async fn fetch(
    issuer: &str,
    http: &openidconnect::reqwest::Client,
) -> Result<(CoreProviderMetadata, Duration), String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let (body, _) = get_json(http, &url).await?;
    let meta: CoreProviderMetadata =
        serde_json::from_slice(&body).map_err(|e| format!("discovery document: {e}"))?;
    if meta.issuer().as_str() != issuer {
        return Err(format!(
            "discovery names issuer {} instead of {issuer}",
            meta.issuer().as_str()
        ));
    }
    let (body, headers) = get_json(http, meta.jwks_uri().as_str()).await?;
    let jwks: CoreJsonWebKeySet =
        serde_json::from_slice(&body).map_err(|e| format!("JWKS: {e}"))?;
    Ok((meta.set_jwks(jwks), ttl_of(&headers)))
}

async fn get_json(
    http: &openidconnect::reqwest::Client,
    url: &str,
) -> Result<(Vec<u8>, HeaderMap), String> {
    let res = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !res.status().is_success() {
        return Err(format!("{url}: HTTP {}", res.status()));
    }
    let headers = res.headers().clone();
    let body = res.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    Ok((body.to_vec(), headers))
}

/// `Cache-Control: max-age` (or `no-store`/`no-cache` as the minimum), clamped.
fn ttl_of(headers: &HeaderMap) -> Duration {
    let Some(value) = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) else {
        return DEFAULT_TTL;
    };
    let mut ttl = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return MIN_TTL;
        }
        if let Some(secs) = directive.strip_prefix("max-age=") {
            ttl = secs
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    ttl.unwrap_or(DEFAULT_TTL).clamp(MIN_TTL, MAX_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::reqwest::header::HeaderValue;

    fn cc(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CACHE_CONTROL, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn lifetimes_come_from_cache_control_within_bounds() {
        assert_eq!(ttl_of(&HeaderMap::new()), DEFAULT_TTL);
        assert_eq!(
            ttl_of(&cc("public, max-age=7200")),
            Duration::from_secs(7200)
        );
        assert_eq!(ttl_of(&cc("max-age=1")), MIN_TTL);
        assert_eq!(ttl_of(&cc("max-age=99999999")), MAX_TTL);
        assert_eq!(ttl_of(&cc("no-store")), MIN_TTL);
        assert_eq!(ttl_of(&cc("max-age=abc")), DEFAULT_TTL);
    }
}
