//! The checks of a02-pipe. Each runs the runner on a seeded scenario and applies judges; a
//! judge names the likely mistake when it fails, and a run that times out gets an
//! explanation of what its processes were blocked on.

use crate::a02::oracle::{self, ExpectedReply, Inputs, Part};
use crate::a02::protocol::{ChildEnd, ChildRun, ReplyFact, Report, Scenario};
use crate::checks::{
    AssignmentChecks, CheckContext, CheckDef, Execution, Failure, Judgement, execute, repeat,
};
use crate::procfs::SyscallState;
use crate::run::{StuckProcess, Triage};
use crate::seed::Seed;
use crate::verdict::{Figure, Verdict};

/// The checks of the manifest's `a02-pipe` entry.
pub const CHECKS: AssignmentChecks = AssignmentChecks {
    assignment: "a02-pipe",
    checks: &[
        CheckDef {
            id: "replies-in-order",
            run: session_replies,
        },
        CheckDef {
            id: "child-stops-at-sentinel",
            run: child_stops_at_sentinel,
        },
        CheckDef {
            id: "child-joined",
            run: child_joined,
        },
        CheckDef {
            id: "large-messages",
            run: session_replies,
        },
        CheckDef {
            id: "arbitrary-sequences",
            run: session_replies,
        },
        CheckDef {
            id: "many-sequences",
            run: session_replies,
        },
    ],
    validate_inputs,
};

fn validate_inputs(table: &toml::Table) -> Result<(), String> {
    Inputs::from_table(table).map(|_| ())
}

/// The explanation of a timeout where both processes wait to write: the deadlock the
/// `large-messages` check exists to catch.
pub const BOTH_WRITING: &str = "both processes are blocked writing: the parent sends \
    everything before reading any reply, and the pipe buffer (~256 KiB) fills; interleave \
    send and recv (even one message sent ahead of its reply deadlocks once a reply is larger \
    than the buffer)";

const JOIN_BEFORE_SENTINEL: &str = "the parent waits in join() for the child, and the child \
    still waits in recv() for a message: send the sentinel None (and close your end) before \
    joining, and have the child leave its loop at None";

const JOIN_BEFORE_READING: &str = "the parent waits in join() while the child is blocked \
    sending a reply nobody reads: receive every reply before joining";

const BOTH_READING: &str = "both processes wait to receive: the parent waits for a reply \
    the child does not send (the child skipped a message, or waits for more before \
    answering), or the child waits for a message the parent does not send";

/// One run's scenario, what the replies must be, and what came back.
struct Run {
    scenario: Scenario,
    expected: Vec<ExpectedReply>,
    execution: Execution<Report>,
}

fn session_replies(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let run = run_once(ctx, seed)?;
        let replies = session_of(&run)?;
        let mut figures = run.execution.figures();
        figures.extend(sizes(&run.scenario));
        figures.extend(judged(&run, judge_replies(&run.expected, replies))?);
        figures.extend(judged(&run, judge_pids(&run, replies, None))?);
        Ok(figures)
    })
}

fn child_joined(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let run = run_once(ctx, seed)?;
        session_of(&run)?;
        let left = &run.execution.children_after;
        let mut figures = run.execution.figures();
        figures.push(Figure::count("children left at return", left.len()));
        if let Some(child) = left.first() {
            let meaning = if child.is_zombie() {
                "the child exited but was never joined, so it stays a zombie: call join() on \
                 it before echo_session returns"
            } else {
                "echo_session returned while its child still ran: send None, close your end, \
                 then join() the child (join waits for it to end, and reaps it)"
            };
            return Err(run.execution.fail(Failure::wrong(
                "no child of the main process left when echo_session returns",
                format!(
                    "pid {} ({}) {}",
                    child.pid,
                    child.comm,
                    child.state_in_words()
                ),
                meaning,
            )));
        }
        let leftovers = &run.execution.record.leftovers;
        if let Some(process) = leftovers.first() {
            return Err(run.execution.fail(Failure::wrong(
                "no process of the run alive after the main process exited",
                format!("pid {} ({}) still alive", process.pid, process.comm),
                "a process outlived the program: join the child before returning",
            )));
        }
        Ok(figures)
    })
}

