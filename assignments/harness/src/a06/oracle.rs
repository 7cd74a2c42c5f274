//! a06's oracle: a simple sequential search of a directory tree, the rules it follows, and
//! how a student's results differ from it.
//!
//! Simple on purpose; students may read it. The rules (also in the statement):
//!
//! - Every entry under the root is visited, hidden ones included. A symbolic link is never
//!   followed (so a link loop cannot trap the search): it is skipped as [`SkipFact::Symlink`],
//!   whatever it points to.
//! - A regular file whose first [`BINARY_PROBE_BYTES`] bytes hold a NUL byte is binary:
//!   skipped as [`SkipFact::Binary`]. Every other regular file is searched, whatever its
//!   encoding (the keyword is matched as bytes).
//! - A line ends at `\n` (a `\r` before it is part of the line); the last line needs no `\n`.
//!   Lines are numbered from 1; a line holding the keyword several times is reported once.
//! - A directory that cannot be listed, a file that cannot be read, and anything that is not
//!   a directory, a regular file or a symlink (a FIFO, a socket, a device) is an error entry.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use crate::a06::protocol::{Found, SkipFact};

/// How many leading bytes decide whether a file is binary: grep's rule of thumb, a NUL byte
/// among them.
pub const BINARY_PROBE_BYTES: usize = 8192;

/// What a right answer holds, paths relative to the root with `/` between components.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Files with a match, and their line numbers.
    pub matches: BTreeMap<String, Vec<u64>>,
    /// Every file searched, with or without a match.
    pub searched: BTreeSet<String>,
    /// Entries skipped on purpose.
    pub skipped: BTreeMap<String, SkipFact>,
    /// Entries that could not be searched.
    pub errors: BTreeSet<String>,
}

/// True when `head` (a file's first bytes) makes the file binary.
pub fn is_binary(head: &[u8]) -> bool {
    head.iter().take(BINARY_PROBE_BYTES).any(|&b| b == 0)
}

/// The 1-based numbers of the lines of `text` that contain `keyword`.
pub fn matching_lines(text: &[u8], keyword: &[u8]) -> Vec<u64> {
    text.split(|&b| b == b'\n')
        .zip(1..)
        .filter(|(line, _)| line.windows(keyword.len()).any(|w| w == keyword))
        .map(|(_, number)| number)
        .collect()
}

/// Searches the tree at `root` for `keyword` (not empty), one file after another. `Err` only
/// when the root itself cannot be listed.
pub fn search(root: &Path, keyword: &[u8]) -> io::Result<Expected> {
    let mut expected = Expected::default();
    let entries = std::fs::read_dir(root)?;
    visit(root, "", entries, keyword, &mut expected);
    Ok(expected)
}

fn visit(dir: &Path, prefix: &str, entries: std::fs::ReadDir, keyword: &[u8], out: &mut Expected) {
    for entry in entries {
        let Ok(entry) = entry else {
            out.errors.insert(prefix.to_owned());
            return;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = dir.join(entry.file_name());
        // `file_type` does not follow a symlink: a link is seen as a link.
        let Ok(kind) = entry.file_type() else {
            out.errors.insert(relative);
            continue;
        };
        if kind.is_symlink() {
            out.skipped.insert(relative, SkipFact::Symlink);
        } else if kind.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(inner) => visit(&path, &relative, inner, keyword, out),
                Err(_) => {
                    out.errors.insert(relative);
                }
            }
        } else if kind.is_file() {
            match std::fs::read(&path) {
                Err(_) => {
                    out.errors.insert(relative);
                }
                Ok(bytes) if is_binary(&bytes) => {
                    out.skipped.insert(relative, SkipFact::Binary);
                }
                Ok(bytes) => {
                    let lines = matching_lines(&bytes, keyword);
                    if !lines.is_empty() {
                        out.matches.insert(relative.clone(), lines);
                    }
                    out.searched.insert(relative);
                }
            }
        } else {
            out.errors.insert(relative);
        }
    }
}

impl Expected {
    /// The same expectations with `locked` (a file or directory the search may not be able to
    /// read) an error entry, and nothing under it.
    pub fn with_unreadable(&self, locked: &str) -> Expected {
        let inside = |path: &String| path == locked || path.starts_with(&format!("{locked}/"));
        let mut out = self.clone();
        out.matches.retain(|path, _| !inside(path));
        out.searched.retain(|path| !inside(path));
        out.skipped.retain(|path, _| !inside(path));
        out.errors.retain(|path| !inside(path));
        out.errors.insert(locked.to_owned());
        out
    }
}

