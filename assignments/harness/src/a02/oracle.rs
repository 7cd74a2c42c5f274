//! a02's oracle: message sequences from a seed, their texts, and the echo each must get.
//!
//! Simple on purpose; students may read it. The echo of a message is its text in upper case
//! (`str::to_uppercase`), its `seq`, and [`checksum`] of the text as received.

use serde::{Deserialize, Serialize};

use crate::a02::protocol::{MessageSpec, ReplyFact, Scenario};
use crate::seed::{Seed, SplitMix64};

/// A check's `inputs` in the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Which half of the student's code runs (default: the whole session).
    #[serde(default)]
    pub part: Part,
    /// The number of messages: `[min, max]`, drawn from the seed (0 to 1000).
    pub messages: [usize; 2],
    /// How long the texts are.
    pub sizes: Sizes,
}

/// Which half of the student's code a check runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// `echo_session`: the student's parent and the student's child.
    #[default]
    Session,
    /// `echo_child` alone, in a process the runner starts and talks to itself.
    Child,
}

/// How long message texts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sizes {
    /// 0 to 24 bytes, like the lesson's "one", 1, "two", 2.
    Small,
    /// 1 to 3 MiB each: every reply alone overflows the pipe's buffer many times.
    Large,
    /// Anything from empty to 4 MiB, at most [`MIXED_BUDGET`] bytes in all (a few MiB more
    /// when the next rule needs them); with three messages or more, one of 1 MiB or more is
    /// followed at once by one of 512 KiB or more.
    Mixed,
}

/// The most bytes of text a mixed sequence holds, so a run stays well inside its deadline.
pub const MIXED_BUDGET: usize = 12 << 20;

const MIB: usize = 1 << 20;

/// The least text right after the big message of a mixed sequence: twice the pipe's buffer.
const AFTER_BIG: usize = 512 << 10;

impl Inputs {
    /// Decodes and range-checks a manifest `inputs` table.
    pub fn from_table(table: &toml::Table) -> Result<Inputs, String> {
        let inputs: Inputs = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        let [min, max] = inputs.messages;
        if min > max || max > 1000 {
            return Err(format!(
                "messages = [{min}, {max}] is not a range within 0..=1000"
            ));
        }
        Ok(inputs)
    }
}

/// The scenario a seed gives for these inputs.
pub fn scenario(inputs: &Inputs, seed: Seed, step_ms: u64) -> Scenario {
    let mut rng = seed.rng();
    let [min, max] = inputs.messages;
    let count = rng.between(min as u64, max as u64) as usize;
    let mut lens: Vec<usize> = match inputs.sizes {
        Sizes::Small => (0..count).map(|_| rng.below(25) as usize).collect(),
        Sizes::Large => (0..count)
            .map(|_| rng.between(MIB as u64, 3 * MIB as u64) as usize)
            .collect(),
        Sizes::Mixed => mixed_lengths(&mut rng, count),
    };
    if inputs.sizes == Sizes::Small && count >= 4 {
        // An empty text is a message, not the end: one is always among the small ones.
        let slot = rng.below(count as u64) as usize;
        lens[slot] = 0;
    }
    let messages = lens
        .into_iter()
        .enumerate()
        .map(|(seq, len)| MessageSpec {
            seq: seq as u64,
            len,
            seed: rng.next_u64(),
        })
        .collect();
    Scenario {
        part: inputs.part,
        messages,
        step_ms,
    }
}

fn mixed_lengths(rng: &mut SplitMix64, count: usize) -> Vec<usize> {
    let mut budget = MIXED_BUDGET;
    let mut lens: Vec<usize> = (0..count)
        .map(|_| {
            let len = match rng.below(100) {
                0..=24 => rng.below(4) as usize,
                25..=59 => rng.between(4, 200) as usize,
                60..=84 => rng.between(1 << 10, 64 << 10) as usize,
                85..=94 => rng.between(256 << 10, MIB as u64) as usize,
                _ => rng.between(2 * MIB as u64, 4 * MIB as u64) as usize,
            };
            let len = if len > budget {
                rng.below(64) as usize
            } else {
                len
            };
            budget -= len.min(budget);
            len
        })
        .collect();
    if count >= 3 {
        // A reply far beyond the pipe's buffer, with more than a buffer's worth of messages
        // after it: a parent that sends everything before reading, or even one message
        // ahead, blocks while the child blocks sending that reply. Never passes by luck.
        let before_last = count - 1;
        let big = match lens[..before_last].iter().position(|&len| len >= MIB) {
            Some(slot) => slot,
            None => {
                let slot = rng.below(before_last as u64) as usize;
                lens[slot] = rng.between(MIB as u64, 2 * MIB as u64) as usize;
                slot
            }
        };
        if lens[big + 1] < AFTER_BIG {
            lens[big + 1] = rng.between(AFTER_BIG as u64, MIB as u64) as usize;
        }
    }
    lens
}

