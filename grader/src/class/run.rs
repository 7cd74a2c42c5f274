//! The class's schedule: who still needs grading, `jobs` students at a time, each
//! student's report and the gradebook written as they finish.

use std::fs::File;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use crate::build::Builder;
use crate::class::gradebook::{self, Row, Status};
use crate::class::roster::Student;
use crate::errors::{GraderError, ReportError};
use crate::exit;
use crate::plan::{Plan, Source};
use crate::report::{GradeSheet, JsonReport, Output};
use crate::sandbox::Sandbox;

/// The gradebook's file name in the output folder.
pub const GRADEBOOK: &str = "gradebook.csv";

/// The lock file of the output folder, held while a class run writes there.
const LOCK: &str = ".grader.lock";

/// How the temporary files of atomic writes begin (`tempfile`'s default prefix).
const TEMPORARY_PREFIX: &str = ".tmp";

/// Everything a class run shares.
#[derive(Debug)]
pub struct ClassRun<'a> {
    /// What to grade (the assignments and checks), the class's seed (each student's is
    /// derived from it and their id), and how many students side by side (`jobs`).
    pub plan: &'a Plan,
    /// The sandbox.
    pub sandbox: &'a Sandbox,
    /// The course repository.
    pub course_root: &'a Path,
    /// The shared target directory.
    pub target_dir: &'a Path,
    /// Longest build of one assignment.
    pub build_timeout: Duration,
    /// Where reports and the gradebook go.
    pub out_dir: &'a Path,
    /// Grade again students already graded.
    pub regrade: bool,
    /// No progress on stderr.
    pub quiet: bool,
}

/// A student's place in the class and what is known of them.
enum Slot {
    /// To grade.
    Pending,
    /// Done: their row.
    Done(Row),
}

/// Grades the class; returns the exit code (3 if a student could not be graded or a
/// grade is untrusted, else 1 if any check failed, else 4 if a speed check was not measurable,
/// else 0).
pub fn run(class: &ClassRun<'_>, students: &[Student]) -> Result<u8, GraderError> {
    let started = Instant::now();
    std::fs::create_dir_all(class.out_dir).map_err(|source| GraderError::Io {
        action: "create the directory",
        path: class.out_dir.to_owned(),
        source,
    })?;
    let _only_run = lock_out_dir(class.out_dir)?;
    let columns: Vec<String> = class
        .plan
        .assignments
        .iter()
        .map(|p| p.assignment.id.clone())
        .collect();
    let possible: u32 = class
        .plan
        .assignments
        .iter()
        .flat_map(|p| p.checks.iter().map(|c| c.points))
        .sum();
    let slots: Vec<Slot> = students
        .iter()
        .map(|student| match class.previous(student) {
            Some(report) => Slot::Done(Row::of_report(&student.id, &report, &columns)),
            None => Slot::Pending,
        })
        .collect();
    let pending: Vec<usize> = (0..students.len())
        .filter(|&i| matches!(slots[i], Slot::Pending))
        .collect();
    let workers = class
        .sandbox
        .max_jobs()
        .map_or(class.plan.jobs, |max| max.min(class.plan.jobs))
        .clamp(1, pending.len().max(1));
    class.say(&format!(
        "grading a class of {} into {}: {} already graded there{}, {} to grade, {} side by \
         side, seed {}",
        students.len(),
        class.out_dir.display(),
        students.len() - pending.len(),
        if class.regrade || pending.len() == students.len() {
            ""
        } else {
            " (kept; --regrade grades them again)"
        },
        pending.len(),
        workers,
        class.plan.seed
    ));
    let book = Book {
        slots: Mutex::new(slots),
        columns,
        path: class.out_dir.join(GRADEBOOK),
    };
    book.write()?;
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let failure: Mutex<Option<GraderError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(&index) = pending.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let student = &students[index];
                    let began = Instant::now();
                    let row = class.grade_and_record(student, &book.columns, possible);
                    let done = finished.fetch_add(1, Ordering::Relaxed) + 1;
                    class.say(&format!(
                        "[{done}/{}] {}: {} in {:.1} s",
                        pending.len(),
                        student.id,
                        describe(&row),
                        began.elapsed().as_secs_f64()
                    ));
                    if let Err(error) = book.set(index, row) {
                        let mut failure = failure.lock().unwrap_or_else(|e| e.into_inner());
                        failure.get_or_insert(error);
                    }
                }
            });
        }
    });
    if let Some(error) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(error);
    }
    let slots = book.slots.into_inner().unwrap_or_else(|e| e.into_inner());
    let rows: Vec<&Row> = slots
        .iter()
        .filter_map(|slot| match slot {
            Slot::Done(row) => Some(row),
            Slot::Pending => None,
        })
        .collect();
    let count = |status| rows.iter().filter(|r| r.status == status).count();
    class.say(&format!(
        "graded {} students in {:.1} s: {} graded, {} incomplete, {} untrusted, {} errors; \
         gradebook: {}",
        pending.len(),
        started.elapsed().as_secs_f64(),
        count(Status::Graded),
        count(Status::Incomplete),
        count(Status::Untrusted),
        count(Status::Error),
        class.out_dir.join(GRADEBOOK).display()
    ));
    Ok(exit_code(&rows))
}

