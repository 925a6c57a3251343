//! Store settings: from `AWS_*`/`AZURE_*` variables, as `object_store`'s `from_env` reads
//! them but from any list of variables (a caller, or a test, need not touch the process
//! environment), and from a Blob container URL in either addressing style.

use object_store::gcp::GoogleCloudStorageBuilder;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;

use super::StoreUrlError;

/// The variable Azure's managed identity endpoint comes in, which `object_store`'s
/// `from_env` also reads.
const AZURE_IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";

/// An S3 builder with every `AWS_*` variable that names one of its settings.
pub(super) fn s3(vars: impl IntoIterator<Item = (String, String)>) -> AmazonS3Builder {
    vars.into_iter()
        .filter(|(name, _)| name.starts_with("AWS_"))
        .fold(AmazonS3Builder::new(), |builder, (name, value)| {
            match name.to_ascii_lowercase().parse() {
                Ok(key) => builder.with_config(key, value),
                Err(_) => builder,
            }
        })
}

/// An Azure Blob builder with every `AZURE_*` variable that names one of its settings,
/// then the managed identity endpoint, which wins over `AZURE_MSI_ENDPOINT` as in
/// `from_env`.
pub(super) fn azure(vars: impl IntoIterator<Item = (String, String)>) -> MicrosoftAzureBuilder {
    let mut identity_endpoint = None;
    let mut builder = MicrosoftAzureBuilder::new();
    for (name, value) in vars {
        if name == AZURE_IDENTITY_ENDPOINT {
            identity_endpoint = Some(value);
        } else if name.starts_with("AZURE_") {
            if let Ok(key) = name.to_ascii_lowercase().parse() {
                builder = builder.with_config(key, value);
            }
        }
    }
    match identity_endpoint {
        Some(endpoint) => builder.with_msi_endpoint(endpoint),
        None => builder,
    }
}

/// A Google Cloud Storage builder with every `GOOGLE_*` variable that names one of its
/// settings (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_SERVICE_ACCOUNT_KEY`,
/// `GOOGLE_APPLICATION_CREDENTIALS`...).
pub(super) fn gcs(vars: impl IntoIterator<Item = (String, String)>) -> GoogleCloudStorageBuilder {
    vars.into_iter()
        .filter(|(name, _)| name.starts_with("GOOGLE_"))
        .fold(
            GoogleCloudStorageBuilder::new(),
            |builder, (name, value)| match name.to_ascii_lowercase().parse() {
                Ok(key) => builder.with_config(key, value),
                Err(_) => builder,
            },
        )
}

/// Where a Blob container URL with a SAS points.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct BlobLocation {
    pub(super) account: String,
    /// The account's endpoint: the origin, with the account's path segment when the
    /// account is in the path.
    pub(super) endpoint: String,
    pub(super) container: String,
    /// The path segment the object prefix starts at.
    pub(super) prefix_from: usize,
}

/// Reads a Blob container URL in either addressing style:
///
/// - the account in the host, `https://account.blob.core.windows.net/container[/prefix]`
///   (any Azure cloud's domain);
/// - the account in the path, as Azurite and Azure Stack address it,
///   `http://127.0.0.1:10000/account/container[/prefix]`: for a host that is an IP
///   address, `localhost`, or a name without a `.blob.` part.
pub(super) fn blob_location(url: &url::Url, segments: &[String]) -> Result<BlobLocation, StoreUrlError> {
    let host = url
        .host_str()
        .ok_or_else(|| StoreUrlError("the Blob URL names no host".into()))?;
    let origin = url.origin().ascii_serialization();
    let account_in_host =
        matches!(url.host(), Some(url::Host::Domain(_))) && host != "localhost" && host.contains(".blob.");
    let missing = |what: &str| StoreUrlError(format!("the Blob URL names no {what}"));
    if account_in_host {
        let account = host.split('.').next().unwrap_or_default();
        let container = segments.first().ok_or_else(|| missing("container"))?;
        Ok(BlobLocation {
            account: account.to_owned(),
            endpoint: origin,
            container: container.clone(),
            prefix_from: 1,
        })
    } else {
        let account = segments.first().ok_or_else(|| missing("account"))?;
        let container = segments.get(1).ok_or_else(|| missing("container"))?;
        Ok(BlobLocation {
            account: account.clone(),
            endpoint: format!("{origin}/{account}"),
            container: container.clone(),
            prefix_from: 2,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(url: &str) -> Result<BlobLocation, StoreUrlError> {
        let url = url::Url::parse(url).unwrap();
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        blob_location(&url, &segments)
    }

    #[test]
    fn both_addressing_styles() {
        assert_eq!(
            location("https://acct.blob.core.windows.net/forwarded/site?sig=x").unwrap(),
            BlobLocation {
                account: "acct".into(),
                endpoint: "https://acct.blob.core.windows.net".into(),
                container: "forwarded".into(),
                prefix_from: 1,
            }
        );
        assert_eq!(
            location("https://acct.blob.core.chinacloudapi.cn/forwarded?sig=x")
                .unwrap()
                .endpoint,
            "https://acct.blob.core.chinacloudapi.cn"
        );
        assert_eq!(
            location("http://127.0.0.1:10000/devstoreaccount1/interop/a?sig=x").unwrap(),
            BlobLocation {
                account: "devstoreaccount1".into(),
                endpoint: "http://127.0.0.1:10000/devstoreaccount1".into(),
                container: "interop".into(),
                prefix_from: 2,
            }
        );
        assert_eq!(
            location("http://localhost:10000/devstoreaccount1/interop?sig=x")
                .unwrap()
                .endpoint,
            "http://localhost:10000/devstoreaccount1"
        );
        assert!(matches!(
            location("http://127.0.0.1:10000/devstoreaccount1?sig=x"),
            Err(StoreUrlError(_))
        ));
        assert!(matches!(
            location("https://acct.blob.core.windows.net/?sig=x"),
            Err(StoreUrlError(_))
        ));
    }
}