/// Characters texts are made of: ASCII, and some whose upper case is longer (`ß` is `SS`,
/// `ﬁ` is `FI`) or outside ASCII (`é`, `ж`), or has none (`名`, `🦀`).
const ALPHABET: &[char] = &[
    'a', 'b', 'c', 'x', 'y', 'z', 'q', 'r', 's', 't', 'e', 'o', 'n', ' ', ' ', '1', '2', '.', 'A',
    'Z', 'é', 'ß', 'ﬁ', 'ж', '名', '🦀', '\n', '"',
];

/// The part of a text drawn character by character; longer texts repeat it (a text of
/// several MiB drawn one character at a time would be slow in a debug build).
const DRAWN_BYTES: usize = 16 << 10;

/// The text of a message: exactly `spec.len` bytes of UTF-8, the same for the same spec.
pub fn text(spec: &MessageSpec) -> String {
    let mut rng = Seed(spec.seed).rng();
    let drawn_len = spec.len.min(DRAWN_BYTES);
    let mut text = String::with_capacity(spec.len);
    while text.len() < drawn_len {
        let c = *rng.pick(ALPHABET);
        if text.len() + c.len_utf8() <= drawn_len {
            text.push(c);
        } else {
            text.push('w');
        }
    }
    let drawn = text.clone();
    while !drawn.is_empty() && text.len() + drawn.len() <= spec.len {
        text.push_str(&drawn);
    }
    while text.len() < spec.len {
        text.push('k');
    }
    text
}

/// The checksum a reply carries: 64-bit FNV-1a of the text's bytes, as received by the
/// child (the stub's `checksum` is the same function).
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The reply a message must get, summarised as the runner summarises replies (with the pid
/// of the process that made it left out: it is judged on its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedReply {
    /// The message's `seq`.
    pub seq: u64,
    /// Length of the upper-case text.
    pub text_len: usize,
    /// Hash of the upper-case text.
    pub text_hash: u64,
    /// Checksum of the message's text.
    pub checksum: u64,
    /// Length of the message's text.
    pub message_len: usize,
    /// Hash of the message's own text (a reply that echoes it unchanged has this hash).
    pub message_hash: u64,
}

/// The reply each message of the scenario must get, in order.
pub fn expected_replies(scenario: &Scenario) -> Vec<ExpectedReply> {
    scenario
        .messages
        .iter()
        .map(|spec| {
            let text = text(spec);
            let upper = text.to_uppercase();
            ExpectedReply {
                seq: spec.seq,
                text_len: upper.len(),
                text_hash: checksum(upper.as_bytes()),
                checksum: checksum(text.as_bytes()),
                message_len: text.len(),
                message_hash: checksum(text.as_bytes()),
            }
        })
        .collect()
}

/// True when `fact` is exactly the reply `expected` describes.
pub fn matches(fact: &ReplyFact, expected: &ExpectedReply) -> bool {
    fact.seq == expected.seq
        && fact.text_len == expected.text_len
        && fact.text_hash == expected.text_hash
        && fact.checksum == expected.checksum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(messages: [usize; 2], sizes: Sizes) -> Inputs {
        Inputs {
            part: Part::Session,
            messages,
            sizes,
        }
    }

    #[test]
    fn texts_have_their_length_and_are_reproducible() {
        for len in [
            0,
            1,
            2,
            3,
            5,
            100,
            DRAWN_BYTES - 1,
            DRAWN_BYTES + 3,
            3 * DRAWN_BYTES + 1,
        ] {
            let spec = MessageSpec {
                seq: 0,
                len,
                seed: 9,
            };
            let a = text(&spec);
            assert_eq!(a.len(), len);
            assert_eq!(a, text(&spec));
        }
    }

    #[test]
    fn scenarios_are_reproducible_and_within_their_inputs() {
        for seed in 0..50 {
            let mixed = inputs([0, 40], Sizes::Mixed);
            let a = scenario(&mixed, Seed(seed), 10);
            assert_eq!(a, scenario(&mixed, Seed(seed), 10));
            assert!(a.messages.len() <= 40);
            let total: usize = a.messages.iter().map(|m| m.len).sum();
            assert!(total <= MIXED_BUDGET + 3 * MIB, "{total}");
            if a.messages.len() >= 3 {
                assert!(
                    a.messages
                        .windows(2)
                        .any(|w| w[0].len >= MIB && w[1].len >= AFTER_BIG)
                );
            }
            let small = scenario(&inputs([6, 6], Sizes::Small), Seed(seed), 10);
            assert_eq!(small.messages.len(), 6);
            assert!(small.messages.iter().any(|m| m.len == 0));
            assert!(
                small
                    .messages
                    .iter()
                    .enumerate()
                    .all(|(i, m)| m.seq == i as u64)
            );
        }
    }

    #[test]
    fn an_upper_case_text_can_differ_in_length_from_the_message() {
        let spec = MessageSpec {
            seq: 0,
            len: 4096,
            seed: 1,
        };
        let expected = &expected_replies(&Scenario {
            part: Part::Session,
            messages: vec![spec],
            step_ms: 1,
        })[0];
        assert_ne!(expected.text_len, expected.message_len);
    }
}
