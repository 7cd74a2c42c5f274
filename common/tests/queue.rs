//! `Queue` and `JoinableQueue` between real processes.
//!
//! Every blocking call has a deadline (the `_timeout` variants, `join_timeout`), or runs in a
//! child that is joined with a timeout, so a bug fails a test instead of hanging the suite.
//! Every child is killed and reaped by [`Children`]'s drop, also when a test fails.
//! Children report through the queue under test or their exit code, never by printing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use multiprocessing as mp;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// Long enough for any healthy operation on a loaded 2-core machine; only a bug waits this long.
const PATIENCE: Duration = Duration::from_secs(20);

/// Exit code of a child whose queue operation failed unexpectedly.
const QUEUE_FAILED: i32 = 3;

/// Started processes; killed and reaped on drop, so a failing test leaves none behind.
#[derive(Default)]
struct Children(Vec<mp::Process>);

impl Children {
    fn spawn(&mut self, target: impl FnOnce() + 'static) -> usize {
        let mut process = mp::Process::new(target);
        process.start().expect("fork");
        self.0.push(process);
        self.0.len() - 1
    }

    fn join(&mut self, index: usize) -> Result<(), mp::ProcessError> {
        self.0[index].join_timeout(PATIENCE)
    }

    fn join_all(&mut self) {
        for process in &mut self.0 {
            process.join_timeout(PATIENCE).expect("child succeeded");
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for process in &mut self.0 {
            let _ = process.kill();
            let _ = process.join_timeout(PATIENCE);
        }
    }
}

/// Ends a child with [`QUEUE_FAILED`] unless `ok`.
fn require(ok: bool) {
    if !ok {
        std::process::exit(QUEUE_FAILED);
    }
}

/// The lessons' pattern: workers take items until a `None` sentinel each, put results on a
/// second queue; the main process collects them and joins the workers.
fn run_sentinel_pattern(join_before_collecting: bool) {
    const WORKERS: usize = 3;
    let tasks: mp::Queue<Option<i32>> = mp::Queue::new().unwrap();
    let results: mp::Queue<i32> = mp::Queue::new().unwrap();
    let mut children = Children::default();
    for _ in 0..WORKERS {
        let (tasks, results) = (tasks.clone(), results.clone());
        children.spawn(move || {
            loop {
                match tasks.get_timeout(PATIENCE) {
                    Ok(Some(item)) => require(results.put_timeout(item * item, PATIENCE).is_ok()),
                    Ok(None) => break,
                    Err(_) => std::process::exit(QUEUE_FAILED),
                }
            }
        });
    }
    for i in 0..10 {
        tasks.put_timeout(Some(i), PATIENCE).unwrap();
    }
    for _ in 0..WORKERS {
        tasks.put_timeout(None, PATIENCE).unwrap();
    }
    if join_before_collecting {
        children.join_all();
    }
    let mut squares: Vec<i32> = (0..10)
        .map(|_| results.get_timeout(PATIENCE).unwrap())
        .collect();
    children.join_all();
    squares.sort_unstable();
    assert_eq!(squares, (0..10).map(|i| i * i).collect::<Vec<_>>());
    assert!(tasks.empty() && results.empty());
}

#[test]
fn seed_sentinel_pattern_never_deadlocks() {
    for _ in 0..20 {
        run_sentinel_pattern(false);
    }
}

/// Python's `mp.Queue` deadlocks here (a child does not exit until its feeder thread has
/// flushed, so joining it before draining the queue hangs); items here are in shared memory
/// as soon as `put` returns.
#[test]
fn joining_workers_before_collecting_their_results_does_not_deadlock() {
    for _ in 0..5 {
        run_sentinel_pattern(true);
    }
}

/// What a producer sends in the multi-producer tests: who sent it and its place in that
/// producer's sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Tagged {
    producer: u8,
    seq: u32,
    payload: Vec<u8>,
}

