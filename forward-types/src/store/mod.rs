//! Reading forwarded objects back from where the platform put them (S3, Azure Blob
//! Storage, or a local folder), through `object_store`. Feature `store`.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use futures::Stream;
use jiff::civil::Date;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::body::{ForwardMessage, decode_body};
use crate::object_key::ObjectKey;

mod settings;
mod transport;
use transport::ReqwestConnector;

/// Why forwarded objects could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The location is not one this crate reads, or its settings are wrong.
    #[error("forwarded objects: {0}")]
    Config(String),
    /// The store refused or failed a listing or a read. The message is on one line even
    /// when the store's answer (an XML error document, say) spans several.
    #[error("reading forwarded objects failed: {}", one_line(&.0.to_string()))]
    Store(#[from] object_store::Error),
    /// An object under a date prefix does not follow `{YYYY}/{MM}/{DD}/{timestamp}`.
    #[error("object `{key}` under a date prefix is not a forwarded object: {reason}")]
    ForeignObject {
        /// The object's path.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An object's body is not a forwarded batch.
    #[error("object `{key}` does not decode: {reason}")]
    Decode {
        /// The object's path.
        key: String,
        /// The decoder's message, with the field's path.
        reason: String,
    },
}

/// A message read back, with the key of the object that held it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredMessage {
    /// The object's key.
    pub key: ObjectKey,
    /// The message.
    pub message: ForwardMessage,
}

/// The forwarded objects of one destination: a store and the prefix the platform's
/// `{YYYY}/{MM}/{DD}/{timestamp}` keys sit under.
#[derive(Debug, Clone)]
pub struct ForwardedObjects {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl ForwardedObjects {
    /// The objects under `prefix` in `store`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path) -> Self {
        ForwardedObjects { store, prefix }
    }

