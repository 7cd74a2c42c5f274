//! Finding the lines that hold the keyword, at memory speed.
//!
//! One pass over the bytes, block by block: `memmem` finds the next match in a block, the
//! `\n` bytes before it are counted (the block is still in the CPU cache), and the search
//! jumps to the end of the matching line, since a line is reported once however many matches
//! it holds. The rest of each block is counted too, so the next match's line number is ready
//! without reading anything twice from memory.

use memchr::memmem::Finder;

use crate::types::{BINARY_PROBE_BYTES, SearchError};

/// Bytes per block: small enough to stay in the L2 cache between finding matches in it and
/// counting its line ends.
const BLOCK: usize = 256 * 1024;

/// Refuses what cannot be searched for: an empty keyword, or one holding a `\n`.
pub fn validate_keyword(keyword: &[u8]) -> Result<(), SearchError> {
    if keyword.is_empty() {
        Err(SearchError::EmptyKeyword)
    } else if memchr::memchr(b'\n', keyword).is_some() {
        Err(SearchError::KeywordHasNewline)
    } else {
        Ok(())
    }
}

/// True when `head`, a file's first bytes, makes the file binary: a NUL byte among its first
/// [`BINARY_PROBE_BYTES`] bytes.
pub fn is_binary(head: &[u8]) -> bool {
    memchr::memchr(0, &head[..head.len().min(BINARY_PROBE_BYTES)]).is_some()
}

/// The numbers (from 1, ascending, each once) of the lines of `text` that hold `keyword`
/// (not empty). A line ends at `\n`; the last one needs none.
pub fn matching_lines(text: &[u8], keyword: &[u8]) -> Vec<u64> {
    scan(text, &Finder::new(keyword))
        .lines
        .into_iter()
        .map(|index| index + 1)
        .collect()
}

/// What one pass over some text found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LineScan {
    /// The 0-based indexes of the lines holding a match, ascending, each once.
    pub lines: Vec<u64>,
    /// How many `\n` bytes the text holds.
    pub newlines: u64,
}

/// Finds the lines of `text` holding `finder`'s needle (not empty) and counts its `\n` bytes.
pub(crate) fn scan(text: &[u8], finder: &Finder<'_>) -> LineScan {
    let needle = finder.needle().len();
    let mut found = LineScan::default();
    // `found.newlines` counts the `\n` bytes of `text[..counted]`.
    let mut counted = 0;
    while counted < text.len() {
        let block_end = (counted + BLOCK).min(text.len());
        // A match starting in the block may end up to `needle - 1` bytes after it; no match
        // starting after the block fits in this window.
        let window_end = (block_end + needle.saturating_sub(1)).min(text.len());
        while counted < block_end {
            let Some(offset) = finder.find(&text[counted..window_end]) else {
                break;
            };
            let at = counted + offset;
            found.newlines += count_newlines(&text[counted..at]);
            found.lines.push(found.newlines);
            match memchr::memchr(b'\n', &text[at..]) {
                Some(end) => {
                    found.newlines += 1;
                    counted = at + end + 1;
                }
                None => return found,
            }
        }
        if counted < block_end {
            found.newlines += count_newlines(&text[counted..block_end]);
            counted = block_end;
        }
    }
    found
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious way, to compare with.
    fn naive(text: &[u8], keyword: &[u8]) -> Vec<u64> {
        text.split(|&b| b == b'\n')
            .zip(1..)
            .filter(|(line, _)| line.windows(keyword.len()).any(|w| w == keyword))
            .map(|(_, n)| n)
            .collect()
    }

    #[test]
    fn edge_cases_of_lines() {
        assert_eq!(matching_lines(b"kw", b"kw"), [1]);
        assert_eq!(matching_lines(b"kw\r\nkw\rkw\nkw", b"kw"), [1, 2, 3]);
        assert_eq!(matching_lines(b"k\nw", b"kw"), Vec::<u64>::new());
        assert_eq!(matching_lines(b"", b"kw"), Vec::<u64>::new());
        assert_eq!(matching_lines(b"\n\n\nxkwkwkw\n", b"kw"), [4]);
        assert_eq!(matching_lines(b"kkw\nkw\n", b"kw"), [1, 2]);
    }

    #[test]
    fn newlines_are_all_counted() {
        let text = b"a\nkw b\n\nkw\nc";
        let found = scan(text, &Finder::new(b"kw"));
        assert_eq!(found.lines, [1, 3]);
        assert_eq!(found.newlines, 4);
    }

    #[test]
    fn agrees_with_the_obvious_way_across_block_boundaries() {
        // Lines and matches placed around the 256 KiB block boundaries.
        let mut text = Vec::new();
        let mut state = 7u64;
        while text.len() < 3 * BLOCK {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match state >> 60 {
                0 => text.extend_from_slice(b"needle"),
                1 | 2 => text.push(b'\n'),
                3 => text.extend_from_slice(b"nee"),
                _ => text.extend_from_slice(b"dle haystack "),
            }
        }
        for cut in [BLOCK - 3, BLOCK, BLOCK + 2, 2 * BLOCK - 1] {
            let text = &text[..cut.min(text.len())];
            assert_eq!(matching_lines(text, b"needle"), naive(text, b"needle"));
            assert_eq!(
                scan(text, &Finder::new(b"needle")).newlines,
                text.iter().filter(|&&b| b == b'\n').count() as u64
            );
        }
        // A match straddling a block boundary.
        let mut straddle = vec![b'x'; BLOCK - 2];
        straddle.extend_from_slice(b"needle\nneedle");
        assert_eq!(matching_lines(&straddle, b"needle"), [1, 2]);
    }

    #[test]
    fn keywords_are_checked() {
        assert!(matches!(
            validate_keyword(b""),
            Err(SearchError::EmptyKeyword)
        ));
        assert!(matches!(
            validate_keyword(b"a\nb"),
            Err(SearchError::KeywordHasNewline)
        ));
        assert!(validate_keyword(b"a\rb").is_ok());
    }

    #[test]
    fn binary_is_a_nul_in_the_first_8_kib() {
        let mut bytes = vec![b'a'; 9000];
        bytes[8192] = 0;
        assert!(!is_binary(&bytes));
        bytes[8191] = 0;
        assert!(is_binary(&bytes));
    }
}