/// Bytes a message carries, derived from its tag so the receiver can check them.
fn payload_for(producer: u8, seq: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(seq * 7) as u8 ^ producer)
        .collect()
}

/// Checks `received` (each consumer's messages in the order it got them) against what each
/// producer sent: every message exactly once, intact, and each producer's in its order.
fn check_delivery(sent: &[Vec<usize>], received: &[Vec<Tagged>]) {
    let mut seen: BTreeMap<(u8, u32), usize> = BTreeMap::new();
    for consumer in received {
        let mut last_seq: BTreeMap<u8, u32> = BTreeMap::new();
        for message in consumer {
            let len = sent[message.producer as usize][message.seq as usize];
            assert_eq!(
                message.payload,
                payload_for(message.producer, message.seq, len),
                "payload of producer {} message {}",
                message.producer,
                message.seq
            );
            if let Some(previous) = last_seq.insert(message.producer, message.seq) {
                assert!(
                    previous < message.seq,
                    "producer {} order: {previous} then {}",
                    message.producer,
                    message.seq
                );
            }
            *seen.entry((message.producer, message.seq)).or_default() += 1;
        }
    }
    let expected: usize = sent.iter().map(Vec::len).sum();
    assert_eq!(seen.len(), expected, "distinct messages received");
    assert!(
        seen.values().all(|&count| count == 1),
        "a message arrived twice"
    );
}

#[test]
fn bounded_queue_four_producers_four_consumers_exactly_once_in_order() {
    const PRODUCERS: u8 = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: u32 = 400;
    let queue: mp::Queue<Tagged> = mp::Queue::bounded(4).unwrap();
    let received: mp::Queue<Vec<Tagged>> = mp::Queue::new().unwrap();
    let mut children = Children::default();
    for _ in 0..CONSUMERS {
        let (queue, received) = (queue.clone(), received.clone());
        children.spawn(move || {
            let mut got = Vec::new();
            loop {
                match queue.get_timeout(PATIENCE) {
                    Ok(message) => got.push(message),
                    Err(mp::GetError::Closed) => break,
                    Err(_) => std::process::exit(QUEUE_FAILED),
                }
            }
            require(received.put_timeout(got, PATIENCE).is_ok());
        });
    }
    let producers: Vec<usize> = (0..PRODUCERS)
        .map(|producer| {
            let queue = queue.clone();
            children.spawn(move || {
                for seq in 0..PER_PRODUCER {
                    let payload = payload_for(producer, seq, seq as usize % 50);
                    let message = Tagged {
                        producer,
                        seq,
                        payload,
                    };
                    require(queue.put_timeout(message, PATIENCE).is_ok());
                    require(queue.qsize() <= 4);
                }
            })
        })
        .collect();
    for producer in producers {
        children.join(producer).unwrap();
    }
    // Consumers drain what is left, then get Closed and report.
    queue.shutdown();
    let got: Vec<Vec<Tagged>> = (0..CONSUMERS)
        .map(|_| received.get_timeout(PATIENCE).unwrap())
        .collect();
    children.join_all();
    let sent: Vec<Vec<usize>> = (0..PRODUCERS)
        .map(|_| (0..PER_PRODUCER).map(|seq| seq as usize % 50).collect())
        .collect();
    check_delivery(&sent, &got);
}

#[test]
fn get_timeout_on_an_empty_queue_times_out() {
    let queue: mp::Queue<u8> = mp::Queue::new().unwrap();
    let started = Instant::now();
    assert!(matches!(
        queue.get_timeout(Duration::from_millis(50)),
        Err(mp::GetError::Timeout)
    ));
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert!(matches!(queue.try_get(), Err(mp::GetError::Empty)));
}

#[test]
fn put_timeout_on_a_full_queue_times_out_and_gives_the_item_back() {
    let queue: mp::Queue<String> = mp::Queue::bounded(1).unwrap();
    queue.put_timeout("first".into(), PATIENCE).unwrap();
    let started = Instant::now();
    match queue.put_timeout("second".into(), Duration::from_millis(50)) {
        Err(mp::PutError::Timeout(item)) => assert_eq!(item, "second"),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), "first");
}

