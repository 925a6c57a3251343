//! The official Python client's credentials file (`DT_CREDENTIALS_FILE`): a service
//! account key as JSON,
//! `{"serviceAccount": {"keyId", "secret", "email", "algorithm", "tokenEndpoint"}}`.

use std::fmt;
use std::io::Read;
use std::path::Path;

use secrecy::SecretString;
use serde_json::Value;

use crate::error::{Error, Result};

/// The largest credentials file read, in bytes: a key is a few hundred bytes, and a
/// larger file (or a device that never ends) is refused, not read whole.
pub const MAX_CREDENTIALS_FILE_BYTES: u64 = 64 * 1024;

/// The members of `serviceAccount` a credentials file must have, in the order the
/// official Python client checks them.
const FIELDS: [&str; 5] = ["keyId", "secret", "email", "algorithm", "tokenEndpoint"];

/// A service account key read from a credentials file of the official Python client
/// (what `DT_CREDENTIALS_FILE` names):
///
/// ```json
/// {"serviceAccount": {"keyId": "..", "secret": "..", "email": "..",
///                     "algorithm": "HS256", "tokenEndpoint": "https://identity.disruptive-technologies.com/oauth2/token"}}
/// ```
///
/// Every member is required and must be a non-empty string (other members are
/// ignored); `algorithm` must be `HS256`, the one DT and this client sign with;
/// `tokenEndpoint` is where tokens are asked for (and the JWT's `aud`), and must be
/// `https://` (plain `http://` only to a loopback host) without a user or password in
/// it. A file that does not parse or breaks a rule is a
/// [`ClientError::Config`](crate::ClientError::Config) error naming the member, never
/// its value. The secret is kept as a [`SecretString`]: `Debug` never shows it.
///
/// Give it to [`ClientBuilder::service_account_credentials`](crate::ClientBuilder::service_account_credentials),
/// or let [`ClientBuilder::credentials_file`](crate::ClientBuilder::credentials_file)
/// read it.
///
/// ```
/// use dt_client::CredentialsFile;
///
/// let file = CredentialsFile::from_json(br#"{"serviceAccount": {"keyId": "k1", "secret": "s3cret",
///     "email": "sa@p.serviceaccount.d21s.com", "algorithm": "HS256",
///     "tokenEndpoint": "https://identity.disruptive-technologies.com/oauth2/token"}}"#)?;
/// assert_eq!(file.key_id(), "k1");
/// assert!(!format!("{file:?}").contains("s3cret"));
/// let refused = CredentialsFile::from_json(br#"{"serviceAccount": {"keyId": "k1"}}"#).unwrap_err();
/// assert!(refused.to_string().contains("serviceAccount.secret"));
/// # Ok::<(), dt_client::Error>(())
/// ```
#[derive(Clone)]
pub struct CredentialsFile {
    pub(crate) key_id: String,
    pub(crate) secret: SecretString,
    pub(crate) email: String,
    pub(crate) token_endpoint: String,
}

impl CredentialsFile {
    /// Reads the credentials file at `path` (at most [`MAX_CREDENTIALS_FILE_BYTES`]; a
    /// path that is not a regular file is refused). Errors name the path and the
    /// problem, never a value from the file.
    pub fn read(path: impl AsRef<Path>) -> Result<CredentialsFile> {
        let path = path.as_ref();
        load(path)
            .map_err(|problem| Error::config(format!("DT credentials file {}: {problem}", path.display())))
    }

    /// Parses a credentials file's content (a UTF-8 byte-order mark is skipped).
    pub fn from_json(bytes: &[u8]) -> Result<CredentialsFile> {
        parse(bytes).map_err(|problem| Error::config(format!("DT credentials file: {problem}")))
    }

    /// The key id (`keyId`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The service account's email (`email`).
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The token endpoint (`tokenEndpoint`).
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }
}

impl fmt::Debug for CredentialsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsFile")
            .field("key_id", &self.key_id)
            .field("secret", &"[REDACTED]")
            .field("email", &self.email)
            .field("token_endpoint", &crate::redact::redact_url(&self.token_endpoint))
            .finish()
    }
}

