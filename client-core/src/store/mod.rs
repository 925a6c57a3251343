//! Object stores by URL (feature `object-store`): S3, Azure Blob Storage, Google Cloud
//! Storage or a local folder, through [`object_store`], with their settings from the
//! store's usual variables and their HTTP on the workspace's one `reqwest`.
//!
//! Every place the SDK reads or writes objects opens its store here: forwarded objects
//! read back (`forward-types`' `store` feature) and the example export programs'
//! `--out`. The rules are the same everywhere:
//!
//! | location | store | settings |
//! |---|---|---|
//! | `s3://bucket[/prefix]` | S3 | the `AWS_*` variables (`AWS_ENDPOINT` and `AWS_ALLOW_HTTP` for S3-compatible servers) |
//! | `az://container[/prefix]` | Azure Blob | the `AZURE_*` variables (`AZURE_STORAGE_USE_EMULATOR=true` for Azurite, `AZURE_STORAGE_SAS_TOKEN` for a SAS) |
//! | `gs://bucket[/prefix]` | Google Cloud Storage | the `GOOGLE_*` variables (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`) |
//! | `https://account.blob.core.windows.net/container[/prefix]` | Azure Blob (any Azure cloud's domain) | the SAS in `AZURE_STORAGE_SAS_TOKEN`, or in the URL's query |
//! | `http://127.0.0.1:10000/account/container[/prefix]` | Azure Blob with the account in the path (Azurite, Azure Stack) | the same |
//! | `file:///folder` | a local folder | |
//! | a path (`exports`, `/data/exports`) | a local folder ([`open_output`] only) | |
//!
//! Requests go over HTTPS only, except to a loopback host (`localhost`, `127.0.0.0/8`,
//! `::1`) and to the instance metadata endpoints the stores' credential chains ask
//! (IPv4 link-local `169.254.0.0/16`, AWS's `fd00:ec2::254` and `fd00:ec2::23`,
//! `metadata.google.internal`): a plain `http://` URL or endpoint elsewhere is refused
//! before any connection, even with `AWS_ALLOW_HTTP`. Those hosts are never reached
//! through a proxy. A redirect is an error, never followed (it could take a signature
//! elsewhere). No error or `Debug` output shows a URL's query (a SAS) or a credential,
//! and an output URL takes no query at all ([`refuse_query`]).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;

/// The `object_store` crate, at the version this module builds stores with.
pub use object_store;

mod settings;
mod transport;
use transport::ReqwestConnector;

/// The SAS variable a Blob container URL without a query takes its SAS from: a SAS kept
/// out of the URL stays off command lines.
pub const SAS_TOKEN_VAR: &str = "AZURE_STORAGE_SAS_TOKEN";

/// A location that does not name a store this crate opens, or whose settings are wrong.
/// The message never holds the URL's query or a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreUrlError(pub(crate) String);

impl StoreUrlError {
    /// The one-line reason.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// A store and the prefix under it that a location names.
///
/// `Debug` shows the store as its `Display` does (`MicrosoftAzure { account: ..,
/// container: .. }`), never its credentials: the derived `Debug` of an Azure store shows
/// the SAS.
#[derive(Clone)]
#[non_exhaustive]
pub struct StoreLocation {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// The prefix under it (empty for a bucket's or folder's root).
    pub prefix: Path,
    /// The location's scheme: `s3`, `az`, `gs`, `https`/`http` (a Blob container URL) or
    /// `file` (a local folder, by URL or by path).
    pub scheme: &'static str,
    /// The folder, for a local one.
    folder: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLocation")
            .field("store", &format_args!("{}", self.store))
            .field("prefix", &self.prefix.as_ref())
            .field("scheme", &self.scheme)
            .field("folder", &self.folder)
            .finish()
    }
}

impl StoreLocation {
    /// `prefix` in `store` (a store built by hand: `InMemory` in a test, say).
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path) -> Self {
        StoreLocation {
            store,
            prefix,
            scheme: "custom",
            folder: None,
        }
    }

    /// Whether the store is a local folder.
    pub fn is_local(&self) -> bool {
        self.scheme == "file"
    }

    /// The folder of a local store (the store's objects are its files).
    pub fn local_folder(&self) -> Option<&std::path::Path> {
        self.folder.as_deref()
    }

    /// The path of `name` under the prefix (`name`'s `/`-separated parts, each checked:
    /// an empty, `.` or `..` part is refused).
    pub fn child(&self, name: &str) -> Result<Path, StoreUrlError> {
        let mut path = self.prefix.clone();
        for part in name.split('/') {
            let part = object_store::path::PathPart::parse(part)
                .map_err(|e| StoreUrlError(format!("`{name}` is not an object name: {e}")))?;
            if part.as_ref().is_empty() {
                return Err(StoreUrlError(format!("`{name}` has an empty part")));
            }
            path = path.join(part);
        }
        Ok(path)
    }
}

