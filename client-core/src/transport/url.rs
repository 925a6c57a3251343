//! URL rules: base URLs end in `/`, and only HTTPS leaves the machine.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, Result};

/// Parses a base URL, checks its scheme and makes it end in `/`, so that joining
/// `values` to `https://host/api` gives `https://host/api/values`, not `https://host/values`.
pub fn normalize_base_url(base: &str) -> Result<Url> {
    let mut url = Url::parse(base)
        .map_err(|e| Error::config(format!("invalid base URL `{}`: {e}", redact_url_text(base))))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "a base URL must not carry a user name or password: configure a credential instead",
        ));
    }
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
/// an absolute URL (a link the API returned) is accepted only on the base URL's origin
/// (scheme, host and port): credentials never leave it. See
/// [`crate::HttpClient::request_other_origin`] for links elsewhere.
///
/// A segment that is `.` or `..`, or decodes to one (`%2e`, `.%2E`, `%252e%252e`...),
/// is refused with a [`crate::ErrorKind::Config`] error: the URL parser would resolve it
/// and the request would reach another resource than the one named (an id `..` in
/// `projects/p/dataconnectors/..` would delete at `projects/p/`).
///
/// ```
/// let base = client_core::normalize_base_url("https://api.example.com/v1")?;
/// let id = client_core::encode_segment("..");
/// let err = client_core::join(&base, &format!("projects/p/items/{id}")).unwrap_err();
/// assert_eq!(err.kind(), client_core::ErrorKind::Config);
/// # Ok::<(), client_core::Error>(())
/// ```
pub fn join(base: &Url, path: &str) -> Result<Url> {
    refuse_dot_segments(path)?;
    let url = base.join(path.trim_start_matches('/')).map_err(|e| {
        Error::config(format!(
            "cannot join `{}` to the base URL: {e}",
            redact_url_text(path)
        ))
    })?;
    ensure_same_origin(base, &url)?;
    ensure_secure(&url)?;
    Ok(url)
}

/// How many times a segment is percent-decoded when looking for a dot segment: enough
/// for any server or proxy that decodes twice, bounded so a long `%25252525...` chain
/// costs nothing.
const MAX_DECODINGS: usize = 4;

/// Refuses a path whose segments (of the part before any `?` or `#`; `\` separates
/// segments too, as the URL parser reads it in `http(s)` URLs) are `.` or `..`, or
/// decode to one in up to [`MAX_DECODINGS`] rounds of percent-decoding.
fn refuse_dot_segments(path: &str) -> Result<()> {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    for segment in path[..end].split(['/', '\\']) {
        if is_dot_segment(segment) {
            return Err(Error::config(format!(
                "refusing the path segment `{segment}`: it is `.` or `..` once decoded, which would send the request to another resource"
            )));
        }
    }
    Ok(())
}

/// Whether `segment` is `.` or `..`, as it is or after percent-decoding (repeatedly).
fn is_dot_segment(segment: &str) -> bool {
    let mut text = std::borrow::Cow::Borrowed(segment);
    for _ in 0..=MAX_DECODINGS {
        if text == "." || text == ".." {
            return true;
        }
        if !text.contains('%') {
            return false;
        }
        let decoded = percent_encoding::percent_decode_str(&text)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == text {
            return false;
        }
        text = std::borrow::Cow::Owned(decoded);
    }
    false
}

/// Refuses a URL on another origin than `base` (where the credentials belong).
pub fn ensure_same_origin(base: &Url, url: &Url) -> Result<()> {
    if url.origin() == base.origin() {
        return Ok(());
    }
    Err(Error::config(format!(
        "refusing to send credentials to `{}`: it is not the API's origin `{}`",
        url.origin().ascii_serialization(),
        base.origin().ascii_serialization()
    )))
}

/// The characters percent-encoded in a path segment: everything but RFC 3986's
/// unreserved characters, so `/`, `?`, `#`, `%`, `+`, `&` and spaces in an id never change
/// the path's meaning.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An id made safe as one path segment (`a/b c` → `a%2Fb%20c`).
///
/// ```
/// assert_eq!(client_core::encode_segment("A+B&C/D %"), "A%2BB%26C%2FD%20%25");
/// assert_eq!(client_core::decode_segment("A%2BB%26C%2FD%20%25")?, "A+B&C/D %");
/// # Ok::<(), client_core::Error>(())
/// ```
pub fn encode_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// The id a path segment encodes: percent-escapes decoded, `+` left as it is (a path
/// is not a form). A segment that does not decode to UTF-8 is a decode error.
pub fn decode_segment(segment: &str) -> Result<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| Error::decode(format!("path segment `{segment}` is not UTF-8 once decoded")))
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

