//! Wording shared by the reporters: replay commands, figures, output excerpts, where a check
//! stands, and what a report for students may say about a hidden check.

use course_harness::manifest::Visibility;
use course_harness::run::Captured;
use course_harness::verdict::{Outcome, Replay, Verdict};

use crate::events::CheckRecord;
use crate::plan::Source;
use crate::verdict::CheckVerdict;

/// The command that replays a check, for this run's source: a hidden check's `grader`
/// command gets the flags that select the same code again.
pub fn replay(outcome: &Outcome, source: &Source) -> String {
    match &outcome.replay {
        Replay::Grader { .. } => format!("{}{}", outcome.replay, source.flags()),
        Replay::VisibleTest { .. } => outcome.replay.to_string(),
    }
}

/// The figures of an outcome, joined; the first `max` only when given.
pub fn figures(outcome: &Outcome, max: Option<usize>) -> String {
    let shown: Vec<String> = outcome
        .figures
        .iter()
        .take(max.unwrap_or(usize::MAX))
        .map(ToString::to_string)
        .collect();
    shown.join(", ")
}

/// At most `max_bytes` of a captured stream, cut at a character boundary.
pub fn excerpt(captured: &Captured, max_bytes: usize) -> String {
    let text = captured.text();
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Seconds with one decimal.
pub fn secs(duration: std::time::Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// The verdict explained for a report a student may read. A visible check gets the full
/// explanation; a hidden check's leaves out whatever can quote its inputs (the oracle's
/// expected and received values, a panic message), so the JUnit, Gradescope and Markdown
/// reports never reveal hidden inputs. The JSON report and the table, which are for TAs,
/// keep everything.
pub fn explanation(record: &CheckRecord) -> String {
    match record.check.visibility {
        Visibility::Visible => record.verdict.to_string(),
        Visibility::Hidden => hidden_explanation(&record.verdict),
    }
}

/// True when a report a student may read can show the check's output (visible checks only:
/// a hidden check's output can echo its inputs).
pub fn shows_output(record: &CheckRecord) -> bool {
    match record.check.visibility {
        Visibility::Visible => true,
        Visibility::Hidden => false,
    }
}

/// Why a hidden check's details are missing, appended to what is withheld.
const WITHHELD: &str = "not shown for a hidden check";

fn hidden_explanation(verdict: &CheckVerdict) -> String {
    match verdict {
        CheckVerdict::Judged(judged) => hidden_verdict(judged),
        CheckVerdict::Leaked { judged, leaks } => format!(
            "left behind after the check ended (the grader removed them): {leaks}\n  the check \
             itself: {}",
            hidden_verdict(judged)
        ),
        CheckVerdict::MemoryLimit {
            judged,
            limit_bytes,
        } => format!(
            "out of memory: a process hit the {} MiB address-space limit\n  the check itself: {}",
            limit_bytes >> 20,
            hidden_verdict(judged)
        ),
        CheckVerdict::NotBuilt(_) => verdict.to_string(),
    }
}

fn hidden_verdict(verdict: &Verdict) -> String {
    match verdict {
        Verdict::WrongAnswer { .. } => {
            format!("wrong answer (what was expected and what came back are {WITHHELD})")
        }
        Verdict::Panicked { location, .. } if !verdict.is_unimplemented() => {
            let at = location
                .as_deref()
                .map(|l| format!("\n  at {l}"))
                .unwrap_or_default();
            format!("your code panicked (the message is {WITHHELD}){at}")
        }
        Verdict::Pass
        | Verdict::Panicked { .. }
        | Verdict::Timeout { .. }
        | Verdict::Crashed { .. }
        | Verdict::Exited { .. }
        | Verdict::MalformedReport { .. }
        | Verdict::OutputLimit { .. }
        | Verdict::NotMeasurable { .. }
        | Verdict::CouldNotRun { .. } => verdict.to_string(),
    }
}

/// `<assignment> / <check>`, with ` (hidden)` for a hidden check.
pub fn check_name(record: &CheckRecord) -> String {
    match record.check.visibility {
        Visibility::Visible => format!("{} / {}", record.assignment, record.check.id),
        Visibility::Hidden => format!("{} / {} (hidden)", record.assignment, record.check.id),
    }
}

#[cfg(test)]
mod tests {
    use course_harness::verdict::Verdict;

    use super::*;
    use crate::report::sample;
    use crate::verdict::Standing;

    fn hidden_wrong_answer() -> Verdict {
        Verdict::WrongAnswer {
            expected: sample::SECRET.to_owned(),
            got: format!("not {}", sample::SECRET),
            meaning: "a worker was lost".to_owned(),
        }
    }

    #[test]
    fn a_hidden_checks_explanation_does_not_quote_its_inputs() {
        let sheet = sample::sheet(hidden_wrong_answer());
        let records = sheet.records();
        let hidden = records
            .iter()
            .find(|r| r.check.visibility == Visibility::Hidden)
            .expect("the sample has a hidden check");
        assert!(hidden.verdict.to_string().contains(sample::SECRET));
        let shown = explanation(hidden);
        assert!(shown.starts_with("wrong answer"), "{shown}");
        assert!(!shown.contains(sample::SECRET), "{shown}");
        assert!(!shows_output(hidden));
        let panicked = CheckVerdict::Judged(Verdict::Panicked {
            message: format!("index {} out of range", sample::SECRET),
            location: Some("src/lib.rs:4:9".to_owned()),
        });
        let shown = hidden_explanation(&panicked);
        assert!(
            !shown.contains(sample::SECRET) && shown.contains("src/lib.rs:4:9"),
            "{shown}"
        );
    }

    #[test]
    fn a_visible_check_is_explained_in_full() {
        let sheet = sample::sheet(Verdict::Pass);
        let records = sheet.records();
        let leaked = records
            .iter()
            .find(|r| r.check.id == "second")
            .expect("the leaked check");
        assert_eq!(explanation(leaked), leaked.verdict.to_string());
        assert!(shows_output(leaked));
    }

    #[test]
    fn standings_follow_the_verdicts() {
        let sheet = sample::sheet(Verdict::NotMeasurable {
            why: "one core".to_owned(),
        });
        let standings: Vec<(String, Standing)> = sheet
            .records()
            .iter()
            .map(|r| (r.check.id.clone(), Standing::of(&r.verdict)))
            .collect();
        assert_eq!(
            standings,
            [
                ("first".to_owned(), Standing::Passed),
                ("second".to_owned(), Standing::Failed),
                ("third".to_owned(), Standing::NotJudged),
                ("only".to_owned(), Standing::Failed),
            ]
        );
        let cargo = CheckVerdict::NotBuilt(crate::verdict::BuildFailure::Cargo {
            why: "offline".to_owned(),
        });
        assert_eq!(Standing::of(&cargo), Standing::GraderFault);
    }
}

/// Lines of each output stream shown in a plain-text report.
const SHOWN_LINES: usize = 40;

/// Bytes of each output stream shown in a plain-text report.
const SHOWN_BYTES: usize = 4096;

/// A check in plain text for a report a student may read: the explanation (see
/// [`explanation`]), what passing takes, the figures, the runs and seed, the replay command
/// of a failure and, when `with_output` and [`shows_output`], the failing run's output.
pub fn details(record: &CheckRecord, source: &Source, with_output: bool) -> String {
    let mut out = explanation(record);
    let mut line = |label: &str, value: &str| {
        out.push_str(&format!("\n  {label:<10} {value}"));
    };
    line("criterion:", &record.check.kind_detail);
    if let Some(outcome) = &record.outcome {
        if !outcome.figures.is_empty() {
            line("figures:", &figures(outcome, None));
        }
        line(
            "runs:",
            &format!(
                "{} of {}, seed {}, {}",
                outcome.runs,
                outcome.repetitions,
                outcome.seed,
                secs(outcome.elapsed)
            ),
        );
        if !record.verdict.is_pass() {
            line("replay:", &replay(outcome, source));
        }
    }
    if with_output && !record.verdict.is_pass() && shows_output(record) {
        for (name, captured) in streams(record) {
            out.push_str(&format!("\n--- {name} ({} bytes) ---\n", captured.total));
            out.push_str(&stream_excerpt(captured));
        }
    }
    out
}

/// An output stream of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        })
    }
}

/// The failing run's non-empty output streams worth showing: the stderr of a run that
/// stopped at a `todo!()` only repeats the verdict's panic message, so it is left out.
pub fn streams(record: &CheckRecord) -> Vec<(Stream, &Captured)> {
    let todo = matches!(&record.verdict, CheckVerdict::Judged(v) if v.is_unimplemented());
    record
        .outcome
        .as_ref()
        .and_then(|o| o.evidence.as_ref())
        .map(|e| {
            [(Stream::Stdout, &e.stdout), (Stream::Stderr, &e.stderr)]
                .into_iter()
                .filter(|(stream, c)| c.total > 0 && !(todo && *stream == Stream::Stderr))
                .collect()
        })
        .unwrap_or_default()
}

/// The first lines of a stream, marked when cut.
pub fn stream_excerpt(captured: &Captured) -> String {
    let text = excerpt(captured, SHOWN_BYTES);
    let lines: Vec<&str> = text.lines().collect();
    let mut shown = lines[..lines.len().min(SHOWN_LINES)].join("\n");
    if lines.len() > SHOWN_LINES || (text.len() as u64) < captured.total {
        shown.push_str("\n... (cut)");
    }
    shown
}
