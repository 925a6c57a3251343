//! The vendor's rate tiers: how often a client may send, by contract.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The document's rate limit: one request every 15 seconds.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

/// The vendor's rate tiers. Written (and read from `CONDUIT_TIER`) as `standard`, `10s`,
/// `1s` and `unlimited`.
///
/// ```
/// use conduit_client::Tier;
///
/// let tier: Tier = "10s".parse()?;
/// assert_eq!(tier, Tier::TenSeconds);
/// assert_eq!(tier.to_string(), "10s");
/// assert_eq!(tier.interval(), Some(std::time::Duration::from_secs(10)));
/// # Ok::<(), conduit_client::ParseTierError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Tier {
    /// One request per 15 s, as the document states (the default): `standard`.
    #[default]
    Standard,
    /// One request per 10 s: `10s`.
    TenSeconds,
    /// One request per second: `1s`.
    OneSecond,
    /// No client-side limit: `unlimited`. A 429 is still retried, after its
    /// `Retry-After`, else the retry policy's backoff.
    Unlimited,
}

impl Tier {
    /// Every tier, slowest first.
    pub const ALL: [Tier; 4] = [Tier::Standard, Tier::TenSeconds, Tier::OneSecond, Tier::Unlimited];

    /// The minimum interval between requests, `None` for no limit.
    pub fn interval(self) -> Option<Duration> {
        match self {
            Tier::Standard => Some(DEFAULT_INTERVAL),
            Tier::TenSeconds => Some(Duration::from_secs(10)),
            Tier::OneSecond => Some(Duration::from_secs(1)),
            Tier::Unlimited => None,
        }
    }

    /// The tier's name, as `CONDUIT_TIER` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::TenSeconds => "10s",
            Tier::OneSecond => "1s",
            Tier::Unlimited => "unlimited",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = ParseTierError;

    /// Reads a tier's name, ignoring case and surrounding blanks.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Tier::ALL
            .into_iter()
            .find(|tier| tier.as_str().eq_ignore_ascii_case(text))
            .ok_or(ParseTierError)
    }
}

/// A text that names no [`Tier`]. Its message lists the tiers but not the text (which
/// might be a secret put in the wrong variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a Conduit tier: expected standard, 10s, 1s or unlimited")]
#[non_exhaustive]
pub struct ParseTierError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tier_reads_back_its_own_name() {
        for tier in Tier::ALL {
            assert_eq!(tier.to_string().parse::<Tier>(), Ok(tier));
        }
        assert_eq!(" Unlimited ".parse::<Tier>(), Ok(Tier::Unlimited));
        assert_eq!("15s".parse::<Tier>(), Err(ParseTierError));
        assert_eq!("".parse::<Tier>(), Err(ParseTierError));
    }
}
