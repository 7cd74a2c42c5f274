//! Locks, semaphores, conditions, events and barriers across real processes.

mod sync_support;

use std::time::Duration;

use multiprocessing::{
    Array, Barrier, BarrierError, BoundedSemaphore, Condition, CreateError, Event, EventError,
    Lock, LockError, ProcessError, RLock, Semaphore, SemaphoreError, Signal, Value,
};
use sync_support::{Children, DEADLINE, child_check, code, eventually, exit_child, park_forever};

const SHORT: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------------
// Lock and RLock
// ---------------------------------------------------------------------------------------------

#[test]
fn every_primitive_is_a_cheap_clone_that_can_move_to_other_threads() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Lock>();
    shareable::<RLock>();
    shareable::<Semaphore>();
    shareable::<BoundedSemaphore>();
    shareable::<Condition>();
    shareable::<Event>();
    shareable::<Barrier>();
    shareable::<Value<f64>>();
    shareable::<Array<u8>>();
}

#[test]
fn lock_holder_killed_with_sigkill_is_reported_with_its_pid_and_the_lock_recovers() {
    let lock = Lock::new().unwrap();
    let holding = Event::new().unwrap();
    let mut children = Children::new();
    let holder_pid = children.spawn({
        let (lock, holding) = (lock.clone(), holding.clone());
        move || {
            let Ok(_held) = lock.acquire_timeout(DEADLINE) else {
                exit_child(code::UNEXPECTED)
            };
            child_check(holding.set().is_ok(), code::UNEXPECTED);
            park_forever()
        }
    });
    holding.wait_timeout(DEADLINE).unwrap();
    assert!(matches!(lock.try_acquire(), Err(LockError::WouldBlock)));

    children.get(0).kill().unwrap();
    assert!(matches!(
        children.get(0).join_timeout(DEADLINE),
        Err(ProcessError::Signaled {
            signal: Signal::SIGKILL,
            ..
        })
    ));

    match lock.acquire_timeout(DEADLINE) {
        Err(LockError::OwnerDied(died)) => {
            assert_eq!(died.pid, holder_pid);
            let message = LockError::OwnerDied(died).without_guard().to_string();
            assert!(message.contains(&holder_pid.to_string()), "{message}");
        }
        other => panic!("expected OwnerDied, got {other:?}"),
    }

    // The recovered guard was dropped above: the lock is free and works normally again.
    drop(
        lock.acquire_timeout(DEADLINE)
            .expect("clean acquire after recovery"),
    );
    let mut children = Children::new();
    children.spawn({
        let lock = lock.clone();
        move || child_check(lock.acquire_timeout(DEADLINE).is_ok(), code::UNEXPECTED)
    });
    children.join_all_ok();
}

#[test]
fn owner_died_hands_over_a_guard_that_holds_the_lock() {
    let lock = Lock::new().unwrap();
    let holding = Event::new().unwrap();
    let mut children = Children::new();
    children.spawn({
        let (lock, holding) = (lock.clone(), holding.clone());
        move || {
            let Ok(_held) = lock.acquire_timeout(DEADLINE) else {
                exit_child(code::UNEXPECTED)
            };
            child_check(holding.set().is_ok(), code::UNEXPECTED);
            park_forever()
        }
    });
    holding.wait_timeout(DEADLINE).unwrap();
    children.get(0).kill().unwrap();
    let _ = children.get(0).join_timeout(DEADLINE);

    let guard = lock
        .acquire_timeout(DEADLINE)
        .expect_err("the holder died")
        .into_guard()
        .expect("OwnerDied carries the guard");
    // Held by us now: another process cannot take it until the guard drops.
    let mut children = Children::new();
    children.spawn({
        let lock = lock.clone();
        move || {
            child_check(
                matches!(lock.try_acquire(), Err(LockError::WouldBlock)),
                code::UNEXPECTED,
            )
        }
    });
    children.join_all_ok();
    drop(guard);
    assert!(lock.try_acquire().is_ok());
}

