//! A single-flight token cache with early refresh and a grace period on failures.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::static_credentials::{bearer_value, scheme_parameter};
use super::{AccessToken, Credential, TokenSource};
use crate::clock::{Clock, TokioClock};
use crate::error::{Error, Result};

/// The longest a cached token is trusted, whatever the endpoint says.
const MAX_CACHED_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// When a cached token is refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCacheConfig {
    /// Refresh this long before expiry...
    pub refresh_before_expiry: Duration,
    /// ...unless the token lives shorter than this, in which case refresh at half-life.
    pub short_token_threshold: Duration,
    /// The lifetime assumed when the endpoint sends no `expires_in`.
    pub default_lifetime: Duration,
    /// A token this close to expiry is no longer handed out, even during a failed refresh.
    pub expiry_margin: Duration,
    /// After a failed refresh while the old token is still usable, wait this long before
    /// trying again (so a broken endpoint is not hit by every request).
    pub failed_refresh_backoff: Duration,
}

impl Default for TokenCacheConfig {
    /// Refresh 5 minutes early (half-life under 10 minutes), assume 1 hour when the
    /// endpoint does not say, stop serving a token 10 seconds before it expires.
    fn default() -> Self {
        TokenCacheConfig {
            refresh_before_expiry: Duration::from_secs(300),
            short_token_threshold: Duration::from_secs(600),
            default_lifetime: Duration::from_secs(3600),
            expiry_margin: Duration::from_secs(10),
            failed_refresh_backoff: Duration::from_secs(10),
        }
    }
}

/// Caches the tokens of a [`TokenSource`] and sends them as `Authorization: Bearer`.
///
/// - One token request at a time (single flight): a thousand concurrent requests on a
///   cold cache cause one token request, and the others wait for its result.
/// - Refresh early: 5 minutes before expiry, or at half-life for tokens shorter than
///   10 minutes. While a refresh is under way, other requests keep using the still-valid
///   old token instead of waiting.
/// - A failed refresh while the old token is still valid is logged and the old token is
///   served until it nears expiry; then the error is returned.
/// - A 401 from the API drops the token it was given (once: concurrent 401s for the same
///   token cause one refresh) and the pipeline repeats the request once.
///
/// Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    source: Box<dyn TokenSource>,
    config: TokenCacheConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// Held while a token request is under way: the single-flight gate.
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    token: Option<Cached>,
    /// Bumped after every fetch, so waiters can tell a fetch happened while they queued.
    generation: u64,
    last_error: Option<Error>,
    /// The token before the cached one (replaced or dropped), still in flight in
    /// requests sent before: listed among the secrets to redact.
    previous: Option<HeaderValue>,
}

impl State {
    /// Replaces the cached token, remembering the one it replaces.
    fn set_token(&mut self, token: Option<Cached>) {
        if let Some(old) = self.token.take() {
            if token.as_ref().is_none_or(|new| new.header != old.header) {
                self.previous = Some(old.header);
            }
        }
        self.token = token;
    }
}

#[derive(Clone)]
struct Cached {
    header: HeaderValue,
    /// The fetch that brought it (see [`State::generation`]).
    generation: u64,
    refresh_at: Instant,
    usable_until: Instant,
}

impl TokenCache {
    /// A cache over `source` with the default timing.
    pub fn new(source: impl TokenSource + 'static) -> Self {
        Self::with_config(source, TokenCacheConfig::default())
    }

    /// A cache over `source` with the given timing.
    pub fn with_config(source: impl TokenSource + 'static, config: TokenCacheConfig) -> Self {
        Self::with_clock(source, config, Arc::new(TokioClock))
    }