fn child_stops_at_sentinel(ctx: &CheckContext<'_>) -> Judgement {
    repeat(ctx, |seed| {
        let run = run_once(ctx, seed)?;
        let Report::Child(child) = &run.execution.report else {
            return Err(could_not_run(
                "the runner answered for the session, not the child",
            ));
        };
        if let Some(panic) = child_panic(&run, child) {
            return Err(run.execution.fail(panic));
        }
        let mut figures = run.execution.figures();
        figures.push(Figure::count("replies", child.replies.len()));
        judged(&run, judge_child_end(&run, child))?;
        figures.extend(judged(&run, judge_replies(&run.expected, &child.replies))?);
        judged(
            &run,
            judge_pids(&run, &child.replies, Some(child.child_pid)),
        )?;
        judged(&run, judge_child_exit(child))?;
        Ok(figures)
    })
}

/// A child that panicked is reported as the panic (a `todo!()` of the stub reads as one),
/// with the location its panic message gave on stderr.
fn child_panic(run: &Run, child: &ChildRun) -> Option<Failure> {
    let how = child.exit.as_ref().err()?;
    let (_, message) = how.split_once(" panicked: ")?;
    let stderr = run.execution.record.stderr.text();
    let location = stderr.lines().find_map(|line| {
        let (_, at) = line.split_once(" panicked at ")?;
        Some(at.trim_end_matches(':').to_owned())
    });
    let message = if message.starts_with("not yet implemented") {
        message.to_owned()
    } else {
        format!("in the child process: {message}")
    };
    Some(Failure::new(Verdict::Panicked { message, location }))
}

fn could_not_run(why: &str) -> Failure {
    Failure::new(Verdict::CouldNotRun {
        why: why.to_owned(),
    })
}

/// Attaches the run's figures and output to a judge's failure.
fn judged<T>(run: &Run, judgement: Result<T, Failure>) -> Result<T, Failure> {
    judgement.map_err(|failure| run.execution.fail(failure))
}

fn run_once(ctx: &CheckContext<'_>, seed: Seed) -> Result<Run, Failure> {
    let inputs = Inputs::from_table(&ctx.check.inputs)
        .map_err(|why| could_not_run(&format!("invalid inputs in the manifest: {why}")))?;
    // The runner's own waits, when it plays the parent, end well before the run's deadline,
    // so a silent child is reported as such rather than as a timeout.
    let step_ms = u64::try_from(ctx.check.timeout.as_millis() / 4).unwrap_or(u64::MAX);
    let scenario = oracle::scenario(&inputs, seed, step_ms);
    let execution: Execution<Report> =
        execute(ctx, &scenario).map_err(|failure| failure.explain_timeout(explain_timeout))?;
    if (inputs.part == Part::Child) != matches!(execution.report, Report::Child(_)) {
        return Err(could_not_run(
            "the runner ran the other part than the scenario asked for",
        ));
    }
    Ok(Run {
        expected: oracle::expected_replies(&scenario),
        scenario,
        execution,
    })
}

fn sizes(scenario: &Scenario) -> Vec<Figure> {
    let total: usize = scenario.messages.iter().map(|m| m.len).sum();
    let largest = scenario.messages.iter().map(|m| m.len).max().unwrap_or(0);
    vec![
        Figure::count("messages", scenario.messages.len()),
        Figure::count("largest message (bytes)", largest),
        Figure::count("total text (bytes)", total),
    ]
}

/// The replies `echo_session` returned, or its error as a failure.
fn session_of(run: &Run) -> Result<&[ReplyFact], Failure> {
    let Report::Session(session) = &run.execution.report else {
        return Err(could_not_run(
            "the runner answered for the child, not the session",
        ));
    };
    match &session.replies {
        Ok(replies) => Ok(replies),
        Err(error) => {
            let meaning = if error.contains("panicked") {
                "the child panicked; its message is in the error (join() returned it)".to_owned()
            } else if error.contains("closed") {
                let empty = run.expected.iter().position(|e| e.message_len == 0);
                let mut meaning = "the child closed its end before every message had its \
                    reply: it must answer every message, and stop only at None"
                    .to_owned();
                if let Some(index) = empty {
                    meaning.push_str(&format!(
                        ". Message {index} is empty: an empty text is a message like any \
                         other, only None ends the conversation"
                    ));
                }
                meaning
            } else {
                "the error says what failed".to_owned()
            };
            Err(run.execution.fail(Failure::wrong(
                format!("{} replies", run.expected.len()),
                format!("echo_session returned an error: {error}"),
                meaning,
            )))
        }
    }
}

