//! Reading forwarded objects back from where the platform put them (S3, Azure Blob
//! Storage, or a local folder), through `object_store`. Feature `store`.

use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::Stream;
use jiff::civil::Date;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::body::{DecodeError, ForwardMessage, MAX_BODY_BYTES, MessageKind, decode_body};
use crate::object_key::ObjectKey;

/// Why forwarded objects could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The location is not one this crate reads, or its settings are wrong.
    #[error("forwarded objects: {0}")]
    Config(String),
    /// The store refused or failed a listing or a read. The message is on one line even
    /// when the store's answer (an XML error document, say) spans several.
    #[error("reading forwarded objects failed: {}", client_core::store::one_line(&.0.to_string()))]
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
///
/// `Debug` shows the store as its `Display` does (`MicrosoftAzure { account: .., container:
/// .. }`), never its credentials: the derived `Debug` of an Azure store shows the SAS.
#[derive(Clone)]
pub struct ForwardedObjects {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl std::fmt::Debug for ForwardedObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardedObjects")
            .field("store", &format_args!("{}", self.store))
            .field("prefix", &self.prefix.as_ref())
            .finish()
    }
}

/// The SAS variable a Blob container URL without a query takes its SAS from (as
/// `forward-push` does): a SAS kept out of the URL stays off command lines.
pub const SAS_TOKEN_VAR: &str = client_core::store::SAS_TOKEN_VAR;

