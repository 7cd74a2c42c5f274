//! Who is in the class: the folders of `--submissions DIR`, or the lines of `--roster FILE`.
//!
//! A roster file is UTF-8 text, one student per line, `student,path`: the student's id,
//! a comma, and the path of their submission (relative to the roster file's folder, or
//! absolute; everything after the first comma, spaces around it trimmed). Blank lines, lines
//! starting with `#`, and a first line `student,path` are skipped. No quoting: an id never
//! has a comma, and a path's commas are kept.
//!
//! An id names the student's report file and gradebook row, so it is restricted to what is
//! safe in both: a letter, digit or `_`, then letters, digits and `._-@+` (GitHub user
//! names, student numbers and e-mail addresses pass). Ids are unique.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cli::ClassArgs;
use crate::errors::GraderError;

/// One student of the class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// Their id: the report's file name and the gradebook's first column.
    pub id: String,
    /// Their submission (a copy of the course repository, or of its `assignments/`).
    pub dir: PathBuf,
}

/// The header line a roster may start with.
const HEADER: &str = "student,path";

/// The class the command line names, or `None` when it grades one submission.
pub fn from_args(args: &ClassArgs) -> Result<Option<Vec<Student>>, GraderError> {
    let students = match (&args.submissions, &args.roster) {
        (Some(dir), _) => from_folder(dir)?,
        (None, Some(file)) => from_file(file)?,
        (None, None) => {
            if args.out_dir.is_some() {
                return Err(GraderError::Usage(
                    "--out-dir is for a class: give --submissions DIR or --roster FILE".to_owned(),
                ));
            }
            return Ok(None);
        }
    };
    if students.is_empty() {
        let place = args
            .submissions
            .clone()
            .or_else(|| args.roster.clone())
            .unwrap_or_default();
        return Err(GraderError::Usage(format!(
            "{} holds no submission (one folder per student)",
            place.display()
        )));
    }
    Ok(Some(students))
}

/// Every folder of `dir` (hidden ones, such as `.git`, skipped), sorted by name.
pub fn from_folder(dir: &Path) -> Result<Vec<Student>, GraderError> {
    let unreadable = |source| GraderError::Class {
        path: dir.to_owned(),
        source,
    };
    let mut students = Vec::new();
    let mut refused = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        // Follows a symlink: a TA may link submissions kept elsewhere.
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        match check_id(&name) {
            Ok(()) => students.push(Student {
                id: name,
                dir: entry.path(),
            }),
            Err(why) => refused.push(format!("{name:?} ({why})")),
        }
    }
    if !refused.is_empty() {
        return Err(GraderError::Usage(format!(
            "{}: folder names are student ids, and these are not: {}; rename them, or list \
             the class in a --roster file",
            dir.display(),
            refused.join(", ")
        )));
    }
    students.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(students)
}

/// The students listed in the roster file `file`, in its order.
pub fn from_file(file: &Path) -> Result<Vec<Student>, GraderError> {
    let text = std::fs::read_to_string(file).map_err(|source| GraderError::Class {
        path: file.to_owned(),
        source,
    })?;
    let base = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    parse(&text, &base).map_err(|(line, why)| GraderError::Roster {
        path: file.to_owned(),
        line,
        why,
    })
}

/// Parses roster text; a path is relative to `base`. The error is (line number, why).
pub fn parse(text: &str, base: &Path) -> Result<Vec<Student>, (usize, String)> {
    let mut students: Vec<Student> = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        let is_header = students.is_empty()
            && seen.is_empty()
            && line.replace(' ', "").eq_ignore_ascii_case(HEADER);
        if line.is_empty() || line.starts_with('#') || is_header {
            continue;
        }
        let Some((id, path)) = line.split_once(',') else {
            return Err((number, format!("expected `student,path`, got {line:?}")));
        };
        let (id, path) = (id.trim(), path.trim());
        check_id(id).map_err(|why| (number, format!("{id:?} is not a student id: {why}")))?;
        if path.is_empty() {
            return Err((number, format!("no path for {id}")));
        }
        if !seen.insert(id.to_owned()) {
            return Err((number, format!("{id} is listed twice")));
        }
        students.push(Student {
            id: id.to_owned(),
            dir: base.join(path),
        });
    }
    if students.is_empty() {
        return Err((0, "no student is listed".to_owned()));
    }
    Ok(students)
}

/// Whether `id` may be a student id (see the module docs).
pub fn check_id(id: &str) -> Result<(), String> {
    let mut chars = id.chars();
    match chars.next() {
        None => Err("it is empty".to_owned()),
        Some(first) if !(first.is_ascii_alphanumeric() || first == '_') => {
            Err(format!("it starts with {first:?}"))
        }
        Some(_) => match chars.find(|c| !(c.is_ascii_alphanumeric() || "._-@+".contains(*c))) {
            Some(bad) => Err(format!("it has {bad:?}")),
            None if id.len() > 100 => Err("it is longer than 100 characters".to_owned()),
            None => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roster_skips_comments_blanks_and_the_header_and_resolves_paths() {
        let text = "student,path\n# the first lab group\n\nalice, alice-repo\nbob,/abs/b,c\n";
        let students = parse(text, Path::new("/class")).expect("parses");
        assert_eq!(
            students,
            [
                Student {
                    id: "alice".into(),
                    dir: "/class/alice-repo".into()
                },
                Student {
                    id: "bob".into(),
                    dir: "/abs/b,c".into()
                },
            ]
        );
    }

    #[test]
    fn a_bad_roster_line_is_named_by_its_number() {
        let bad = |text: &str| parse(text, Path::new("/")).expect_err("refused");
        assert_eq!(bad("alice,a\nbob\n").0, 2);
        assert!(bad("alice,a\nalice,b\n").1.contains("listed twice"));
        assert!(bad("=cmd(),a\n").1.contains("not a student id"));
        assert!(bad("alice,\n").1.contains("no path"));
        assert!(bad("# only a comment\n").1.contains("no student"));
    }

    #[test]
    fn ids_are_safe_as_file_names_and_csv_cells() {
        for good in ["alice", "s1234567", "jo.doe@uni.edu", "_x", "a-b+c"] {
            assert_eq!(check_id(good), Ok(()), "{good}");
        }
        for bad in [
            "", ".hidden", "-x", "=SUM(A1)", "a/b", "a b", "a,b", "..", "é",
        ] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_folder_lists_its_subfolders_sorted_and_skips_hidden_ones_and_files() {
        let dir = tempfile::tempdir().expect("a temp dir");
        for name in ["bob", "alice", ".git"] {
            std::fs::create_dir(dir.path().join(name)).expect("mkdir");
        }
        std::fs::write(dir.path().join("notes.txt"), "x").expect("writes");
        let ids: Vec<String> = from_folder(dir.path())
            .expect("lists")
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, ["alice", "bob"]);
        std::fs::create_dir(dir.path().join("bad name")).expect("mkdir");
        let error = from_folder(dir.path()).expect_err("refused");
        assert!(error.to_string().contains("bad name"), "{error}");
    }
}
