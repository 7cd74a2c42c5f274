//! The journal: every finished grading, one JSON line each, appended and synced as soon as it
//! is known, so a measurement of hours can be stopped at any moment and resumed in another
//! sitting, losing at most the grading in progress.
//!
//! ```text
//! {"journal":{"version":1,"hog":false,"sitting":{"started":1767000000,"revision":{..}}}}
//! {"grading":{"assignment":"a02-pipe","variant":"solution","seed":1592590336,"run":0,..}}
//! {"resumed":{"started":1767003600,"revision":{..},"allowed_other_revision":false}}
//! ```
//!
//! The first line says what the journal is valid for: one hog condition and the code of one
//! revision (see [`crate::revision`]). Each later sitting adds a `resumed` line with its own
//! revision, so a journal mixed with `--allow-other-revision` stays visibly mixed: every
//! later resume compares the workspace with every sitting's revision, not only the first.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::errors::JournalError;
use crate::grading::Grading;
use crate::revision::Revision;

/// The format written; another is refused rather than half understood.
pub const VERSION: u32 = 1;

/// One finished grading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The variant's assignment.
    pub assignment: String,
    /// The variant (`solution` or a fixture's name).
    pub variant: String,
    /// The grader's seed.
    pub seed: u64,
    /// Which of the `--runs` gradings of the variant it was (`seed - --seed`).
    pub run: u32,
    /// A CPU hog ran beside it.
    pub hog: bool,
    /// How long the grading took.
    pub seconds: f64,
    /// What the grader said.
    pub outcome: Grading,
}

/// One sitting: when it started and on which code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sitting {
    /// Seconds since the Unix epoch.
    pub started: u64,
    /// The workspace's revision.
    pub revision: Revision,
    /// It went on although its code was not the journal's (`--allow-other-revision`).
    #[serde(default)]
    pub allowed_other_revision: bool,
}

/// A line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum Line {
    /// The first line: what every grading below was taken under.
    Journal {
        /// [`VERSION`].
        version: u32,
        /// The hog condition of every grading.
        hog: bool,
        /// The first sitting.
        sitting: Sitting,
    },
    /// A later sitting.
    Resumed(Sitting),
    /// A finished grading.
    Grading(Entry),
}

/// What a journal holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    /// The hog condition of every grading.
    pub hog: bool,
    /// Every sitting, the first first.
    pub sittings: Vec<Sitting>,
    /// Every grading, in the order written.
    pub entries: Vec<Entry>,
}

/// An open journal, locked against a second `accuracy` writing it at the same time.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Flock<File>,
}

/// A journal opened for a sitting, with what it held.
#[derive(Debug)]
pub struct Opened {
    /// Where the sitting's gradings go.
    pub journal: Journal,
    /// The gradings of earlier sittings.
    pub entries: Vec<Entry>,
    /// What the user should know (warnings, a torn line dropped).
    pub notes: Vec<String>,
    /// Its gradings measured other code than the workspace's (`--allow-other-revision`).
    pub mixed: bool,
}

/// What to check when a journal is opened.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    /// The workspace's revision now.
    pub revision: &'a Revision,
    /// This run's hog condition.
    pub hog: bool,
    /// Resume even if the journal's code is not the workspace's.
    pub allow_other_revision: bool,
    /// Seconds since the Unix epoch, for the sitting's line.
    pub now: u64,
}