/// Reads and parses the file at `path`: the problem, when there is one, names neither
/// the path nor a value (the caller adds the path, or the variable that named it).
pub(crate) fn load(path: &Path) -> std::result::Result<CredentialsFile, String> {
    // Checked before opening: opening a FIFO would wait for a writer, for ever.
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot be read ({e})"))?;
    if !metadata.is_file() {
        return Err("is not a regular file".to_owned());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    // Replaced by something else between the two looks: refused as well.
    let opened = file.metadata().map_err(|e| format!("cannot be read ({e})"))?;
    if !opened.is_file() {
        return Err("is not a regular file".to_owned());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CREDENTIALS_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read ({e})"))?;
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> std::result::Result<CredentialsFile, String> {
    if bytes.len() as u64 > MAX_CREDENTIALS_FILE_BYTES {
        return Err(format!("is larger than {MAX_CREDENTIALS_FILE_BYTES} bytes"));
    }
    let bytes = client_core::decode::skip_bom(bytes);
    // The parser's message only (its place in the text), never the text: a secret might
    // be what failed to parse.
    let document: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("is not JSON (line {}, column {})", e.line(), e.column()))?;
    let Some(account) = document.get("serviceAccount").and_then(Value::as_object) else {
        return Err("has no serviceAccount object".to_owned());
    };
    let field = |name: &str| {
        account
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.trim().is_empty())
    };
    let missing: Vec<String> = FIELDS
        .iter()
        .filter(|name| field(name).is_none())
        .map(|name| format!("serviceAccount.{name}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("{} missing, empty or not a string", missing.join(", ")));
    }
    let [
        Some(key_id),
        Some(secret),
        Some(email),
        Some(algorithm),
        Some(token_endpoint),
    ] = FIELDS.map(field)
    else {
        return Err("a member is missing".to_owned());
    };
    if algorithm != "HS256" {
        return Err("serviceAccount.algorithm is not supported (only HS256 is)".to_owned());
    }
    let url = client_core::url::Url::parse(token_endpoint.trim())
        .map_err(|e| format!("serviceAccount.tokenEndpoint is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("serviceAccount.tokenEndpoint holds a user or password".to_owned());
    }
    client_core::ensure_secure(&url).map_err(|e| format!("serviceAccount.tokenEndpoint: {e}"))?;
    Ok(CredentialsFile {
        key_id: key_id.trim().to_owned(),
        secret: SecretString::from(secret.to_owned()),
        email: email.trim().to_owned(),
        token_endpoint: url.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_path_that_is_not_a_regular_file_is_refused_without_opening_it() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(load(folder.path()).unwrap_err(), "is not a regular file");
        // A FIFO would block an open until a writer comes: refused before.
        #[cfg(unix)]
        {
            let fifo = folder.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|status| status.success()) {
                assert_eq!(load(&fifo).unwrap_err(), "is not a regular file");
            }
        }
    }

    fn file(account: Value) -> Vec<u8> {
        serde_json::json!({ "serviceAccount": account })
            .to_string()
            .into_bytes()
    }

    fn good() -> Value {
        serde_json::json!({"keyId": "k1", "secret": "s3cret-value", "email": "sa@p.serviceaccount.d21s.com",
            "algorithm": "HS256", "tokenEndpoint": "https://identity.disruptive-technologies.com/oauth2/token"})
    }

    #[test]
    fn a_good_file_reads_every_member() {
        let read = CredentialsFile::from_json(&file(good())).unwrap();
        assert_eq!(read.key_id(), "k1");
        assert_eq!(read.secret.expose_secret(), "s3cret-value");
        assert_eq!(read.email(), "sa@p.serviceaccount.d21s.com");
        assert_eq!(
            read.token_endpoint(),
            "https://identity.disruptive-technologies.com/oauth2/token"
        );
    }

    #[test]
    fn problems_name_the_member_never_the_value() {
        let mut wrong = good();
        wrong["secret"] = Value::from(12345);
        wrong["email"] = Value::from("");
        let err = CredentialsFile::from_json(&file(wrong)).unwrap_err().to_string();
        assert!(
            err.contains("serviceAccount.secret, serviceAccount.email"),
            "{err}"
        );
        assert!(!err.contains("12345"), "{err}");

        let mut plain = good();
        plain["tokenEndpoint"] = Value::from("http://identity.example.com/token");
        let err = CredentialsFile::from_json(&file(plain)).unwrap_err().to_string();
        assert!(err.contains("serviceAccount.tokenEndpoint"), "{err}");
        let mut user = good();
        user["tokenEndpoint"] = Value::from("https://u:s3cret-value@identity.example.com/token");
        let err = CredentialsFile::from_json(&file(user)).unwrap_err().to_string();
        assert!(
            err.contains("user or password") && !err.contains("s3cret-value"),
            "{err}"
        );

        let broken = br#"{"serviceAccount": {"secret": "s3cret-value" "#;
        let err = CredentialsFile::from_json(broken).unwrap_err().to_string();
        assert!(err.contains("not JSON") && !err.contains("s3cret-value"), "{err}");
        let big = vec![b' '; MAX_CREDENTIALS_FILE_BYTES as usize + 1];
        let err = CredentialsFile::from_json(&big).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
    }
}
