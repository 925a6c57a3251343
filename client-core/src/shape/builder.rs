//! The one client builder: the setters every client has, written once, and
//! `from_env`/`from_vars`, written once.

use std::sync::Arc;
use std::time::Duration;

use super::config::ClientConfig;
use super::vars::Vars;
use crate::auth::Credential;
use crate::clock::Clock;
use crate::retry::RetryPolicy;
use crate::throttle::Throttle;
use crate::transport::TlsRoots;

/// The shape of every client builder of the SDK. A client crate's `ClientBuilder` holds
/// a [`ClientConfig`] and implements the four required methods; the setters are
/// provided here, once, and [`client_shape!`](crate::client_shape) puts them on the
/// builder as inherent methods (no import needed) together with `Client::from_env` and
/// `Client::from_vars`.
///
/// Generic code can take any client's builder:
///
/// ```
/// use std::time::Duration;
/// use client_core::ClientBuilderShape;
///
/// /// The settings a fleet applies to every client it builds.
/// fn fleet_defaults<B: ClientBuilderShape>(builder: B) -> B {
///     builder
///         .read_timeout(Some(Duration::from_secs(300)))
///         .request_timeout(Some(Duration::from_secs(600)))
///         .user_agent_suffix("fleet-exporter/2.1")
/// }
/// ```
pub trait ClientBuilderShape: Sized {
    /// The client this builder builds.
    type Client: Clone + Send + Sync + std::fmt::Debug + 'static;
    /// The client crate's error type.
    type Error: From<crate::Error> + std::error::Error + Send + Sync + 'static;

    /// The shared settings.
    fn config(&self) -> &ClientConfig;

    /// The shared settings, to change.
    fn config_mut(&mut self) -> &mut ClientConfig;

    /// Reads the API's own variables (its credential kinds and settings) through `vars`,
    /// recording what is missing or contradicting there. The base URL variable is read
    /// before this is called.
    fn read_vars(self, vars: &mut Vars<'_>) -> Self;

    /// Checks the configuration and builds the client.
    fn build(self) -> Result<Self::Client, Self::Error>;

    /// The API's base URL. A missing trailing `/` is added.
    fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config_mut().set_base_url(url.into());
        self
    }

    /// Authenticates with any `client-core` credential: a token cache over your own
    /// grant, an assertion signer whose key lives in a KMS or HSM, a static header. It
    /// takes precedence over the API's own credential setters.
    fn credential(mut self, credential: impl Credential + 'static) -> Self {
        self.config_mut().set_credential(Arc::new(credential));
        self
    }

    /// Longest silence while reading a response: waiting for its headers, or between
    /// two chunks of its body (default [`DEFAULT_READ_TIMEOUT`](crate::DEFAULT_READ_TIMEOUT));
    /// `None` disables it. Not a limit on the whole request: bodies may stream for hours
    /// as long as bytes keep arriving (see [`request_timeout`](Self::request_timeout)).
    fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config_mut().transport_mut().read_timeout = timeout;
        self
    }

    /// Limit on each attempt of a request (default none): from sending it until its
    /// response headers arrive, and until its body is read when the call reads it whole
    /// (`send`). An attempt that overruns it is a timeout, retried as the retry policy
    /// says (each attempt gets the whole limit). A streamed body (`stream()`, `pages()`,
    /// `copy_to`, `write_to`) is never cut by it: the read timeout guards it. See
    /// [`HttpClientBuilder::request_timeout`](crate::HttpClientBuilder::request_timeout).
    fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config_mut().transport_mut().request_timeout = timeout;
        self
    }

    /// Time allowed to open a connection (default
    /// [`DEFAULT_CONNECT_TIMEOUT`](crate::DEFAULT_CONNECT_TIMEOUT)); `None` disables it.
    fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config_mut().transport_mut().connect_timeout = timeout;
        self
    }

    /// How failed requests are repeated (default: [`RetryPolicy::default`], 4 attempts
    /// with backoff).
    fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config_mut().transport_mut().retry_policy = policy;
        self
    }

    /// A client-side rate limit, shared by every clone of the client.
    fn throttle(mut self, throttle: Throttle) -> Self {
        self.config_mut().transport_mut().throttle = Some(throttle);
        self
    }

    /// The clock of retries, throttle and token refresh (tests use a
    /// [`ManualClock`](crate::ManualClock) or a paused Tokio clock and never sleep).
    fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config_mut().transport_mut().clock = clock;
        self
    }

    /// Text appended to `User-Agent` (your service's name and version, say).
    fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.config_mut().transport_mut().user_agent_suffix = Some(suffix.into());
        self
    }

    /// The trusted TLS roots of the API and its token endpoint (default: the bundled
    /// Mozilla roots).
    fn tls_roots(mut self, roots: TlsRoots) -> Self {
        self.config_mut().transport_mut().tls_roots = roots;
        self
    }

    /// Sends the API's requests through the proxy at `url` (`http://proxy:3128`, with
    /// `user:password@` if it asks for it) instead of the environment's proxies
    /// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, which apply otherwise).
    /// Requests to a loopback host (`localhost`, 127.0.0.0/8, `::1`) never go through a
    /// proxy, whichever applies.
    fn proxy(mut self, url: impl Into<String>) -> Self {
        self.config_mut().transport_mut().proxy = Some(url.into());
        self
    }

    /// Reads the API's variables through `lookup` onto this builder: the base URL
    /// variable, then the API's own (credentials and settings). Every problem is
    /// reported at once, in one `Config` error naming each variable.
    fn vars(self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Self::Error> {
        let defaults = *self.config().defaults();
        let mut vars = Vars::new(defaults.name, &lookup);
        let mut builder = self;
        if let Some(url) = vars.get(defaults.base_url_var) {
            builder.config_mut().set_base_url(url);
        } else if builder.config().base_url().is_none() {
            vars.missing(defaults.base_url_var);
        }
        let builder = builder.read_vars(&mut vars);
        vars.finish()?;
        Ok(builder)
    }
}

