//! Reading a client's configuration from variables (the environment, a config map, a
//! secret store), with every problem reported at once.

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;

use crate::error::{Error, Result};

/// The variables a client reads, through a lookup function, and the problems found on
/// the way: missing variables, contradicting ones, values that do not parse. A client's
/// `from_env`/`from_vars` reads every variable first and then reports every problem in
/// one [`crate::ErrorKind::Config`] error, so a misconfigured daemon is fixed in one go.
///
/// Empty or blank values count as unset. Secrets are read as [`SecretString`]s and never
/// appear in a problem's text.
pub struct Vars<'a> {
    api: &'static str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    missing: Vec<String>,
    problems: Vec<String>,
}

impl<'a> Vars<'a> {
    /// Variables of the API named `api` (for messages), read through `lookup`.
    pub fn new(api: &'static str, lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Vars {
            api,
            lookup,
            missing: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// The value of `name`, trimmed; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// Whether `name` is set (and not blank).
    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The secret value of `name`; `None` when unset or blank.
    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.get(name).map(SecretString::from)
    }

    /// The value of `name`, recording it as missing when unset.
    pub fn require(&mut self, name: &str) -> Option<String> {
        let value = self.get(name);
        if value.is_none() {
            self.missing.push(name.to_owned());
        }
        value
    }

    /// The secret value of `name`, recording it as missing when unset.
    pub fn require_secret(&mut self, name: &str) -> Option<SecretString> {
        self.require(name).map(SecretString::from)
    }

    /// The value of `name` parsed as `T`; a value that does not parse is recorded as a
    /// problem (with the parser's message, not the value: it might be a secret put in the
    /// wrong variable).
    pub fn parse<T>(&mut self, name: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let value = self.get(name)?;
        match value.parse() {
            Ok(parsed) => Some(parsed),
            Err(err) => {
                self.problems.push(format!("{name}: {err}"));
                None
            }
        }
    }

    /// Records a problem (two variables that exclude each other, say).
    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// Records a missing variable, or a choice of variables (`"A or B"`).
    pub fn missing(&mut self, what: impl Into<String>) {
        self.missing.push(what.into());
    }

    /// Whether no problem has been found so far.
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty() && self.problems.is_empty()
    }

    /// Every problem found, as one configuration error naming each variable; `Ok` when
    /// there was none.
    pub fn finish(self) -> Result<()> {
        if self.is_ok() {
            return Ok(());
        }
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("missing {}", self.missing.join(", ")));
        }
        parts.extend(self.problems);
        Err(Error::config(format!("{}: {}", self.api, parts.join("; "))))
    }
}

impl fmt::Debug for Vars<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vars")
            .field("api", &self.api)
            .field("missing", &self.missing)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once() {
        let lookup = |name: &str| match name {
            "A" => Some("  ".to_owned()),
            "B" => Some("x".to_owned()),
            "N" => Some("seven".to_owned()),
            _ => None,
        };
        let mut vars = Vars::new("Test", &lookup);
        assert_eq!(vars.require("A"), None);
        assert_eq!(vars.require("B").as_deref(), Some("x"));
        assert_eq!(vars.parse::<u32>("N"), None);
        vars.problem("C and D exclude each other");
        let err = vars.finish().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert_eq!(
            err.message(),
            "Test: missing A; N: invalid digit found in string; C and D exclude each other"
        );
        assert!(!err.to_string().contains("seven"));
    }
}