#[test]
fn acquiring_a_lock_the_same_thread_holds_is_an_error_not_a_hang() {
    let lock = Lock::new().unwrap();
    let held = lock.acquire().unwrap();
    assert!(matches!(lock.acquire(), Err(LockError::Deadlock)));
    assert!(matches!(
        lock.acquire_timeout(DEADLINE),
        Err(LockError::Deadlock)
    ));
    assert!(matches!(lock.try_acquire(), Err(LockError::Deadlock)));
    drop(held);
    assert!(lock.try_acquire().is_ok());

    let condition = Condition::new().unwrap();
    let held = condition.acquire().unwrap();
    assert!(matches!(condition.acquire(), Err(LockError::Deadlock)));
    drop(held);

    let value = Value::new(1u8).unwrap();
    let held = value.get_lock().unwrap();
    assert!(matches!(value.get_lock(), Err(LockError::Deadlock)));
    drop(held);

    let array = Array::new(2, 1u8).unwrap();
    let held = array.get_lock().unwrap();
    assert!(matches!(array.get_lock(), Err(LockError::Deadlock)));
    drop(held);
}

#[test]
fn lock_acquire_timeout_gives_up_while_another_process_holds_it() {
    let lock = Lock::new().unwrap();
    let holding = Event::new().unwrap();
    let release = Event::new().unwrap();
    let mut children = Children::new();
    children.spawn({
        let (lock, holding, release) = (lock.clone(), holding.clone(), release.clone());
        move || {
            let Ok(_held) = lock.acquire_timeout(DEADLINE) else {
                exit_child(code::UNEXPECTED)
            };
            child_check(holding.set().is_ok(), code::UNEXPECTED);
            child_check(release.wait_timeout(DEADLINE).is_ok(), code::TIMED_OUT);
        }
    });
    holding.wait_timeout(DEADLINE).unwrap();
    assert!(matches!(
        lock.acquire_timeout(SHORT),
        Err(LockError::Timeout(waited)) if waited == SHORT
    ));
    release.set().unwrap();
    drop(
        lock.acquire_timeout(DEADLINE)
            .expect("free once the child released it"),
    );
    children.join_all_ok();
}

#[test]
fn rlock_can_be_taken_again_by_its_holder_and_excludes_other_processes() {
    let lock = RLock::new().unwrap();
    let outer = lock.acquire().unwrap();
    let middle = lock.acquire().unwrap();
    let inner = lock.try_acquire().unwrap();

    let try_in_child = |lock: &RLock, expect_free: bool| {
        let lock = lock.clone();
        let mut children = Children::new();
        children.spawn(move || {
            let free = lock.try_acquire().is_ok();
            child_check(free == expect_free, code::UNEXPECTED);
        });
        children.join_all_ok();
    };
    try_in_child(&lock, false);
    drop(inner);
    drop(middle);
    try_in_child(&lock, false); // still held once
    drop(outer);
    try_in_child(&lock, true);
}

#[test]
fn rlock_holder_killed_after_an_inner_release_is_still_named() {
    let lock = RLock::new().unwrap();
    let holding = Event::new().unwrap();
    let mut children = Children::new();
    let holder_pid = children.spawn({
        let (lock, holding) = (lock.clone(), holding.clone());
        move || {
            let Ok(_outer) = lock.acquire_timeout(DEADLINE) else {
                exit_child(code::UNEXPECTED)
            };
            let Ok(inner) = lock.acquire_timeout(DEADLINE) else {
                exit_child(code::UNEXPECTED)
            };
            drop(inner); // still held once, by this process
            child_check(holding.set().is_ok(), code::UNEXPECTED);
            park_forever()
        }
    });
    holding.wait_timeout(DEADLINE).unwrap();
    children.get(0).kill().unwrap();
    let _ = children.get(0).join_timeout(DEADLINE);

    let error = lock.acquire_timeout(DEADLINE).expect_err("the holder died");
    assert_eq!(error.dead_owner_pid(), Some(holder_pid));
    drop(error);
    // Recovered at depth one: a single guard frees it.
    drop(lock.try_acquire().expect("free again"));
}

// ---------------------------------------------------------------------------------------------
// Semaphores
// ---------------------------------------------------------------------------------------------