impl ForwardedObjects {
    /// The objects under `prefix` in `store`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path) -> Self {
        ForwardedObjects { store, prefix }
    }

    /// The objects at `url`, with the settings of the process environment (the rules of
    /// every store the SDK opens, `client_core::store`):
    ///
    /// | URL | store | settings |
    /// |---|---|---|
    /// | `s3://bucket[/prefix]` | S3 | the `AWS_*` variables (`AWS_ENDPOINT` and `AWS_ALLOW_HTTP` for S3-compatible servers) |
    /// | `az://container[/prefix]` | Azure Blob | the `AZURE_*` variables (`AZURE_STORAGE_USE_EMULATOR=true` for Azurite) |
    /// | `https://account.blob.core.windows.net/container[/prefix]` | Azure Blob (any Azure cloud's domain) | the SAS in `AZURE_STORAGE_SAS_TOKEN`, or in the URL's query |
    /// | `http://127.0.0.1:10000/account/container[/prefix]` | Azure Blob with the account in the path (Azurite, Azure Stack; a host that is an IP address, `localhost`, or has no `.blob.` part) | the same |
    /// | `gs://bucket[/prefix]` | Google Cloud Storage | the `GOOGLE_*` variables |
    /// | `file:///folder` | a local folder | |
    ///
    /// Requests go through the workspace's `reqwest` (rustls, webpki roots), over HTTPS
    /// only, except to a loopback host (`localhost`, `127.0.0.0/8`, `::1`) and to the
    /// instance metadata endpoints of the stores' credential chains: a plain `http://`
    /// URL or endpoint elsewhere is refused before any connection, even with
    /// `AWS_ALLOW_HTTP`. Those hosts are never reached through a proxy (neither the
    /// `*_PROXY_URL` setting nor `HTTP_PROXY`/`ALL_PROXY`): plain HTTP is allowed there only
    /// because it never leaves the machine or its link. A redirect is an error, never
    /// followed. No error or `Debug` shows the URL's query (a SAS).
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let vars = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)));
        Self::from_url_with(url, vars)
    }

    /// The objects at `url` as [`from_url`](Self::from_url) reads it, with the `AWS_*`,
    /// `AZURE_*` and `GOOGLE_*` settings taken from `vars` instead of the environment (names as in the
    /// environment, for instance `("AWS_REGION", "eu-west-1")`). Other names are ignored.
    pub fn from_url_with(
        url: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, StoreError> {
        let location = client_core::store::open_url_with(url, vars)
            .map_err(|e| StoreError::Config(e.message().to_owned()))?;
        Ok(Self::new(location.store, location.prefix))
    }

    /// The objects dated `from` to `to` (both included), in key order: by date, then by
    /// timestamp (numerically when both are numbers). Only the date prefixes are listed.
    /// This holds every key of the range; [`messages`](Self::messages) holds one day's.
    pub async fn keys(&self, from: Date, to: Date) -> Result<Vec<(ObjectKey, Path)>, StoreError> {
        let mut keys = Vec::new();
        let mut day = Some(from);
        while let Some(today) = day.filter(|d| *d <= to) {
            keys.extend(self.day_keys(today).await?);
            day = today.tomorrow().ok();
        }
        Ok(keys)
    }

    /// The objects under the date prefix of `day`, in key order.
    async fn day_keys(&self, day: Date) -> Result<Vec<(ObjectKey, Path)>, StoreError> {
        use futures::TryStreamExt;
        let prefix = self
            .prefix
            .clone()
            .join(format!("{:04}", day.year()).as_str())
            .join(format!("{:02}", day.month()).as_str())
            .join(format!("{:02}", day.day()).as_str());
        let mut keys = Vec::new();
        let mut listing = self.store.list(Some(&prefix));
        while let Some(meta) = listing.try_next().await? {
            let text = meta.location.to_string();
            let key = ObjectKey::parse(&text).map_err(|e| StoreError::ForeignObject {
                key: text.clone(),
                reason: e.to_string(),
            })?;
            keys.push((key, meta.location));
        }
        keys.sort_by(|(a, _), (b, _)| compare(a, b));
        Ok(keys)
    }

    /// The messages of one object; an object above [`MAX_BODY_BYTES`] is not read.
    async fn read(&self, path: &Path) -> Result<Vec<ForwardMessage>, StoreError> {
        let object = self.store.get(path).await?;
        let decode_error = |e: DecodeError| StoreError::Decode {
            key: path.to_string(),
            reason: e.to_string(),
        };
        if object.meta.size > MAX_BODY_BYTES as u64 {
            return Err(decode_error(DecodeError::too_large(object.meta.size)));
        }
        let bytes = object.bytes().await?;
        decode_body(&bytes).map_err(decode_error)
    }

    /// Every message of the objects dated `from` to `to`, in key order; a redelivery (a
    /// message of the same kind and `hashId` already read) is left out, so each message
    /// comes once, as first stored.
    ///
    /// The range is read one date prefix at a time: one day's keys are listed, its
    /// objects read in order, then the next day's listed. Memory holds one day's keys and
    /// the ids of two days' messages, whatever the range; a redelivery is recognised when
    /// it is stored the same day as the first delivery or the day after (the platform
    /// redelivers within minutes). The stream ends after its first error.
    pub fn messages(
        &self,
        from: Date,
        to: Date,
    ) -> impl Stream<Item = Result<StoredMessage, StoreError>> + Send + '_ {
        let state = ReadState {
            next_day: Some(from),
            keys: VecDeque::new(),
            pending: VecDeque::new(),
            seen_today: HashSet::new(),
            seen_yesterday: HashSet::new(),
        };
        futures::stream::try_unfold(state, move |mut state| async move {
            loop {
                if let Some(message) = state.pending.pop_front() {
                    return Ok(Some((message, state)));
                }
                if let Some((key, path)) = state.keys.pop_front() {
                    for message in self.read(&path).await? {
                        let id = (message.kind(), message.hash_id().to_owned());
                        if state.seen_yesterday.contains(&id) || !state.seen_today.insert(id) {
                            continue;
                        }
                        state.pending.push_back(StoredMessage {
                            key: key.clone(),
                            message,
                        });
                    }
                    continue;
                }
                let Some(day) = state.next_day.filter(|d| *d <= to) else {
                    return Ok(None);
                };
                state.next_day = day.tomorrow().ok();
                state.keys = self.day_keys(day).await?.into();
                state.seen_yesterday = std::mem::take(&mut state.seen_today);
            }
        })
    }
}

/// Where [`ForwardedObjects::messages`] is: the day to list next, the listed keys not yet
/// read, the messages of the last object not yet yielded, and the ids of the messages of
/// the day being read and the day before.
struct ReadState {
    next_day: Option<Date>,
    keys: VecDeque<(ObjectKey, Path)>,
    pending: VecDeque<StoredMessage>,
    seen_today: HashSet<(MessageKind, String)>,
    seen_yesterday: HashSet<(MessageKind, String)>,
}

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
