//! Seeds and the generator every scenario is drawn from.
//!
//! A check's inputs are a pure function of (assignment, check, seed): replaying a failure is
//! setting `COURSE_SEED` to the seed it printed. The generator is SplitMix64, written out here
//! (a dozen lines) rather than taken from `rand`, so a seed printed today produces the same
//! inputs after any dependency upgrade.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::errors::SeedError;

/// The environment variable that overrides the default seed.
pub const SEED_ENV: &str = "COURSE_SEED";

/// The root of every random choice a check makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seed(pub u64);

impl Seed {
    /// The seed used when `COURSE_SEED` is not set: visible tests are the same on every run.
    pub const DEFAULT: Seed = Seed(0x5EED_C0DE_2024_0001);

    /// `COURSE_SEED` if set (decimal, or hex with `0x`), else [`Seed::DEFAULT`].
    pub fn from_env() -> Result<Seed, SeedError> {
        match std::env::var(SEED_ENV) {
            Ok(value) => Seed::parse(&value).ok_or(SeedError { value }),
            Err(_) => Ok(Seed::DEFAULT),
        }
    }

    /// Parses `123` or `0x7b`.
    pub fn parse(text: &str) -> Option<Seed> {
        let text = text.trim();
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
            None => text.replace('_', "").parse(),
        };
        parsed.ok().map(Seed)
    }

    /// A seed for one purpose (a check id, "repetition 3"), independent of the others.
    pub fn derive(self, label: &str) -> Seed {
        Seed(mix(self.0 ^ fnv1a(label.as_bytes())))
    }

    /// The seed of repetition `index` of a check.
    pub fn repetition(self, index: u32) -> Seed {
        Seed(mix(self
            .0
            .wrapping_add(u64::from(index).wrapping_mul(GOLDEN))))
    }

    /// A generator drawing from this seed.
    pub fn rng(self) -> SplitMix64 {
        SplitMix64 { state: self.0 }
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to pick test inputs.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// A number in `0..bound` (`bound` > 0), without modulo bias worth mentioning for tests.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "below(0) has no possible value");
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "between({low}, {high}) is empty");
        low + self.below(high - low + 1)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Shuffles in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers_forever() {
        // Pinned values: if this fails, printed seeds no longer replay old failures.
        let mut rng = Seed(1).rng();
        assert_eq!(rng.next_u64(), 0x910A_2DEC_8902_5CC1);
        assert_eq!(rng.next_u64(), 0xBEEB_8DA1_658E_EC67);
    }

    #[test]
    fn parses_decimal_and_hex() {
        assert_eq!(Seed::parse("123"), Some(Seed(123)));
        assert_eq!(Seed::parse("0x7b"), Some(Seed(123)));
        assert_eq!(Seed::parse("0x5eed_c0de"), Some(Seed(0x5eed_c0de)));
        assert_eq!(Seed::parse("seven"), None);
        assert_eq!(Seed::parse(&Seed::DEFAULT.to_string()), Some(Seed::DEFAULT));
    }

    #[test]
    fn derived_seeds_differ() {
        let base = Seed::DEFAULT;
        assert_ne!(base.derive("a"), base.derive("b"));
        assert_ne!(base.repetition(0), base.repetition(1));
    }

    #[test]
    fn below_stays_below() {
        let mut rng = Seed(7).rng();
        assert!((0..1000).all(|_| rng.below(3) < 3));
    }
}