/// Takes the out dir for this run (two runs writing one gradebook would undo each other's
/// rows), and removes the temporary files a killed run left there.
fn lock_out_dir(out_dir: &Path) -> Result<Flock<File>, GraderError> {
    let path = out_dir.join(LOCK);
    let file = File::create(&path).map_err(|source| GraderError::Io {
        action: "create",
        path: path.clone(),
        source,
    })?;
    let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|_| {
        GraderError::Usage(format!(
            "another grader is grading a class into {}",
            out_dir.display()
        ))
    })?;
    // Reports and the gradebook are written to a temporary file beside them, then renamed
    // (`Output::File`); a run killed in between leaves the temporary file.
    if let Ok(entries) = std::fs::read_dir(out_dir) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(TEMPORARY_PREFIX)
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(lock)
}

/// The class's exit code from its rows.
fn exit_code(rows: &[&Row]) -> u8 {
    let trouble = rows.iter().any(|r| match r.status {
        Status::Untrusted | Status::Error => true,
        Status::Graded | Status::Incomplete => false,
    });
    if trouble {
        exit::INTERNAL
    } else if rows.iter().all(|r| r.all_passed) {
        exit::ALL_PASSED
    } else if rows.iter().all(|r| r.none_failed) {
        exit::NOT_MEASURED
    } else {
        exit::SOME_FAILED
    }
}

fn describe(row: &Row) -> String {
    match (row.status, row.total()) {
        (Status::Graded, Some(total)) => format!("{total}/{}", row.possible),
        (Status::Incomplete, Some(total)) => {
            format!("{total}/{} (incomplete: {})", row.possible, row.detail)
        }
        (Status::Untrusted, Some(total)) => {
            format!("{total}/{} (untrusted: {})", row.possible, row.detail)
        }
        (Status::Error, _) | (Status::Graded | Status::Incomplete | Status::Untrusted, None) => {
            format!("error: {}", row.detail)
        }
    }
}

/// The gradebook being filled in.
struct Book {
    slots: Mutex<Vec<Slot>>,
    columns: Vec<String>,
    path: PathBuf,
}

impl Book {
    /// Records a student's row and rewrites the gradebook.
    fn set(&self, index: usize, row: Row) -> Result<(), GraderError> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[index] = Slot::Done(row);
        // Written under the lock, so a later state never loses to an earlier one.
        self.write_locked(&slots)
    }

    fn write(&self) -> Result<(), GraderError> {
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        self.write_locked(&slots)
    }

    fn write_locked(&self, slots: &[Slot]) -> Result<(), GraderError> {
        let rows: Vec<Row> = slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Done(row) => Some(row.clone()),
                Slot::Pending => None,
            })
            .collect();
        Output::File(self.path.clone())
            .write(&gradebook::render(&self.columns, &rows))
            .map_err(GraderError::Report)
    }
}