#[test]
fn a_timed_out_get_gets_an_item_put_while_it_waits() {
    let queue: mp::Queue<u32> = mp::Queue::new().unwrap();
    let mut children = Children::default();
    let getter = children.spawn({
        let queue = queue.clone();
        move || require(matches!(queue.get_timeout(PATIENCE), Ok(7)))
    });
    std::thread::sleep(Duration::from_millis(50));
    queue.put_timeout(7, PATIENCE).unwrap();
    children.join(getter).unwrap();
}

#[test]
fn try_put_on_a_full_queue_hands_the_item_back() {
    let queue: mp::Queue<Vec<u32>> = mp::Queue::bounded(2).unwrap();
    queue.try_put(vec![1]).unwrap();
    queue.try_put(vec![2]).unwrap();
    assert!(queue.full());
    let error = queue.try_put(vec![3, 4, 5]).unwrap_err();
    assert!(matches!(error, mp::PutError::Full(_)));
    assert_eq!(error.to_string(), "queue is full");
    assert_eq!(error.into_inner(), vec![3, 4, 5]);
}

#[test]
fn a_byte_full_ring_makes_try_put_full_even_without_maxsize() {
    let queue: mp::Queue<Vec<u8>> = mp::Queue::builder().capacity_bytes(64).build().unwrap();
    // 4-byte length + 1-byte vec length + 40 bytes: the second cannot fit.
    queue.try_put(vec![1; 40]).unwrap();
    match queue.try_put(vec![2; 40]) {
        Err(mp::PutError::Full(item)) => assert_eq!(item, vec![2; 40]),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(queue.try_get().unwrap(), vec![1; 40]);
    queue.try_put(vec![2; 40]).unwrap();
}

#[test]
fn an_item_wrapping_around_the_end_of_the_ring_arrives_intact() {
    let queue: mp::Queue<Vec<u8>> = mp::Queue::builder().capacity_bytes(64).build().unwrap();
    // Records take 4 + 1 + len bytes: 25 and 25 fill [0, 50); once the first is taken, the
    // third (35 bytes) runs from 50 over the end to 21.
    queue.try_put(vec![1; 20]).unwrap();
    queue.try_put(vec![2; 20]).unwrap();
    assert_eq!(queue.try_get().unwrap(), vec![1; 20]);
    let wrapping: Vec<u8> = (0..30).collect();
    queue.try_put(wrapping.clone()).unwrap();
    assert_eq!(queue.try_get().unwrap(), vec![2; 20]);
    assert_eq!(queue.try_get().unwrap(), wrapping);
    assert!(queue.empty());
}

#[test]
fn an_item_larger_than_the_ring_is_refused_at_once_with_the_item() {
    let queue: mp::Queue<Vec<u8>> = mp::Queue::builder().capacity_bytes(64).build().unwrap();
    let item = vec![9u8; 100];
    match queue.put_timeout(item.clone(), PATIENCE) {
        Err(mp::PutError::TooLarge {
            item: back,
            size,
            capacity,
        }) => {
            assert_eq!(back, item);
            assert_eq!(size, 101); // postcard: one length byte, then the bytes
            assert_eq!(capacity, 64);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The blocking `put` must not wait either: checked in a child, joined with a deadline.
    let mut children = Children::default();
    let child = children.spawn(move || {
        require(matches!(
            queue.put(vec![9u8; 100]),
            Err(mp::PutError::TooLarge { .. })
        ));
    });
    children.join(child).unwrap();
}

#[test]
fn put_after_close_gives_the_item_back_and_other_handles_still_work() {
    let queue: mp::Queue<String> = mp::Queue::new().unwrap();
    let other = queue.clone();
    queue.put_timeout("before".into(), PATIENCE).unwrap();
    queue.close();
    assert!(queue.is_closed() && !other.is_closed());
    match queue.put_timeout("after".into(), PATIENCE) {
        Err(mp::PutError::Closed(item)) => assert_eq!(item, "after"),
        other => panic!("expected Closed, got {other:?}"),
    }
    other
        .put_timeout("from the other".into(), PATIENCE)
        .unwrap();
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), "before");
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), "from the other");
}