impl Journal {
    /// Opens (or starts) the journal at `path` for a sitting under `expect`: checks that its
    /// gradings were taken under the same hog condition and on the same code, drops a line
    /// torn by a kill, and records the sitting.
    pub fn open(path: &Path, expect: &Expect<'_>) -> Result<Opened, JournalError> {
        let io = |what| {
            let path = path.to_owned();
            move |source| JournalError::Io { path, what, source }
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io("opening"))?;
        let file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((_, Errno::EWOULDBLOCK)) => {
                return Err(JournalError::Locked {
                    path: path.to_owned(),
                });
            }
            Err((_, errno)) => return Err(io("locking")(errno.into())),
        };
        let mut journal = Journal {
            path: path.to_owned(),
            file,
        };
        let mut bytes = Vec::new();
        journal
            .file
            .read_to_end(&mut bytes)
            .map_err(io("reading"))?;
        let mut notes = Vec::new();
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if whole < bytes.len() {
            // A kill while a line was written: that grading is lost, the others are whole.
            journal
                .file
                .set_len(whole as u64)
                .map_err(io("dropping a torn last line"))?;
            bytes.truncate(whole);
            notes.push(format!(
                "journal {}: dropped a torn last line (a grading cut off while written)",
                path.display()
            ));
        }
        let sitting = |allowed_other_revision| Sitting {
            started: expect.now,
            revision: expect.revision.clone(),
            allowed_other_revision,
        };
        if bytes.is_empty() {
            if expect.revision.dirty {
                notes.push(format!(
                    "the graded code has uncommitted changes: journal {} will not resume \
                     without --allow-other-revision",
                    path.display()
                ));
            }
            journal.write(&Line::Journal {
                version: VERSION,
                hog: expect.hog,
                sitting: sitting(false),
            })?;
            return Ok(Opened {
                journal,
                entries: Vec::new(),
                notes,
                mixed: false,
            });
        }
        let contents = parse(path, &bytes)?;
        let (allowed, more) = check(path, &contents, expect)?;
        notes.extend(more);
        journal.write(&Line::Resumed(sitting(allowed)))?;
        Ok(Opened {
            journal,
            entries: contents.entries,
            notes,
            mixed: allowed,
        })
    }

    /// Appends `entry`, synced to disk before this returns.
    pub fn append(&mut self, entry: &Entry) -> Result<(), JournalError> {
        self.write(&Line::Grading(entry.clone()))
    }

    fn write(&mut self, line: &Line) -> Result<(), JournalError> {
        let io = |what| {
            let path = self.path.clone();
            move |source| JournalError::Io { path, what, source }
        };
        let mut text = serde_json::to_string(line)
            .map_err(|e| io("encoding a line")(std::io::Error::other(e)))?;
        text.push('\n');
        // One write of the whole line: a kill leaves it whole or torn at the end, never
        // interleaved (and the lock keeps other writers out).
        self.file
            .write_all(text.as_bytes())
            .map_err(io("writing"))?;
        self.file.sync_data().map_err(io("syncing"))
    }
}

/// The journal's lines (`bytes`, whole lines only).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Contents, JournalError> {
    let malformed = |line: usize, reason: String| JournalError::Malformed {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut contents: Option<Contents> = None;
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        if raw.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(raw).map_err(|e| malformed(number, e.to_string()))?;
        if contents.is_none() {
            // The version before the rest: another format is named, not misparsed.
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| malformed(number, e.to_string()))?;
            if let Some(found) = value["journal"]["version"].as_u64() {
                if found != u64::from(VERSION) {
                    return Err(JournalError::Version {
                        path: path.to_owned(),
                        found: u32::try_from(found).unwrap_or(u32::MAX),
                        expected: VERSION,
                    });
                }
            }
        }
        let line: Line =
            serde_json::from_str(text).map_err(|e| malformed(number, e.to_string()))?;
        match (&mut contents, line) {
            (None, Line::Journal { hog, sitting, .. }) => {
                contents = Some(Contents {
                    hog,
                    sittings: vec![sitting],
                    entries: Vec::new(),
                });
            }
            (None, Line::Resumed(_) | Line::Grading(_)) => {
                return Err(malformed(
                    number,
                    "the first line is not a journal's header".to_owned(),
                ));
            }
            (Some(_), Line::Journal { .. }) => {
                return Err(malformed(
                    number,
                    "a second header (two journals concatenated?)".to_owned(),
                ));
            }
            (Some(contents), Line::Resumed(sitting)) => contents.sittings.push(sitting),
            (Some(contents), Line::Grading(entry)) => {
                if entry.hog != contents.hog {
                    return Err(malformed(
                        number,
                        format!(
                            "a grading {} in a journal of gradings {}",
                            condition(entry.hog),
                            condition(contents.hog)
                        ),
                    ));
                }
                contents.entries.push(entry);
            }
        }
    }
    contents.ok_or_else(|| malformed(1, "no header".to_owned()))
}

