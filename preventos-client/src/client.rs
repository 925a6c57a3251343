//! `Client`, its builder, and the variables it reads.

use std::fmt;

use client_core::{
    ApiDefaults, AssertionSigner, CertificateKey, ClientConfig, ClientCredentials, HeaderCredential,
    HttpClient, JwsAlgorithm, Vars,
};
use futures::future::BoxFuture;
use secrecy::SecretString;

use crate::error::{Error, Result};

/// The header that carries the APIM subscription key on every request.
const SUBSCRIPTION_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

/// Preventos has no public base URL: each customer gets its own `<api-base-url>`, so
/// there is no `DEFAULT_BASE_URL` and a client without one is a configuration error.
const DEFAULTS: ApiDefaults = ApiDefaults::new(
    "Preventos",
    None,
    env::BASE_URL,
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")),
)
.with_metrics_label(METRICS_LABEL);

/// The `api` label of this crate's [metrics](client_core::metrics).
pub(crate) const METRICS_LABEL: &str = "preventos";

/// A Preventos Data API client. Cheap to clone; clones share the token cache and the
/// connection pool. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
}

/// Builder of [`Client`].
///
/// The shared setters (`base_url`, `credential`, `timeout`, `connect_timeout`,
/// `retry_policy`, `throttle`, `clock`, `user_agent_suffix`, `tls_roots`, `vars`) are
/// the same in every client of the SDK. Preventos' own are its Entra ID registration
/// (`tenant_id`, `authority`, `scope`, `client_id`), one of `client_secret`,
/// `certificate` or `assertion_signer`, and the APIM `subscription_key`, which is sent
/// on every request whatever the identity credential.
///
/// ```no_run
/// use preventos_client::{Client, SecretString};
///
/// # fn run() -> Result<(), preventos_client::Error> {
/// let client = Client::builder()
///     .base_url("https://data.example.com/api/v1/")
///     .tenant_id("contoso")
///     .scope("api://preventos-data/.default")
///     .client_id("00000000-0000-0000-0000-000000000000")
///     .client_secret(SecretString::from("from-a-vault"))
///     .subscription_key(SecretString::from("from-a-vault"))
///     .build()?;
/// # Ok(()) }
/// ```
pub struct ClientBuilder {
    config: ClientConfig,
    tenant_id: Option<String>,
    authority: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    signer: Option<Box<dyn AssertionSigner>>,
    subscription_key: Option<SecretString>,
}

/// The environment variables [`Client::from_env`] reads (the document's names).
pub mod env {
    /// Entra tenant id.
    pub const TENANT_ID: &str = "DATA_API_TENANT_ID";
    /// API base URL (a missing trailing `/` is added). Required: Preventos has no
    /// public default.
    pub const BASE_URL: &str = "DATA_API_BASE_URL";
    /// The `.default` scope.
    pub const SCOPE: &str = "DATA_API_SCOPE";
    /// Application (client) id.
    pub const CLIENT_ID: &str = "DATA_API_CLIENT_ID";
    /// Client secret (or use the certificate).
    pub const CLIENT_SECRET: &str = "DATA_API_CLIENT_SECRET";
    /// Path of a PFX certificate (or use the secret).
    pub const CERTIFICATE: &str = "DATA_API_CERTIFICATE";
    /// Password of the PFX (optional).
    pub const CERTIFICATE_PASSWORD: &str = "DATA_API_CERTIFICATE_PASSWORD";
    /// APIM subscription key.
    pub const SUBSCRIPTION_KEY: &str = "DATA_API_SUBSCRIPTION_KEY";
    /// Authority override (default `https://{tenant}.ciamlogin.com/{tenant}/`).
    pub const AUTHORITY: &str = "DATA_API_AUTHORITY";
    /// Every variable the client reads, for "is anything configured?" checks.
    pub const ALL: [&str; 9] = [
        TENANT_ID,
        BASE_URL,
        SCOPE,
        CLIENT_ID,
        CLIENT_SECRET,
        CERTIFICATE,
        CERTIFICATE_PASSWORD,
        SUBSCRIPTION_KEY,
        AUTHORITY,
    ];
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: ClientConfig::new(DEFAULTS),
            tenant_id: None,
            authority: None,
            scope: None,
            client_id: None,
            client_secret: None,
            signer: None,
            subscription_key: None,
        }
    }

    /// The base URL (always ends in `/`).
    pub fn base_url(&self) -> &client_core::url::Url {
        self.http.base_url()
    }
}