fn describe(expected: &ExpectedReply) -> String {
    format!(
        "seq {}, {} bytes of upper-case text, checksum {:#x}",
        expected.seq, expected.text_len, expected.checksum
    )
}

fn describe_fact(fact: &ReplyFact) -> String {
    format!(
        "seq {}, {} bytes of text starting {:?}, checksum {:#x}",
        fact.seq, fact.text_len, fact.text_head, fact.checksum
    )
}

/// The replies must be exactly the expected ones, in order.
fn judge_replies(expected: &[ExpectedReply], facts: &[ReplyFact]) -> Result<Vec<Figure>, Failure> {
    let figure = Figure::count("replies", facts.len());
    let first_wrong = expected
        .iter()
        .zip(facts)
        .position(|(e, f)| !oracle::matches(f, e));
    let failure = match first_wrong {
        None if facts.len() == expected.len() => return Ok(vec![figure]),
        None if facts.len() < expected.len() => missing_replies(expected, facts.len()),
        None => Failure::wrong(
            format!("{} replies, one per message", expected.len()),
            format!(
                "{} replies; the first extra one: {}",
                facts.len(),
                describe_fact(&facts[expected.len()])
            ),
            "a reply was received twice, or the child answered something that is not a \
             message (None is the sentinel: it gets no reply)",
        ),
        Some(index) => wrong_reply(expected, facts, index),
    };
    Err(failure.with_figures(vec![figure]))
}

fn missing_replies(expected: &[ExpectedReply], got: usize) -> Failure {
    let missing = expected.len() - got;
    let mut meaning = if missing == 1 {
        "the reply to the last message is missing: receive one reply for every message you \
         send, the last one included, before sending None"
            .to_owned()
    } else {
        "replies are missing: the parent receives exactly one reply per message, and the \
         child answers every message until None"
            .to_owned()
    };
    if expected[got].message_len == 0 {
        meaning.push_str(&format!(
            ". Message {got}, the first without a reply, is empty: an empty text is a \
             message like any other, only None ends the conversation"
        ));
    }
    Failure::wrong(
        format!("{} replies, one per message", expected.len()),
        format!(
            "{got} replies: none for message{} {}",
            if missing == 1 { "" } else { "s" },
            if missing == 1 {
                got.to_string()
            } else {
                format!("{got} to {}", expected.len() - 1)
            }
        ),
        meaning,
    )
}

fn wrong_reply(expected: &[ExpectedReply], facts: &[ReplyFact], index: usize) -> Failure {
    let fact = &facts[index];
    let wanted = &expected[index];
    let expected_text = format!("reply {index}: {}", describe(wanted));
    let got = format!("reply {index}: {}", describe_fact(fact));
    if let Some(other) = expected.iter().position(|e| oracle::matches(fact, e)) {
        let meaning = if other > index && facts.len() < expected.len() {
            format!(
                "reply {index} is the reply to message {other}: the replies to the messages \
                 before it were skipped. The child answers every message, once, in order"
            )
        } else {
            format!(
                "reply {index} is the reply to message {other}: replies must come back in \
                 the order of the messages. A pipe keeps order; receive the reply to each \
                 message before sending the next, and keep the replies in the order received"
            )
        };
        return Failure::wrong(expected_text, got, meaning);
    }
    let meaning = if fact.seq != wanted.seq {
        "the reply carries another seq than its message: the child answers a message with \
         echo(&message), which copies its seq"
    } else if fact.text_hash != wanted.text_hash && fact.text_hash == wanted.message_hash {
        "the text came back unchanged: the child answers with echo(&message), which puts it \
         in upper case"
    } else if fact.text_hash != wanted.text_hash {
        "the text is not the message's text in upper case (str::to_uppercase): the child \
         answers with echo(&message), on the message exactly as received"
    } else {
        "the checksum is not checksum() of the text received: the child answers with \
         echo(&message)"
    };
    Failure::wrong(expected_text, got, meaning)
}

