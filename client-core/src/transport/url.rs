//! URL rules: base URLs end in `/`, and only HTTPS leaves the machine.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, Result};

/// Parses a base URL, checks its scheme and makes it end in `/`, so that joining
/// `values` to `https://host/api` gives `https://host/api/values`, not `https://host/values`.
pub fn normalize_base_url(base: &str) -> Result<Url> {
    let mut url = Url::parse(base)
        .map_err(|e| Error::config(format!("invalid base URL `{}`: {e}", without_query(base))))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(
            "a base URL must not have a query string or fragment",
        ));
    }
    ensure_secure(&url)?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Joins a relative path (no leading `/` needed) to a normalised base URL. A path that is
/// an absolute URL is accepted only if it passes the same scheme check.
pub fn join(base: &Url, path: &str) -> Result<Url> {
    let url = base.join(path.trim_start_matches('/')).map_err(|e| {
        Error::config(format!(
            "cannot join `{}` to the base URL: {e}",
            without_query(path)
        ))
    })?;
    ensure_secure(&url)?;
    Ok(url)
}

/// Refuses anything but HTTPS, except plain HTTP to a loopback host (127.0.0.0/8, ::1,
/// `localhost`), where the sandbox and test servers live.
pub fn ensure_secure(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(Error::config(format!(
            "refusing plain HTTP to `{}`: credentials would travel unencrypted; use https:// (plain HTTP is allowed only to loopback hosts)",
            url.host_str().unwrap_or_default()
        ))),
        other => Err(Error::config(format!("unsupported URL scheme `{other}`"))),
    }
}

/// Whether the URL's host is on this machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The URL text without query and fragment, for messages (queries may carry secrets).
pub(crate) fn without_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_gains_a_trailing_slash() {
        let base = normalize_base_url("https://api.example.com/conduitv6").unwrap();
        assert_eq!(base.as_str(), "https://api.example.com/conduitv6/");
        assert_eq!(
            join(&base, "/values").unwrap().as_str(),
            "https://api.example.com/conduitv6/values"
        );
        let same = normalize_base_url("https://api.example.com/conduitv6/").unwrap();
        assert_eq!(same, base);
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9/",
            "http://[::1]:1/",
            "http://localhost/x",
        ] {
            assert!(normalize_base_url(ok).is_ok(), "{ok}");
        }
        let err = normalize_base_url("http://api.example.com/").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(err.to_string().contains("api.example.com"));
        assert!(normalize_base_url("ftp://x/").is_err());
        assert!(join(&normalize_base_url("https://a/").unwrap(), "http://evil.example/").is_err());
    }

    #[test]
    fn messages_drop_the_query() {
        let err = normalize_base_url("https://a/b?sig=SECRET").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
        let err = normalize_base_url("not a url?sig=SECRET").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
    }
}
