//! A small command-line reader for the examples: `--name value` options, repeatable
//! ones, and flags. (Kept tiny on purpose: the examples are meant to be copied.)

use std::collections::HashMap;

/// Parsed `--name value` options and `--flag`s.
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, Vec<String>>,
    flags: Vec<String>,
}

impl Args {
    /// Reads `args` (without the program name). `flags` lists the options that take no
    /// value; any other `--name` takes the next argument as its value.
    pub fn parse(args: impl IntoIterator<Item = String>, flags: &[&str]) -> Result<Args, String> {
        let mut parsed = Args::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`"));
            };
            if flags.contains(&name) {
                parsed.flags.push(name.to_owned());
                continue;
            }
            let value = args.next().ok_or_else(|| format!("--{name} needs a value"))?;
            parsed.values.entry(name.to_owned()).or_default().push(value);
        }
        Ok(parsed)
    }

    /// The last value of `--name`, if given.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|v| v.last()).map(String::as_str)
    }

    /// Every value of a repeatable `--name`.
    pub fn values(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether `--flag` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// Names of options given that are not in `known`.
    pub fn unknown<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        self.values
            .keys()
            .chain(self.flags.iter())
            .map(String::as_str)
            .filter(|n| !known.contains(n))
            .collect()
    }
}

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
    fn options_flags_and_repeats() {
        let args = Args::parse(
            ["--id", "a", "--once", "--id", "b", "--to", "5"].map(String::from),
            &["once"],
        )
        .unwrap();
        assert_eq!(args.values("id"), ["a", "b"]);
        assert_eq!(args.value("to"), Some("5"));
        assert!(args.flag("once"));
        assert!(args.unknown(&["id", "to", "once"]).is_empty());
        assert!(Args::parse(["--id".to_owned()], &[]).is_err());
        assert!(Args::parse(["stray".to_owned()], &[]).is_err());
    }

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