/// The variables of the process environment that are valid UTF-8.
fn process_vars() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
}

/// The store at `url` (see the [module docs](self) for the URLs), with the settings of
/// the process environment.
pub fn open_url(url: &str) -> Result<StoreLocation, StoreUrlError> {
    open_url_with(url, process_vars())
}

/// The store at `url`, with the `AWS_*`, `AZURE_*` and `GOOGLE_*` settings taken from
/// `vars` instead of the environment (names as in the environment, for instance
/// `("AWS_REGION", "eu-west-1")`). Other names are ignored.
pub fn open_url_with(
    url: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<StoreLocation, StoreUrlError> {
    // Never the URL in an error: its query may be a SAS.
    let parsed = url::Url::parse(url).map_err(|e| StoreUrlError(format!("the URL does not parse: {e}")))?;
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let segments: Vec<String> = parsed
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    // The URL's path segments are percent-encoded: the prefix is their text, decoded,
    // taken as object key parts as they are (never encoded a second time).
    let prefix_of = |skip: usize| -> Result<Path, StoreUrlError> {
        let decoded: Vec<String> = segments
            .iter()
            .skip(skip)
            .map(|segment| {
                percent_encoding::percent_decode_str(segment)
                    .decode_utf8()
                    .map(|text| text.into_owned())
                    .map_err(|_| StoreUrlError("the URL's path is not UTF-8".into()))
            })
            .collect::<Result<_, _>>()?;
        Path::parse(decoded.join("/")).map_err(|e| StoreUrlError(one_line(&e.to_string())))
    };
    let config = |e: object_store::Error| StoreUrlError(one_line(&e.to_string()));
    let located = |store: Arc<dyn ObjectStore>, prefix: Path, scheme: &'static str| StoreLocation {
        store,
        prefix,
        scheme,
        folder: None,
    };
    let bucket = |what: &str| {
        parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| StoreUrlError(format!("{}:// needs a {what}", parsed.scheme())))
    };
    match parsed.scheme() {
        "s3" => {
            let store = settings::s3(vars)
                .with_http_connector(ReqwestConnector)
                .with_bucket_name(bucket("bucket")?)
                .build()
                .map_err(config)?;
            Ok(located(Arc::new(store), prefix_of(0)?, "s3"))
        }
        "az" | "azure" => {
            let store = settings::azure(vars)
                .with_http_connector(ReqwestConnector)
                .with_container_name(bucket("container")?)
                .build()
                .map_err(config)?;
            Ok(located(Arc::new(store), prefix_of(0)?, "az"))
        }
        "gs" => {
            let store = settings::gcs(vars)
                .with_http_connector(ReqwestConnector)
                .with_bucket_name(bucket("bucket")?)
                .build()
                .map_err(config)?;
            Ok(located(Arc::new(store), prefix_of(0)?, "gs"))
        }
        "https" | "http" => {
            if !transport::allowed(&parsed) {
                return Err(StoreUrlError(transport::refused_message(&parsed)));
            }
            let location = settings::blob_location(&parsed, &segments)?;
            let pairs: Vec<(String, String)> = match parsed.query().filter(|q| !q.is_empty()) {
                Some(_) => parsed.query_pairs().into_owned().collect(),
                None => {
                    let sas = vars
                        .iter()
                        .find(|(name, value)| name == SAS_TOKEN_VAR && !value.is_empty())
                        .map(|(_, value)| value.trim_start_matches('?'))
                        .ok_or_else(|| {
                            StoreUrlError(format!(
                                "a Blob container URL needs a SAS: set {SAS_TOKEN_VAR} (or give it as the URL's query)"
                            ))
                        })?;
                    url::form_urlencoded::parse(sas.as_bytes()).into_owned().collect()
                }
            };
            let store = object_store::azure::MicrosoftAzureBuilder::new()
                .with_http_connector(ReqwestConnector)
                .with_account(location.account)
                .with_endpoint(location.endpoint)
                .with_allow_http(parsed.scheme() == "http")
                .with_container_name(location.container)
                .with_sas_authorization(pairs)
                .build()
                .map_err(config)?;
            let scheme = if parsed.scheme() == "http" {
                "http"
            } else {
                "https"
            };
            Ok(located(Arc::new(store), prefix_of(location.prefix_from)?, scheme))
        }
        "file" => {
            let folder = parsed
                .to_file_path()
                .map_err(|()| StoreUrlError(format!("`{}` is not a local path", parsed.path())))?;
            local_folder(&folder, false)
        }
        other => Err(StoreUrlError(format!(
            "`{other}://` is not supported: use s3://, az://, gs://, a Blob container URL, or file://"
        ))),
    }
}

