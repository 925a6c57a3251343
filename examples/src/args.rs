//! Values the example command lines read (the options themselves are `clap`'s).

/// An instant from RFC 3339 text or epoch seconds.
pub fn parse_instant(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(seconds) = text.trim().parse::<i64>() {
        return jiff::Timestamp::from_second(seconds).map_err(|e| format!("`{text}`: {e}"));
    }
    text.trim()
        .parse()
        .map_err(|e| format!("`{text}` is neither RFC 3339 nor epoch seconds: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1614054737").unwrap().as_second(), 1_614_054_737);
        assert_eq!(
            parse_instant("2021-02-23T04:32:17Z").unwrap().as_second(),
            1_614_054_737
        );
        assert!(parse_instant("yesterday").is_err());
    }
}
