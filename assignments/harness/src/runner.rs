//! The runner side of the protocol: [`serve`], the whole `main` of a runner binary.
//!
//! A runner binary is the only glue between the harness and the student's library:
//!
//! ```no_run
//! use course_harness::a00::{Report, Scenario};
//!
//! fn main() {
//!     course_harness::runner::serve(|scenario: Scenario| -> Report {
//!         // Call the student's code with the scenario; convert what it returns.
//!         # unimplemented!()
//!     })
//! }
//! ```
//!
//! The runner is a fresh, single-threaded process (never a fork of the multithreaded test
//! harness), so the student's code may `fork` freely.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::procfs;
use crate::protocol::{Envelope, PROTOCOL_VERSION, RESULT_FD_ENV, RunnerOutcome, encode_frame};

/// Exit code of a runner started by hand, without the harness's result channel.
pub const EXIT_NOT_UNDER_HARNESS: i32 = 64;

/// Exit code of a runner that could not write its report.
pub const EXIT_REPORT_FAILED: i32 = 70;

/// Where the last panic happened, recorded by the panic hook `serve` installs.
static LAST_PANIC_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Reads the scenario from stdin, runs `student` on it, writes the report on the result
/// channel, and exits.
///
/// A panic in `student` (`todo!()` included) is caught and reported with its message and
/// location. A process the student's code forked that returns into `serve` (instead of
/// exiting) exits silently, so only the runner itself ever reports.
pub fn serve<S, R, F>(student: F) -> !
where
    S: DeserializeOwned,
    R: Serialize,
    F: FnOnce(S) -> R,
{
    let Some(channel) = result_channel() else {
        eprintln!(
            "this program is a test runner: it is started by the assignment's tests \
             (`cargo test -p <assignment>`), which give it a scenario and read its report"
        );
        std::process::exit(EXIT_NOT_UNDER_HARNESS);
    };
    record_panic_locations();
    let runner_pid = std::process::id();
    let mut input = Vec::new();
    let scenario = std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_slice::<S>(&input).map_err(|e| e.to_string()));
    let started = Instant::now();
    let outcome = match scenario {
        Err(error) => RunnerOutcome::BadScenario { error },
        Ok(scenario) => {
            let result = catch_unwind(AssertUnwindSafe(|| student(scenario)));
            if std::process::id() != runner_pid {
                // A child forked by the student's code fell through to here; only the runner
                // reports.
                // SAFETY: `_exit` ends this process at once; nothing of the runner's state is
                // needed in it.
                unsafe { libc::_exit(0) }
            }
            match result {
                Ok(report) => RunnerOutcome::Returned(report),
                Err(payload) => RunnerOutcome::Panicked {
                    message: panic_message(payload.as_ref()),
                    location: last_panic_location(),
                },
            }
        }
    };
    let student_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let envelope = Envelope {
        protocol: PROTOCOL_VERSION,
        runner_pid,
        outcome,
        children_after: procfs::children_of(runner_pid),
        student_micros,
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let written = encode_frame(&envelope)
        .map_err(std::io::Error::other)
        .and_then(|frame| std::fs::File::from(channel).write_all(&frame));
    match written {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("the runner could not write its report: {error}");
            std::process::exit(EXIT_REPORT_FAILED)
        }
    }
}

/// Takes ownership of the result pipe the harness installed, if there is one.
fn result_channel() -> Option<OwnedFd> {
    let fd: i32 = std::env::var(RESULT_FD_ENV).ok()?.parse().ok()?;
    if fd <= 2 {
        return None;
    }
    // SAFETY: F_GETFD only reads the flags of `fd`; -1 means it is not open.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return None;
    }
    // Programs the student's code might exec must not inherit the channel.
    // SAFETY: F_SETFD on an fd just checked to be open; only changes its close-on-exec flag.
    unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) };
    // SAFETY: the harness opened this fd for us and nothing else in this process owns it; it
    // is taken once, here.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Where the last panic of this process happened (`file:line:column`), as recorded by the
/// hook [`serve`] installs; `None` before any panic, or outside a runner. Lets code that
/// catches a panic itself (a process forked by the runner) report its location.
pub fn last_panic_location() -> Option<String> {
    LAST_PANIC_LOCATION
        .lock()
        .ok()
        .and_then(|slot| slot.clone())
}

/// Keeps the default panic output (the student sees it in the captured stderr) and records
/// where the panic happened for the report.
fn record_panic_locations() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let (Some(location), Ok(mut slot)) = (info.location(), LAST_PANIC_LOCATION.lock()) {
            *slot = Some(location.to_string());
        }
        default_hook(info);
    }));
}

/// The text of a panic payload (`panic!`, `todo!`, `unwrap` all carry `&str` or `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked with a payload that is not a string".to_owned())
}

/// An error and its sources, joined with ": " (what a runner puts in a report when the
/// student's code returns an `Err`).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