#[test]
fn semaphore_admits_at_most_its_value_of_processes_at_once() {
    const LIMIT: usize = 2;
    const PROCESSES: usize = 5;
    const ROUNDS: usize = 30;
    let semaphore = Semaphore::new(LIMIT).unwrap();
    // [inside now, most inside at once, total entries], changed under the array's lock.
    let stats = Array::new(3, 0u32).unwrap();
    let mut children = Children::new();
    for _ in 0..PROCESSES {
        let (semaphore, stats) = (semaphore.clone(), stats.clone());
        children.spawn(move || {
            for _ in 0..ROUNDS {
                let Ok(_permit) = semaphore.acquire_guard_timeout(DEADLINE) else {
                    exit_child(code::TIMED_OUT)
                };
                {
                    let Ok(mut stats) = stats.get_lock_timeout(DEADLINE) else {
                        exit_child(code::TIMED_OUT)
                    };
                    stats[0] += 1;
                    stats[1] = stats[1].max(stats[0]);
                    stats[2] += 1;
                }
                std::thread::yield_now();
                let Ok(mut stats) = stats.get_lock_timeout(DEADLINE) else {
                    exit_child(code::TIMED_OUT)
                };
                stats[0] -= 1;
            }
        });
    }
    children.join_all_ok();
    let [inside, most, entries] = stats.to_vec()[..] else {
        unreachable!()
    };
    assert_eq!(inside, 0);
    assert!((1..=LIMIT as u32).contains(&most), "{most} inside at once");
    assert_eq!(entries, (PROCESSES * ROUNDS) as u32);
    assert_eq!(semaphore.value(), LIMIT);
}

#[test]
fn semaphore_release_in_one_process_wakes_an_acquire_in_another() {
    let semaphore = Semaphore::new(0).unwrap();
    assert!(matches!(
        semaphore.try_acquire(),
        Err(SemaphoreError::WouldBlock)
    ));
    assert!(matches!(
        semaphore.acquire_timeout(SHORT),
        Err(SemaphoreError::Timeout(waited)) if waited == SHORT
    ));
    let mut children = Children::new();
    children.spawn({
        let semaphore = semaphore.clone();
        move || child_check(semaphore.release().is_ok(), code::UNEXPECTED)
    });
    semaphore.acquire_timeout(DEADLINE).unwrap();
    children.join_all_ok();
    assert_eq!(semaphore.value(), 0);
    // A plain semaphore may be released above its initial value, as in Python.
    semaphore.release().unwrap();
    semaphore.release().unwrap();
    assert_eq!(semaphore.value(), 2);
}

#[test]
fn bounded_semaphore_refuses_release_above_its_initial_value() {
    let semaphore = BoundedSemaphore::new(2).unwrap();
    assert!(matches!(
        semaphore.release(),
        Err(SemaphoreError::OverReleased { limit: 2 })
    ));
    semaphore.acquire().unwrap();
    {
        let _permit = semaphore.try_acquire_guard().unwrap();
        assert_eq!(semaphore.value(), 0);
        assert!(matches!(
            semaphore.try_acquire(),
            Err(SemaphoreError::WouldBlock)
        ));
    }
    assert_eq!(semaphore.value(), 1);
    semaphore.release().unwrap();
    let error = semaphore.release().unwrap_err();
    assert!(matches!(error, SemaphoreError::OverReleased { limit: 2 }));
    assert!(error.to_string().contains("released too many times"));
    assert_eq!(semaphore.value(), 2);
}

// ---------------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------------

/// The a04 shape: a bounded buffer in shared memory (an `Array` of slots and `Value`s for the
/// indices and count) guarded by one `Condition`.
#[derive(Clone)]
struct BoundedBuffer {
    condition: Condition,
    slots: Array<i64>,
    head: Value<usize>,
    count: Value<usize>,
}

impl BoundedBuffer {
    fn new(capacity: usize) -> Self {
        Self {
            condition: Condition::new().unwrap(),
            slots: Array::new(capacity, 0).unwrap(),
            head: Value::new(0).unwrap(),
            count: Value::new(0).unwrap(),
        }
    }

    /// `None` if the deadline passed.
    fn put(&self, item: i64) -> Option<()> {
        let capacity = self.slots.len();
        let held = self.condition.acquire_timeout(DEADLINE).ok()?;
        let (held, waited) = self
            .condition
            .wait_for_timeout(held, DEADLINE, || self.count.load() < capacity)
            .ok()?;
        if waited.timed_out() {
            return None;
        }
        let tail = (self.head.load() + self.count.load()) % capacity;
        self.slots.store(tail, item).ok()?;
        self.count.store(self.count.load() + 1);
        self.condition.notify_all();
        drop(held);
        Some(())
    }