impl ClassRun<'_> {
    fn report_path(&self, student: &Student) -> PathBuf {
        self.out_dir.join(format!("{}.json", student.id))
    }

    /// The report an earlier run wrote for this student, if it still stands: same
    /// submission folder, same assignments and points, trusted. Not with `--regrade`.
    fn previous(&self, student: &Student) -> Option<JsonReport> {
        if self.regrade {
            return None;
        }
        let text = std::fs::read_to_string(self.report_path(student)).ok()?;
        let report: JsonReport = serde_json::from_str(&text).ok()?;
        let dir = student.dir.canonicalize().ok()?;
        let same_source = report.source.path.as_deref() == Some(&*dir.to_string_lossy());
        let planned: Vec<(&str, u32)> = self
            .plan
            .assignments
            .iter()
            .map(|p| {
                let points = p.checks.iter().map(|c| c.points).sum();
                (p.assignment.id.as_str(), points)
            })
            .collect();
        let graded: Vec<(&str, u32)> = report
            .assignments
            .iter()
            .map(|a| (a.id.as_str(), a.possible))
            .collect();
        let why_again = if !same_source || planned != graded {
            "it is of another submission folder or other assignments"
        } else if !gradebook::grader_faults(&report).is_empty() {
            "it is untrusted (the grader failed, not the submission)"
        } else if report.score.unmeasured > 0 {
            "it is incomplete (a speed check could not be measured)"
        } else {
            return Some(report);
        };
        self.say(&format!(
            "{}: grading again, the report in {}: {why_again}",
            student.id,
            self.out_dir.display()
        ));
        None
    }

    /// Grades one student and writes their report; their gradebook row either way.
    fn grade_and_record(&self, student: &Student, columns: &[String], possible: u32) -> Row {
        let graded = std::panic::catch_unwind(AssertUnwindSafe(|| self.grade(student)))
            .unwrap_or_else(|payload| {
                Err(GraderError::Internal(format!(
                    "it panicked: {}",
                    course_harness::runner::panic_message(payload.as_ref())
                )))
            })
            .and_then(|report| {
                let mut text = serde_json::to_string_pretty(&report)
                    .map_err(|e| GraderError::Report(ReportError::Json(e)))?;
                text.push('\n');
                Output::File(self.report_path(student)).write(&text)?;
                Ok(report)
            });
        match graded {
            Ok(report) => Row::of_report(&student.id, &report, columns),
            Err(error) => {
                // A report left from an earlier run (--regrade) no longer stands: without
                // it the next run tries this student again.
                let _ = std::fs::remove_file(self.report_path(student));
                Row::error(
                    &student.id,
                    possible,
                    columns.len(),
                    &crate::errors::chain(&error),
                )
            }
        }
    }

    /// Grades one student's submission, as `--submission` would, one check at a time.
    fn grade(&self, student: &Student) -> Result<JsonReport, GraderError> {
        let dir = student
            .dir
            .canonicalize()
            .map_err(|source| GraderError::Submission {
                path: student.dir.clone(),
                source,
            })?;
        let plan = Plan {
            source: Source::Submission(dir),
            seed: self.plan.seed.derive(&student.id),
            jobs: 1,
            assignments: self.plan.assignments.clone(),
        };
        let builder = Builder::new(self.target_dir.to_owned(), self.build_timeout)?;
        let intakes = crate::source::take(&plan, self.course_root, builder.target_dir())?;
        let (sender, receiver) = mpsc::channel();
        let mut sheet = GradeSheet::default();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let sender = sender;
                crate::grade::run(&plan, self.sandbox, &builder, intakes, &sender);
            });
            for event in receiver {
                sheet.apply(&event);
            }
        });
        JsonReport::of(&sheet)
            .ok_or_else(|| GraderError::Internal("the grading engine reported nothing".to_owned()))
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "grader: {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_at_a_time_writes_an_out_dir_and_a_killed_runs_temporary_files_go() {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(dir.path().join(".tmpAbC123"), "half a report").expect("writes");
        std::fs::write(dir.path().join("alice.json"), "{}").expect("writes");
        let held = lock_out_dir(dir.path()).expect("the first run takes it");
        assert!(!dir.path().join(".tmpAbC123").exists());
        assert!(dir.path().join("alice.json").exists(), "reports stay");
        let refused = lock_out_dir(dir.path()).expect_err("a second run is refused");
        assert!(refused.to_string().contains("another grader"), "{refused}");
        drop(held);
        assert!(
            lock_out_dir(dir.path()).is_ok(),
            "free again once the first ends"
        );
    }
}