#[test]
fn close_in_a_child_affects_only_the_childs_handle() {
    let queue: mp::Queue<u8> = mp::Queue::new().unwrap();
    let mut children = Children::default();
    let child = children.spawn({
        let queue = queue.clone();
        move || {
            require(queue.put_timeout(1, PATIENCE).is_ok());
            queue.close();
            require(matches!(queue.try_put(2), Err(mp::PutError::Closed(2))));
        }
    });
    children.join(child).unwrap();
    queue.put_timeout(3, PATIENCE).unwrap();
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), 1);
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), 3);
}

#[test]
fn shutdown_wakes_a_blocked_getter_with_closed_after_the_queue_drains() {
    let queue: mp::Queue<u32> = mp::Queue::new().unwrap();
    queue.put_timeout(1, PATIENCE).unwrap();
    queue.put_timeout(2, PATIENCE).unwrap();
    let mut children = Children::default();
    let getters: Vec<usize> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            children.spawn(move || {
                // Takes what is there (between them, the two getters take 1 and 2), then
                // blocks with no deadline until the shutdown turns the wait into Closed.
                let mut got = 0;
                loop {
                    match queue.get() {
                        Ok(_) => got += 1,
                        Err(mp::GetError::Closed) => break,
                        Err(_) => std::process::exit(QUEUE_FAILED),
                    }
                }
                std::process::exit(got);
            })
        })
        .collect();
    // Let both getters reach their blocking `get`; the test holds either way.
    std::thread::sleep(Duration::from_millis(100));
    queue.shutdown();
    assert!(queue.is_shutdown());
    let mut taken = 0;
    for getter in getters {
        match children.join(getter) {
            Ok(()) => {}
            Err(mp::ProcessError::Exited { code, .. }) if code != QUEUE_FAILED => taken += code,
            Err(other) => panic!("getter failed: {other}"),
        }
    }
    assert_eq!(taken, 2);
    assert!(matches!(queue.try_get(), Err(mp::GetError::Closed)));
    match queue.put_timeout(3, PATIENCE) {
        Err(mp::PutError::Closed(3)) => {}
        other => panic!("expected Closed(3), got {other:?}"),
    }
}

#[test]
fn shutdown_leaves_queued_items_to_get_before_closed() {
    let queue: mp::Queue<u32> = mp::Queue::new().unwrap();
    for i in 0..3 {
        queue.put_timeout(i, PATIENCE).unwrap();
    }
    queue.shutdown();
    assert_eq!(queue.qsize(), 3);
    for i in 0..3 {
        assert_eq!(queue.get_timeout(PATIENCE).unwrap(), i);
    }
    assert!(matches!(
        queue.get_timeout(PATIENCE),
        Err(mp::GetError::Closed)
    ));
}

#[test]
fn shutdown_wakes_a_blocked_putter_with_closed() {
    let queue: mp::Queue<u32> = mp::Queue::bounded(1).unwrap();
    queue.put_timeout(0, PATIENCE).unwrap();
    let mut children = Children::default();
    let putter = children.spawn({
        let queue = queue.clone();
        move || require(matches!(queue.put(1), Err(mp::PutError::Closed(1))))
    });
    std::thread::sleep(Duration::from_millis(100));
    queue.shutdown();
    children.join(putter).unwrap();
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), 0);
}

