//! `Client`, its builder, its defaults and the variables it reads.

use std::fmt;
use std::sync::Arc;

use client_core::auth::Credential;
use client_core::{ApiDefaults, BasicAuth, ClientConfig, HttpClient, JwtBearerGrant, RetryClassifier, Vars};
use secrecy::SecretString;

use crate::credentials_file::CredentialsFile;
use crate::error::{Error, Result};
use crate::policy::InBandErrors;

/// The REST API's base URL (`https://api.d21s.com/v2/` is an alias).
pub const DEFAULT_BASE_URL: &str = "https://api.disruptive-technologies.com/v2/";
/// The token endpoint of service accounts.
pub const DEFAULT_TOKEN_URL: &str = "https://identity.disruptive-technologies.com/oauth2/token";
/// The emulator API's base URL.
pub const DEFAULT_EMULATOR_URL: &str = "https://emulator.disruptive-technologies.com/v2/";
/// The page size lists ask for unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

const DEFAULTS: ApiDefaults = ApiDefaults::new(
    "DT",
    Some(DEFAULT_BASE_URL),
    env::BASE_URL,
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")),
)
.with_metrics_label(METRICS_LABEL);

/// The `api` label of this crate's [metrics](client_core::metrics).
pub(crate) const METRICS_LABEL: &str = "dt";

/// The variables [`Client::from_env`] reads (the official Python client's names for the
/// key, plus the endpoints).
pub mod env {
    /// The service account key id (required unless the builder already holds a key or a
    /// credential).
    pub const KEY_ID: &str = "DT_SERVICE_ACCOUNT_KEY_ID";
    /// The key's secret (required with the key id).
    pub const SECRET: &str = "DT_SERVICE_ACCOUNT_SECRET";
    /// The service account email: with it, the OAuth2 grant; without it, Basic.
    pub const EMAIL: &str = "DT_SERVICE_ACCOUNT_EMAIL";
    /// `basic` forces Basic auth even with the email; `oauth2` requires the email.
    pub const AUTH: &str = "DT_AUTH";
    /// The API base URL (default [`DEFAULT_BASE_URL`](super::DEFAULT_BASE_URL)).
    pub const BASE_URL: &str = "DT_BASE_URL";
    /// The token endpoint (default [`DEFAULT_TOKEN_URL`](super::DEFAULT_TOKEN_URL)).
    pub const TOKEN_URL: &str = "DT_TOKEN_URL";
    /// The emulator's base URL (default
    /// [`DEFAULT_EMULATOR_URL`](super::DEFAULT_EMULATOR_URL)).
    pub const EMULATOR_URL: &str = "DT_EMULATOR_URL";
    /// The path of a credentials file of the official Python client
    /// ([`CredentialsFile`](crate::CredentialsFile)): the key and the token endpoint, in
    /// place of [`KEY_ID`], [`SECRET`], [`EMAIL`] and [`TOKEN_URL`]. Setting it together
    /// with any of [`KEY_ID`], [`SECRET`] or [`EMAIL`] is reported as a conflict (the
    /// Python client would take the file, a reader of the variables would expect them:
    /// neither is guessed), and so is a [`TOKEN_URL`] other than the file's
    /// `tokenEndpoint`. [`AUTH`]`=basic` uses the file's key id and secret with Basic.
    pub const CREDENTIALS_FILE: &str = "DT_CREDENTIALS_FILE";
    /// Every variable the client reads, for "is anything configured?" checks.
    /// (`DT_API_URL`, the old name of [`BASE_URL`], is not among them: when set, it is
    /// reported as an error naming the new one.)
    pub const ALL: [&str; 8] = [
        KEY_ID,
        SECRET,
        EMAIL,
        AUTH,
        BASE_URL,
        TOKEN_URL,
        EMULATOR_URL,
        CREDENTIALS_FILE,
    ];
}

/// The old name of [`env::BASE_URL`]: reported when set, never read.
const OLD_BASE_URL: &str = "DT_API_URL";