/// Whether a journal holding `contents` may be resumed under `expect`: `Ok` with whether
/// another revision was allowed and notes for the user, or why not.
pub fn check(
    path: &Path,
    contents: &Contents,
    expect: &Expect<'_>,
) -> Result<(bool, Vec<String>), JournalError> {
    if contents.hog != expect.hog {
        return Err(JournalError::OtherCondition {
            path: path.to_owned(),
            then: condition(contents.hog),
            now: condition(expect.hog),
        });
    }
    let mut notes = Vec::new();
    let difference = contents
        .sittings
        .iter()
        .find_map(|sitting| expect.revision.differs_from(&sitting.revision));
    if let Some(difference) = difference {
        if !expect.allow_other_revision {
            return Err(JournalError::OtherRevision {
                path: path.to_owned(),
                difference,
            });
        }
        notes.push(format!(
            "WARNING: journal {}: {difference}; resuming anyway (--allow-other-revision): \
             its table mixes gradings of different code",
            path.display()
        ));
        return Ok((true, notes));
    }
    let commits: Vec<&str> = contents
        .sittings
        .iter()
        .map(|s| crate::revision::short(&s.revision.commit))
        .filter(|c| *c != crate::revision::short(&expect.revision.commit))
        .collect();
    if !commits.is_empty() {
        notes.push(format!(
            "journal {}: earlier sittings were on commit {}, the workspace is on {}; the \
             graded code is the same, resuming",
            path.display(),
            commits.join(", "),
            expect.revision.describe()
        ));
    }
    Ok((false, notes))
}

