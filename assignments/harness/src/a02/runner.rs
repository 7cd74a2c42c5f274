//! The glue of an a02 runner binary, as a macro so every implementation (stub, solution,
//! fixtures) runs the very same glue under its own crate name, and the functions it calls.

use crate::a02::oracle;
use crate::a02::protocol::{MessageSpec, ReplyFact};

/// Characters of a reply's text kept to show in a failure.
const HEAD_CHARS: usize = 24;

/// The text of a message (the runner builds the student's `Message`s with it).
pub fn text_of(spec: &MessageSpec) -> String {
    oracle::text(spec)
}

/// A reply, summarised for the report.
pub fn fact_of(seq: u64, text: &str, checksum: u64, pid: u32) -> ReplyFact {
    ReplyFact {
        seq,
        text_len: text.len(),
        text_hash: oracle::checksum(text.as_bytes()),
        text_head: text.chars().take(HEAD_CHARS).collect(),
        checksum,
        pid,
    }
}

/// Expands to the `main` of an a02-pipe runner that serves `$student::echo_session` and
/// `$student::echo_child`.
///
/// For [`Part::Child`](crate::a02::Part::Child) the runner is the parent: it starts
/// `echo_child` in an `mp::Process`, sends one message at a time and waits (at most
/// `step_ms`) for its reply, sends `None`, waits for the child to close its end, closes its
/// own, and joins the child (killing it after `step_ms`), so nothing of the student's parent
/// side is involved. The crate using it must depend on `multiprocessing`.
///
/// `assignments/a02-pipe/src/bin/a02-pipe-runner.rs` is `a02_runner!(a02_pipe);`.
#[macro_export]
macro_rules! a02_runner {
    ($student:ident) => {
        fn fact(reply: &$student::Reply) -> $crate::a02::ReplyFact {
            $crate::a02::fact_of(reply.seq, &reply.text, reply.checksum, reply.pid)
        }

        fn drive_child(
            messages: ::std::vec::Vec<$student::Message>,
            step: ::std::time::Duration,
        ) -> $crate::a02::ChildRun {
            use ::multiprocessing as mp;
            use $crate::a02::ChildEnd;
            use $crate::runner::error_chain;
            let failed = |error: ::std::string::String| $crate::a02::ChildRun {
                child_pid: 0,
                replies: ::std::vec::Vec::new(),
                end: ChildEnd::PipeFailed { error },
                exit: Err("never started".to_owned()),
            };
            let (mut conn, child_conn) =
                match mp::Pipe::duplex::<Option<$student::Message>, $student::Reply>() {
                    Ok(ends) => ends,
                    Err(error) => return failed(error_chain(&error)),
                };
            let mut child =
                mp::Process::new(move || $student::echo_child(child_conn)).with_name("echo child");
            if let Err(error) = child.start() {
                return failed(error_chain(&error));
            }
            let child_pid = child.pid().unwrap_or(0);
            let mut replies = ::std::vec::Vec::new();
            let mut stopped = None;
            for (index, message) in messages.into_iter().enumerate() {
                match conn.send(&Some(message)) {
                    Ok(()) => {}
                    Err(mp::SendError::Closed) => {
                        stopped = Some(ChildEnd::ClosedEarly { index });
                        break;
                    }
                    Err(error) => {
                        stopped = Some(ChildEnd::PipeFailed {
                            error: error_chain(&error),
                        });
                        break;
                    }
                }
                match conn.recv_timeout(step) {
                    Ok(reply) => replies.push(fact(&reply)),
                    Err(mp::RecvError::Closed) => {
                        stopped = Some(ChildEnd::ClosedEarly { index });
                        break;
                    }
                    Err(mp::RecvError::Timeout { .. }) => {
                        stopped = Some(ChildEnd::NoReply { index });
                        break;
                    }
                    Err(error) => {
                        stopped = Some(ChildEnd::PipeFailed {
                            error: error_chain(&error),
                        });
                        break;
                    }
                }
            }
            let end = match stopped {
                Some(end) => end,
                // A child that closed as the last reply went out cannot be told apart from
                // one that closed at `None`; both end the conversation cleanly.
                None => match conn.send(&None) {
                    Err(mp::SendError::Closed) => ChildEnd::ClosedAfterSentinel,
                    Err(error) => ChildEnd::PipeFailed {
                        error: error_chain(&error),
                    },
                    Ok(()) => match conn.recv_timeout(step) {
                        Err(mp::RecvError::Closed) => ChildEnd::ClosedAfterSentinel,
                        Ok(reply) => ChildEnd::ExtraReply(fact(&reply)),
                        Err(mp::RecvError::Timeout { .. }) => ChildEnd::OpenAfterSentinel,
                        Err(error) => ChildEnd::PipeFailed {
                            error: error_chain(&error),
                        },
                    },
                },
            };
            // Closing here lets a child still blocked in `recv` see the end.
            conn.close();
            let exit = match child.join_timeout(step) {
                Ok(()) => Ok(0),
                Err(mp::ProcessError::Exited { code, .. }) => Ok(code),
                Err(mp::ProcessError::Timeout { waited, .. }) => {
                    let _ = child.kill();
                    let _ = child.join();
                    Err(format!(
                        "still running {} ms after the runner closed its end (killed)",
                        waited.as_millis()
                    ))
                }
                Err(error) => Err(error_chain(&error)),
            };
            $crate::a02::ChildRun {
                child_pid,
                replies,
                end,
                exit,
            }
        }

        fn main() {
            $crate::runner::serve(|scenario: $crate::a02::Scenario| {
                let messages: ::std::vec::Vec<$student::Message> = scenario
                    .messages
                    .iter()
                    .map(|spec| $student::Message {
                        seq: spec.seq,
                        text: $crate::a02::text_of(spec),
                    })
                    .collect();
                match scenario.part {
                    $crate::a02::Part::Session => {
                        let replies = $student::echo_session(&messages)
                            .map(|replies| replies.iter().map(fact).collect())
                            .map_err(|error| $crate::runner::error_chain(&error));
                        $crate::a02::Report::Session($crate::a02::SessionRun { replies })
                    }
                    $crate::a02::Part::Child => $crate::a02::Report::Child(drive_child(
                        messages,
                        ::std::time::Duration::from_millis(scenario.step_ms),
                    )),
                }
            })
        }
    };
}
