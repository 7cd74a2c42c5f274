//! A reporter that renders one document from the whole grade sheet when the run ends: the
//! shape of the JUnit, Gradescope and Markdown reports.

use crate::errors::ReportError;
use crate::events::GradingEvent;
use crate::report::{GradeSheet, Output, Reporter};

/// Renders a finished run's sheet.
pub type Render = fn(&GradeSheet) -> Result<String, ReportError>;

/// Folds every event into a sheet and writes `render(sheet)` on `RunFinished`.
#[derive(Debug)]
pub struct AtEnd {
    sheet: GradeSheet,
    output: Output,
    render: Render,
}

impl AtEnd {
    /// A reporter writing `render`'s document to `output`.
    pub fn new(output: Output, render: Render) -> Self {
        Self {
            sheet: GradeSheet::default(),
            output,
            render,
        }
    }
}

impl Reporter for AtEnd {
    fn handle(&mut self, event: &GradingEvent) -> Result<(), ReportError> {
        self.sheet.apply(event);
        if let GradingEvent::RunFinished(_) = event
            && self.sheet.info().is_some()
        {
            self.output.write(&(self.render)(&self.sheet)?)?;
        }
        Ok(())
    }
}
