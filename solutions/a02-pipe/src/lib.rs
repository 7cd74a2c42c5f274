//! # a02-pipe: reference solution
//!
//! Same public API as `assignments/a02-pipe/src/lib.rs`.

use multiprocessing as mp;
use serde::{Deserialize, Serialize};

/// One message the parent sends: the lesson's `"one", 1, "two", 2`, numbered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its position in the conversation: 0 for the first message, 1 for the next...
    pub seq: u64,
    /// Any text: empty, a word, or several MiB.
    pub text: String,
}

/// The child's answer to one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The `seq` of the message it answers.
    pub seq: u64,
    /// The message's text in upper case.
    pub text: String,
    /// [`checksum`] of the message's text, as the child received it.
    pub checksum: u64,
    /// The pid of the process that made the reply: the child's.
    pub pid: u32,
}

/// What travels from the parent to the child: `Some(message)` for each message, then `None`,
/// the sentinel that ends the conversation (the lesson's child stops at `None` too).
pub type Request = Option<Message>;

/// Why [`echo_session`] failed.
#[derive(Debug, thiserror::Error)]
pub enum PipeEchoError {
    /// The pipe could not be created.
    #[error("the pipe could not be created")]
    Pipe(#[from] mp::PipeError),
    /// The child could not be started or joined, or it panicked (its message is inside).
    #[error("the child process failed")]
    Process(#[from] mp::ProcessError),
    /// A message could not be sent to the child.
    #[error("a message could not be sent to the child")]
    Send(#[from] mp::SendError),
    /// A reply could not be received from the child.
    #[error("a reply could not be received from the child")]
    Recv(#[from] mp::RecvError),
}

/// A 64-bit FNV-1a hash of `bytes`: a reply's checksum. Written for you.
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The child's answer to `message`: its seq, its text in upper case, the checksum of its
/// text, and the pid of the process that calls it. Written for you: call it in the child.
pub fn echo(message: &Message) -> Reply {
    Reply {
        seq: message.seq,
        text: message.text.to_uppercase(),
        checksum: checksum(message.text.as_bytes()),
        pid: mp::current_process().pid,
    }
}

/// The child's side of the conversation: for each `Some(message)` it receives, send back
/// `echo(&message)`; at `None`, stop, close the connection, and return.
///
/// The tests also run this function alone, in a child process they talk to themselves.
pub fn echo_child(mut conn: mp::Connection<Reply, Request>) {
    // `Err` is the parent gone (closed, or died): there is no one left to answer.
    while let Ok(Some(message)) = conn.recv() {
        if conn.send(&echo(&message)).is_err() {
            break;
        }
    }
    // Very important to close the connection once finished using it (the lesson).
    conn.close();
}

/// The parent's side: starts one child process running [`echo_child`], sends it every
/// message, and returns the replies in the order of the messages, once the child has been
/// joined.
pub fn echo_session(messages: &[Message]) -> Result<Vec<Reply>, PipeEchoError> {
    let (mut conn, child_conn) = mp::Pipe::duplex::<Request, Reply>()?;
    let mut child = mp::Process::new(move || echo_child(child_conn)).with_name("echo child");
    child.start()?;
    let replies = converse(&mut conn, messages);
    // Closing before joining is what lets a child still waiting in `recv` end, also when the
    // conversation failed half-way.
    conn.close();
    let joined = child.join();
    // A child that panicked explains a failed conversation better than the pipe error does.
    joined?;
    replies
}

/// One message, then its reply, then the next: never more than one message in the pipe, so
/// neither side can fill a buffer the other is not draining, whatever the sizes.
fn converse(
    conn: &mut mp::Connection<Request, Reply>,
    messages: &[Message],
) -> Result<Vec<Reply>, PipeEchoError> {
    let mut replies = Vec::with_capacity(messages.len());
    for message in messages {
        conn.send(&Some(message.clone()))?;
        replies.push(conn.recv()?);
    }
    conn.send(&None)?;
    Ok(replies)
}
