//! Reporters: consumers of [`GradingEvent`]s. The progress display, the table, and the
//! JSON, JUnit, Gradescope and Markdown reports are siblings; none knows how a check ran,
//! and each builds what it needs from the events alone (most through a [`GradeSheet`]).

mod finished;
mod gradescope;
mod json;
mod junit;
mod markdown;
mod output;
mod progress;
mod sheet;
mod table;
mod targets;
mod text;

use crate::cli::Format;
use crate::errors::ReportError;
use crate::events::GradingEvent;

pub use finished::AtEnd;
pub use json::JsonReporter;
pub use output::Output;
pub use progress::Progress;
pub use sheet::GradeSheet;
#[cfg(test)]
pub use sheet::sample;
pub use table::TableReporter;
pub use targets::{Target, targets};

/// A consumer of grading events.
pub trait Reporter {
    /// Takes one event. Reporters that write a report at the end do so on
    /// [`GradingEvent::RunFinished`].
    fn handle(&mut self, event: &GradingEvent) -> Result<(), ReportError>;
}

/// The report of `format`, written to `output`.
pub fn for_format(format: Format, output: Output, verbose: bool) -> Box<dyn Reporter> {
    match format {
        Format::Table => Box::new(TableReporter::new(output, verbose)),
        Format::Json => Box::new(JsonReporter::new(output)),
        Format::Junit => Box::new(AtEnd::new(output, junit::render)),
        Format::Gradescope => Box::new(AtEnd::new(output, gradescope::render)),
        Format::Markdown => Box::new(AtEnd::new(output, markdown::render)),
    }
}