#[test]
fn qsize_empty_and_full_follow_the_contents() {
    let queue: mp::Queue<u16> = mp::Queue::bounded(3).unwrap();
    assert_eq!(queue.maxsize(), Some(3));
    assert!(queue.empty() && !queue.full());
    for i in 0..3 {
        assert_eq!(queue.qsize(), usize::from(i));
        queue.try_put(i).unwrap();
    }
    assert!(queue.full() && !queue.empty());
    assert_eq!(queue.qsize(), 3);
    assert_eq!(queue.try_get().unwrap(), 0);
    assert_eq!(queue.qsize(), 2);
    assert!(!queue.full());
    let unbounded: mp::Queue<u16> = mp::Queue::new().unwrap();
    assert_eq!(unbounded.maxsize(), None);
    assert!(!unbounded.full());
}

#[test]
fn zero_and_absurd_sizes_are_refused() {
    assert!(matches!(
        mp::Queue::<u8>::bounded(0),
        Err(mp::QueueCreateError::ZeroMaxsize)
    ));
    assert!(matches!(
        mp::Queue::<u8>::builder().capacity_bytes(0).build(),
        Err(mp::QueueCreateError::CapacityTooSmall { requested: 0, .. })
    ));
    assert!(matches!(
        mp::JoinableQueue::<u8>::builder()
            .capacity_bytes(usize::MAX)
            .build(),
        Err(mp::QueueCreateError::CapacityTooLarge { .. })
    ));
}

/// Serialises fine, fails to deserialise when odd: stands for bytes that are not a `T`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "u32")]
struct Even(u32);

impl TryFrom<u32> for Even {
    type Error = String;

    fn try_from(n: u32) -> Result<Self, String> {
        if n % 2 == 0 {
            Ok(Self(n))
        } else {
            Err(format!("{n} is odd"))
        }
    }
}

#[test]
fn an_undecodable_item_is_a_decode_error_and_the_queue_goes_on() {
    let queue: mp::Queue<Even> = mp::Queue::new().unwrap();
    queue.put_timeout(Even(3), PATIENCE).unwrap();
    queue.put_timeout(Even(4), PATIENCE).unwrap();
    assert!(matches!(
        queue.get_timeout(PATIENCE),
        Err(mp::GetError::Decode { size: 1, .. })
    ));
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), Even(4));
}

/// A value whose serialisation always fails.
#[derive(Debug, PartialEq)]
struct Unencodable(u8);

impl Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refuses to be encoded"))
    }
}

impl<'de> Deserialize<'de> for Unencodable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u8::deserialize(deserializer).map(Self)
    }
}

#[test]
fn an_unencodable_item_is_handed_back_with_the_encode_error() {
    let queue: mp::Queue<Unencodable> = mp::Queue::new().unwrap();
    match queue.try_put(Unencodable(5)) {
        Err(mp::PutError::Encode { item, .. }) => assert_eq!(item, Unencodable(5)),
        other => panic!("expected Encode, got {other:?}"),
    }
    assert!(queue.empty());
}

#[test]
fn joinable_join_waits_for_task_done_of_every_item_across_processes() {
    const ITEMS: u32 = 40;
    let queue: mp::JoinableQueue<u32> = mp::JoinableQueue::new().unwrap();
    let finished: mp::Queue<u32> = mp::Queue::new().unwrap();
    let mut children = Children::default();
    for _ in 0..3 {
        let (queue, finished) = (queue.clone(), finished.clone());
        children.spawn(move || {
            loop {
                match queue.get_timeout(PATIENCE) {
                    Ok(item) => {
                        std::thread::sleep(Duration::from_millis(2));
                        // Recorded before task_done: join must not return before this.
                        require(finished.put_timeout(item, PATIENCE).is_ok());
                        require(queue.task_done().is_ok());
                    }
                    Err(mp::GetError::Closed) => break,
                    Err(_) => std::process::exit(QUEUE_FAILED),
                }
            }
        });
    }
    for item in 0..ITEMS {
        queue.put_timeout(item, PATIENCE).unwrap();
    }
    queue.join_timeout(PATIENCE).unwrap();
    assert_eq!(finished.qsize(), ITEMS as usize);
    assert_eq!(queue.unfinished_tasks(), 0);
    queue.shutdown();
    children.join_all();
    let mut done: Vec<u32> = (0..ITEMS)
        .map(|_| finished.get_timeout(PATIENCE).unwrap())
        .collect();
    done.sort_unstable();
    assert_eq!(done, (0..ITEMS).collect::<Vec<_>>());
}

