//! # a02-pipe: talk to a child process over a duplex Pipe
//!
//! Read `README.md` first: it explains the task, and what the tests check.
//! Then replace every `todo!()` below; each `// TODO:` marks a place where you act.
//! Run the tests with `cargo test -p a02-pipe`.

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
pub fn echo_child(conn: mp::Connection<Reply, Request>) {
    // TODO: receive requests in a loop (`conn.recv()`; the end needs `mut` for that).
    //       `Ok(Some(message))`: send `echo(&message)` back, at once.
    //       `Ok(None)` is the sentinel: leave the loop. A receive error (the parent went
    //       away: `RecvError::Closed`) ends the loop too: the child must not panic.
    // TODO: close the connection (`conn.close()`), as the lesson says: "very important".
    todo!(
        "echo_child: receive from conn ({}) in a loop, answer each Some(message) with \
         echo(&message), leave the loop at None, then close conn",
        std::any::type_name_of_val(&conn)
    )
}

/// The parent's side: starts one child process running [`echo_child`], sends it every
/// message, and returns the replies in the order of the messages, once the child has been
/// joined.
pub fn echo_session(messages: &[Message]) -> Result<Vec<Reply>, PipeEchoError> {
    // TODO: create the pipe BEFORE the process, so the child inherits it:
    //       `mp::Pipe::duplex::<Request, Reply>()` gives the parent's end (sends Request,
    //       receives Reply) and the child's end (the reverse).
    // TODO: create an `mp::Process` whose closure takes the child's end (`move`) and calls
    //       `echo_child` with it; start it.
    // TODO: for each message: send `Some(message)`, THEN receive its reply, before sending
    //       the next one. A pipe holds ~256 KiB: sending everything before reading any reply
    //       deadlocks once messages are large (both processes block in send).
    // TODO: send `None`, close your end, then `join()` the child, and return the replies.
    todo!(
        "echo_session: create an mp::Pipe, start an mp::Process running echo_child, then \
         send each of the {} messages and receive its reply before sending the next; send \
         None, close, join",
        messages.len()
    )
}