/// `with a CPU hog` or `without a CPU hog`.
fn condition(hog: bool) -> &'static str {
    if hog {
        "with a CPU hog"
    } else {
        "without a CPU hog"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::grading::Judged;
    use crate::revision::Difference;

    fn revision(commit: &str, grader: &str, dirty: bool) -> Revision {
        Revision {
            commit: commit.repeat(40 / commit.len()),
            dirty,
            changes: if dirty {
                vec!["grader/src/main.rs".to_owned()]
            } else {
                Vec::new()
            },
            graded: BTreeMap::from([
                ("grader".to_owned(), grader.to_owned()),
                ("course.toml".to_owned(), "c0ffee".to_owned()),
            ]),
        }
    }

    fn expect(revision: &Revision, hog: bool) -> Expect<'_> {
        Expect {
            revision,
            hog,
            allow_other_revision: false,
            now: 1_700_000_000,
        }
    }

    fn entry(variant: &str, seed: u64, hog: bool) -> Entry {
        Entry {
            assignment: "a02-pipe".to_owned(),
            variant: variant.to_owned(),
            seed,
            run: 0,
            hog,
            seconds: 1.5,
            outcome: Grading::Verdicts(BTreeMap::from([(
                "replies-in-order".to_owned(),
                Judged {
                    verdict: "pass".to_owned(),
                    explanation: "line one\n\"quoted\" line two".to_owned(),
                },
            )])),
        }
    }

    #[test]
    fn a_journal_written_reads_back_every_grading_with_its_header() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("j.jsonl");
        let now = revision("a", "tree1", false);
        let mut opened = Journal::open(&path, &expect(&now, false)).expect("a new journal");
        assert!(opened.entries.is_empty());
        assert!(opened.notes.is_empty(), "{:?}", opened.notes);
        let failed = Entry {
            outcome: Grading::GraderFailed("exit code 3".to_owned()),
            ..entry("solution", 2, false)
        };
        opened
            .journal
            .append(&entry("solution", 1, false))
            .expect("appended");
        opened.journal.append(&failed).expect("appended");
        drop(opened);
        let bytes = std::fs::read(&path).expect("read");
        let contents = parse(&path, &bytes).expect("parsed");
        assert!(!contents.hog);
        assert_eq!(contents.sittings.len(), 1);
        assert_eq!(contents.sittings[0].revision, now);
        assert_eq!(contents.entries, [entry("solution", 1, false), failed]);
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert_eq!(text.lines().count(), 3, "one line per grading:\n{text}");
    }

    #[test]
    fn resuming_returns_the_earlier_gradings_and_records_the_sitting() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("j.jsonl");
        let now = revision("a", "tree1", false);
        let mut opened = Journal::open(&path, &expect(&now, true)).expect("a new journal");
        opened
            .journal
            .append(&entry("solution", 7, true))
            .expect("appended");
        drop(opened);
        let opened = Journal::open(&path, &expect(&now, true)).expect("resumed");
        assert_eq!(opened.entries, [entry("solution", 7, true)]);
        drop(opened);
        let contents = parse(&path, &std::fs::read(&path).expect("read")).expect("parsed");
        assert_eq!(
            contents.sittings.len(),
            2,
            "the resumed sitting is recorded"
        );
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("j.jsonl");
        let now = revision("a", "tree1", false);
        let first = Journal::open(&path, &expect(&now, false)).expect("a new journal");
        let second = Journal::open(&path, &expect(&now, false));
        assert!(
            matches!(second, Err(JournalError::Locked { .. })),
            "{second:?}"
        );
        drop(first);
        Journal::open(&path, &expect(&now, false)).expect("free again");
    }

    #[test]
    fn a_line_torn_by_a_kill_is_dropped_and_the_journal_goes_on() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("j.jsonl");
        let now = revision("a", "tree1", false);
        let mut opened = Journal::open(&path, &expect(&now, false)).expect("a new journal");
        opened
            .journal
            .append(&entry("solution", 1, false))
            .expect("appended");
        drop(opened);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"{\"grading\":{\"assignm")
            .expect("a torn line");
        drop(file);
        let mut opened = Journal::open(&path, &expect(&now, false)).expect("resumed");
        assert_eq!(opened.entries, [entry("solution", 1, false)]);
        assert!(
            opened.notes.iter().any(|n| n.contains("torn")),
            "{:?}",
            opened.notes
        );
        opened
            .journal
            .append(&entry("solution", 2, false))
            .expect("appended");
        drop(opened);
        let contents = parse(&path, &std::fs::read(&path).expect("read")).expect("parsed");
        assert_eq!(
            contents.entries,
            [entry("solution", 1, false), entry("solution", 2, false)]
        );
    }

    #[test]
    fn a_journal_of_the_other_hog_condition_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("j.jsonl");
        let now = revision("a", "tree1", false);
        drop(Journal::open(&path, &expect(&now, false)).expect("a new journal"));
        let allowed = Expect {
            allow_other_revision: true,
            ..expect(&now, true)
        };
        let resumed = Journal::open(&path, &allowed);
        assert!(
            matches!(resumed, Err(JournalError::OtherCondition { .. })),
            "even with --allow-other-revision: {resumed:?}"
        );
    }

    #[test]
    fn other_graded_code_is_refused_unless_allowed_and_then_stays_marked() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("j.jsonl");
        let then = revision("a", "tree1", false);
        drop(Journal::open(&path, &expect(&then, false)).expect("a new journal"));
        let now = revision("b", "tree2", false);
        let refused = Journal::open(&path, &expect(&now, false));
        match refused {
            Err(JournalError::OtherRevision {
                difference: Difference::OtherCode { paths, .. },
                ..
            }) => assert_eq!(paths, ["grader"]),
            other => panic!("not refused for other code: {other:?}"),
        }
        let allowed = Expect {
            allow_other_revision: true,
            ..expect(&now, false)
        };
        let opened = Journal::open(&path, &allowed).expect("allowed");
        assert!(opened.mixed);
        assert!(
            opened.notes.iter().any(|n| n.starts_with("WARNING")),
            "{:?}",
            opened.notes
        );
        drop(opened);
        // The journal now holds both codes: neither resumes without the flag.
        for revision in [&then, &now] {
            let refused = Journal::open(&path, &expect(revision, false));
            assert!(
                matches!(refused, Err(JournalError::OtherRevision { .. })),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn another_commit_with_the_same_graded_code_resumes_with_a_note() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("j.jsonl");
        drop(
            Journal::open(&path, &expect(&revision("a", "tree1", false), false))
                .expect("a new journal"),
        );
        let readme_only = revision("b", "tree1", false);
        let opened = Journal::open(&path, &expect(&readme_only, false)).expect("resumed");
        assert!(!opened.mixed);
        assert!(
            opened.notes.iter().any(|n| n.contains("the same")),
            "{:?}",
            opened.notes
        );
    }

    #[test]
    fn a_dirty_tree_is_refused_now_or_then() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let clean_path = dir.path().join("clean.jsonl");
        let clean = revision("a", "tree1", false);
        let dirty = revision("a", "tree1", true);
        drop(Journal::open(&clean_path, &expect(&clean, false)).expect("a new journal"));
        let refused = Journal::open(&clean_path, &expect(&dirty, false));
        assert!(
            matches!(
                refused,
                Err(JournalError::OtherRevision {
                    difference: Difference::DirtyNow { .. },
                    ..
                })
            ),
            "{refused:?}"
        );
        let dirty_path = dir.path().join("dirty.jsonl");
        let started = Journal::open(&dirty_path, &expect(&dirty, false)).expect("a new journal");
        assert!(
            started.notes.iter().any(|n| n.contains("uncommitted")),
            "starting on a dirty tree warns: {:?}",
            started.notes
        );
        drop(started);
        let refused = Journal::open(&dirty_path, &expect(&clean, false));
        assert!(
            matches!(
                refused,
                Err(JournalError::OtherRevision {
                    difference: Difference::DirtyThen { .. },
                    ..
                })
            ),
            "{refused:?}"
        );
    }

    #[test]
    fn malformed_journals_are_refused_with_the_line() {
        let path = Path::new("j.jsonl");
        let header = serde_json::to_string(&Line::Journal {
            version: VERSION,
            hog: false,
            sitting: Sitting {
                started: 0,
                revision: revision("a", "tree1", false),
                allowed_other_revision: false,
            },
        })
        .expect("encoded");
        let grading =
            serde_json::to_string(&Line::Grading(entry("solution", 1, false))).expect("encoded");
        let hogged =
            serde_json::to_string(&Line::Grading(entry("solution", 1, true))).expect("encoded");
        let cases = [
            (format!("{grading}\n"), 1),
            (format!("{header}\n{header}\n"), 2),
            (format!("{header}\n{grading}\nnot json\n"), 3),
            (format!("{header}\n{hogged}\n"), 2),
            (format!("{header}\n{{\"grading\":{{\"seed\":1}}}}\n"), 2),
        ];
        for (text, bad) in cases {
            match parse(path, text.as_bytes()) {
                Err(JournalError::Malformed { line, .. }) => assert_eq!(line, bad, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let future = header.replace("\"version\":1", "\"version\":2");
        assert!(
            matches!(
                parse(path, format!("{future}\n").as_bytes()),
                Err(JournalError::Version { found: 2, .. })
            ),
            "{future}"
        );
    }
}