/// A DT REST API client. Cheap to clone; clones share the token cache and the
/// connection pool. `Send + Sync`.
///
/// Build it with [`Client::builder`], or from the variables of [`mod@env`] with
/// [`Client::from_env`].
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    pub(crate) emulator: HttpClient,
    pub(crate) page_size: u32,
    /// The wall time when the client was built and its clock's instant then: the client's
    /// now is read on its clock from there (so a test's `ManualClock` moves it too).
    pub(crate) epoch: (jiff::Timestamp, tokio::time::Instant),
}

/// A service account key, in one of the two ways DT accepts it.
enum Key {
    /// The RFC 7523 JWT-bearer grant: a JWT signed with the key's secret is exchanged for
    /// an access token (refreshed before it expires).
    ServiceAccount {
        key_id: String,
        secret: SecretString,
        email: String,
    },
    /// HTTP Basic with the key id and secret, as the document's curl examples use.
    Basic { key_id: String, secret: SecretString },
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::ServiceAccount { key_id, email, .. } => f
                .debug_struct("ServiceAccount")
                .field("key_id", key_id)
                .field("email", email)
                .finish_non_exhaustive(),
            Key::Basic { key_id, .. } => f
                .debug_struct("Basic")
                .field("key_id", key_id)
                .finish_non_exhaustive(),
        }
    }
}

/// Builder of [`Client`]: the SDK's shared setters (`base_url`, `credential`, `timeout`,
/// `connect_timeout`, `retry_policy`, `throttle`, `clock`, `user_agent_suffix`,
/// `tls_roots`), and DT's own: the key (`service_account` or `basic`), `token_url`,
/// `emulator_url` and `page_size`, and a credentials file of the official Python client
/// (`credentials_file`, `service_account_credentials`).
///
/// ```no_run
/// use dt_client::{Client, SecretString};
///
/// # fn run() -> Result<(), dt_client::Error> {
/// let client = Client::builder()
///     .service_account("key-id", SecretString::from("key-secret"), "sa@project.serviceaccount.d21s.com")
///     .page_size(500)
///     .build()?;
/// # Ok(()) }
/// ```
pub struct ClientBuilder {
    config: ClientConfig,
    key: Option<Key>,
    /// Why the credentials file given to `credentials_file` could not be used: `build`
    /// reports it.
    file_error: Option<Error>,
    token_url: String,
    emulator_url: String,
    page_size: u32,
}

