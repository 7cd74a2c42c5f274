//! Seeded text: filler lines that can never contain a keyword, and lines that do.
//!
//! Filler words are lowercase ASCII letters only; every keyword has a byte no filler word has
//! (an uppercase letter, a digit, `_`, `.`, or a non-ASCII letter), so the only matches in a
//! corpus are the ones the generator put there on purpose.

use crate::seed::SplitMix64;

/// The words filler lines are made of.
const WORDS: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
    "nisi",
    "aliquip",
    "ex",
    "ea",
    "commodo",
    "consequat",
    "duis",
    "aute",
    "irure",
    "in",
    "reprehenderit",
    "voluptate",
    "velit",
    "esse",
    "cillum",
    "fugiat",
    "nulla",
    "pariatur",
    "excepteur",
    "sint",
    "occaecat",
    "cupidatat",
    "non",
    "proident",
    "sunt",
    "culpa",
    "qui",
    "officia",
    "deserunt",
    "mollit",
    "anim",
    "id",
    "est",
    "laborum",
    "process",
    "pool",
    "worker",
    "queue",
    "pipe",
    "fork",
    "join",
    "lock",
];

/// The keywords a seed picks from: each has a byte no filler word has.
pub const KEYWORDS: &[&str] = &[
    "Needle",
    "kw_42",
    "café",
    "ZEBRA",
    "ключ",
    "x.y+z",
    "Hay stack",
    "needle7",
];

/// The seed's keyword.
pub fn keyword(rng: &mut SplitMix64) -> Vec<u8> {
    rng.pick(KEYWORDS).as_bytes().to_vec()
}

/// One filler word.
pub fn word(rng: &mut SplitMix64) -> &'static str {
    rng.pick::<&str>(WORDS)
}

/// A filler line of 3 to 14 words, without its line end.
pub fn filler_line(rng: &mut SplitMix64) -> Vec<u8> {
    let words = rng.between(3, 14);
    let mut line = Vec::with_capacity(words as usize * 8);
    for i in 0..words {
        if i > 0 {
            line.push(b' ');
        }
        line.extend_from_slice(word(rng).as_bytes());
    }
    line
}

/// A line holding `keyword` `times` times (at least once) among filler words, sometimes
/// glued to a neighbouring word (a match is a substring, not a whole word), without its
/// line end.
pub fn keyword_line(rng: &mut SplitMix64, keyword: &[u8], times: usize) -> Vec<u8> {
    let times = times.max(1);
    let mut line = Vec::new();
    for i in 0..times {
        let before = rng.below(4);
        for _ in 0..before {
            line.extend_from_slice(word(rng).as_bytes());
            line.push(b' ');
        }
        if i > 0 && rng.below(3) == 0 && line.last() == Some(&b' ') {
            // Glued to the previous word.
            line.pop();
        }
        line.extend_from_slice(keyword);
        if rng.below(3) != 0 {
            line.push(b' ');
        }
    }
    for _ in 0..rng.below(4) {
        line.extend_from_slice(word(rng).as_bytes());
        line.push(b' ');
    }
    while line.last() == Some(&b' ') {
        line.pop();
    }
    line
}

/// `lines` lines of text ending with `\n`, about `percent` of them holding the keyword
/// (some of those several times). Returns the text and the 1-based numbers of the lines with
/// a match.
pub fn paragraph(
    rng: &mut SplitMix64,
    keyword: &[u8],
    lines: u64,
    percent: u64,
) -> (Vec<u8>, Vec<u64>) {
    let mut text = Vec::new();
    let mut matched = Vec::new();
    for number in 1..=lines {
        if rng.below(100) < percent {
            let times = if rng.below(4) == 0 {
                rng.between(2, 4)
            } else {
                1
            };
            text.extend_from_slice(&keyword_line(rng, keyword, times as usize));
            matched.push(number);
        } else {
            text.extend_from_slice(&filler_line(rng));
        }
        text.push(b'\n');
    }
    (text, matched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn no_filler_word_can_hold_a_keyword() {
        for keyword in KEYWORDS {
            let odd = keyword
                .bytes()
                .any(|b| !b.is_ascii_lowercase() && b != b' ');
            assert!(odd, "{keyword} has only bytes filler words have");
        }
        let mut rng = Seed(5).rng();
        let (text, matched) = paragraph(&mut rng, b"kw_42", 200, 0);
        assert!(matched.is_empty());
        for keyword in KEYWORDS {
            assert!(!contains(&text, keyword.as_bytes()));
        }
    }

    #[test]
    fn keyword_lines_hold_the_keyword_intact() {
        let mut rng = Seed(9).rng();
        for _ in 0..200 {
            let times = rng.between(1, 40) as usize;
            let line = keyword_line(&mut rng, "ключ".as_bytes(), times);
            let text = std::str::from_utf8(&line).expect("whole keywords only");
            assert_eq!(text.matches("ключ").count(), times, "{text}");
            assert!(!line.contains(&b'\n'));
        }
    }
}