/// The URL text for messages and `Debug`, parsed or not: without query and fragment
/// (a SAS or other token), and without a user name and password (`https://***@host/`).
pub(crate) fn redact_url_text(url: &str) -> String {
    let bare = without_query(url);
    // The authority follows `//`, or starts the text when there is no scheme (reqwest
    // takes `user:pass@proxy:3128` as a proxy); user information ends at its last `@`.
    let start = bare.find("//").map_or(0, |i| i + 2);
    let authority_end = bare[start..].find(['/', '\\']).map_or(bare.len(), |i| start + i);
    match bare[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &bare[..start], &bare[start + at..]),
        None => bare.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_is_cut_with_or_without_a_scheme() {
        for (text, shown) in [
            ("http://user:pw@proxy:3128", "http://***@proxy:3128"),
            ("user:pw@proxy:3128", "***@proxy:3128"),
            ("user:pw@proxy:99999/x?sig=1", "***@proxy:99999/x"),
            ("proxy:3128", "proxy:3128"),
            ("/relative/path@x", "/relative/path@x"),
        ] {
            assert_eq!(redact_url_text(text), shown, "{text}");
        }
    }

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
    fn absolute_urls_must_stay_on_the_base_origin() {
        let base = normalize_base_url("https://api.example.com/v2").unwrap();
        assert_eq!(
            join(&base, "https://api.example.com/v2/next?page=2")
                .unwrap()
                .as_str(),
            "https://api.example.com/v2/next?page=2"
        );
        for elsewhere in [
            "https://evil.example/v2/x",
            "https://api.example.com:8443/v2/x",
            "http://api.example.com/v2/x",
            "https://api.example.com.evil.example/",
        ] {
            let err = join(&base, elsewhere).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{elsewhere}");
            assert!(err.to_string().contains("refusing to send credentials"), "{err}");
        }
        // A path starting with `//` is not taken as another host.
        assert_eq!(
            join(&base, "//evil.example/x").unwrap().host_str(),
            Some("api.example.com")
        );
    }

    #[test]
    fn base_url_with_user_info_is_refused() {
        for bad in [
            "https://user:pass@api.example.com/",
            "https://user@api.example.com/",
        ] {
            let err = normalize_base_url(bad).unwrap_err();
            assert!(err.to_string().contains("user name or password"), "{err}");
            assert!(!err.to_string().contains("pass@"), "{err}");
        }
    }

    #[test]
    fn segments_round_trip_every_awkward_character() {
        for id in ["A+B", "a&b=c", "x/y", "100%", "two words", "ünï", "plain-id_1.2~"] {
            let encoded = encode_segment(id);
            assert!(!encoded.contains(['/', '+', '&', ' ']), "{encoded}");
            assert_eq!(decode_segment(&encoded).unwrap(), id);
            let base = normalize_base_url("https://api.example.com/v1").unwrap();
            let url = join(&base, &format!("sites/{encoded}/values")).unwrap();
            let segment = url.path_segments().unwrap().nth(2).unwrap().to_owned();
            assert_eq!(decode_segment(&segment).unwrap(), id);
        }
        assert_eq!(decode_segment("a+b").unwrap(), "a+b");
        assert!(decode_segment("%FF").is_err());
    }

    #[test]
    fn dot_segments_are_refused_in_every_form() {
        let base = normalize_base_url("https://api.example.com/v1").unwrap();
        for segment in [
            ".",
            "..",
            "%2e",
            "%2E",
            "%2e%2e",
            "%2E%2e",
            "%2e%2E",
            ".%2E",
            ".%2e",
            "%2e.",
            "%252e",
            "%252E%252e",
            "%25252e%2e",
        ] {
            for path in [
                format!("projects/p/dataconnectors/{segment}"),
                format!("projects/{segment}/dataconnectors"),
                format!("{segment}/x?sig=SECRET"),
                format!("projects/p\\{segment}"),
                format!("https://api.example.com/v1/projects/{segment}/x"),
            ] {
                let err = join(&base, &path).unwrap_err();
                assert_eq!(err.kind(), crate::ErrorKind::Config, "{path}");
                let text = err.to_string();
                assert!(text.contains(&format!("`{segment}`")), "{text}");
                assert!(!text.contains("SECRET"), "{text}");
            }
        }
        // The encoded id `..` is `..`: refused, as it must be.
        assert!(
            join(
                &base,
                &format!("projects/p/dataconnectors/{}", encode_segment(".."))
            )
            .is_err()
        );
        // Dots inside a segment, three dots and dots in the query are ordinary.
        for fine in [
            "a.b/c",
            "...",
            "x/.hidden",
            "x/..y",
            "x?path=../..",
            "v%2e1",
            "%2e%2e%2e",
        ] {
            assert!(join(&base, fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn redacted_url_text_has_no_query_or_user_information() {
        assert_eq!(
            redact_url_text("https://user:pw@h.example/p?sig=SECRET#f"),
            "https://***@h.example/p"
        );
        assert_eq!(
            redact_url_text("https://h.example/a@b?sig=SECRET"),
            "https://h.example/a@b"
        );
        assert_eq!(redact_url_text("not a url?sig=SECRET"), "not a url");
        let err = normalize_base_url("https://user:pw@[bad/x?sig=SECRET").unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET") && !text.contains("pw"), "{text}");
        let base = normalize_base_url("https://api.example.com/").unwrap();
        let err = join(&base, "https://[::1/x?sig=SECRET").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET"));
    }

    #[test]
    fn messages_drop_the_query() {
        let err = normalize_base_url("https://a/b?sig=SECRET").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
        let err = normalize_base_url("not a url?sig=SECRET").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
    }
}
