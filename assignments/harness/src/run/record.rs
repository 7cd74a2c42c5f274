//! What one run of a runner produced.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::procfs::ProcessSnapshot;
use crate::run::triage::Triage;

/// How the runner process ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunEnd {
    /// It exited with this code.
    Exited {
        /// The exit code.
        code: i32,
    },
    /// A signal killed it (not one the harness sent).
    Signaled {
        /// The signal number.
        signal: i32,
    },
    /// The deadline passed; the group was examined, then killed.
    TimedOut {
        /// The deadline.
        limit: Duration,
        /// What the processes were doing when it passed.
        triage: Triage,
    },
}

/// Output kept from one stream, up to a cap.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Captured {
    /// The first bytes written, at most the cap.
    pub bytes: Vec<u8>,
    /// How many bytes were written in all.
    pub total: u64,
}

impl Captured {
    /// True when more was written than kept.
    pub fn truncated(&self) -> bool {
        self.total > self.bytes.len() as u64
    }

    /// The kept bytes as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub(crate) fn push(&mut self, data: &[u8], cap: usize) {
        self.total += data.len() as u64;
        let room = cap.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
    }
}

/// Everything observed about one run, from outside the runner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The runner's pid, which is also its process group id.
    pub runner_pid: u32,
    /// How it ended.
    pub end: RunEnd,
    /// Wall time from spawn to its exit (to the deadline, for a timeout).
    pub wall: Duration,
    /// User plus system CPU time of the runner and of the descendants it waited for.
    pub cpu: Duration,
    /// Bytes received on the result channel (decode with
    /// [`protocol::decode_frame`](crate::protocol::decode_frame)).
    pub result_bytes: Vec<u8>,
    /// The runner's stdout (the student's prints).
    pub stdout: Captured,
    /// The runner's stderr (panic messages land here).
    pub stderr: Captured,
    /// Most processes seen alive in the group at once (runner included), if sampled.
    pub peak_processes: Option<usize>,
    /// Most threads seen in the group at once, if sampled.
    pub peak_threads: Option<usize>,
    /// Processes of the group still alive (not zombies) after the runner exited; the harness
    /// killed them.
    pub leftovers: Vec<ProcessSnapshot>,
}
