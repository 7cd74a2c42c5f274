//! Turning a difference from the oracle into a message that names the likely mistake.

use crate::a06::corpus::Corpus;
use crate::a06::oracle::{Difference, Expected};
use crate::a06::protocol::{Found, Mode, Refused};
use crate::checks::Failure;

/// How many differences a message lists.
const SHOWN: usize = 6;

/// The call the runner made, for messages: `search_parallel(root, "Needle", 3)`.
pub fn call(mode: Mode, keyword: &[u8]) -> String {
    let keyword = String::from_utf8_lossy(keyword);
    match mode {
        Mode::Sequential => format!("search_sequential(root, {keyword:?})"),
        Mode::Parallel { workers } => format!("search_parallel(root, {keyword:?}, {workers})"),
    }
}

/// A search that should have returned results returned an error.
pub fn refused(mode: Mode, keyword: &[u8], refused: &Refused) -> Failure {
    let meaning = match refused {
        Refused::EmptyKeyword | Refused::KeywordHasNewline => format!(
            "the keyword {:?} is neither empty nor holds a newline",
            String::from_utf8_lossy(keyword)
        ),
        Refused::Other(_) => "an entry that cannot be read goes into the results' errors, and \
             the search goes on; only an empty keyword, a keyword with a newline, or a root \
             that cannot be listed fail the whole search"
            .to_owned(),
    };
    Failure::wrong(
        format!("{} to return its results", call(mode, keyword)),
        format!("it returned {}", refused.describe()),
        meaning,
    )
}

/// The results differ from the oracle's.
pub fn differences(
    corpus: &Corpus,
    expected: &Expected,
    mode: Mode,
    found: &Found,
    differences: &[Difference],
) -> Failure {
    let wanted = format!(
        "{} to agree with the oracle: {} files with matches, {} searched, {} skipped, {} \
         errors",
        call(mode, &corpus.keyword),
        expected.matches.len(),
        expected.searched.len(),
        expected.skipped.len(),
        expected.errors.len()
    );
    let mut shown: Vec<String> = differences
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect();
    if differences.len() > SHOWN {
        shown.push(format!("and {} more", differences.len() - SHOWN));
    }
    let got = format!(
        "{} difference{}: {}",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" },
        shown.join("; ")
    );
    Failure::wrong(
        wanted,
        got,
        meaning(corpus, expected, mode, found, differences),
    )
}

fn meaning(
    corpus: &Corpus,
    expected: &Expected,
    mode: Mode,
    found: &Found,
    differences: &[Difference],
) -> String {
    if let Mode::Parallel { .. } = mode {
        let lost = differences
            .iter()
            .filter(|d| matches!(d, Difference::MissingMatch { instead: None, .. }))
            .count();
        if !expected.matches.is_empty() && found.matches.is_empty() {
            return "no file's matches reached the main process. A pool worker is another \
                    process: what it writes into a map (a global, a static, its own copy of \
                    anything) stays in its own memory. Return each file's outcome from the pool \
                    task, and aggregate in the main process: in a callback that records into a \
                    Mutex-guarded map, or by merging what map/imap_unordered return"
                .to_owned();
        }
        if lost * 2 > expected.matches.len() && lost > 1 {
            return format!(
                "{lost} of {} files with matches are missing: results were lost between the \
                 workers and the main process. Record every task's outcome exactly once, and \
                 wait for all of them (the end of pool.scope, or close() and join()) before \
                 returning",
                expected.matches.len()
            );
        }
    }
    let mut notes: Vec<&str> = Vec::new();
    let mut generic: Vec<&str> = Vec::new();
    for difference in differences {
        let note = difference.path().and_then(|path| corpus.note(path));
        match note {
            Some(note) if !notes.contains(&note) => notes.push(note),
            Some(_) => {}
            None => {
                let text = generic_meaning(difference);
                if !generic.contains(&text) {
                    generic.push(text);
                }
            }
        }
    }
    let mut parts: Vec<&str> = notes.into_iter().take(3).collect();
    parts.extend(generic.into_iter().take(2));
    parts.join(". Also: ")
}