client_core::client_shape! {
    client: Client,
    builder: ClientBuilder { config },
    error: Error,
    read_vars: read_own_vars,
    build: build_client,
}

impl ClientBuilder {
    /// The Entra tenant id.
    pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant.into());
        self
    }

    /// Overrides the authority (default `https://{tenant}.ciamlogin.com/{tenant}/`); the
    /// token endpoint is `{authority}oauth2/v2.0/token`.
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// The `.default` scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The application (client) id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Proves the application's identity with a client secret.
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Proves the application's identity with a certificate (a PFX or PEM key loaded
    /// with [`CertificateKey`]) signing client assertions.
    pub fn certificate(self, key: CertificateKey) -> Self {
        self.assertion_signer(key)
    }

    /// Proves the application's identity with client assertions signed by `signer`: a
    /// key that never leaves a KMS or HSM.
    pub fn assertion_signer(mut self, signer: impl AssertionSigner + 'static) -> Self {
        self.signer = Some(Box::new(signer));
        self
    }

    /// The APIM subscription key, sent as `Ocp-Apim-Subscription-Key` on every request
    /// (also with a [`credential`](Self::credential) of your own).
    pub fn subscription_key(mut self, key: SecretString) -> Self {
        self.subscription_key = Some(key);
        self
    }

    /// What is missing for Entra ID client credentials, by setter name.
    fn missing_identity(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.tenant_id.is_none() && self.authority.is_none() {
            missing.push("tenant id (or authority)");
        }
        if self.scope.is_none() {
            missing.push("scope");
        }
        if self.client_id.is_none() {
            missing.push("client id");
        }
        if self.client_secret.is_none() && self.signer.is_none() {
            missing.push("client secret or certificate");
        }
        missing
    }

    /// The Entra ID client-credentials grant of the registration, in a token cache.
    fn entra_credential(self) -> Result<client_core::TokenCache> {
        let authority = match (self.authority, self.tenant_id) {
            (Some(authority), _) => authority,
            (None, Some(tenant)) => format!("https://{tenant}.ciamlogin.com/{tenant}/"),
            (None, None) => return Err(Error::config("Preventos: missing tenant id")),
        };
        let credentials = ClientCredentials::builder()
            .token_url(format!("{}/oauth2/v2.0/token", authority.trim_end_matches('/')))
            .client_id(self.client_id.unwrap_or_default())
            .scope(self.scope.unwrap_or_default())
            .endpoint(self.config.token_endpoint());
        let credentials = match (self.client_secret, self.signer) {
            (Some(secret), None) => credentials.client_secret(secret),
            (None, Some(signer)) => credentials.certificate(BoxedSigner(signer)),
            _ => return Err(Error::config("Preventos: set a client secret or a certificate")),
        };
        Ok(credentials.build_cached()?)
    }
}