    fn get(&self) -> Option<i64> {
        let held = self.condition.acquire_timeout(DEADLINE).ok()?;
        let (held, waited) = self
            .condition
            .wait_for_timeout(held, DEADLINE, || self.count.load() > 0)
            .ok()?;
        if waited.timed_out() {
            return None;
        }
        let head = self.head.load();
        let item = self.slots.load(head)?;
        self.head.store((head + 1) % self.slots.len());
        self.count.store(self.count.load() - 1);
        self.condition.notify_all();
        drop(held);
        Some(item)
    }
}

#[test]
fn condition_guards_a_bounded_buffer_shared_by_producer_and_consumer_processes() {
    const ITEMS: i64 = 300;
    let buffer = BoundedBuffer::new(4);
    let consumed_sum = Value::new(0i64).unwrap();
    let mut children = Children::new();
    for _ in 0..2 {
        let buffer = buffer.clone();
        children.spawn(move || {
            for item in 1..=ITEMS {
                child_check(buffer.put(item).is_some(), code::TIMED_OUT);
            }
        });
    }
    for _ in 0..2 {
        let (buffer, consumed_sum) = (buffer.clone(), consumed_sum.clone());
        children.spawn(move || {
            for _ in 0..ITEMS {
                let Some(item) = buffer.get() else {
                    exit_child(code::TIMED_OUT)
                };
                let Ok(mut sum) = consumed_sum.get_lock_timeout(DEADLINE) else {
                    exit_child(code::TIMED_OUT)
                };
                *sum += item;
            }
        });
    }
    children.join_all_ok();
    assert_eq!(consumed_sum.load(), 2 * ITEMS * (ITEMS + 1) / 2);
    assert_eq!(buffer.count.load(), 0);
}

#[test]
fn condition_wait_timeout_reports_that_it_timed_out_and_holds_the_lock_again() {
    let condition = Condition::new().unwrap();
    let held = condition.acquire().unwrap();
    let (held, waited) = condition.wait_timeout(held, SHORT).unwrap();
    assert!(waited.timed_out());
    assert!(matches!(condition.try_acquire(), Err(LockError::Deadlock)));
    let (held, waited) = condition.wait_for_timeout(held, SHORT, || false).unwrap();
    assert!(waited.timed_out());
    let (held, waited) = condition.wait_for_timeout(held, SHORT, || true).unwrap();
    assert!(!waited.timed_out());
    drop(held);
    assert!(condition.try_acquire().is_ok());
}

#[test]
fn condition_wait_for_returns_once_another_process_makes_the_predicate_true() {
    let condition = Condition::new().unwrap();
    let ready = Value::new(0u8).unwrap();
    let waiting = Value::new(0u8).unwrap();
    let mut children = Children::new();
    children.spawn({
        let (condition, ready, waiting) = (condition.clone(), ready.clone(), waiting.clone());
        move || {
            let Ok(held) = condition.acquire_timeout(DEADLINE) else {
                exit_child(code::TIMED_OUT)
            };
            waiting.store(1);
            let Ok((_held, waited)) =
                condition.wait_for_timeout(held, DEADLINE, || ready.load() == 1)
            else {
                exit_child(code::UNEXPECTED)
            };
            child_check(!waited.timed_out(), code::TIMED_OUT);
        }
    });
    assert!(eventually(|| waiting.load() == 1));
    // Notifications that do not make the predicate true leave the child waiting.
    condition.notify_all();
    {
        let _held = condition.acquire_timeout(DEADLINE).unwrap();
        ready.store(1);
        condition.notify();
    }
    children.join_all_ok();
}