fn generic_meaning(difference: &Difference) -> &'static str {
    match difference {
        Difference::WrongLines { .. } => {
            "line numbers count from 1, one more after every \\n; a line holding the keyword \
             several times is reported once, and the lines are in ascending order"
        }
        Difference::MissingMatch { instead: None, .. } => {
            "that file was not searched, or its result was lost: every regular file under the \
             root is searched, in every directory, hidden ones included"
        }
        Difference::MissingMatch { .. } => {
            "a readable text file holding the keyword belongs in matches"
        }
        Difference::UnexpectedMatch { .. } => {
            "only lines holding the keyword exactly (as bytes, case-sensitive) are matches, \
             and only files under the root, by their path under the root"
        }
        Difference::MissingSkip { .. } => {
            "symbolic links are skipped as Skip::Symlink (never followed), files with a NUL in \
             their first 8192 bytes as Skip::Binary"
        }
        Difference::UnexpectedSkip { .. } => {
            "only symbolic links and binary files (a NUL byte in the first 8192 bytes) are \
             skipped; invalid UTF-8 or an odd extension does not make a file binary"
        }
        Difference::MissingError { .. } => {
            "a directory that cannot be listed, a file that cannot be read, and a FIFO, socket \
             or device are error entries"
        }
        Difference::UnexpectedError { .. } => {
            "only what cannot be read, and what is not a regular file, directory or symlink, is \
             an error entry"
        }
        Difference::SearchedCount { .. } => {
            "files_searched counts the text files searched, with or without a match; binary \
             files, links and error entries are not counted"
        }
        Difference::Repeated { .. } => {
            "each entry is reported once: in matches, in skipped, or in errors"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::a06::corpus::{CorpusKind, Size, generate};
    use crate::a06::oracle::compare;
    use crate::seed::Seed;

    fn corpus(kind: CorpusKind) -> Corpus {
        let size = Size {
            files: 0,
            file_bytes: 0,
            big_file_bytes: 0,
        };
        generate(kind, None, Seed(21), size).expect("generated")
    }

    fn meaning_of(failure: &Failure) -> String {
        match &failure.verdict {
            crate::verdict::Verdict::WrongAnswer { meaning, .. } => meaning.clone(),
            other => panic!("not a wrong answer: {other:?}"),
        }
    }

    #[test]
    fn results_lost_in_the_workers_are_named_as_such() {
        let corpus = corpus(CorpusKind::PlainTree);
        let found = Found {
            files_searched: corpus.expected.searched.len() as u64,
            ..Found::default()
        };
        let mode = Mode::Parallel { workers: 2 };
        let differences = compare(&corpus.expected, &found);
        let failure = super::differences(&corpus, &corpus.expected, mode, &found, &differences);
        assert!(meaning_of(&failure).contains("no file's matches reached the main process"));
        // The same loss in a sequential search is not blamed on the workers.
        let failure = super::differences(
            &corpus,
            &corpus.expected,
            Mode::Sequential,
            &found,
            &differences,
        );
        assert!(!meaning_of(&failure).contains("worker"));
    }

    #[test]
    fn an_odd_file_is_explained_by_its_note() {
        let corpus = corpus(CorpusKind::LineEndsAndBytes);
        let mut found = Found {
            files_searched: corpus.expected.searched.len() as u64,
            ..Found::default()
        };
        found.matches = corpus
            .expected
            .matches
            .iter()
            .filter(|(path, _)| path.as_str() != "bytes/crlf-line-ends.txt")
            .map(|(path, lines)| (path.clone(), lines.clone()))
            .collect();
        let differences = compare(&corpus.expected, &found);
        assert_eq!(differences.len(), 1, "{differences:?}");
        let failure = super::differences(
            &corpus,
            &corpus.expected,
            Mode::Sequential,
            &found,
            &differences,
        );
        assert!(meaning_of(&failure).contains("CRLF line ends"));
    }
}
