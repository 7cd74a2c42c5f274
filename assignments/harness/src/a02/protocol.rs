//! The a02 runner's scenario and report.
//!
//! Messages travel as recipes ([`MessageSpec`]), not texts: the runner rebuilds each text
//! with [`oracle::text`](crate::a02::oracle::text), so a scenario of many MiB is a few
//! hundred bytes on the runner's stdin. Replies come back as summaries ([`ReplyFact`]) for
//! the same reason.

use serde::{Deserialize, Serialize};

use crate::a02::oracle::Part;

/// What the runner runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Which half of the student's code is under test.
    pub part: Part,
    /// The messages, in the order the parent sends them.
    pub messages: Vec<MessageSpec>,
    /// For [`Part::Child`]: how long the runner waits for each reply, for the child to close
    /// its end, and for it to exit, in milliseconds.
    pub step_ms: u64,
}

/// One message: its sequence number, and the recipe of its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSpec {
    /// The message's sequence number (the i-th message sent has `seq` = i).
    pub seq: u64,
    /// Length of the text in bytes (UTF-8).
    pub len: usize,
    /// Seed of the text's characters.
    pub seed: u64,
}

/// A reply, summarised: its text is hashed rather than sent back whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyFact {
    /// The `seq` the reply carries.
    pub seq: u64,
    /// Length of its text in bytes.
    pub text_len: usize,
    /// FNV-1a hash of its text.
    pub text_hash: u64,
    /// Its first characters, to show in a failure.
    pub text_head: String,
    /// The checksum the reply carries.
    pub checksum: u64,
    /// The pid the reply says made it.
    pub pid: u32,
}

/// What the runner saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Report {
    /// [`Part::Session`]: what `echo_session` returned.
    Session(SessionRun),
    /// [`Part::Child`]: how `echo_child` behaved, driven by the runner's own parent.
    Child(ChildRun),
}

/// What `echo_session` returned: the replies, or its error with its causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRun {
    /// The replies, or the error.
    pub replies: Result<Vec<ReplyFact>, String>,
}

/// `echo_child` in a process the runner started, sent each message and waited for each
/// reply (never more than one message ahead), then sent `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRun {
    /// The child's pid.
    pub child_pid: u32,
    /// The replies received, in order.
    pub replies: Vec<ReplyFact>,
    /// Where the conversation stopped.
    pub end: ChildEnd,
    /// The child's exit: `Ok(code)`, or how else it ended (signal, panic, still running).
    pub exit: Result<i32, String>,
}

/// Where a conversation with `echo_child` stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildEnd {
    /// After `None`, the child closed its end: the right ending.
    ClosedAfterSentinel,
    /// After `None`, the child sent something more.
    ExtraReply(ReplyFact),
    /// After `None`, the child neither closed its end nor sent anything within `step_ms`.
    OpenAfterSentinel,
    /// No reply to message `index` within `step_ms`.
    NoReply {
        /// The index of the message that got no reply.
        index: usize,
    },
    /// The child closed its end before answering message `index`.
    ClosedEarly {
        /// The index of the message that got no reply.
        index: usize,
    },
    /// The runner's own sending or receiving failed for another reason.
    PipeFailed {
        /// What failed.
        error: String,
    },
}