/// Every reply was made by one process: the child (`child_pid` when known), never the main
/// process.
fn judge_pids(
    run: &Run,
    facts: &[ReplyFact],
    child_pid: Option<u32>,
) -> Result<Vec<Figure>, Failure> {
    let main = run.execution.runner_pid;
    let expected = match child_pid {
        Some(pid) => format!("every reply made by the child, pid {pid}"),
        None => format!("every reply made by one child process, not by {main} (the main process)"),
    };
    if let Some(fact) = facts.iter().find(|f| f.pid == main) {
        return Err(Failure::wrong(
            expected,
            format!("reply seq {} says pid {main}", fact.seq),
            "that reply was made in the main process: the child makes every reply \
             (echo(&message) called inside the child's closure); the parent only sends and \
             receives",
        ));
    }
    if let Some(fact) = facts
        .iter()
        .find(|f| child_pid.map_or(f.pid != facts[0].pid, |pid| f.pid != pid))
    {
        return Err(Failure::wrong(
            expected,
            format!("reply seq {} says pid {}", fact.seq, fact.pid),
            "the replies came from more than one process: start one child, and let it \
             answer every message",
        ));
    }
    Ok(Vec::new())
}

fn judge_child_end(run: &Run, child: &ChildRun) -> Result<(), Failure> {
    let step = run.scenario.step_ms;
    let empty_note = |index: usize| {
        if run.expected.get(index).is_some_and(|e| e.message_len == 0) {
            format!(
                ". Message {index} is empty: an empty text is a message like any other, only \
                 None ends the conversation"
            )
        } else {
            String::new()
        }
    };
    let expected = "a reply to every message; after None, the child's end closed";
    let (got, meaning) = match &child.end {
        ChildEnd::ClosedAfterSentinel => return Ok(()),
        ChildEnd::ClosedEarly { index } => (
            format!("the child closed its end before answering message {index}"),
            format!(
                "echo_child must answer every message it receives, and leave its loop only \
                 at None{}",
                empty_note(*index)
            ),
        ),
        ChildEnd::NoReply { index } => (
            format!("no reply to message {index} within {step} ms"),
            format!(
                "echo_child must answer each message as soon as it receives it (send \
                 echo(&message)), without waiting for the next one{}",
                empty_note(*index)
            ),
        ),
        ChildEnd::OpenAfterSentinel => (
            format!("after None, the child's end stayed open for {step} ms"),
            "at None the child leaves its loop and closes its end (conn.close()), then \
             returns so that its process exits"
                .to_owned(),
        ),
        ChildEnd::ExtraReply(fact) => (
            format!("after None, another reply: {}", describe_fact(fact)),
            "None is the sentinel: the child sends nothing more, it leaves its loop".to_owned(),
        ),
        ChildEnd::PipeFailed { error } => (
            format!("the runner's end of the pipe failed: {error}"),
            "the child must send exactly one Reply per message, on the Connection it was given"
                .to_owned(),
        ),
    };
    Err(Failure::wrong(expected, got, meaning))
}

fn judge_child_exit(child: &ChildRun) -> Result<(), Failure> {
    let (got, meaning) = match &child.exit {
        Ok(0) => return Ok(()),
        Ok(code) => (
            format!("exit code {code}"),
            "echo_child returns normally after None; a process::exit with another code, or an \
             error, ends the child with a failure",
        ),
        Err(how) if how.contains("panicked") => (
            how.clone(),
            "echo_child panicked: an unwrap() or expect() on a recv or send that failed? The \
             end of the conversation is None, or RecvError::Closed if the parent went away",
        ),
        Err(how) => (
            how.clone(),
            "echo_child must return after None (its process then exits with code 0)",
        ),
    };
    Err(Failure::wrong(
        format!("the child (pid {}) exits with code 0", child.child_pid),
        got,
        meaning,
    ))
}