/// One way the student's results differ from the oracle's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A file with matches has the wrong line numbers.
    WrongLines {
        /// The file.
        path: String,
        /// The right lines.
        expected: Vec<u64>,
        /// The lines reported.
        got: Vec<u64>,
    },
    /// A file with matches is not among the matches.
    MissingMatch {
        /// The file.
        path: String,
        /// Its lines with a match.
        expected: Vec<u64>,
        /// Where the student's results put it instead, if anywhere.
        instead: Option<String>,
    },
    /// A file without a match (or one not to search) is among the matches.
    UnexpectedMatch {
        /// The file.
        path: String,
        /// The lines reported.
        got: Vec<u64>,
        /// What it should have been, if not a plain file without a match.
        instead: Option<String>,
    },
    /// An entry to skip is not among the skipped ones, or is for another reason.
    MissingSkip {
        /// The entry.
        path: String,
        /// Why it is skipped.
        reason: SkipFact,
        /// What the student's results said instead, if anything.
        instead: Option<String>,
    },
    /// An entry was skipped that should not be.
    UnexpectedSkip {
        /// The entry.
        path: String,
        /// The reason given.
        reason: SkipFact,
    },
    /// An entry that cannot be searched is not among the errors.
    MissingError {
        /// The entry.
        path: String,
        /// What the student's results said instead, if anything.
        instead: Option<String>,
    },
    /// An error entry for something that could be searched.
    UnexpectedError {
        /// The entry.
        path: String,
        /// The error reported.
        error: String,
    },
    /// The count of searched files is off.
    SearchedCount {
        /// The right count.
        expected: u64,
        /// The count reported.
        got: u64,
    },
    /// A path appears under two headings (or twice under one).
    Repeated {
        /// The entry.
        path: String,
        /// Where it appears.
        places: Vec<&'static str>,
    },
}

impl Difference {
    /// The path it is about, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::WrongLines { path, .. }
            | Self::MissingMatch { path, .. }
            | Self::UnexpectedMatch { path, .. }
            | Self::MissingSkip { path, .. }
            | Self::UnexpectedSkip { path, .. }
            | Self::MissingError { path, .. }
            | Self::UnexpectedError { path, .. }
            | Self::Repeated { path, .. } => Some(path),
            Self::SearchedCount { .. } => None,
        }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let instead = |what: &Option<String>| {
            what.as_ref()
                .map(|w| format!(", reported {w}"))
                .unwrap_or_else(|| ", not reported at all".to_owned())
        };
        match self {
            Self::WrongLines {
                path,
                expected,
                got,
            } => write!(
                f,
                "{path:?}: lines {} expected, got {}",
                lines(expected),
                lines(got)
            ),
            Self::MissingMatch {
                path,
                expected,
                instead: what,
            } => write!(
                f,
                "{path:?}: matches on lines {}{}",
                lines(expected),
                instead(what)
            ),
            Self::UnexpectedMatch {
                path,
                got,
                instead: what,
            } => write!(
                f,
                "{path:?}: reported with matches on lines {} but {}",
                lines(got),
                what.as_deref().unwrap_or("it has no match")
            ),
            Self::MissingSkip {
                path,
                reason,
                instead: what,
            } => write!(
                f,
                "{path:?}: should be skipped as {}{}",
                reason.describe(),
                instead(what)
            ),
            Self::UnexpectedSkip { path, reason } => write!(
                f,
                "{path:?}: skipped as {}, but it is a text file to search",
                reason.describe()
            ),
            Self::MissingError {
                path,
                instead: what,
            } => write!(
                f,
                "{path:?}: cannot be searched and should be an error entry{}",
                instead(what)
            ),
            Self::UnexpectedError { path, error } => write!(
                f,
                "{path:?}: reported as an error ({error}) but it can be searched"
            ),
            Self::SearchedCount { expected, got } => {
                write!(f, "files_searched = {got}, expected {expected}")
            }
            Self::Repeated { path, places } => {
                write!(
                    f,
                    "{path:?}: reported more than once ({})",
                    places.join(", ")
                )
            }
        }
    }
}

