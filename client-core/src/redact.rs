//! Replacing the secrets a client knows in text a server sent back (an error body that
//! echoes a key, a token endpoint quoting the assertion it refused).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are not searched for: they would match ordinary text
/// everywhere and make every error unreadable, and they protect nothing anyway.
pub const MIN_REDACTED_LEN: usize = 4;

/// The secrets of a client, ready to be cut out of text: each in the forms a server
/// could echo it in (as is, JSON-escaped, form-urlencoded, percent-encoded).
///
/// The request pipeline builds one from [`Credential::secrets`](crate::Credential::secrets)
/// of every credential of the client and applies it to each error body it keeps; the
/// token grants apply theirs (client secret, assertion) to what their token endpoint
/// answers. A client crate that captures text from the server on its own (an error
/// reported inside a stream, say) can do the same.
///
/// ```
/// use client_core::Redactor;
/// use secrecy::SecretString;
///
/// let mut redactor = Redactor::new();
/// redactor.add(&SecretString::from("s3cr3t/key+1"));
/// assert_eq!(
///     redactor.redact(r#"{"error":"bad key s3cr3t\/key+1 (s3cr3t%2Fkey%2B1)"}"#),
///     r#"{"error":"bad key [REDACTED] ([REDACTED])"}"#
/// );
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    /// Every form of every secret, longest first, so a longer form is replaced before
    /// a shorter one inside it.
    needles: Vec<SecretString>,
}

impl Redactor {
    /// A redactor that knows no secret yet.
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Adds `secret` (ignored when shorter than [`MIN_REDACTED_LEN`]).
    pub fn add(&mut self, secret: &SecretString) {
        let raw = secret.expose_secret();
        if raw.chars().count() < MIN_REDACTED_LEN {
            return;
        }
        let mut forms = vec![raw.to_owned()];
        if let Ok(json) = serde_json::to_string(raw) {
            // Without the quotes: `a"b` is echoed as `a\"b`, and `/` sometimes as `\/`.
            let inner = &json[1..json.len().saturating_sub(1)];
            forms.push(inner.to_owned());
            forms.push(inner.replace('/', "\\/"));
        }
        forms.push(url::form_urlencoded::byte_serialize(raw.as_bytes()).collect());
        let percent =
            percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string();
        forms.push(percent.to_ascii_lowercase());
        forms.push(percent);
        for form in forms {
            if !self.needles.iter().any(|known| known.expose_secret() == form) {
                self.needles.push(SecretString::from(form));
            }
        }
        self.needles
            .sort_by_key(|needle| std::cmp::Reverse(needle.expose_secret().len()));
    }

    /// Adds every secret of `secrets`.
    pub fn extend<'a>(&mut self, secrets: impl IntoIterator<Item = &'a SecretString>) {
        for secret in secrets {
            self.add(secret);
        }
    }

    /// Whether no secret is known.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every known secret replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for needle in &self.needles {
            let needle = needle.expose_secret();
            if text.contains(needle) {
                text = text.replace(needle, REDACTED);
            }
        }
        text
    }

    /// [`Redactor::redact`] for text cut off at an arbitrary point: a secret cut in two
    /// by the cut leaves its start at the end of the text, and that is replaced too
    /// (when it is at least [`MIN_REDACTED_LEN`] characters long).
    pub fn redact_truncated(&self, text: &str) -> String {
        let mut text = self.redact(text);
        let tail = self
            .needles
            .iter()
            .filter_map(|needle| {
                let needle = needle.expose_secret();
                // The longest proper prefix of the secret that ends the text.
                needle
                    .char_indices()
                    .map(|(at, _)| at)
                    .skip(1)
                    .filter(|&len| len >= MIN_REDACTED_LEN)
                    .filter(|&len| text.ends_with(&needle[..len]))
                    .max()
            })
            .max();
        if let Some(len) = tail {
            text.truncate(text.len() - len);
            text.push_str(REDACTED);
        }
        text
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("forms", &self.needles.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secrets: &[&str]) -> Redactor {
        let mut redactor = Redactor::new();
        for secret in secrets {
            redactor.add(&SecretString::from(*secret));
        }
        redactor
    }

    #[test]
    fn every_echoed_form_is_replaced() {
        let r = redactor(&["p\"a/s s+w=rd"]);
        for echoed in [
            "p\"a/s s+w=rd",
            r#"p\"a/s s+w=rd"#,
            r#"p\"a\/s s+w=rd"#,
            "p%22a%2Fs+s%2Bw%3Drd",
            "p%22a%2Fs%20s%2Bw%3Drd",
            "p%22a%2fs%20s%2bw%3drd",
        ] {
            let out = r.redact(&format!("before {echoed} after"));
            assert_eq!(out, "before [REDACTED] after", "{echoed}");
        }
    }

    #[test]
    fn short_secrets_are_not_searched_for() {
        let r = redactor(&["abc", ""]);
        assert!(r.is_empty());
        assert_eq!(r.redact("abc"), "abc");
    }

    #[test]
    fn a_secret_cut_by_truncation_is_replaced() {
        let r = redactor(&["the-api-key-1234"]);
        assert_eq!(r.redact_truncated("body: the-api-k"), "body: [REDACTED]");
        assert_eq!(r.redact_truncated("body: the"), "body: the");
        assert_eq!(
            r.redact_truncated("the-api-key-1234 and the-a"),
            "[REDACTED] and [REDACTED]"
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let r = redactor(&["hidden-value"]);
        assert!(!format!("{r:?}").contains("hidden"));
    }
}