/// Starts `WAITERS` processes that each wait once (no predicate loop) and exit 0 only if
/// they were woken rather than timed out; `wake` must wake them all.
fn every_waiting_process_is_woken_by(wake: impl FnOnce(&Condition)) {
    const WAITERS: usize = 3;
    let condition = Condition::new().unwrap();
    let waiting = Value::new(0usize).unwrap();
    let mut children = Children::new();
    for _ in 0..WAITERS {
        let (condition, waiting) = (condition.clone(), waiting.clone());
        children.spawn(move || {
            let Ok(held) = condition.acquire_timeout(DEADLINE) else {
                exit_child(code::TIMED_OUT)
            };
            waiting.store(waiting.load() + 1); // under the condition's lock
            let Ok((_held, waited)) = condition.wait_timeout(held, DEADLINE) else {
                exit_child(code::UNEXPECTED)
            };
            child_check(!waited.timed_out(), code::TIMED_OUT);
        });
    }
    assert!(eventually(|| waiting.load() == WAITERS));
    // Each waiter counted itself under the lock and releases it only inside `wait`, so once we
    // hold the lock every one of them is waiting.
    let held = condition.acquire_timeout(DEADLINE).unwrap();
    wake(&condition);
    drop(held);
    children.join_all_ok();
}

#[test]
fn condition_notify_all_wakes_every_waiting_process() {
    every_waiting_process_is_woken_by(Condition::notify_all);
}

#[test]
fn condition_notify_n_wakes_n_waiting_processes() {
    every_waiting_process_is_woken_by(|condition| condition.notify_n(3));
}

#[test]
fn condition_wait_reports_a_lock_holder_that_died_while_this_process_waited() {
    let condition = Condition::new().unwrap();
    let holding = Event::new().unwrap();
    let held = condition.acquire().unwrap();
    let mut children = Children::new();
    // The holder can only take the lock once we wait; it notifies us, then dies holding it.
    let holder_pid = children.spawn({
        let (condition, holding) = (condition.clone(), holding.clone());
        move || {
            let Ok(_held) = condition.acquire_timeout(DEADLINE) else {
                exit_child(code::TIMED_OUT)
            };
            condition.notify();
            child_check(holding.set().is_ok(), code::UNEXPECTED);
            park_forever()
        }
    });
    children.spawn({
        let holding = holding.clone();
        move || {
            child_check(holding.wait_timeout(DEADLINE).is_ok(), code::TIMED_OUT);
            let holder = nix::unistd::Pid::from_raw(holder_pid as i32);
            child_check(
                nix::sys::signal::kill(holder, Signal::SIGKILL).is_ok(),
                code::UNEXPECTED,
            );
        }
    });
    match condition.wait_timeout(held, DEADLINE) {
        Err(LockError::OwnerDied(died)) => {
            assert_eq!(died.pid, holder_pid);
            drop(died.into_guard());
        }
        other => panic!("expected OwnerDied, got {other:?}"),
    }
    assert!(matches!(
        children.get(0).join_timeout(DEADLINE),
        Err(ProcessError::Signaled { .. })
    ));
    assert!(children.get(1).join_timeout(DEADLINE).is_ok());
    assert!(condition.try_acquire().is_ok());
}

#[test]
fn condition_can_share_an_existing_lock() {
    let lock = Lock::new().unwrap();
    let condition = Condition::with_lock(lock.clone()).unwrap();
    let held = lock.acquire().unwrap();
    assert!(matches!(condition.try_acquire(), Err(LockError::Deadlock)));
    let (held, waited) = condition.wait_timeout(held, SHORT).unwrap();
    assert!(waited.timed_out());
    drop(held);
    assert!(condition.try_acquire().is_ok());
}

#[test]
#[should_panic(expected = "guard of a different lock")]
fn condition_wait_with_another_locks_guard_panics() {
    let condition = Condition::new().unwrap();
    let other = Lock::new().unwrap();
    let held = other.acquire().unwrap();
    let _ = condition.wait_timeout(held, SHORT);
}

// ---------------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------------

#[test]
fn event_set_in_one_process_releases_waiters_in_others() {
    let event = Event::new().unwrap();
    let woke = Array::new(2, 0u8).unwrap();
    let mut children = Children::new();
    for id in 0..2 {
        let (event, woke) = (event.clone(), woke.clone());
        children.spawn(move || {
            child_check(event.wait_timeout(DEADLINE).is_ok(), code::TIMED_OUT);
            child_check(woke.store(id, 1).is_ok(), code::UNEXPECTED);
        });
    }
    assert!(!event.is_set());
    assert_eq!(woke.to_vec(), [0, 0]);
    event.set().unwrap();
    children.join_all_ok();
    assert_eq!(woke.to_vec(), [1, 1]);
}