/// What a timed-out run's processes were blocked on, in this assignment's terms.
pub fn explain_timeout(triage: &Triage) -> Option<String> {
    let runner = triage.processes.iter().find(|p| p.is_runner)?;
    let others: Vec<&StuckProcess> = triage.processes.iter().filter(|p| !p.is_runner).collect();
    let runner_does = blocked_in(runner)?;
    let others_do: Vec<Blocked> = others.iter().filter_map(|p| blocked_in(p)).collect();
    if others_do.is_empty() || others_do.len() != others.len() {
        return None;
    }
    let all_others = |what: Blocked| others_do.iter().all(|b| *b == what);
    let explanation = match runner_does {
        Blocked::Writing if all_others(Blocked::Writing) => BOTH_WRITING,
        Blocked::Joining if all_others(Blocked::Reading) => JOIN_BEFORE_SENTINEL,
        Blocked::Joining if all_others(Blocked::Writing) => JOIN_BEFORE_READING,
        Blocked::Reading if all_others(Blocked::Reading) => BOTH_READING,
        Blocked::Writing | Blocked::Joining | Blocked::Reading => return None,
    };
    Some(explanation.to_owned())
}

/// What a blocked process of a pipe conversation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blocked {
    Writing,
    Reading,
    Joining,
}

fn blocked_in(process: &StuckProcess) -> Option<Blocked> {
    if let Some(SyscallState::In { .. }) = process.syscall
        && let Some((name, _)) = process.syscall.and_then(SyscallState::meaning)
    {
        return match name {
            "write" | "writev" | "sendto" | "sendmsg" => Some(Blocked::Writing),
            "read" | "readv" | "recvfrom" | "recvmsg" | "poll" | "ppoll" | "select"
            | "pselect6" | "epoll_wait" | "epoll_pwait" => Some(Blocked::Reading),
            "wait4" | "waitid" => Some(Blocked::Joining),
            _ => None,
        };
    }
    // Without /proc/PID/syscall (no ptrace access), the kernel function still tells.
    match process.wchan.as_deref()? {
        "pipe_write" | "anon_pipe_write" => Some(Blocked::Writing),
        "pipe_read" | "anon_pipe_read" | "do_poll" | "do_select" => Some(Blocked::Reading),
        "do_wait" | "kernel_wait4" => Some(Blocked::Joining),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::procfs::ProcessSnapshot;
    use crate::run::Diagnosis;

    fn process(pid: u32, is_runner: bool, syscall: i64, wchan: &str) -> StuckProcess {
        StuckProcess {
            snapshot: ProcessSnapshot {
                pid,
                ppid: 1,
                pgid: 10,
                state: 'S',
                comm: "runner".into(),
                cpu_ticks: 0,
                threads: 1,
            },
            cpu_during_gap: Some(Duration::ZERO),
            wchan: Some(wchan.into()),
            syscall: (syscall >= 0).then_some(SyscallState::In { number: syscall }),
            is_runner,
        }
    }

    fn triage(processes: Vec<StuckProcess>) -> Triage {
        Triage {
            diagnosis: Diagnosis::Deadlock,
            processes,
            gap: Duration::from_millis(100),
            likely: None,
        }
    }

    #[test]
    fn names_the_deadlock_by_what_each_side_is_blocked_on() {
        let write = libc::SYS_write;
        let read = libc::SYS_read;
        let wait = libc::SYS_wait4;
        let both_writing = triage(vec![
            process(10, true, write, "pipe_write"),
            process(11, false, libc::SYS_writev, "pipe_write"),
        ]);
        assert_eq!(
            explain_timeout(&both_writing).as_deref(),
            Some(BOTH_WRITING)
        );
        let joining = triage(vec![
            process(10, true, wait, "do_wait"),
            process(11, false, read, "pipe_read"),
        ]);
        assert_eq!(
            explain_timeout(&joining).as_deref(),
            Some(JOIN_BEFORE_SENTINEL)
        );
        // Without /proc/PID/syscall, the kernel's wait channel tells the same.
        let by_wchan = triage(vec![
            process(10, true, -1, "pipe_write"),
            process(11, false, -1, "pipe_write"),
        ]);
        assert_eq!(explain_timeout(&by_wchan).as_deref(), Some(BOTH_WRITING));
        // A child gone, or something unrecognised: no guess.
        assert_eq!(
            explain_timeout(&triage(vec![process(10, true, write, "")])),
            None
        );
        let sleeping = triage(vec![
            process(10, true, libc::SYS_nanosleep, "hrtimer_nanosleep"),
            process(11, false, read, "pipe_read"),
        ]);
        assert_eq!(explain_timeout(&sleeping), None);
    }
}