/// Line numbers for a message, cut after a dozen.
pub fn lines(numbers: &[u64]) -> String {
    let shown: Vec<String> = numbers.iter().take(12).map(u64::to_string).collect();
    if numbers.len() > 12 {
        format!("[{}, ... {} in all]", shown.join(", "), numbers.len())
    } else {
        format!("[{}]", shown.join(", "))
    }
}

/// What one path is, in the oracle's results or in the student's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status<'a> {
    /// Searched, with matches on these lines.
    Matched(&'a [u64]),
    /// Searched, no match (only the oracle says this; a student's results do not list them).
    Searched,
    /// Skipped.
    Skipped(SkipFact),
    /// An error entry (the student's message, when from the student).
    Error(&'a str),
    /// Not in the results (the oracle: not in the tree).
    Absent,
}

impl Status<'_> {
    /// How a student's result put it, for "reported ..." messages.
    fn reported(&self) -> Option<String> {
        match self {
            Status::Matched(got) => Some(format!("with matches on lines {}", lines(got))),
            Status::Skipped(reason) => Some(format!("as skipped ({})", reason.describe())),
            Status::Error(error) => Some(format!("as an error ({error})")),
            Status::Searched | Status::Absent => None,
        }
    }
}

fn expected_status<'a>(expected: &'a Expected, path: &str) -> Status<'a> {
    if let Some(found) = expected.matches.get(path) {
        Status::Matched(found)
    } else if let Some(reason) = expected.skipped.get(path) {
        Status::Skipped(*reason)
    } else if expected.errors.contains(path) {
        Status::Error("")
    } else if expected.searched.contains(path) {
        Status::Searched
    } else {
        Status::Absent
    }
}

/// The student's results by path (the first entry wins; repetitions are reported apart).
fn found_statuses(found: &Found) -> BTreeMap<&str, Status<'_>> {
    let mut statuses = BTreeMap::new();
    for (path, got) in &found.matches {
        statuses
            .entry(path.as_str())
            .or_insert(Status::Matched(got));
    }
    for (path, reason) in &found.skipped {
        statuses
            .entry(path.as_str())
            .or_insert(Status::Skipped(*reason));
    }
    for (path, error) in &found.errors {
        statuses
            .entry(path.as_str())
            .or_insert(Status::Error(error));
    }
    statuses
}

/// Every difference between `found` and `expected`: repeated paths first, then one per path
/// in path order, then the searched count.
pub fn compare(expected: &Expected, found: &Found) -> Vec<Difference> {
    let mut differences = repeated(found);
    let statuses = found_statuses(found);
    let mut paths: BTreeSet<&str> = statuses.keys().copied().collect();
    paths.extend(expected.matches.keys().map(String::as_str));
    paths.extend(expected.skipped.keys().map(String::as_str));
    paths.extend(expected.errors.iter().map(String::as_str));
    for path in paths {
        let want = expected_status(expected, path);
        let got = statuses.get(path).cloned().unwrap_or(Status::Absent);
        let owned = path.to_owned();
        let difference = match (&want, &got) {
            (Status::Matched(want), Status::Matched(got)) if want != got => {
                Some(Difference::WrongLines {
                    path: owned,
                    expected: want.to_vec(),
                    got: got.to_vec(),
                })
            }
            (Status::Matched(_), Status::Matched(_)) => None,
            (Status::Matched(want), _) => Some(Difference::MissingMatch {
                path: owned,
                expected: want.to_vec(),
                instead: got.reported(),
            }),
            (Status::Skipped(reason), Status::Skipped(given)) if reason == given => None,
            (Status::Skipped(reason), _) => Some(Difference::MissingSkip {
                path: owned,
                reason: *reason,
                instead: got.reported(),
            }),
            (Status::Error(_), Status::Error(_)) => None,
            (Status::Error(_), _) => Some(Difference::MissingError {
                path: owned,
                instead: got.reported(),
            }),
            (Status::Searched | Status::Absent, Status::Matched(got)) => {
                Some(Difference::UnexpectedMatch {
                    path: owned,
                    got: got.to_vec(),
                    instead: (want == Status::Absent)
                        .then(|| "no such file is in the tree".to_owned()),
                })
            }
            (Status::Searched | Status::Absent, Status::Skipped(reason)) => {
                Some(Difference::UnexpectedSkip {
                    path: owned,
                    reason: *reason,
                })
            }
            (Status::Searched | Status::Absent, Status::Error(error)) => {
                Some(Difference::UnexpectedError {
                    path: owned,
                    error: (*error).to_owned(),
                })
            }
            (Status::Searched | Status::Absent, Status::Searched | Status::Absent) => None,
        };
        differences.extend(difference);
    }
    let want = expected.searched.len() as u64;
    if found.files_searched != want {
        differences.push(Difference::SearchedCount {
            expected: want,
            got: found.files_searched,
        });
    }
    differences
}