#[test]
fn event_wait_timeout_times_out_until_set_and_clear_resets_it() {
    let event = Event::new().unwrap();
    assert!(matches!(
        event.wait_timeout(SHORT),
        Err(EventError::Timeout(waited)) if waited == SHORT
    ));
    event.set().unwrap();
    assert!(event.is_set());
    event.wait_timeout(Duration::ZERO).unwrap();
    event.wait().unwrap();
    event.clear().unwrap();
    assert!(!event.is_set());
    assert!(event.wait_timeout(SHORT).is_err());

    let mut children = Children::new();
    children.spawn({
        let event = event.clone();
        move || child_check(event.set().is_ok(), code::UNEXPECTED)
    });
    event.wait_timeout(DEADLINE).unwrap();
    children.join_all_ok();
}

// ---------------------------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------------------------

#[test]
fn barrier_holds_three_processes_until_all_arrive_each_round() {
    const PARTIES: usize = 3;
    const ROUNDS: u32 = 5;
    let barrier = Barrier::new(PARTIES).unwrap();
    let progress = Array::new(PARTIES, 0u32).unwrap();
    let leaders = Value::new(0u32).unwrap();
    let mut children = Children::new();
    for id in 0..PARTIES {
        let (barrier, progress, leaders) = (barrier.clone(), progress.clone(), leaders.clone());
        children.spawn(move || {
            for round in 1..=ROUNDS {
                child_check(progress.store(id, round).is_ok(), code::UNEXPECTED);
                let Ok(passed) = barrier.wait_timeout(DEADLINE) else {
                    exit_child(code::TIMED_OUT)
                };
                // Everyone reached this round before anyone passed the barrier.
                child_check(
                    progress.to_vec().iter().all(|&r| r >= round),
                    code::UNEXPECTED,
                );
                child_check(passed.index() < PARTIES, code::UNEXPECTED);
                if passed.is_leader() {
                    let Ok(mut leaders) = leaders.get_lock_timeout(DEADLINE) else {
                        exit_child(code::TIMED_OUT)
                    };
                    *leaders += 1;
                }
            }
        });
    }
    children.join_all_ok();
    assert_eq!(leaders.load(), ROUNDS, "one leader per round");
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[test]
fn barrier_abort_breaks_it_for_waiting_and_later_parties() {
    let barrier = Barrier::new(3).unwrap();
    assert_eq!(barrier.parties(), 3);
    let mut children = Children::new();
    for _ in 0..2 {
        let barrier = barrier.clone();
        children.spawn(move || {
            child_check(
                matches!(barrier.wait_timeout(DEADLINE), Err(BarrierError::Broken)),
                code::UNEXPECTED,
            );
        });
    }
    assert!(eventually(|| barrier.n_waiting() == 2));
    barrier.abort().unwrap();
    children.join_all_ok();
    assert!(barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
    assert!(matches!(barrier.wait(), Err(BarrierError::Broken)));
}

#[test]
fn barrier_wait_timeout_breaks_the_barrier_for_the_others() {
    let barrier = Barrier::new(3).unwrap();
    let mut children = Children::new();
    children.spawn({
        let barrier = barrier.clone();
        move || {
            child_check(
                matches!(barrier.wait_timeout(DEADLINE), Err(BarrierError::Broken)),
                code::UNEXPECTED,
            );
        }
    });
    assert!(eventually(|| barrier.n_waiting() == 1));
    assert!(matches!(
        barrier.wait_timeout(SHORT),
        Err(BarrierError::Timeout(waited)) if waited == SHORT
    ));
    children.join_all_ok();
    assert!(barrier.broken());
    assert!(matches!(
        barrier.wait_timeout(DEADLINE),
        Err(BarrierError::Broken)
    ));
}

#[test]
fn barrier_of_one_party_never_waits_and_zero_parties_is_an_error() {
    let barrier = Barrier::new(1).unwrap();
    let passed = barrier.wait().unwrap();
    assert!(passed.is_leader());
    assert_eq!(passed.index(), 0);
    assert!(matches!(Barrier::new(0), Err(CreateError::NoParties)));
}