/// Where a program writes: a store URL as [`open_url`] reads it (without a query: see
/// [`refuse_query`]), or a local folder by its path or `file://` URL, created if
/// missing. Settings come from the process environment.
pub fn open_output(target: &str) -> Result<StoreLocation, StoreUrlError> {
    open_output_with(target, process_vars())
}

/// [`open_output`] with the settings taken from `vars` (see [`open_url_with`]).
pub fn open_output_with(
    target: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<StoreLocation, StoreUrlError> {
    if let Some(folder) = local_path(target)? {
        return local_folder(&folder, true);
    }
    refuse_query(target)?;
    open_url_with(target, vars)
}

/// The local path `target` names: a path as it is, or a `file://` URL's (decoded);
/// `None` for a store URL. Every program tells a file from an object this way.
pub fn local_path(target: &str) -> Result<Option<std::path::PathBuf>, StoreUrlError> {
    if target.is_empty() {
        return Err(StoreUrlError("the output location is empty".into()));
    }
    if !looks_like_url(target) {
        return Ok(Some(std::path::PathBuf::from(target)));
    }
    if !target.starts_with("file://") {
        return Ok(None);
    }
    url::Url::parse(target)
        .ok()
        .and_then(|url| url.to_file_path().ok())
        .map(Some)
        .ok_or_else(|| StoreUrlError(format!("`{target}` is not a local path")))
}

/// Refuses a URL with a query: an output is named on a command line, in logs and in
/// what a program prints, where a SAS must never be. A Blob container URL takes its SAS
/// from `AZURE_STORAGE_SAS_TOKEN`.
pub fn refuse_query(target: &str) -> Result<(), StoreUrlError> {
    if target.contains('?') {
        return Err(StoreUrlError(format!(
            "an output URL takes no query (a SAS goes in {SAS_TOKEN_VAR}, off the command line)"
        )));
    }
    Ok(())
}

/// `path` with `suffix` added to its last part, as it is (never encoded a second time):
/// the key of an object beside `path` (`<day>.csv.manifest.json`).
pub fn with_suffix(path: &Path, suffix: &str) -> Result<Path, StoreUrlError> {
    Path::parse(format!("{path}{suffix}")).map_err(|e| StoreUrlError(one_line(&e.to_string())))
}

/// `scheme://...` with a scheme of two letters or more (a Windows drive `C:\` is a path).
fn looks_like_url(target: &str) -> bool {
    target.split_once("://").is_some_and(|(scheme, _)| {
        scheme.len() >= 2
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// A local folder as a store (created if missing and `create`). Its objects are files; a
/// put is written to a staging file and renamed into place, so a file appears complete or
/// not at all, and a create-only put never replaces one.
fn local_folder(folder: &std::path::Path, create: bool) -> Result<StoreLocation, StoreUrlError> {
    if create {
        std::fs::create_dir_all(folder)
            .map_err(|e| StoreUrlError(format!("cannot create the folder `{}`: {e}", folder.display())))?;
    }
    let store = object_store::local::LocalFileSystem::new_with_prefix(folder)
        .map_err(|e| StoreUrlError(one_line(&e.to_string())))?
        .with_automatic_cleanup(true);
    Ok(StoreLocation {
        store: Arc::new(store),
        prefix: Path::default(),
        scheme: "file",
        folder: Some(folder.to_path_buf()),
    })
}

/// `text` with each line break, and the blanks around it, turned into one space: a
/// store's error may be an XML document over several lines.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn prefixes_are_the_decoded_text_and_suffixes_are_not_encoded_again() {
        let s3 = open_url_with("s3://b/p%C3%A4iv%C3%A4%20x/50%25", vars(&[])).unwrap();
        assert_eq!(s3.prefix.as_ref(), "päivä x/50%");
        let child = s3.child("pump#2/2026-05-31.csv").unwrap();
        assert_eq!(child.as_ref(), "päivä x/50%/pump#2/2026-05-31.csv");
        assert_eq!(
            with_suffix(&child, ".manifest.json").unwrap().as_ref(),
            "päivä x/50%/pump#2/2026-05-31.csv.manifest.json"
        );
    }

    #[test]
    fn outputs_are_paths_or_store_urls_without_a_query() {
        assert_eq!(local_path("out/a").unwrap(), Some("out/a".into()));
        assert_eq!(local_path("file:///tmp/a%20b").unwrap(), Some("/tmp/a b".into()));
        assert_eq!(local_path("s3://b/k").unwrap(), None);
        assert!(local_path("").is_err());
        let err = open_output_with(
            "https://acct.blob.core.windows.net/c/p?sv=1&sig=SECRET",
            vars(&[]),
        )
        .unwrap_err();
        assert!(err.message().contains("AZURE_STORAGE_SAS_TOKEN"), "{err}");
        assert!(!err.message().contains("SECRET"), "{err}");
    }

    #[test]
    fn plain_http_goes_to_metadata_endpoints_too() {
        let allowed = |url: &str| transport::allowed(&url::Url::parse(url).unwrap());
        assert!(allowed("http://169.254.169.254/latest/api/token"));
        assert!(allowed("http://169.254.170.23/v1/credentials"));
        assert!(allowed("http://[fd00:ec2::254]/latest"));
        assert!(allowed("http://metadata.google.internal/computeMetadata"));
        assert!(!allowed("http://169.255.0.1/"));
        assert!(!allowed("http://metadata.google.internal.example.com/"));
    }

    #[test]
    fn urls_and_paths() {
        assert!(looks_like_url("s3://bucket/prefix"));
        assert!(looks_like_url("file:///tmp/x"));
        assert!(!looks_like_url("exports"));
        assert!(!looks_like_url(r"C:\exports"));
        assert!(!looks_like_url("./a://b/c"));
    }

    #[test]
    fn s3_gs_and_az_name_their_bucket_and_prefix() {
        let s3 = open_url_with(
            "s3://exports/daily/site-a",
            vars(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ACCESS_KEY_ID", "a"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ]),
        )
        .unwrap();
        assert_eq!(s3.scheme, "s3");
        assert_eq!(s3.prefix.as_ref(), "daily/site-a");
        let gs = open_url_with("gs://exports/p", vars(&[])).unwrap();
        assert_eq!((gs.scheme, gs.prefix.as_ref()), ("gs", "p"));
        let az = open_url_with(
            "az://container/p/q",
            vars(&[
                ("AZURE_STORAGE_ACCOUNT_NAME", "acct"),
                ("AZURE_STORAGE_SAS_TOKEN", "sv=1&sig=SECRET"),
            ]),
        )
        .unwrap();
        assert_eq!((az.scheme, az.prefix.as_ref()), ("az", "p/q"));
        assert!(!format!("{az:?}").contains("SECRET"), "{az:?}");
        assert!(open_url_with("s3:///p", vars(&[])).is_err());
        assert!(open_url_with("ftp://x/y", vars(&[])).is_err());
    }

    #[test]
    fn plain_http_goes_to_loopback_only_and_errors_never_show_a_sas() {
        let err = open_url_with("http://192.0.2.1/acct/c?sig=SECRET", vars(&[])).unwrap_err();
        assert!(err.message().contains("192.0.2.1"), "{err}");
        assert!(!err.message().contains("SECRET"), "{err}");
        let local = open_url_with("http://127.0.0.1:10000/acct/c/p?sv=1&sig=SECRET", vars(&[])).unwrap();
        assert_eq!(local.prefix.as_ref(), "p");
        assert!(!format!("{local:?}").contains("SECRET"));
    }

    #[test]
    fn a_local_output_is_created_and_children_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b");
        let location = open_output_with(target.to_str().unwrap(), vars(&[])).unwrap();
        assert!(location.is_local() && target.is_dir());
        assert_eq!(location.local_folder(), Some(target.as_path()));
        assert_eq!(
            location.child("item/2026-05-31.csv").unwrap().as_ref(),
            "item/2026-05-31.csv"
        );
        assert!(location.child("../x").is_err());
        assert!(location.child("a//b").is_err());
        let by_url = open_output_with(&format!("file://{}", target.display()), vars(&[])).unwrap();
        assert!(by_url.is_local());
    }
}