impl Client {
    /// Starts a builder with the API's defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: ClientConfig::new(DEFAULTS),
            key: None,
            file_error: None,
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            emulator_url: DEFAULT_EMULATOR_URL.to_owned(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// The API base URL (always ends in `/`).
    pub fn base_url(&self) -> &client_core::url::Url {
        self.http.base_url()
    }

    /// The page size lists ask for unless told otherwise.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}

impl ClientBuilder {
    /// The token endpoint (default [`DEFAULT_TOKEN_URL`]); also the JWT's `aud`.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The emulator's base URL (default [`DEFAULT_EMULATOR_URL`]). The emulator is called
    /// with the same credential as the API.
    pub fn emulator_url(mut self, url: impl Into<String>) -> Self {
        self.emulator_url = url.into();
        self
    }

    /// Authenticates with a service account key through the OAuth2 JWT-bearer grant: a
    /// JWT signed with `secret` (HS256, `kid` = `key_id`, `iss` = `email`) is exchanged
    /// for an access token, cached and refreshed before it expires.
    pub fn service_account(
        mut self,
        key_id: impl Into<String>,
        secret: SecretString,
        email: impl Into<String>,
    ) -> Self {
        self.key = Some(Key::ServiceAccount {
            key_id: key_id.into(),
            secret,
            email: email.into(),
        });
        self
    }

    /// Authenticates with HTTP Basic: the key id and secret (Basic must be enabled on
    /// the service account).
    pub fn basic(mut self, key_id: impl Into<String>, secret: SecretString) -> Self {
        self.key = Some(Key::Basic {
            key_id: key_id.into(),
            secret,
        });
        self
    }

    /// Authenticates with the service account key of a credentials file of the official
    /// Python client, already read ([`CredentialsFile::read`] or
    /// [`CredentialsFile::from_json`]): the OAuth2 grant as [`service_account`](Self::service_account)
    /// does, with the file's `tokenEndpoint` as the token URL (as
    /// [`token_url`](Self::token_url) sets it).
    pub fn service_account_credentials(self, file: CredentialsFile) -> Self {
        let CredentialsFile {
            key_id,
            secret,
            email,
            token_endpoint,
        } = file;
        self.service_account(key_id, secret, email)
            .token_url(token_endpoint)
    }

    /// Reads the credentials file at `path` (see [`CredentialsFile`]) and authenticates
    /// with its key, as [`service_account_credentials`](Self::service_account_credentials)
    /// does. A file that cannot be read or used is reported by `build`, as a
    /// [`ClientError::Config`](crate::ClientError::Config) error naming the path and the
    /// member at fault, never the secret.
    pub fn credentials_file(mut self, path: impl AsRef<std::path::Path>) -> Self {
        match CredentialsFile::read(path) {
            Ok(file) => {
                self.file_error = None;
                self.service_account_credentials(file)
            }
            Err(err) => {
                self.file_error = Some(err);
                self
            }
        }
    }

    /// The page size lists ask for (default [`DEFAULT_PAGE_SIZE`]); 0 is refused by
    /// `build`.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// The credential of the key set with `service_account` or `basic`.
    fn key_credential(&self) -> Result<Arc<dyn Credential>> {
        match &self.key {
            Some(Key::ServiceAccount {
                key_id,
                secret,
                email,
            }) => Ok(Arc::new(
                JwtBearerGrant::builder()
                    .token_url(self.token_url.clone())
                    .key_id(key_id.clone())
                    .issuer(email.clone())
                    .secret(secret.clone())
                    .endpoint(self.config.token_endpoint())
                    .build_cached()?,
            )),
            Some(Key::Basic { key_id, secret }) => Ok(Arc::new(
                BasicAuth::builder()
                    .username(key_id.clone())
                    .password(secret.clone())
                    .build()?,
            )),
            None => Err(Error::config(format!(
                "DT: a service account key is required (service_account, basic or credential; or {}, {})",
                env::KEY_ID,
                env::SECRET
            ))),
        }
    }
}

/// The builder's own halves of the `ClientBuilderShape` that `client_shape!` implements:
/// its variables and its build.
impl ClientBuilder {
    fn read_own_vars(mut self, vars: &mut Vars<'_>) -> Self {
        if vars.is_set(OLD_BASE_URL) {
            // Silently ignored, it would send the key to production when it meant staging.
            vars.problem(format!("{OLD_BASE_URL} was renamed to {}", env::BASE_URL));
        }
        let basic = match vars.get(env::AUTH).map(|mode| mode.to_ascii_lowercase()) {
            None => None,
            Some(mode) if mode == "basic" => Some(true),
            Some(mode) if mode == "oauth2" => Some(false),
            Some(_) => {
                // Not the value: a secret may have landed in the wrong variable.
                vars.problem(format!("{} must be `basic` or `oauth2`", env::AUTH));
                None
            }
        };
        if let Some(path) = vars.get(env::CREDENTIALS_FILE) {
            return self.read_credentials_file_var(vars, &path, basic);
        }
        let email = vars.get(env::EMAIL);
        if basic == Some(false) && email.is_none() {
            vars.problem(format!("{}=oauth2 needs {}", env::AUTH, env::EMAIL));
        }
        match (vars.get(env::KEY_ID), vars.secret(env::SECRET)) {
            (Some(key_id), Some(secret)) => {
                self = match email {
                    Some(email) if basic != Some(true) => self.service_account(key_id, secret, email),
                    _ => self.basic(key_id, secret),
                };
            }
            (Some(_), None) => vars.missing(env::SECRET),
            (None, Some(_)) => vars.missing(env::KEY_ID),
            (None, None) => {
                // A key or credential set on the builder needs no variable.
                if self.key.is_none() && self.config.credential().is_none() {
                    vars.missing(env::KEY_ID);
                    vars.missing(env::SECRET);
                }
            }
        }
        self.read_urls(vars)
    }

    /// The variables of endpoints. Parsed here so that a malformed URL is reported with
    /// every other problem.
    fn read_urls(mut self, vars: &mut Vars<'_>) -> Self {
        if let Some(url) = vars.parse::<client_core::url::Url>(env::TOKEN_URL) {
            self.token_url = url.into();
        }
        if let Some(url) = vars.parse::<client_core::url::Url>(env::EMULATOR_URL) {
            self.emulator_url = url.into();
        }
        self
    }

    /// [`env::CREDENTIALS_FILE`] is set to `path`: the key from that file, unless a key
    /// variable is set too (a conflict). `basic` is what [`env::AUTH`] asks for. Problems
    /// name the variable, not the path (a variable's value never appears in an error).
    fn read_credentials_file_var(mut self, vars: &mut Vars<'_>, path: &str, basic: Option<bool>) -> Self {
        let also: Vec<&str> = [env::KEY_ID, env::SECRET, env::EMAIL]
            .into_iter()
            .filter(|name| vars.is_set(name))
            .collect();
        if !also.is_empty() {
            vars.problem(format!(
                "{} and {} are both set: set one or the other",
                env::CREDENTIALS_FILE,
                also.join(", ")
            ));
            return self.read_urls(vars);
        }
        let file = match crate::credentials_file::load(std::path::Path::new(path)) {
            Ok(file) => file,
            Err(problem) => {
                vars.problem(format!("{}: the file it names {problem}", env::CREDENTIALS_FILE));
                return self.read_urls(vars);
            }
        };
        if let Some(url) = vars.parse::<client_core::url::Url>(env::TOKEN_URL) {
            if url.as_str() != file.token_endpoint {
                vars.problem(format!(
                    "{} differs from the tokenEndpoint of the file {} names: set one",
                    env::TOKEN_URL,
                    env::CREDENTIALS_FILE
                ));
            }
        }
        self = if basic == Some(true) {
            self.basic(file.key_id, file.secret)
        } else {
            self.service_account_credentials(file)
        };
        if let Some(url) = vars.parse::<client_core::url::Url>(env::EMULATOR_URL) {
            self.emulator_url = url.into();
        }
        self
    }

    fn build_client(self) -> Result<Client> {
        if let Some(err) = self.file_error {
            return Err(err);
        }
        if self.page_size == 0 {
            return Err(Error::config("DT: the page size must be at least 1"));
        }
        // A credential given with `credential(..)` wins over the key.
        let credential = match self.config.credential() {
            Some(credential) => credential.clone(),
            None => self.key_credential()?,
        };
        let classifier: Arc<dyn RetryClassifier> = Arc::new(InBandErrors);
        let http = self
            .config
            .http_builder()?
            .shared_credential(credential.clone())
            .classifier(classifier.clone())
            .build()?;
        let emulator = self
            .config
            .http_builder_for(&self.emulator_url)
            .shared_credential(credential)
            .classifier(classifier)
            .build()?;
        let epoch = (jiff::Timestamp::now(), http.clock().now());
        Ok(Client {
            http,
            emulator,
            page_size: self.page_size,
            epoch,
        })
    }
}

impl Client {
    /// The wall time now on the client's clock (its wall time when built, plus the time
    /// its clock says has passed since).
    pub(crate) fn now(&self) -> jiff::Timestamp {
        let elapsed = self.http.clock().now().saturating_duration_since(self.epoch.1);
        jiff::SignedDuration::try_from(elapsed)
            .ok()
            .and_then(|elapsed| self.epoch.0.checked_add(elapsed).ok())
            .unwrap_or(jiff::Timestamp::MAX)
    }
}

client_core::client_shape! {
    client: Client,
    builder: ClientBuilder { config },
    error: Error,
    read_vars: read_own_vars,
    build: build_client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("http", &self.http)
            .field("emulator", &self.emulator)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("key", &self.key)
            .field("file_error", &self.file_error)
            .field("token_url", &crate::redact::redact_url(&self.token_url))
            .field("emulator_url", &crate::redact::redact_url(&self.emulator_url))
            .field("page_size", &self.page_size)
            .finish()
    }
}