/// The builder's own halves of the `ClientBuilderShape` that `client_shape!` implements:
/// its variables and its build.
impl ClientBuilder {
    /// A variable that is set replaces what the builder holds; one that is unset is
    /// missing only when the builder holds no value for it either (a setter called
    /// before `vars`, or `credential(..)` for the identity variables).
    fn read_own_vars(mut self, vars: &mut Vars<'_>) -> Self {
        if let Some(key) = vars.secret(env::SUBSCRIPTION_KEY) {
            self.subscription_key = Some(key);
        } else if self.subscription_key.is_none() {
            vars.missing(env::SUBSCRIPTION_KEY);
        }
        // A credential of the caller's own replaces the Entra registration.
        if self.config.credential().is_some() {
            return self;
        }
        if let Some(authority) = vars.get(env::AUTHORITY) {
            self.authority = Some(authority);
        }
        if let Some(tenant) = vars.get(env::TENANT_ID) {
            self.tenant_id = Some(tenant);
        } else if self.tenant_id.is_none() && self.authority.is_none() {
            vars.missing(format!("{} (or {})", env::TENANT_ID, env::AUTHORITY));
        }
        for (name, held) in [
            (env::SCOPE, &mut self.scope),
            (env::CLIENT_ID, &mut self.client_id),
        ] {
            if let Some(value) = vars.get(name) {
                *held = Some(value);
            } else if held.is_none() {
                vars.missing(name);
            }
        }
        match (vars.secret(env::CLIENT_SECRET), vars.get(env::CERTIFICATE)) {
            (Some(_), Some(_)) => vars.problem(format!(
                "both {} and {} are set; set exactly one",
                env::CLIENT_SECRET,
                env::CERTIFICATE
            )),
            (None, None) => {
                if self.client_secret.is_none() && self.signer.is_none() {
                    vars.missing(format!("{} or {}", env::CLIENT_SECRET, env::CERTIFICATE));
                }
            }
            (Some(secret), None) => {
                self.signer = None;
                self.client_secret = Some(secret);
            }
            (None, Some(path)) => match certificate_from_file(&path, vars) {
                Ok(key) => {
                    self.client_secret = None;
                    self = self.certificate(key);
                }
                Err(problem) => vars.problem(format!("{}: {problem}", env::CERTIFICATE)),
            },
        }
        self
    }

    fn build_client(mut self) -> Result<Client> {
        let mut missing = Vec::new();
        if self.config.base_url().is_none() {
            missing.push(format!("base URL ({})", env::BASE_URL));
        }
        if self.subscription_key.is_none() {
            missing.push("subscription key".to_owned());
        }
        let own = self.config.credential().cloned();
        if own.is_none() {
            missing.extend(self.missing_identity().into_iter().map(str::to_owned));
            if self.client_secret.is_some() && self.signer.is_some() {
                return Err(Error::config(
                    "Preventos: both a client secret and a certificate are set; set exactly one",
                ));
            }
        }
        if !missing.is_empty() {
            return Err(Error::config(format!(
                "Preventos: missing {}",
                missing.join(", ")
            )));
        }
        let key = HeaderCredential::builder()
            .name(SUBSCRIPTION_KEY_HEADER)
            .value(
                self.subscription_key
                    .take()
                    .unwrap_or_else(|| SecretString::from("")),
            )
            .build()?;
        let http = self.config.http_builder()?.credential(key);
        let http = match own {
            Some(credential) => http.shared_credential(credential),
            None => http.credential(self.entra_credential()?),
        };
        Ok(Client { http: http.build()? })
    }
}

/// The PFX certificate at `path`, with the password of
/// [`env::CERTIFICATE_PASSWORD`] (none: empty). The problem, when it does not load, names
/// neither the path nor the password: a variable's value never appears in an error.
fn certificate_from_file(path: &str, vars: &Vars<'_>) -> std::result::Result<CertificateKey, String> {
    let der = std::fs::read(path).map_err(|e| format!("the file it names cannot be read ({e})"))?;
    let password = vars
        .secret(env::CERTIFICATE_PASSWORD)
        .unwrap_or_else(|| SecretString::from(""));
    CertificateKey::from_pkcs12(&der, &password).map_err(|e| e.to_string())
}

/// A boxed [`AssertionSigner`], itself a signer: the builder keeps the caller's signer
/// until `build` hands it to the client-credentials grant.
#[derive(Debug)]
struct BoxedSigner(Box<dyn AssertionSigner>);

impl AssertionSigner for BoxedSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.0.algorithm()
    }

    fn x5t_s256(&self) -> String {
        self.0.x5t_s256()
    }

    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> BoxFuture<'a, client_core::Result<Vec<u8>>> {
        self.0.sign(signing_input)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("http", &self.http).finish()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: bool| set.then_some("[REDACTED]");
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("tenant_id", &self.tenant_id)
            .field("authority", &self.authority)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(self.client_secret.is_some()))
            .field("signer", &self.signer)
            .field("subscription_key", &redacted(self.subscription_key.is_some()))
            .finish()
    }
}
