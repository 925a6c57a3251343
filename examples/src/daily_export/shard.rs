//! `--shard I/N`: the plan items one of N processes exports, the same on every machine
//! and in every version.
//!
//! An item belongs to shard `I` of `N` when the first 8 bytes of the SHA-256 digest of its
//! name (UTF-8), read as a big-endian unsigned 64-bit integer, leave `I` when divided by
//! `N`. The name alone decides: not the order of the plan, not the other items, not the
//! machine. Each item is exported by exactly one of the N shards, and adding an item
//! moves no other. (Changing N moves items between shards: a day written by its old
//! shard is not written again by the new one, since a day stays done once its file
//! and manifest exist in the output.)

use std::fmt;
use std::str::FromStr;

/// The most shards a plan may be cut into.
pub const MAX_SHARDS: u32 = 10_000;

/// Shard `index` of `count` (`--shard I/N`; `0/1`, the default, is the whole plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// The whole plan: shard 0 of 1.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`: `count` from 1 to [`MAX_SHARDS`], `index` below it.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("the shard count must be 1 to {MAX_SHARDS}, not {count}"));
        }
        if index >= count {
            return Err(format!(
                "shard {index} of {count} does not exist: shards are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Which shard.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Of how many.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether the item named `name` is this shard's (see the module docs).
    pub fn owns(&self, name: &str) -> bool {
        shard_of(name, self.count) == self.index
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::ALL
    }
}

/// The shard of `count` that the item named `name` belongs to.
pub fn shard_of(name: &str, count: u32) -> u32 {
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`, e.g. `0/4`.
    fn from_str(text: &str) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not I/N (e.g. 0/4)"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{text}` is not I/N with whole numbers (e.g. 0/4)"))
        };
        Shard::new(number(index)?, number(count)?)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::{Shard, shard_of};

    #[test]
    fn the_hash_is_the_documented_one() {
        // First 8 bytes of SHA-256, big-endian, modulo N (computed with Python's hashlib:
        // int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % n).
        for (name, by_2, by_3, by_7) in [
            ("south", 1, 2, 5),
            ("site-ref-velocity-depth", 1, 2, 1),
            ("north", 1, 1, 5),
            ("a", 0, 1, 4),
        ] {
            assert_eq!(
                [shard_of(name, 2), shard_of(name, 3), shard_of(name, 7)],
                [by_2, by_3, by_7],
                "{name}"
            );
        }
    }

    #[test]
    fn every_item_is_in_exactly_one_shard() {
        for count in 1..=9 {
            for name in ["south", "north", "a", "b", "ünïcode", ""] {
                let owners = (0..count)
                    .filter(|&index| Shard::new(index, count).unwrap().owns(name))
                    .count();
                assert_eq!(owners, 1, "{name} of {count}");
            }
        }
    }

    #[test]
    fn shards_parse_as_i_of_n() {
        assert_eq!("2/4".parse::<Shard>(), Shard::new(2, 4));
        assert_eq!("0/1".parse::<Shard>(), Ok(Shard::ALL));
        assert_eq!(Shard::new(3, 8).unwrap().to_string(), "3/8");
        for bad in ["4/4", "0/0", "1", "-1/4", "a/4", "0/10001", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
