//! `Pipe`, `Connection`, `PipeReceiver` and `PipeSender` between real forked processes:
//! delivery, closing from either side and by death, big messages, corrupt streams, timeouts.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use multiprocessing::{
    Connection, FrameFault, Pipe, PipeReceiver, PipeSender, Process, RecvError, SendError,
};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// Long enough for a loaded 2-core machine; a bug fails the test at this point, not the suite.
const DEADLINE: Duration = Duration::from_secs(20);

/// Every test here forks. A child forked by one test inherits copies of every fd another test
/// has open at that moment, which would delay the end-of-file a killed peer's test waits for;
/// running the tests one at a time keeps each test's descriptors to itself.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static FORKING: Mutex<()> = Mutex::new(());
    FORKING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills and reaps the child when a test ends early, so a failing test leaves nothing behind.
struct Child(Process);

impl Child {
    fn start(target: impl FnOnce() + 'static) -> Self {
        let mut child = Self(Process::new(target));
        child.0.start().expect("fork");
        child
    }

    /// Joins within the deadline; `Ok` only if the child returned normally.
    fn join(&mut self) -> Result<(), multiprocessing::ProcessError> {
        self.0.join_timeout(DEADLINE)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.join_timeout(DEADLINE);
    }
}

/// Ends the child with `code` at once. `_exit` rather than `std::process::exit`, which
/// flushes stdout and could wait for a lock another harness thread held at fork.
fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` takes no pointers and is async-signal-safe; the child owns nothing that
    // must be flushed.
    unsafe { libc::_exit(code) }
}

/// In a child: carries on if `condition` holds, else exits with `code` (the test's only
/// channel for facts checked inside the child is the exit status).
fn check(condition: bool, code: i32) {
    if !condition {
        exit_child(code);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Circle { radius: f64 },
    Polygon(Vec<(i32, i32)>),
    Empty,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Drawing {
    title: String,
    shapes: Vec<Shape>,
    layer: Option<u8>,
}

fn sample_drawings() -> Vec<Drawing> {
    vec![
        Drawing {
            title: "first".into(),
            shapes: vec![Shape::Circle { radius: 1.5 }, Shape::Empty],
            layer: Some(3),
        },
        Drawing {
            title: String::new(),
            shapes: vec![],
            layer: None,
        },
        Drawing {
            title: "ünïcödé ✓".into(),
            shapes: vec![Shape::Polygon(vec![(0, 0), (-4, 7), (i32::MAX, i32::MIN)])],
            layer: Some(255),
        },
    ]
}

fn patterned(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(31).wrapping_add(u64::from(seed)) as u8)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

/// Also shows that the parent dropping its copy of the child's closure (at `start`) does not
/// close the end the child now uses: the child's replies would fail otherwise.
#[test]
fn a_child_echoes_typed_structs_over_a_duplex_pipe() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<Drawing>().unwrap();
    let mut child = Child::start(move || {
        while let Ok(drawing) = child_end.recv_timeout(DEADLINE) {
            check(child_end.send(&drawing).is_ok(), 3);
        }
    });
    for drawing in sample_drawings() {
        parent_end.send(&drawing).unwrap();
        assert_eq!(parent_end.recv_timeout(DEADLINE).unwrap(), drawing);
    }
    parent_end.close();
    child.join().expect("the child saw the close and returned");
}

#[test]
fn a_duplex_pipe_carries_different_types_each_way() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::duplex::<Shape, Option<String>>().unwrap();
    let mut child = Child::start(move || {
        while let Ok(shape) = child_end.recv_timeout(DEADLINE) {
            let answer = match shape {
                Shape::Empty => None,
                other => Some(format!("{other:?}")),
            };
            check(child_end.send(&answer).is_ok(), 3);
        }
    });
    parent_end.send(&Shape::Empty).unwrap();
    assert_eq!(parent_end.recv_timeout(DEADLINE).unwrap(), None);
    parent_end.send(&Shape::Circle { radius: 2.0 }).unwrap();
    assert_eq!(
        parent_end.recv_timeout(DEADLINE).unwrap().as_deref(),
        Some("Circle { radius: 2.0 }")
    );
    drop(parent_end);
    child.join().unwrap();
}

#[test]
fn a_child_sends_to_its_parent_over_a_one_way_pipe() {
    let _one = one_at_a_time();
    let (mut receiver, mut sender) = Pipe::one_way::<Drawing>().unwrap();
    let mut child = Child::start(move || {
        for round in 0..100u8 {
            for mut drawing in sample_drawings() {
                drawing.layer = Some(round);
                check(sender.send(&drawing).is_ok(), 3);
            }
        }
    });
    for round in 0..100u8 {
        for mut drawing in sample_drawings() {
            drawing.layer = Some(round);
            assert_eq!(receiver.recv_timeout(DEADLINE).unwrap(), drawing);
        }
    }
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    child.join().unwrap();
}

#[test]
fn raw_bytes_and_typed_messages_interleave() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<String>().unwrap();
    let mut child = Child::start(move || {
        let Ok(bytes) = child_end.recv_bytes_timeout(DEADLINE) else {
            exit_child(3)
        };
        let Ok(text) = child_end.recv_timeout(DEADLINE) else {
            exit_child(4)
        };
        check(
            child_end.send(&format!("{text}:{}", bytes.len())).is_ok(),
            5,
        );
        check(child_end.send_bytes(&bytes).is_ok(), 6);
        check(child_end.send_bytes(&[]).is_ok(), 7);
    });
    let blob = patterned(1000, 9);
    parent_end.send_bytes(&blob).unwrap();
    parent_end.send(&"blob".to_owned()).unwrap();
    assert_eq!(parent_end.recv_timeout(DEADLINE).unwrap(), "blob:1000");
    assert_eq!(parent_end.recv_bytes_timeout(DEADLINE).unwrap(), blob);
    assert_eq!(parent_end.recv_bytes_timeout(DEADLINE).unwrap(), b"");
    assert!(matches!(
        parent_end.recv_bytes_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    child.join().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Closing
// ---------------------------------------------------------------------------------------------

#[test]
fn messages_sent_before_the_child_returns_arrive_then_closed() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<u32>().unwrap();
    let mut child = Child::start(move || {
        for n in 1..=3 {
            check(child_end.send(&n).is_ok(), 3);
        }
        // Returning drops the end.
    });
    for n in 1..=3 {
        assert_eq!(parent_end.recv_timeout(DEADLINE).unwrap(), n);
    }
    assert!(matches!(
        parent_end.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    // And it stays closed.
    assert!(matches!(
        parent_end.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    assert!(matches!(parent_end.send(&4), Err(SendError::Closed)));
    child.join().unwrap();
}

#[test]
fn messages_sent_before_a_one_way_sender_closes_arrive_then_closed() {
    let _one = one_at_a_time();
    let (mut receiver, mut sender) = Pipe::one_way::<String>().unwrap();
    let mut child = Child::start(move || {
        for word in ["a", "b", "c"] {
            check(sender.send(&word.to_owned()).is_ok(), 3);
        }
        sender.close();
    });
    for word in ["a", "b", "c"] {
        assert_eq!(receiver.recv_timeout(DEADLINE).unwrap(), word);
    }
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    child.join().unwrap();
}

/// The child inherited a copy of the parent's end too, so the kernel alone would never report
/// the end of the stream: the close must travel in the stream (or by `shutdown`).
#[test]
fn closing_the_parents_end_wakes_a_child_blocked_in_recv() {
    let _one = one_at_a_time();
    let (parent_end, mut child_end) = Pipe::new::<u32>().unwrap();
    let (mut ready, mut child_ready) = Pipe::one_way::<()>().unwrap();
    let mut child = Child::start(move || {
        check(child_ready.send(&()).is_ok(), 3);
        match child_end.recv_timeout(DEADLINE) {
            Err(RecvError::Closed) => {}
            Err(RecvError::Timeout { .. }) => exit_child(4),
            _ => exit_child(5),
        }
    });
    ready.recv_timeout(DEADLINE).unwrap();
    // Give the child time to block in its read (the result is the same if it has not yet).
    std::thread::sleep(Duration::from_millis(50));
    parent_end.close();
    child.join().expect("the child saw Closed");
}

#[test]
fn closing_a_one_way_sender_wakes_a_child_blocked_in_recv() {
    let _one = one_at_a_time();
    let (mut receiver, sender) = Pipe::one_way::<u32>().unwrap();
    let (mut ready, mut child_ready) = Pipe::one_way::<()>().unwrap();
    let mut child = Child::start(move || {
        check(child_ready.send(&()).is_ok(), 3);
        match receiver.recv_timeout(DEADLINE) {
            Err(RecvError::Closed) => {}
            Err(RecvError::Timeout { .. }) => exit_child(4),
            _ => exit_child(5),
        }
    });
    ready.recv_timeout(DEADLINE).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    drop(sender);
    child.join().expect("the child saw Closed");
}

#[test]
fn a_child_killed_by_sigkill_is_closed_not_a_hang() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<u32>().unwrap();
    let mut child = Child::start(move || {
        check(child_end.send(&7).is_ok(), 3);
        // Holds its end open until killed.
        std::thread::sleep(DEADLINE * 2);
        exit_child(4);
    });
    assert_eq!(parent_end.recv_timeout(DEADLINE).unwrap(), 7);
    child.0.kill().unwrap();
    assert!(matches!(
        parent_end.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    assert!(matches!(parent_end.send(&8), Err(SendError::Closed)));
    assert!(child.join().is_err(), "the child was killed");
}

#[test]
fn a_one_way_sender_killed_by_sigkill_is_closed_not_a_hang() {
    let _one = one_at_a_time();
    let (mut receiver, mut sender) = Pipe::one_way::<u32>().unwrap();
    let mut child = Child::start(move || {
        check(sender.send(&7).is_ok(), 3);
        std::thread::sleep(DEADLINE * 2);
        exit_child(4);
    });
    assert_eq!(receiver.recv_timeout(DEADLINE).unwrap(), 7);
    child.0.kill().unwrap();
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    assert!(child.join().is_err(), "the child was killed");
}

#[test]
fn a_panicking_child_closes_its_end_while_unwinding() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<u32>().unwrap();
    let mut child = Child::start(move || {
        check(child_end.send(&1).is_ok(), 3);
        panic!("deliberate");
    });
    assert_eq!(parent_end.recv_timeout(DEADLINE).unwrap(), 1);
    assert!(matches!(
        parent_end.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    assert!(matches!(
        child.join(),
        Err(multiprocessing::ProcessError::Panicked { .. })
    ));
}

/// A bystander child forked while the pipe existed holds copies of both ends for as long as
/// it lives; the sender's close must still reach the receiver.
#[test]
fn a_close_is_seen_although_a_bystander_holds_copies_of_the_end() {
    let _one = one_at_a_time();
    let (mut receiver, mut sender) = Pipe::one_way::<u32>().unwrap();
    let (mut bystander_stop, bystander_stop_sender) = Pipe::one_way::<()>().unwrap();
    let mut bystander = Child::start(move || {
        // Waits until the parent drops `bystander_stop_sender`.
        check(
            matches!(
                bystander_stop.recv_timeout(DEADLINE),
                Err(RecvError::Closed)
            ),
            3,
        );
    });
    sender.send(&1).unwrap();
    sender.close();
    assert_eq!(receiver.recv_timeout(DEADLINE).unwrap(), 1);
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    drop(bystander_stop_sender);
    bystander.join().unwrap();
}

/// The child holds a copy of the parent's read end (inherited at fork), so the kernel never
/// reports a broken pipe: closing the receiver must itself release a send waiting for room.
#[test]
fn a_sender_waiting_on_a_full_pipe_is_released_when_the_receiver_closes() {
    let _one = one_at_a_time();
    let (mut receiver, mut sender) = Pipe::one_way::<Vec<u8>>().unwrap();
    let mut child = Child::start(move || {
        // Bigger than the pipe: the writer blocks inside a write that needs the pipe emptied.
        let chunk = vec![0u8; 1 << 20];
        loop {
            match sender.send(&chunk) {
                Ok(()) => {}
                Err(SendError::Closed) => return,
                Err(_) => exit_child(3),
            }
        }
    });
    assert_eq!(receiver.recv_timeout(DEADLINE).unwrap().len(), 1 << 20);
    // Let the child fill the pipe and block (the result is the same if it has not yet).
    std::thread::sleep(Duration::from_millis(100));
    drop(receiver);
    child.join().expect("the child's send failed with Closed");
}

#[test]
fn a_connection_waiting_on_a_full_pipe_is_released_when_the_peer_closes() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<Vec<u8>>().unwrap();
    let mut child = Child::start(move || {
        // Bigger than the pipe: the writer blocks inside a write that needs the pipe emptied.
        let chunk = vec![0u8; 1 << 20];
        loop {
            match child_end.send_bytes(&chunk) {
                Ok(()) => {}
                Err(SendError::Closed) => return,
                Err(_) => exit_child(3),
            }
        }
    });
    assert_eq!(
        parent_end.recv_bytes_timeout(DEADLINE).unwrap().len(),
        1 << 20
    );
    // Let the child fill the pipe and block (the result is the same if it has not yet).
    std::thread::sleep(Duration::from_millis(100));
    parent_end.close();
    child.join().expect("the child's send failed with Closed");
}

#[test]
fn sending_to_a_closed_peer_is_an_error_not_a_signal() {
    let _one = one_at_a_time();
    let (mut near, far) = Pipe::new::<Vec<u8>>().unwrap();
    drop(far);
    assert!(matches!(near.send(&vec![1; 10]), Err(SendError::Closed)));
    assert!(matches!(
        near.send_bytes(&[1; 300_000]),
        Err(SendError::Closed)
    ));

    let (receiver, mut sender) = Pipe::one_way::<u32>().unwrap();
    drop(receiver);
    assert!(matches!(sender.send(&1), Err(SendError::Closed)));

    // Without the shared state the kernel's EPIPE is what tells, and SIGPIPE must not kill.
    let (read_end, write_end) = nix::unistd::pipe().unwrap();
    let mut sender = PipeSender::<u32>::from(write_end);
    drop(read_end);
    assert!(matches!(sender.send(&1), Err(SendError::Closed)));
}

/// A program that restored SIGPIPE's default (fatal) action must not be killed by a send to
/// a closed pipe either.
#[test]
fn a_send_to_a_closed_pipe_survives_a_default_sigpipe() {
    let _one = one_at_a_time();
    let mut child = Child::start(|| {
        // SAFETY: setting a signal's disposition to SIG_DFL installs no handler code.
        let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        check(previous != libc::SIG_ERR, 3);
        // A pipe made elsewhere: no shared state, so the write really meets EPIPE.
        let Ok((read_end, write_end)) = nix::unistd::pipe() else {
            exit_child(4)
        };
        let mut sender = PipeSender::<u32>::from(write_end);
        drop(read_end);
        check(matches!(sender.send(&1), Err(SendError::Closed)), 5);
        check(
            matches!(sender.send_bytes(&[0; 100]), Err(SendError::Closed)),
            6,
        );
        drop(sender);
        let Ok((mut near, far)) = Pipe::new::<u32>() else {
            exit_child(7)
        };
        drop(far);
        check(matches!(near.send(&1), Err(SendError::Closed)), 8);
    });
    child.join().expect("the child was not killed by SIGPIPE");
}

#[test]
fn every_end_can_move_to_another_thread_or_process() {
    fn assert_send<T: Send>() {}
    assert_send::<Connection<String, Vec<u8>>>();
    assert_send::<PipeReceiver<String>>();
    assert_send::<PipeSender<String>>();
}

// ---------------------------------------------------------------------------------------------
// Big messages
// ---------------------------------------------------------------------------------------------

const SIXTEEN_MIB: usize = 16 << 20;

#[test]
fn sixteen_mib_messages_go_both_ways_over_a_duplex_pipe() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<Vec<u8>>().unwrap();
    let mut child = Child::start(move || {
        let Ok(bytes) = child_end.recv_bytes_timeout(DEADLINE) else {
            exit_child(3)
        };
        check(bytes == patterned(SIXTEEN_MIB, 1), 4);
        // Back as a typed message, so both the bytes path and the serde path are exercised.
        let reply: Vec<u8> = bytes.iter().map(|b| b.wrapping_add(1)).collect();
        check(child_end.send(&reply).is_ok(), 5);
    });
    let sent = patterned(SIXTEEN_MIB, 1);
    parent_end.send_bytes(&sent).unwrap();
    let reply = parent_end.recv_timeout(DEADLINE).unwrap();
    assert_eq!(reply.len(), SIXTEEN_MIB);
    assert!(
        reply
            .iter()
            .zip(&sent)
            .all(|(r, s)| *r == s.wrapping_add(1))
    );
    child.join().unwrap();
}

#[test]
fn sixteen_mib_messages_go_over_a_one_way_pipe() {
    let _one = one_at_a_time();
    let (mut receiver, mut sender) = Pipe::one_way::<Vec<u8>>().unwrap();
    let mut child = Child::start(move || {
        check(sender.send(&patterned(SIXTEEN_MIB, 2)).is_ok(), 3);
        check(sender.send_bytes(&patterned(SIXTEEN_MIB + 1, 3)).is_ok(), 4);
        check(sender.send(&vec![42]).is_ok(), 5);
    });
    assert!(receiver.recv_timeout(DEADLINE).unwrap() == patterned(SIXTEEN_MIB, 2));
    assert!(receiver.recv_bytes_timeout(DEADLINE).unwrap() == patterned(SIXTEEN_MIB + 1, 3));
    assert_eq!(receiver.recv_timeout(DEADLINE).unwrap(), vec![42]);
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
    child.join().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Bad streams (no child needed: a raw socket or pipe plays the misbehaving peer)
// ---------------------------------------------------------------------------------------------

/// A connection over plain pipes, and the raw write end of its incoming pipe.
fn raw_duplex<T>() -> (Connection<T>, std::fs::File) {
    let (incoming, raw) = nix::unistd::pipe().unwrap();
    let (_, outgoing) = nix::unistd::pipe().unwrap();
    (
        Connection::from_fds(incoming, outgoing),
        std::fs::File::from(raw),
    )
}

fn raw_one_way<T>() -> (PipeReceiver<T>, std::fs::File) {
    let (read_end, write_end) = nix::unistd::pipe().unwrap();
    (PipeReceiver::from(read_end), std::fs::File::from(write_end))
}

/// A header as the frame format documents it: `b"mp"`, kind 0xD7 (data), 0, u64 LE length.
fn data_header(len: u64) -> Vec<u8> {
    let mut header = vec![b'm', b'p', 0xD7, 0];
    header.extend_from_slice(&len.to_le_bytes());
    header
}

#[test]
fn foreign_bytes_on_the_stream_are_corrupt_and_stay_so() {
    let _one = one_at_a_time();
    let (mut connection, mut raw) = raw_duplex::<u32>();
    raw.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    for _ in 0..2 {
        match connection.recv_timeout(DEADLINE) {
            Err(RecvError::Corrupt {
                fault: FrameFault::BadHeader { header },
            }) => assert_eq!(&header, b"GET / HTTP/1"),
            other => panic!("expected a corrupt frame, got {other:?}"),
        }
    }
    assert!(
        connection.poll(Duration::ZERO).unwrap(),
        "recv would not block"
    );

    let (mut receiver, mut raw) = raw_one_way::<u32>();
    raw.write_all(&[0xff; 40]).unwrap();
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Corrupt {
            fault: FrameFault::BadHeader { .. }
        })
    ));
}

#[test]
fn a_header_announcing_an_exabyte_is_too_large_without_allocating() {
    let _one = one_at_a_time();
    let (mut connection, mut raw) = raw_duplex::<u32>();
    raw.write_all(&data_header(1 << 60)).unwrap();
    for _ in 0..2 {
        assert!(matches!(
            connection.recv_bytes_timeout(DEADLINE),
            Err(RecvError::TooLarge { len, max }) if len == 1 << 60 && max == multiprocessing::codec::MAX_MESSAGE_BYTES
        ));
    }
}

#[test]
fn limits_apply_per_end_to_sending_and_receiving() {
    let _one = one_at_a_time();
    let (sender, receiver) = Pipe::new::<Vec<u8>>().unwrap();
    let mut sender = sender.with_max_message_bytes(1000);
    let mut receiver = receiver.with_max_message_bytes(100);
    assert_eq!(receiver.max_message_bytes(), 100);
    assert!(matches!(
        sender.send_bytes(&[0; 1001]),
        Err(SendError::TooLarge {
            len: 1001,
            max: 1000
        })
    ));
    assert!(matches!(
        sender.send(&vec![0; 1000]),
        Err(SendError::TooLarge { max: 1000, .. })
    ));
    // Nothing of the refused messages was sent: the next one is the first to arrive.
    sender.send_bytes(&[5; 100]).unwrap();
    assert_eq!(receiver.recv_bytes_timeout(DEADLINE).unwrap(), [5; 100]);
    sender.send_bytes(&[0; 101]).unwrap();
    assert!(matches!(
        receiver.recv_bytes_timeout(DEADLINE),
        Err(RecvError::TooLarge { len: 101, max: 100 })
    ));

    let (receiver, sender) = Pipe::one_way::<u8>().unwrap();
    let mut receiver = receiver.with_max_message_bytes(3);
    let mut sender = sender.with_max_message_bytes(3);
    assert!(matches!(
        sender.send_bytes(&[0; 4]),
        Err(SendError::TooLarge { len: 4, max: 3 })
    ));
    sender.send(&7).unwrap();
    assert_eq!(receiver.recv_timeout(DEADLINE).unwrap(), 7);
}

#[test]
fn a_payload_of_the_wrong_type_is_a_decode_error_and_the_stream_goes_on() {
    let _one = one_at_a_time();
    let (mut near, mut far) = Pipe::new::<String>().unwrap();
    // A varint length promising more bytes than follow.
    near.send_bytes(&[0xff, 0xff, 0xff]).unwrap();
    // A valid String followed by a stray byte: a frame holds exactly one value.
    let mut padded = postcard::to_stdvec("ok").unwrap();
    padded.push(0);
    near.send_bytes(&padded).unwrap();
    near.send(&"fine".to_owned()).unwrap();
    assert!(matches!(
        far.recv_timeout(DEADLINE),
        Err(RecvError::Decode { len: 3, .. })
    ));
    assert!(matches!(
        far.recv_timeout(DEADLINE),
        Err(RecvError::Decode { len: 4, .. })
    ));
    assert_eq!(far.recv_timeout(DEADLINE).unwrap(), "fine");
}

#[test]
fn a_peer_dying_inside_a_frame_is_a_truncated_frame() {
    let _one = one_at_a_time();
    let (mut connection, mut raw) = raw_duplex::<u32>();
    raw.write_all(&data_header(100)).unwrap();
    raw.write_all(&[1; 10]).unwrap();
    drop(raw);
    assert!(matches!(
        connection.recv_bytes_timeout(DEADLINE),
        Err(RecvError::Corrupt {
            fault: FrameFault::Truncated {
                expected: 112,
                received: 22
            }
        })
    ));

    let (mut receiver, mut raw) = raw_one_way::<u32>();
    raw.write_all(&data_header(100)[..5]).unwrap();
    drop(raw);
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Corrupt {
            fault: FrameFault::Truncated {
                expected: 12,
                received: 5
            }
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

#[test]
fn recv_timeout_expires_and_poll_tells_whether_a_message_is_ready() {
    let _one = one_at_a_time();
    let (mut parent_end, mut child_end) = Pipe::new::<u32>().unwrap();
    assert!(!parent_end.poll(Duration::ZERO).unwrap());
    assert!(!parent_end.poll(Duration::from_millis(20)).unwrap());
    assert!(matches!(
        parent_end.recv_timeout(Duration::from_millis(20)),
        Err(RecvError::Timeout { waited }) if waited == Duration::from_millis(20)
    ));
    assert!(matches!(parent_end.try_recv(), Ok(None)));

    let mut child = Child::start(move || {
        std::thread::sleep(Duration::from_millis(30));
        check(child_end.send(&5).is_ok(), 3);
        check(child_end.send(&6).is_ok(), 4);
    });
    assert!(parent_end.poll(DEADLINE).unwrap());
    assert!(
        parent_end.poll(Duration::ZERO).unwrap(),
        "poll does not consume"
    );
    assert_eq!(parent_end.recv_timeout(DEADLINE).unwrap(), 5);
    child.join().unwrap();
    // Already here: `try_recv` and a zero timeout take it without waiting.
    assert_eq!(parent_end.try_recv().unwrap(), Some(6));
    // Closed: poll is true because recv returns at once, with Closed.
    assert!(parent_end.poll(Duration::ZERO).unwrap());
    assert!(matches!(parent_end.try_recv(), Err(RecvError::Closed)));
}

/// A deadline passing in the middle of a message keeps what arrived; the next receive
/// finishes it (small messages in the read buffer, large ones in their own vector).
#[test]
fn a_message_half_received_at_the_deadline_is_finished_by_the_next_receive() {
    let _one = one_at_a_time();
    for len in [40usize, 100_000] {
        let (mut connection, mut raw) = raw_duplex::<u32>();
        let payload = patterned(len, 5);
        raw.write_all(&data_header(len as u64)).unwrap();
        raw.write_all(&payload[..len / 2]).unwrap();
        assert!(!connection.poll(Duration::from_millis(10)).unwrap());
        assert!(matches!(
            connection.recv_bytes_timeout(Duration::from_millis(10)),
            Err(RecvError::Timeout { .. })
        ));
        raw.write_all(&payload[len / 2..]).unwrap();
        assert_eq!(connection.recv_bytes_timeout(DEADLINE).unwrap(), payload);
    }
}

#[test]
fn ends_can_be_made_from_descriptors_made_elsewhere() {
    let _one = one_at_a_time();
    let (read_end, write_end): (OwnedFd, OwnedFd) = nix::unistd::pipe().unwrap();
    let mut sender = PipeSender::<String>::from(write_end);
    let mut receiver = PipeReceiver::<String>::from(read_end);
    sender
        .send(&"through a pipe from elsewhere".to_owned())
        .unwrap();
    drop(sender);
    assert_eq!(
        receiver.recv_timeout(DEADLINE).unwrap(),
        "through a pipe from elsewhere"
    );
    assert!(matches!(
        receiver.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));

    // A connection over one socket, both ways.
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let ours_too = ours.try_clone().unwrap();
    let (theirs, theirs_too) = (theirs.try_clone().unwrap(), theirs);
    let mut near = Connection::<u32>::from_fds(ours.into(), ours_too.into());
    let mut far = Connection::<u32>::from_fds(theirs.into(), theirs_too.into());
    near.send(&1).unwrap();
    assert_eq!(far.recv_timeout(DEADLINE).unwrap(), 1);
    far.send(&2).unwrap();
    assert_eq!(near.recv_timeout(DEADLINE).unwrap(), 2);
    drop(far);
    assert!(matches!(
        near.recv_timeout(DEADLINE),
        Err(RecvError::Closed)
    ));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Message {
    Bytes(Vec<u8>),
    Text(String),
    Number(i64),
    Nothing,
}

fn payload_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..64),
        3 => proptest::collection::vec(any::<u8>(), 64..5_000),
        1 => proptest::collection::vec(any::<u8>(), 65_000..200_000),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        payload_bytes().prop_map(Message::Bytes),
        ".{0,40}".prop_map(Message::Text),
        any::<i64>().prop_map(Message::Number),
        Just(Message::Nothing),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever a child sends arrives complete, once and in order, then Closed.
    #[test]
    fn every_message_a_child_sends_arrives_once_in_order(
        messages in proptest::collection::vec(message(), 0..40),
        one_way in any::<bool>(),
    ) {
        let _one = one_at_a_time();
        let received = if one_way {
            let (mut receiver, mut sender) = Pipe::one_way::<Message>().unwrap();
            let to_send = messages.clone();
            let mut child = Child::start(move || {
                for message in &to_send {
                    check(sender.send(message).is_ok(), 3);
                }
            });
            let received = drain(|| receiver.recv_timeout(DEADLINE));
            prop_assert!(child.join().is_ok());
            received
        } else {
            let (mut parent_end, mut child_end) = Pipe::new::<Message>().unwrap();
            let to_send = messages.clone();
            let mut child = Child::start(move || {
                for message in &to_send {
                    check(child_end.send(message).is_ok(), 3);
                }
            });
            let received = drain(|| parent_end.recv_timeout(DEADLINE));
            prop_assert!(child.join().is_ok());
            received
        };
        prop_assert_eq!(received, Ok(messages));
    }

    /// A child echoing in lockstep returns each message, whether sent typed or as bytes.
    #[test]
    fn a_child_echoes_every_message_in_lockstep(
        payloads in proptest::collection::vec(payload_bytes(), 1..12),
    ) {
        let _one = one_at_a_time();
        let (mut parent_end, mut child_end) = Pipe::new::<Vec<u8>>().unwrap();
        let mut child = Child::start(move || {
            while let Ok(bytes) = child_end.recv_bytes_timeout(DEADLINE) {
                check(child_end.send_bytes(&bytes).is_ok(), 3);
            }
        });
        for (i, payload) in payloads.iter().enumerate() {
            if i % 2 == 0 {
                parent_end.send_bytes(payload).unwrap();
                prop_assert_eq!(&parent_end.recv_bytes_timeout(DEADLINE).unwrap(), payload);
            } else {
                // Typed out, echoed as the same bytes, typed back in.
                parent_end.send(payload).unwrap();
                prop_assert_eq!(&parent_end.recv_timeout(DEADLINE).unwrap(), payload);
            }
        }
        drop(parent_end);
        prop_assert!(child.join().is_ok());
    }
}

/// Receives until the first error; `Ok(messages)` if that error was `Closed`.
fn drain<T>(mut recv: impl FnMut() -> Result<T, RecvError>) -> Result<Vec<T>, String> {
    let mut received = Vec::new();
    loop {
        match recv() {
            Ok(message) => received.push(message),
            Err(RecvError::Closed) => return Ok(received),
            Err(other) => return Err(format!("after {} messages: {other}", received.len())),
        }
    }
}