/// Makes a client crate's builder the SDK's one builder: implements
/// [`ClientBuilderShape`] for it (its shared settings in the field `config`, its own
/// variables read by `read_vars`, its client built by `build`, both private functions
/// of the crate), puts the shared setters on it as inherent methods (so they need no
/// import), and `from_env`/`from_vars` on its client.
///
/// The generated docs link the client crate's own re-exports (see
/// [`client_reexports!`](crate::client_reexports)), so that they are links even where
/// `client-core`'s docs are not built; the crate also has a `pub mod env`.
///
/// ```ignore
/// client_core::client_shape! {
///     client: Client,
///     builder: ClientBuilder { config },
///     error: Error,
///     read_vars: read_own_vars,
///     build: build_client,
/// }
/// ```
#[macro_export]
macro_rules! client_shape {
    (
        client: $client:ident,
        builder: $builder:ident { $config:ident },
        error: $error:ty,
        read_vars: $read_vars:ident,
        build: $build:ident $(,)?
    ) => {
        impl $crate::ClientBuilderShape for $builder {
            type Client = $client;
            type Error = $error;

            fn config(&self) -> &$crate::ClientConfig {
                &self.$config
            }

            fn config_mut(&mut self) -> &mut $crate::ClientConfig {
                &mut self.$config
            }

            fn read_vars(self, vars: &mut $crate::Vars<'_>) -> Self {
                Self::$read_vars(self, vars)
            }

            fn build(self) -> ::std::result::Result<$client, $error> {
                Self::$build(self)
            }
        }

        impl $builder {
            /// The API's base URL. A missing trailing `/` is added.
            pub fn base_url(self, url: impl Into<String>) -> Self {
                <Self as $crate::ClientBuilderShape>::base_url(self, url)
            }

            /// Authenticates with any `client-core` [`Credential`](crate::Credential)
            /// (a token cache over your own grant, an
            /// assertion signer whose key lives in a KMS, a static header). It takes
            /// precedence over this builder's own credential setters.
            pub fn credential(self, credential: impl $crate::Credential + 'static) -> Self {
                <Self as $crate::ClientBuilderShape>::credential(self, credential)
            }

            /// Longest silence while reading a response: waiting for its headers, or
            /// between two chunks of its body (default
            /// [`DEFAULT_READ_TIMEOUT`](crate::DEFAULT_READ_TIMEOUT), 120 s); `None` disables
            /// it. Not a limit on the whole request: bodies may stream for hours as
            /// long as bytes keep arriving.
            pub fn read_timeout(self, timeout: Option<std::time::Duration>) -> Self {
                <Self as $crate::ClientBuilderShape>::read_timeout(self, timeout)
            }

            /// Limit on each attempt of a request (default none): from sending it
            /// until its response headers arrive, and until its body is read when the
            /// call reads it whole (`send`). An attempt that overruns it is a
            /// [`Timeout`](crate::ClientError::Timeout), retried as the retry policy
            /// says. A streamed body (`stream()`, `pages()`, `copy_to`, `write_to`) is
            /// never cut by it: the read timeout guards it.
            pub fn request_timeout(self, timeout: Option<std::time::Duration>) -> Self {
                <Self as $crate::ClientBuilderShape>::request_timeout(self, timeout)
            }

            /// Time allowed to open a connection (default
            /// [`DEFAULT_CONNECT_TIMEOUT`](crate::DEFAULT_CONNECT_TIMEOUT), 10 s);
            /// `None` disables it.
            pub fn connect_timeout(self, timeout: Option<std::time::Duration>) -> Self {
                <Self as $crate::ClientBuilderShape>::connect_timeout(self, timeout)
            }

            /// How failed requests are repeated (default:
            /// [`RetryPolicy::default`](crate::RetryPolicy::default), 4 attempts
            /// with backoff).
            pub fn retry_policy(self, policy: $crate::RetryPolicy) -> Self {
                <Self as $crate::ClientBuilderShape>::retry_policy(self, policy)
            }

            /// A client-side rate limit, shared by every clone of the client.
            pub fn throttle(self, throttle: $crate::Throttle) -> Self {
                <Self as $crate::ClientBuilderShape>::throttle(self, throttle)
            }

            /// The clock of retries, throttle and token refresh (tests use a
            /// [`ManualClock`](crate::ManualClock) and never sleep).
            pub fn clock(self, clock: std::sync::Arc<dyn $crate::Clock>) -> Self {
                <Self as $crate::ClientBuilderShape>::clock(self, clock)
            }

            /// Text appended to `User-Agent` (your service's name and version, say).
            pub fn user_agent_suffix(self, suffix: impl Into<String>) -> Self {
                <Self as $crate::ClientBuilderShape>::user_agent_suffix(self, suffix)
            }

            /// The trusted TLS roots of the API and its token endpoint (default: the
            /// bundled Mozilla roots).
            pub fn tls_roots(self, roots: $crate::TlsRoots) -> Self {
                <Self as $crate::ClientBuilderShape>::tls_roots(self, roots)
            }

            /// Sends the API's requests, and its token requests, through the proxy at `url`
            /// (`http://proxy:3128`, with `user:password@` if it asks for it) instead of
            /// the environment's (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
            /// `NO_PROXY`). Requests to a loopback host (`localhost`, 127.0.0.0/8,
            /// `::1`) never go through a proxy, whichever applies.
            pub fn proxy(self, url: impl Into<String>) -> Self {
                <Self as $crate::ClientBuilderShape>::proxy(self, url)
            }

            /// Reads the variables of [`env`](crate::env) through `lookup` onto this
            /// builder; every problem is reported at once, in one
            /// [`ClientError::Config`](crate::ClientError::Config).
            pub fn vars(
                self,
                lookup: impl Fn(&str) -> Option<String>,
            ) -> Result<Self, <Self as $crate::ClientBuilderShape>::Error> {
                <Self as $crate::ClientBuilderShape>::vars(self, lookup)
            }

            /// Checks the configuration and builds the client; a missing or
            /// contradicting setting is a
            /// [`ClientError::Config`](crate::ClientError::Config) naming it.
            pub fn build(self) -> Result<$client, <Self as $crate::ClientBuilderShape>::Error> {
                <Self as $crate::ClientBuilderShape>::build(self)
            }
        }

        impl $client {
            /// A client from the process environment: the variables of
            /// [`env`](crate::env). Every missing or contradicting variable is reported
            /// at once, in one [`ClientError::Config`](crate::ClientError::Config).
            pub fn from_env() -> Result<$client, <$builder as $crate::ClientBuilderShape>::Error> {
                Self::from_vars(|name| std::env::var(name).ok())
            }

            /// Like [`from_env`](Self::from_env), reading the variables through
            /// `lookup` (a config map, a secret store, a test).
            pub fn from_vars(
                lookup: impl Fn(&str) -> Option<String>,
            ) -> Result<$client, <$builder as $crate::ClientBuilderShape>::Error> {
                $client::builder().vars(lookup)?.build()
            }
        }
    };
}