#[test]
fn joinable_join_timeout_reports_unfinished_tasks() {
    let queue: mp::JoinableQueue<u8> = mp::JoinableQueue::new().unwrap();
    queue.join_timeout(Duration::ZERO).unwrap();
    queue.put_timeout(1, PATIENCE).unwrap();
    queue.put_timeout(2, PATIENCE).unwrap();
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), 1);
    queue.task_done().unwrap();
    match queue.join_timeout(Duration::from_millis(30)) {
        Err(mp::QueueJoinError::Timeout { unfinished, .. }) => assert_eq!(unfinished, 1),
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[test]
fn joinable_task_done_more_often_than_items_put_is_an_error() {
    let queue: mp::JoinableQueue<u8> = mp::JoinableQueue::new().unwrap();
    assert!(matches!(
        queue.task_done(),
        Err(mp::TaskDoneError::TooManyCalls)
    ));
    queue.put_timeout(1, PATIENCE).unwrap();
    assert_eq!(queue.get_timeout(PATIENCE).unwrap(), 1);
    queue.task_done().unwrap();
    let error = queue.task_done().unwrap_err();
    assert!(matches!(error, mp::TaskDoneError::TooManyCalls));
    assert_eq!(error.to_string(), "task_done() called too many times");
    queue.join_timeout(PATIENCE).unwrap();
}

#[test]
fn joinable_task_done_from_another_process_releases_join() {
    let queue: mp::JoinableQueue<u8> = mp::JoinableQueue::new().unwrap();
    queue.put_timeout(1, PATIENCE).unwrap();
    let mut children = Children::default();
    let worker = children.spawn({
        let queue = queue.clone();
        move || {
            require(queue.get_timeout(PATIENCE).is_ok());
            std::thread::sleep(Duration::from_millis(50));
            require(queue.task_done().is_ok());
            require(matches!(
                queue.task_done(),
                Err(mp::TaskDoneError::TooManyCalls)
            ));
        }
    });
    queue.join_timeout(PATIENCE).unwrap();
    children.join(worker).unwrap();
}

/// What the killed producer sends: a string, whose encoding is one `memcpy`, so most of a
/// put's time is the copy into the ring under the queue's mutex, where the kills should land.
#[derive(Debug, Serialize, Deserialize)]
struct Stamped {
    round: u8,
    seq: u32,
    text: String,
}

/// The text of message `seq`: one letter repeated, so a torn or mixed message shows.
fn text_for(seq: u32, len: usize) -> String {
    let letter = b'a' + (seq % 26) as u8;
    String::from_utf8(vec![letter; len]).expect("ascii")
}

/// A producer SIGKILLed while it puts (often in the middle of copying a large item under the
/// queue's mutex) loses at most the item it was putting: everything received decodes, is
/// intact and in order, and the queue keeps working for everyone else.
#[test]
fn a_producer_killed_mid_put_never_delivers_half_a_message() {
    const ROUNDS: u8 = 30;
    const TEXT_BYTES: usize = 256 * 1024;
    let queue: mp::Queue<Stamped> = mp::Queue::builder()
        .capacity_bytes(4 << 20)
        .build()
        .unwrap();
    let mut children = Children::default();
    let mut next_seq = vec![0u32; usize::from(ROUNDS)];
    let mut check = |message: Stamped| {
        let round = usize::from(message.round);
        assert_eq!(
            message.seq, next_seq[round],
            "round {round}: a message went missing"
        );
        assert!(
            message.text == text_for(message.seq, TEXT_BYTES),
            "round {round}: torn text"
        );
        next_seq[round] += 1;
    };
    for round in 0..ROUNDS {
        let producer = children.spawn({
            let queue = queue.clone();
            move || {
                for seq in 0.. {
                    let text = text_for(seq, TEXT_BYTES);
                    require(
                        queue
                            .put_timeout(Stamped { round, seq, text }, PATIENCE)
                            .is_ok(),
                    );
                }
            }
        });
        // Consume while the producer runs, so it keeps putting rather than waiting for room,
        // and kill it after a varying while.
        let kill_at = Instant::now() + Duration::from_micros(2000 + 1500 * u64::from(round % 12));
        while Instant::now() < kill_at {
            if let Ok(message) = queue.get_timeout(Duration::from_micros(200)) {
                check(message);
            }
        }
        children.0[producer].kill().unwrap();
        match children.join(producer) {
            Err(mp::ProcessError::Signaled { .. }) => {}
            other => panic!("producer should have been killed, got {other:?}"),
        }
        loop {
            match queue.try_get() {
                Ok(message) => check(message),
                Err(mp::GetError::Empty) => break,
                Err(other) => panic!("after a kill: {other}"),
            }
        }
    }
    let text = text_for(0, 10);
    queue
        .put_timeout(
            Stamped {
                round: 0,
                seq: 0,
                text,
            },
            PATIENCE,
        )
        .unwrap();
    assert_eq!(queue.get_timeout(PATIENCE).unwrap().text, text_for(0, 10));
}

/// One producer's messages for the property test: payload sizes, some bigger than half the
/// ring so records wrap around its end.
fn message_sizes(ring: usize) -> impl Strategy<Value = Vec<usize>> {
    // Room for the tag, the payload's length varint and the record's length header.
    let largest = ring - 16;
    let size = prop_oneof![
        2 => Just(0usize),
        4 => 1usize..64,
        2 => 64usize..6000.min(largest),
        2 => (ring / 2 + 1)..=largest,
    ];
    prop::collection::vec(size, 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_messages_arrive_complete_once_and_in_order_per_producer(
        (ring, sent) in (256usize..12_000).prop_flat_map(|ring| {
            (Just(ring), prop::collection::vec(message_sizes(ring), 1..=3))
        })
    ) {
        let queue: mp::Queue<Tagged> =
            mp::Queue::builder().capacity_bytes(ring).build().unwrap();
        let mut children = Children::default();
        for (producer, sizes) in sent.iter().enumerate() {
            let queue = queue.clone();
            let sizes = sizes.clone();
            let producer = producer as u8;
            children.spawn(move || {
                for (seq, len) in sizes.into_iter().enumerate() {
                    let seq = seq as u32;
                    let message = Tagged { producer, seq, payload: payload_for(producer, seq, len) };
                    require(queue.put_timeout(message, PATIENCE).is_ok());
                }
            });
        }
        let total: usize = sent.iter().map(Vec::len).sum();
        let received: Vec<Tagged> =
            (0..total).map(|_| queue.get_timeout(PATIENCE).unwrap()).collect();
        children.join_all();
        prop_assert!(queue.empty());
        check_delivery(&sent, &[received]);
    }
}

/// An item type with no `Debug`: `PutError` must still be an error `?` can carry.
#[derive(Serialize, Deserialize)]
struct Opaque(u8);

#[test]
fn put_error_is_a_sendable_error_whatever_the_item_type() {
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    let queue: mp::Queue<Opaque> = mp::Queue::bounded(1).unwrap();
    queue.try_put(Opaque(1)).unwrap();
    let error = queue.try_put(Opaque(2)).unwrap_err();
    is_error(&error);
    assert_eq!(format!("{error:?}"), "Full(..)");
    assert_eq!(error.into_inner().0, 2);
}

#[test]
fn handles_are_send_and_sync_whatever_the_item_type() {
    fn is_send_sync<Q: Send + Sync + Clone>() {}
    // Items live as bytes in shared memory, never inside the handle.
    is_send_sync::<mp::Queue<std::rc::Rc<u8>>>();
    is_send_sync::<mp::JoinableQueue<std::rc::Rc<u8>>>();
}
