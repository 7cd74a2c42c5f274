//! `Log`: the lessons' small timing helper (`start_timer`, `step_timer`, `stop_timer`).

use std::io::Write;
use std::time::{Duration, Instant};

/// Times a program's phases and prints each as `message = seconds`, like the lessons' `Log`.
///
/// ```
/// let mut log = multiprocessing::Log::new();
/// log.start_timer();
/// let step = log.step_timer("Before For loop");
/// let total = log.stop_timer("Finished: ");
/// assert!(total >= step);
/// ```
#[derive(Debug)]
pub struct Log {
    started: Instant,
    show_terminal: bool,
    file: Option<std::fs::File>,
}

impl Default for Log {
    fn default() -> Self {
        Self::new()
    }
}

impl Log {
    /// A log that prints to the terminal; the clock starts now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            show_terminal: true,
            file: None,
        }
    }

    /// A log that appends to `path`, and prints too when `show_terminal`.
    pub fn to_file(
        path: impl AsRef<std::path::Path>,
        show_terminal: bool,
    ) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            started: Instant::now(),
            show_terminal,
            file: Some(file),
        })
    }

    /// Restarts the clock.
    pub fn start_timer(&mut self) {
        self.started = Instant::now();
    }

    /// Records the time since `start_timer` without stopping.
    pub fn step_timer(&mut self, message: &str) -> Duration {
        self.record(message)
    }

    /// Records the total time since `start_timer`.
    pub fn stop_timer(&mut self, message: &str) -> Duration {
        self.record(message)
    }

    /// Writes a message without a time.
    pub fn write(&mut self, message: &str) {
        self.emit(message);
    }

    fn record(&mut self, message: &str) -> Duration {
        let elapsed = self.started.elapsed();
        self.emit(&format!("{message} = {:.8}", elapsed.as_secs_f64()));
        elapsed
    }

    fn emit(&mut self, line: &str) {
        if self.show_terminal {
            println!("{line}");
        }
        if let Some(file) = &mut self.file {
            // A log line that cannot be written must not stop the program being timed.
            let _ = writeln!(file, "{line}");
        }
    }
}