/// The `client-core` items every client crate re-exports at its root, the same set in
/// every client (so a user's `Cargo.toml` lists only the client crate and tokio), plus
/// its `prelude`: the verb traits and the stream extensions. The items are not inlined:
/// their pages, and the links in them, stay `client-core`'s.
///
/// The client crate adds the credential types of its own kinds and
/// `pub use {jiff, secrecy, serde, serde_json};` (kept out of the macro, because a crate
/// may need them without its HTTP client).
///
/// ```ignore
/// client_core::client_reexports!();
/// ```
#[macro_export]
macro_rules! client_reexports {
    () => {
        #[doc(no_inline)]
        pub use $crate as client_core;
        #[doc(no_inline)]
        pub use $crate::futures::{self, Stream, StreamExt, TryStreamExt};
        /// What the client counts, and how to see it: the series, their labels and the
        /// recorder to install (client-core's [`metrics`](client_core::metrics)).
        #[doc(no_inline)]
        pub use $crate::metrics;
        #[doc(no_inline)]
        pub use $crate::secrecy::SecretString;
        #[doc(no_inline)]
        pub use $crate::{
            ApiError, BearerToken, Checkpoint, Checkpointed, ClientError, Clock, Credential, Cursor,
            DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, DecodeOptions, ErrorCode, ErrorDetail,
            ErrorOrigin, HeaderCredential, ManualClock, Page, Position, RateLimit, RecordStream,
            RequestPreview, RetryPolicy, Throttle, TlsRoots, Window, Written,
        };

        /// The verbs every request ends in, as traits, and the stream extensions: with
        /// `use <client>::prelude::*;` every terminal and `try_next` is in scope.
        pub mod prelude {
            #[doc(no_inline)]
            pub use $crate::futures::{StreamExt, TryStreamExt};
            #[doc(no_inline)]
            pub use $crate::{Pageable, Request, Resumable, Sendable, Storable, Streamable};
        }
    };
}
