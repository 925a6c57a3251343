//! URLs as they may be shown: a receiver's URL can carry a key in its query (`?code=`
//! of an Azure Function, `?sig=` of a SAS) or a password in its user info.

/// `url` with its query and fragment replaced by `[REDACTED]`, and the password of its
/// user info too; the scheme, host and path stay, as what tells one receiver from
/// another. Text that is not a URL is shown the same way (cut at `?` or `#`).
pub(crate) fn redact_url(url: &str) -> String {
    let (before, hidden) = match url.find(['?', '#']) {
        Some(at) => (&url[..at], Some(url.as_bytes()[at] as char)),
        None => (url, None),
    };
    let mut shown = String::with_capacity(before.len() + 12);
    // The user info sits between `//` and the first `@` before the path.
    let authority_start = before.find("//").map_or(0, |at| at + 2);
    let authority_end = before[authority_start..]
        .find('/')
        .map_or(before.len(), |at| authority_start + at);
    match before[authority_start..authority_end].rfind('@') {
        Some(at) => {
            let user_info = &before[authority_start..authority_start + at];
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            shown.push_str(&before[..authority_start]);
            shown.push_str(user);
            if user_info.contains(':') {
                shown.push_str(":[REDACTED]");
            }
            shown.push_str(&before[authority_start + at..]);
        }
        None => shown.push_str(before),
    }
    if let Some(mark) = hidden {
        shown.push(mark);
        shown.push_str("[REDACTED]");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn queries_fragments_and_passwords_are_hidden() {
        assert_eq!(redact_url("https://r.example/push"), "https://r.example/push");
        assert_eq!(
            redact_url("https://r.example/api/push?code=s3cret&x=1"),
            "https://r.example/api/push?[REDACTED]"
        );
        assert_eq!(
            redact_url("https://r.example/#tok"),
            "https://r.example/#[REDACTED]"
        );
        assert_eq!(
            redact_url("https://me:pa55@r.example/p?k=v"),
            "https://me:[REDACTED]@r.example/p?[REDACTED]"
        );
        assert_eq!(redact_url("https://me@r.example/a@b"), "https://me@r.example/a@b");
        assert_eq!(redact_url("not a url?secret"), "not a url?[REDACTED]");
        assert_eq!(redact_url(""), "");
    }

    #[test]
    fn a_builder_shows_its_urls_without_queries() {
        let builder = crate::Client::builder()
            .token_url("https://id.example/token?key=t0k3n")
            .emulator_url("https://emu.example/v2/?key=emu-k3y");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("t0k3n") && !shown.contains("emu-k3y"), "{shown}");
        assert!(shown.contains("https://id.example/token?[REDACTED]"), "{shown}");
    }
}