    /// A cache reading the time from `clock` (for tests of expiry).
    pub fn with_clock(
        source: impl TokenSource + 'static,
        config: TokenCacheConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        TokenCache {
            inner: Arc::new(Inner {
                source: Box::new(source),
                config,
                clock,
                state: Mutex::new(State::default()),
                refresh: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The current `Authorization` header value, fetching a token when needed.
    pub async fn authorization(&self) -> Result<HeaderValue> {
        let now = self.inner.clock.now();
        let (cached, generation) = {
            let state = self.lock();
            (state.token.clone(), state.generation)
        };
        if let Some(cached) = &cached {
            if now < cached.refresh_at {
                return Ok(cached.header.clone());
            }
            if now < cached.usable_until {
                // Due for refresh but still valid: refresh unless someone already is (or
                // just did), and never make this request wait for another's refresh.
                let Ok(_guard) = self.inner.refresh.try_lock() else {
                    return Ok(cached.header.clone());
                };
                if let Some(current) = self.fresh_since(generation) {
                    return Ok(current);
                }
                return self.refresh_now(Some(cached.clone())).await;
            }
        }
        let _guard = self.inner.refresh.lock().await;
        // Whoever held the gate before us may have done the work already; if their fetch
        // failed, share its error instead of sending one more request per waiter.
        if let Some(current) = self.fresh_since(generation) {
            return Ok(current);
        }
        if let Some(err) = self.error_since(generation) {
            return Err(err);
        }
        self.refresh_now(None).await
    }

    /// The cached header if a fetch completed after `generation` and left a token that
    /// is usable, or that this very fetch brought: a caller who waited for a fetch uses
    /// its token even when it lives too short to be cached (`expires_in` 0 or a few
    /// seconds), instead of fetching one more for itself.
    fn fresh_since(&self, generation: u64) -> Option<HeaderValue> {
        let state = self.lock();
        let token = state.token.as_ref()?;
        let brought_by_latest_fetch = token.generation == state.generation;
        (state.generation != generation
            && (brought_by_latest_fetch || self.inner.clock.now() < token.usable_until))
            .then(|| token.header.clone())
    }

    /// The error of a fetch that completed after `generation`, if it failed.
    fn error_since(&self, generation: u64) -> Option<Error> {
        let state = self.lock();
        if state.generation == generation {
            return None;
        }
        state.last_error.clone()
    }

    /// Drops the cached token (the next request fetches a new one).
    pub fn invalidate(&self) {
        self.lock().set_token(None);
    }

    /// Fetches a token; the caller holds the refresh gate.
    async fn refresh_now(&self, still_valid: Option<Cached>) -> Result<HeaderValue> {
        let started = self.inner.clock.now();
        let fetched = self.inner.source.fetch_token().await;
        let mut state = self.lock();
        state.generation += 1;
        let generation = state.generation;
        match fetched.and_then(|token| self.to_cached(&token, started, generation)) {
            Ok(cached) => {
                tracing::debug!(
                    lifetime_s = (cached.usable_until - started).as_secs(),
                    "access token refreshed"
                );
                let header = cached.header.clone();
                state.set_token(Some(cached));
                state.last_error = None;
                Ok(header)
            }
            Err(err) => {
                state.last_error = Some(err.clone());
                // The old token is served on only while it is still the cached one: a 401
                // that arrived during the refresh dropped it, and the API must never get
                // back the token it just refused.
                let still_cached =
                    |old: &Cached| state.token.as_ref().is_some_and(|t| t.header == old.header);
                match still_valid {
                    Some(mut old) if self.inner.clock.now() < old.usable_until && still_cached(&old) => {
                        tracing::warn!(error = %err, "token refresh failed; using the current token until it expires");
                        // A backoff too long for the clock waits until the token's end.
                        old.refresh_at = self
                            .inner
                            .clock
                            .now()
                            .checked_add(self.inner.config.failed_refresh_backoff)
                            .unwrap_or(old.usable_until);
                        let header = old.header.clone();
                        state.token = Some(old);
                        Ok(header)
                    }
                    _ => Err(err),
                }
            }
        }
    }

    fn to_cached(&self, token: &AccessToken, fetched_at: Instant, generation: u64) -> Result<Cached> {
        let config = &self.inner.config;
        // A lifetime beyond any real token's (or one that would overflow the clock) is
        // clamped: the token is refreshed early rather than trusted for ever.
        let lifetime = token
            .expires_in()
            .unwrap_or(config.default_lifetime)
            .min(MAX_CACHED_LIFETIME);
        let refresh_in = if lifetime < config.short_token_threshold {
            lifetime / 2
        } else {
            lifetime.saturating_sub(config.refresh_before_expiry)
        };
        Ok(Cached {
            header: bearer_value(token.secret().expose_secret()).map_err(|_| {
                Error::auth("the token endpoint returned a token that is not a valid header value")
            })?,
            generation,
            refresh_at: fetched_at + refresh_in,
            // A token shorter-lived than twice the margin is served for half its life
            // (as long as it is not refreshed), not for none of it.
            usable_until: fetched_at + lifetime.saturating_sub(config.expiry_margin.min(lifetime / 2)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update of the state is a plain assignment: a panic cannot leave it torn.
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.lock().token.is_some();
        f.debug_struct("TokenCache")
            .field("source", &self.inner.source)
            .field("config", &self.inner.config)
            .field("has_token", &cached)
            .finish()
    }
}

impl Credential for TokenCache {
    fn apply<'a>(&'a self, headers: &'a mut HeaderMap) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let value = self.authorization().await?;
            headers.insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    fn on_unauthorized(&self, rejected: &HeaderMap) -> bool {
        let Some(rejected) = rejected.get(AUTHORIZATION) else {
            return false;
        };
        let mut state = self.lock();
        if state.token.as_ref().is_some_and(|t| t.header == rejected) {
            tracing::debug!("API refused the cached token; dropping it");
            state.set_token(None);
        }
        // A newer token than the refused one may already be cached: retrying helps too.
        true
    }

    /// The cached token, the one before it, and the secrets of the token source (its
    /// client secret or signing secret, its last assertion).
    fn secrets(&self) -> Vec<SecretString> {
        let mut secrets = self.inner.source.secrets();
        let state = self.lock();
        let tokens = state.token.as_ref().map(|t| &t.header).into_iter();
        secrets.extend(tokens.chain(state.previous.as_ref()).filter_map(scheme_parameter));
        secrets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use secrecy::SecretString;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicU32>,
        lifetime: Duration,
        fail_from: u32,
    }

    impl TokenSource for Counting {
        fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let lifetime = self.lifetime;
            let fail = n >= self.fail_from;
            Box::pin(async move {
                if fail {
                    return Err(Error::auth("endpoint down"));
                }
                Ok(AccessToken::new(
                    SecretString::from(format!("t{n}")),
                    Some(lifetime),
                ))
            })
        }
    }

    fn cache(lifetime: Duration, fail_from: u32) -> (TokenCache, Arc<AtomicU32>, ManualClock) {
        let calls = Arc::new(AtomicU32::new(0));
        let clock = ManualClock::new();
        let source = Counting {
            calls: calls.clone(),
            lifetime,
            fail_from,
        };
        let cache = TokenCache::with_clock(source, TokenCacheConfig::default(), Arc::new(clock.clone()));
        (cache, calls, clock)
    }

    #[tokio::test]
    async fn refreshes_five_minutes_before_expiry() {
        let (cache, calls, clock) = cache(Duration::from_secs(3600), u32::MAX);
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        clock.advance(Duration::from_secs(3600 - 301));
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        clock.advance(Duration::from_secs(2));
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn short_tokens_refresh_at_half_life() {
        let (cache, _calls, clock) = cache(Duration::from_secs(120), u32::MAX);
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        clock.advance(Duration::from_secs(59));
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        clock.advance(Duration::from_secs(2));
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t2");
    }

    #[tokio::test]
    async fn failed_refresh_keeps_serving_the_valid_token_then_fails() {
        let (cache, calls, clock) = cache(Duration::from_secs(3600), 2);
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        clock.advance(Duration::from_secs(3400)); // due for refresh, 200 s left
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Within the failure backoff no new attempt is made.
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        clock.advance(Duration::from_secs(195)); // past usable_until (expiry - 10 s)
        let err = cache.authorization().await.unwrap_err();
        assert_eq!(err.message(), "endpoint down");
    }

    #[tokio::test]
    async fn huge_lifetimes_do_not_overflow_the_clock() {
        let (cache, calls, clock) = cache(Duration::MAX, u32::MAX);
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t1");
        clock.advance(MAX_CACHED_LIFETIME);
        assert_eq!(cache.authorization().await.unwrap(), "Bearer t2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    /// Hands out `t1`, then fails every later fetch (the first of them once `release` is
    /// notified).
    #[derive(Debug)]
    struct GatedFailure {
        calls: Arc<AtomicU32>,
        release: Arc<tokio::sync::Notify>,
    }

    impl TokenSource for GatedFailure {
        fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let release = self.release.clone();
            Box::pin(async move {
                if n == 1 {
                    return Ok(AccessToken::new(
                        SecretString::from("t1"),
                        Some(Duration::from_secs(3600)),
                    ));
                }
                if n == 2 {
                    release.notified().await;
                }
                Err(Error::auth("endpoint down"))
            })
        }
    }

    #[tokio::test]
    async fn a_refresh_failing_after_a_401_never_hands_back_the_refused_token() {
        let calls = Arc::new(AtomicU32::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let clock = ManualClock::new();
        let source = GatedFailure {
            calls: calls.clone(),
            release: release.clone(),
        };
        let cache = TokenCache::with_clock(source, TokenCacheConfig::default(), Arc::new(clock.clone()));
        let mut refused = HeaderMap::new();
        cache.apply(&mut refused).await.unwrap();
        clock.advance(Duration::from_secs(3400)); // due for refresh, still valid
        // A request starts the refresh and waits inside the token endpoint...
        let refreshing = tokio::spawn({
            let cache = cache.clone();
            async move { cache.authorization().await }
        });
        while calls.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        // ...while another request is refused with t1...
        assert!(cache.on_unauthorized(&refused));
        // ...and then the refresh fails.
        release.notify_one();
        let first = refreshing.await.unwrap();
        assert!(first.is_err(), "the refused token was handed out: {first:?}");
        let retried = cache.authorization().await;
        assert!(
            retried.as_ref().is_err() || retried.as_ref().is_ok_and(|h| h != "Bearer t1"),
            "the refused token was handed out again: {retried:?}"
        );
    }

    #[tokio::test]
    async fn unauthorized_drops_only_the_refused_token() {
        let (cache, calls, _clock) = cache(Duration::from_secs(3600), u32::MAX);
        let mut headers = HeaderMap::new();
        cache.apply(&mut headers).await.unwrap();
        assert!(cache.on_unauthorized(&headers));
        assert!(cache.on_unauthorized(&headers)); // the same refusal again: no second drop
        let mut fresh = HeaderMap::new();
        cache.apply(&mut fresh).await.unwrap();
        assert_eq!(fresh[AUTHORIZATION], "Bearer t2");
        assert!(cache.on_unauthorized(&headers)); // stale refusal does not drop t2
        let mut again = HeaderMap::new();
        cache.apply(&mut again).await.unwrap();
        assert_eq!(again[AUTHORIZATION], "Bearer t2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
