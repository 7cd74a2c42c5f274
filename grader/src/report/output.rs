//! Where a report goes: stdout, or a file written atomically (a reader never sees half a
//! report, and an interrupted run leaves the previous file intact).

use std::io::Write;
use std::path::PathBuf;

use crate::errors::ReportError;

/// A report's destination.
#[derive(Debug, Clone)]
pub enum Output {
    /// Standard output.
    Stdout,
    /// A file, replaced atomically.
    File(PathBuf),
}

impl Output {
    /// Writes the whole report.
    pub fn write(&self, text: &str) -> Result<(), ReportError> {
        match self {
            Self::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|source| ReportError::Write {
                        target: "stdout".to_owned(),
                        source,
                    })
            }
            Self::File(path) => {
                let failed = |source| ReportError::Write {
                    target: path.display().to_string(),
                    source,
                };
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), PathBuf::from);
                let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(failed)?;
                file.write_all(text.as_bytes()).map_err(failed)?;
                file.persist(path).map_err(|e| failed(e.error))?;
                Ok(())
            }
        }
    }
}
