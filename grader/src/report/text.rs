//! Wording shared by the reporters: replay commands, figures, output excerpts.

use course_harness::run::Captured;
use course_harness::verdict::{Outcome, Replay};

use crate::plan::Source;

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