    /// The objects at `url`, with the settings of the process environment:
    ///
    /// | URL | store | settings |
    /// |---|---|---|
    /// | `s3://bucket[/prefix]` | S3 | the `AWS_*` variables (`AWS_ENDPOINT` and `AWS_ALLOW_HTTP` for S3-compatible servers) |
    /// | `az://container[/prefix]` | Azure Blob | the `AZURE_*` variables (`AZURE_STORAGE_USE_EMULATOR=true` for Azurite) |
    /// | `https://account.blob.core.windows.net/container[/prefix]?sas` | Azure Blob (any Azure cloud's domain) | the SAS in the query |
    /// | `http://127.0.0.1:10000/account/container[/prefix]?sas` | Azure Blob with the account in the path (Azurite, Azure Stack; a host that is an IP address, `localhost`, or has no `.blob.` part) | the SAS in the query |
    /// | `file:///folder` | a local folder | |
    ///
    /// Requests go through the workspace's `reqwest` (rustls, webpki roots).
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let vars = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)));
        Self::from_url_with(url, vars)
    }

    /// The objects at `url` as [`from_url`](Self::from_url) reads it, with the `AWS_*` and
    /// `AZURE_*` settings taken from `vars` instead of the environment (names as in the
    /// environment, for instance `("AWS_REGION", "eu-west-1")`). Other names are ignored.
    pub fn from_url_with(
        url: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, StoreError> {
        let parsed =
            url::Url::parse(url).map_err(|e| StoreError::Config(format!("`{url}` does not parse: {e}")))?;
        let segments: Vec<String> = parsed
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let prefix_of = |skip: usize| Path::from_iter(segments.iter().skip(skip).map(String::as_str));
        let config = |e: object_store::Error| StoreError::Config(one_line(&e.to_string()));
        match parsed.scheme() {
            "s3" => {
                let bucket = parsed
                    .host_str()
                    .ok_or_else(|| StoreError::Config("s3:// needs a bucket".into()))?;
                let store = settings::s3(vars)
                    .with_http_connector(ReqwestConnector)
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(config)?;
                Ok(Self::new(Arc::new(store), prefix_of(0)))
            }
            "az" | "azure" => {
                let container = parsed
                    .host_str()
                    .ok_or_else(|| StoreError::Config("az:// needs a container".into()))?;
                let store = settings::azure(vars)
                    .with_http_connector(ReqwestConnector)
                    .with_container_name(container)
                    .build()
                    .map_err(config)?;
                Ok(Self::new(Arc::new(store), prefix_of(0)))
            }
            "https" | "http" if parsed.query().is_some_and(|q| !q.is_empty()) => {
                let location = settings::blob_location(&parsed, &segments)?;
                let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
                let store = object_store::azure::MicrosoftAzureBuilder::new()
                    .with_http_connector(ReqwestConnector)
                    .with_account(location.account)
                    .with_endpoint(location.endpoint)
                    .with_allow_http(parsed.scheme() == "http")
                    .with_container_name(location.container)
                    .with_sas_authorization(pairs)
                    .build()
                    .map_err(config)?;
                Ok(Self::new(Arc::new(store), prefix_of(location.prefix_from)))
            }
            "file" => {
                let folder = parsed
                    .to_file_path()
                    .map_err(|()| StoreError::Config(format!("`{url}` is not a local path")))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&folder).map_err(config)?;
                Ok(Self::new(Arc::new(store), Path::default()))
            }
            other => Err(StoreError::Config(format!(
                "`{other}://` is not supported: use s3://, az://, a Blob container URL with its SAS, or file://"
            ))),
        }
    }

    /// The objects dated `from` to `to` (both included), in key order: by date, then by
    /// timestamp (numerically when both are numbers). Only the date prefixes are listed.
    pub async fn keys(&self, from: Date, to: Date) -> Result<Vec<(ObjectKey, Path)>, StoreError> {
        use futures::TryStreamExt;
        let mut keys = Vec::new();
        let mut day = from;
        while day <= to {
            let prefix = self
                .prefix
                .clone()
                .join(format!("{:04}", day.year()).as_str())
                .join(format!("{:02}", day.month()).as_str())
                .join(format!("{:02}", day.day()).as_str());
            let mut listing = self.store.list(Some(&prefix));
            while let Some(meta) = listing.try_next().await? {
                let text = meta.location.to_string();
                let key = ObjectKey::parse(&text).map_err(|e| StoreError::ForeignObject {
                    key: text.clone(),
                    reason: e.to_string(),
                })?;
                keys.push((key, meta.location));
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        keys.sort_by(|(a, _), (b, _)| compare(a, b));
        Ok(keys)
    }

    /// Every message of the objects dated `from` to `to`, in key order; a redelivery (a
    /// `hashId` already read) is left out, so each message comes once, as first stored.
    pub fn messages(
        &self,
        from: Date,
        to: Date,
    ) -> impl Stream<Item = Result<StoredMessage, StoreError>> + Send + '_ {
        futures::stream::once(self.keys(from, to))
            .map_ok(move |keys| {
                let store = self.store.clone();
                futures::stream::iter(keys).then(move |(key, path)| {
                    let store = store.clone();
                    async move {
                        let bytes = store.get(&path).await?.bytes().await?;
                        let messages = decode_body(&bytes).map_err(|e| StoreError::Decode {
                            key: path.to_string(),
                            reason: e.to_string(),
                        })?;
                        Ok::<_, StoreError>((key, messages))
                    }
                })
            })
            .try_flatten()
            .scan(HashSet::new(), |seen, read| {
                let out: Vec<Result<StoredMessage, StoreError>> = match read {
                    Err(err) => vec![Err(err)],
                    Ok((key, messages)) => messages
                        .into_iter()
                        .filter(|m| seen.insert(m.hash_id().to_owned()))
                        .map(|message| {
                            Ok(StoredMessage {
                                key: key.clone(),
                                message,
                            })
                        })
                        .collect(),
                };
                futures::future::ready(Some(futures::stream::iter(out)))
            })
            .flatten()
    }
}

use futures::{StreamExt, TryStreamExt as _};

/// Key order: date, then timestamp (as numbers when both are digits), then the suffix.
fn compare(a: &ObjectKey, b: &ObjectKey) -> Ordering {
    let number = |key: &ObjectKey| {
        let text = key.timestamp();
        (!text.is_empty() && text.len() <= 30 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u128>().ok())
            .flatten()
    };
    a.date()
        .cmp(&b.date())
        .then_with(|| match (number(a), number(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => a.timestamp().cmp(b.timestamp()),
        })
        .then_with(|| a.has_json_suffix().cmp(&b.has_json_suffix()))
}

/// `text` with each line break, and the blanks around it, turned into one space.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
