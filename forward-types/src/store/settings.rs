//! Store settings from `AWS_*`/`AZURE_*` variables, as `object_store`'s `from_env` reads
//! them, but from any list of variables: a caller (or a test) need not touch the process
//! environment.

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;

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