/// Paths reported under two headings, or twice under one.
fn repeated(found: &Found) -> Vec<Difference> {
    let mut places: BTreeMap<&str, Vec<&'static str>> = BTreeMap::new();
    for (path, _) in &found.matches {
        places.entry(path).or_default().push("matches");
    }
    for (path, _) in &found.skipped {
        places.entry(path).or_default().push("skipped");
    }
    for (path, _) in &found.errors {
        places.entry(path).or_default().push("errors");
    }
    places
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(path, places)| Difference::Repeated {
            path: path.to_owned(),
            places,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_newline_only() {
        let text = b"kw\r\nno\rkw\nx kw kw kw\nlast kw";
        assert_eq!(matching_lines(text, b"kw"), [1, 2, 3, 4]);
        assert_eq!(matching_lines(b"", b"kw"), Vec::<u64>::new());
        assert_eq!(matching_lines(b"k\nw", b"kw"), Vec::<u64>::new());
        assert_eq!(matching_lines(b"\n\nkw\n", b"kw"), [3]);
    }

    #[test]
    fn binary_means_a_nul_in_the_first_8_kib() {
        let mut bytes = vec![b'a'; 9000];
        assert!(!is_binary(&bytes));
        bytes[8192] = 0;
        assert!(!is_binary(&bytes));
        bytes[8191] = 0;
        assert!(is_binary(&bytes));
        assert!(!is_binary(b""));
    }

    fn expected() -> Expected {
        let mut expected = Expected::default();
        expected.matches.insert("a.txt".into(), vec![1, 3]);
        expected
            .searched
            .extend(["a.txt".to_owned(), "b.txt".to_owned()]);
        expected.skipped.insert("link".into(), SkipFact::Symlink);
        expected.errors.insert("fifo".into());
        expected
    }

    fn found() -> Found {
        Found {
            matches: vec![("a.txt".into(), vec![1, 3])],
            files_searched: 2,
            skipped: vec![("link".into(), SkipFact::Symlink)],
            errors: vec![("fifo".into(), "not a regular file".into())],
        }
    }

    #[test]
    fn a_right_answer_has_no_difference() {
        assert_eq!(compare(&expected(), &found()), []);
    }

    #[test]
    fn each_kind_of_difference_is_found() {
        let mut wrong = found();
        wrong.matches = vec![("a.txt".into(), vec![1]), ("link".into(), vec![2])];
        wrong.errors.clear();
        wrong.files_searched = 3;
        let differences = compare(&expected(), &wrong);
        assert!(differences.contains(&Difference::WrongLines {
            path: "a.txt".into(),
            expected: vec![1, 3],
            got: vec![1]
        }));
        assert!(differences.iter().any(|d| matches!(
            d,
            Difference::MissingSkip { path, instead: Some(_), .. } if path == "link"
        )));
        assert!(differences.iter().any(|d| matches!(
            d,
            Difference::Repeated { path, .. } if path == "link"
        )));
        assert!(differences.contains(&Difference::MissingError {
            path: "fifo".into(),
            instead: None
        }));
        assert!(differences.contains(&Difference::SearchedCount {
            expected: 2,
            got: 3
        }));
    }

    #[test]
    fn an_unreadable_directory_hides_what_is_inside() {
        let mut expected = expected();
        expected.matches.insert("d/x.txt".into(), vec![2]);
        expected.searched.insert("d/x.txt".into());
        let locked = expected.with_unreadable("d");
        assert!(!locked.matches.contains_key("d/x.txt"));
        assert!(!locked.searched.contains("d/x.txt"));
        assert!(locked.errors.contains("d"));
        assert_eq!(locked.searched.len(), 2);
    }
}
