//! `Pool` with real worker processes: results, callbacks, chunking, failures of every kind
//! (panics, exits, SIGKILL, a dead fork server), shutdown, and that no process is left.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use multiprocessing::{ExitStatus, Pool, PoolError, Signal};
use serde::{Deserialize, Serialize, Serializer};

const DEADLINE: Duration = Duration::from_secs(30);

fn sum_all_values(x: u64) -> u64 {
    let mut total = 0;
    for i in 1..=x {
        total += i;
    }
    total
}

fn square(x: u64) -> u64 {
    x * x
}

fn add(x: i64, y: i64) -> i64 {
    x + y
}

fn my_pid(_: ()) -> u32 {
    std::process::id()
}

fn panics(message: String) -> u32 {
    panic!("{message}")
}

fn panics_on_odd(x: u64) -> u64 {
    assert!(x % 2 == 0, "odd input {x}");
    x
}

fn exits(code: i32) -> u32 {
    std::process::exit(code)
}

fn aborts(_: ()) -> u32 {
    std::process::abort()
}

fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// Writes this worker's pid to `path`, then runs "forever" (until killed).
fn report_pid_then_sleep(path: String) -> u32 {
    let _ = std::fs::write(&path, std::process::id().to_string());
    std::thread::sleep(Duration::from_secs(120));
    std::process::id()
}

/// A result whose `Serialize` always fails.
#[derive(Debug, Deserialize)]
struct Unserialisable;

impl Serialize for Unserialisable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be serialised",
        ))
    }
}

fn unserialisable(_: ()) -> Unserialisable {
    Unserialisable
}

fn is_gone(pid: u32) -> bool {
    // A zombie still has a /proc entry; a reaped process has none.
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Every process of the pool: the fork server and the workers.
fn pool_pids(pool: &Pool) -> Vec<u32> {
    let mut pids = pool.worker_pids();
    pids.push(pool.fork_server_pid());
    pids
}

fn join_with_deadline(pool: &Pool) {
    pool.close();
    pool.join_timeout(DEADLINE).expect("pool finished");
}

#[test]
fn a_pool_of_zero_workers_is_an_error() {
    assert!(matches!(Pool::new(0), Err(PoolError::NoWorkers)));
}

#[test]
fn apply_runs_the_function_in_a_worker_process() {
    let pool = Pool::new(2).unwrap();
    let pid = pool.apply(my_pid, ()).unwrap();
    assert_ne!(pid, std::process::id());
    assert!(pool.worker_pids().contains(&pid));
    assert_eq!(pool.apply(sum_all_values, 10_000).unwrap(), 50_005_000);
    join_with_deadline(&pool);
}

#[test]
fn apply_async_results_come_back_to_their_own_handles() {
    let pool = Pool::new(2).unwrap();
    let results: Vec<_> = (10_000..10_010)
        .map(|x| pool.apply_async(sum_all_values, x).unwrap())
        .collect();
    let output: Vec<u64> = results
        .into_iter()
        .map(|r| r.get_timeout(DEADLINE).unwrap())
        .collect();
    let expected: Vec<u64> = (10_000..10_010).map(sum_all_values).collect();
    assert_eq!(output, expected);
    join_with_deadline(&pool);
}

#[test]
fn async_result_reports_ready_and_successful() {
    let pool = Pool::new(1).unwrap();
    let slow = pool.apply_async(sleep_ms, 300).unwrap();
    assert!(!slow.ready());
    assert_eq!(slow.successful(), None);
    assert!(slow.wait_timeout(DEADLINE));
    assert!(slow.ready());
    assert_eq!(slow.successful(), Some(true));
    let failed = pool.apply_async(panics, "no".to_owned()).unwrap();
    failed.wait();
    assert_eq!(failed.successful(), Some(false));
    join_with_deadline(&pool);
}

#[test]
fn get_timeout_expires_with_a_typed_error() {
    let pool = Pool::new(1).unwrap();
    let slow = pool.apply_async(sleep_ms, 5_000).unwrap();
    let started = Instant::now();
    match slow.get_timeout(Duration::from_millis(50)) {
        Err(PoolError::Timeout { waited }) => assert_eq!(waited, Duration::from_millis(50)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < DEADLINE);
    pool.terminate();
}

#[test]
fn map_equals_the_sequential_map_at_every_chunksize() {
    let pool = Pool::new(2).unwrap();
    let items: Vec<u64> = (0..1_000).collect();
    let expected: Vec<u64> = items.iter().copied().map(square).collect();
    assert_eq!(pool.map(square, items.clone()).unwrap(), expected);
    for chunksize in [1, 3, 7, 64, 1_000, 5_000] {
        assert_eq!(
            pool.map_chunked(square, items.clone(), chunksize).unwrap(),
            expected,
            "chunksize {chunksize}"
        );
    }
    let empty: Vec<u64> = pool.map(square, Vec::<u64>::new()).unwrap();
    assert!(empty.is_empty());
    join_with_deadline(&pool);
}

#[test]
fn map_async_and_starmap() {
    let pool = Pool::new(2).unwrap();
    let pending = pool.map_async(square, 0..10).unwrap();
    assert_eq!(
        pending.get_timeout(DEADLINE).unwrap(),
        (0..10).map(square).collect::<Vec<_>>()
    );
    let pairs: Vec<(i64, i64)> = (0..100).map(|i| (i, 2 * i)).collect();
    let expected: Vec<i64> = pairs.iter().map(|&(a, b)| a + b).collect();
    assert_eq!(pool.starmap(add, pairs.clone()).unwrap(), expected);
    assert_eq!(
        pool.starmap_chunked(add, pairs.clone(), 1).unwrap(),
        expected
    );
    assert_eq!(
        pool.starmap_async(add, pairs)
            .unwrap()
            .get_timeout(DEADLINE)
            .unwrap(),
        expected
    );
    join_with_deadline(&pool);
}

#[test]
fn closures_that_capture_nothing_are_tasks_too() {
    let pool = Pool::new(2).unwrap();
    assert_eq!(pool.map(|x: u32| x + 1, [1, 2, 3]).unwrap(), [2, 3, 4]);
    join_with_deadline(&pool);
}

#[test]
fn imap_keeps_input_order_at_every_chunksize() {
    let pool = Pool::new(2).unwrap();
    // Early items take longer, so they finish last: order must still be the input's.
    let delays: Vec<u64> = (0..20).rev().collect();
    for chunksize in [1, 3, 20] {
        let mut iter = pool
            .imap_chunked(sleep_ms, delays.clone(), chunksize)
            .unwrap();
        let mut out = Vec::new();
        while let Some(item) = iter.next_timeout(DEADLINE) {
            out.push(item.unwrap());
        }
        assert_eq!(out, delays, "chunksize {chunksize}");
    }
    join_with_deadline(&pool);
}

#[test]
fn imap_unordered_yields_every_result_exactly_once() {
    let pool = Pool::new(2).unwrap();
    for chunksize in [1, 4, 100] {
        let mut iter = pool
            .imap_unordered_chunked(square, 0..200u64, chunksize)
            .unwrap();
        let mut seen = Vec::new();
        while let Some(item) = iter.next_timeout(DEADLINE) {
            seen.push(item.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..200).map(square).collect::<Vec<_>>(),
            "chunksize {chunksize}"
        );
    }
    join_with_deadline(&pool);
}

#[test]
fn imap_unordered_yields_in_completion_order() {
    let pool = Pool::new(2).unwrap();
    let mut iter = pool.imap_unordered(sleep_ms, [600, 10]).unwrap();
    assert_eq!(iter.next_timeout(DEADLINE).unwrap().unwrap(), 10);
    assert_eq!(iter.next_timeout(DEADLINE).unwrap().unwrap(), 600);
    assert!(iter.next_timeout(DEADLINE).is_none());
    join_with_deadline(&pool);
}

#[test]
fn callbacks_run_exactly_once_per_task_in_the_parent() {
    let pool = Pool::new(2).unwrap();
    let parent = std::process::id();
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let wrong_place = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    for x in 0..200u64 {
        let (ok, failed, wrong_place, wrong_place2, results) = (
            Arc::clone(&ok),
            Arc::clone(&failed),
            Arc::clone(&wrong_place),
            Arc::clone(&wrong_place),
            Arc::clone(&results),
        );
        pool.apply_async_callbacks(
            panics_on_odd,
            x,
            move |value| {
                if std::process::id() != parent
                    || std::thread::current().name() != Some("pool-results")
                {
                    wrong_place.fetch_add(1, Ordering::SeqCst);
                }
                ok.fetch_add(1, Ordering::SeqCst);
                results.lock().unwrap().push(value);
            },
            move |error| {
                if std::process::id() != parent || !matches!(error, PoolError::TaskPanicked { .. })
                {
                    wrong_place2.fetch_add(1, Ordering::SeqCst);
                }
                failed.fetch_add(1, Ordering::SeqCst);
            },
        )
        .unwrap();
    }
    join_with_deadline(&pool);
    assert_eq!(ok.load(Ordering::SeqCst), 100);
    assert_eq!(failed.load(Ordering::SeqCst), 100);
    assert_eq!(wrong_place.load(Ordering::SeqCst), 0);
    let mut results = results.lock().unwrap().clone();
    results.sort_unstable();
    assert_eq!(results, (0..200).filter(|x| x % 2 == 0).collect::<Vec<_>>());
}

#[test]
fn a_scope_lets_callbacks_borrow_the_callers_list() {
    let pool = Pool::new(2).unwrap();
    let result_list = Mutex::new(Vec::new());
    let errors = AtomicUsize::new(0);
    pool.scope(|s| {
        for i in 1_000..1_050u64 {
            s.apply_async_callbacks(
                sum_all_values,
                i,
                |result| result_list.lock().unwrap().push(result),
                |_| {
                    errors.fetch_add(1, Ordering::SeqCst);
                },
            )
            .unwrap();
        }
    })
    .unwrap();
    // The scope has waited: every callback has already run.
    let mut result_list = result_list.into_inner().unwrap();
    result_list.sort_unstable();
    assert_eq!(
        result_list,
        (1_000..1_050).map(sum_all_values).collect::<Vec<_>>()
    );
    assert_eq!(errors.load(Ordering::SeqCst), 0);
    join_with_deadline(&pool);
}

#[test]
fn jobs_can_be_added_while_others_run() {
    let pool = Pool::new(2).unwrap();
    let result_list = Arc::new(Mutex::new(Vec::new()));
    for x in [200_000u64, 200_001, 200_002, 200_003] {
        let result_list = Arc::clone(&result_list);
        pool.apply_async_callback(sum_all_values, x, move |r| {
            result_list.lock().unwrap().push(r)
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    join_with_deadline(&pool);
    let mut got = result_list.lock().unwrap().clone();
    got.sort_unstable();
    assert_eq!(
        got,
        [200_000u64, 200_001, 200_002, 200_003].map(sum_all_values)
    );
}

#[test]
fn a_panicking_task_fails_with_its_message_and_its_worker_survives() {
    let pool = Pool::new(1).unwrap();
    let workers_before = pool.worker_pids();
    let error_seen = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&error_seen);
    let handle = pool
        .apply_async_callbacks(
            panics,
            "the task blew up".to_owned(),
            |_| {},
            move |error| *seen.lock().unwrap() = Some(error),
        )
        .unwrap();
    match handle.get_timeout(DEADLINE) {
        Err(PoolError::TaskPanicked { message, location }) => {
            assert_eq!(message, "the task blew up");
            assert!(location.is_some_and(|l| l.contains("pool.rs")));
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert!(matches!(
        *error_seen.lock().unwrap(),
        Some(PoolError::TaskPanicked { .. })
    ));
    // Same worker, still working.
    assert_eq!(pool.apply(square, 7).unwrap(), 49);
    assert_eq!(pool.worker_pids(), workers_before);
    join_with_deadline(&pool);
}

#[test]
fn exit_in_a_task_fails_only_that_task_and_the_worker_is_replaced() {
    let pool = Pool::new(2).unwrap();
    let before: HashSet<u32> = pool.worker_pids().into_iter().collect();
    let others: Vec<_> = (0..20u64)
        .map(|x| pool.apply_async(sleep_ms, x).unwrap())
        .collect();
    let doomed = pool.apply_async(exits, 7).unwrap();
    let more: Vec<_> = (0..20u64)
        .map(|x| pool.apply_async(square, x).unwrap())
        .collect();
    match doomed.get_timeout(DEADLINE) {
        Err(PoolError::WorkerDied { pid, status }) => {
            assert_eq!(status, ExitStatus::Exited(7));
            assert!(before.contains(&pid), "pid {pid} was one of the workers");
            assert!(eventually(|| is_gone(pid)), "the dead worker was reaped");
        }
        other => panic!("expected a worker death, got {other:?}"),
    }
    for (x, r) in others.into_iter().enumerate() {
        assert_eq!(r.get_timeout(DEADLINE).unwrap(), x as u64);
    }
    for (x, r) in more.into_iter().enumerate() {
        assert_eq!(r.get_timeout(DEADLINE).unwrap(), square(x as u64));
    }
    assert!(eventually(|| pool.worker_pids().len() == 2));
    assert_ne!(
        pool.worker_pids().into_iter().collect::<HashSet<_>>(),
        before
    );
    join_with_deadline(&pool);
}

#[test]
fn abort_in_a_task_is_reported_as_sigabrt() {
    let pool = Pool::new(1).unwrap();
    match pool.apply_async(aborts, ()).unwrap().get_timeout(DEADLINE) {
        Err(PoolError::WorkerDied { status, .. }) => {
            assert_eq!(status, ExitStatus::Signaled(Signal::SIGABRT));
        }
        other => panic!("expected a worker death, got {other:?}"),
    }
    // The replacement takes the next task.
    assert_eq!(pool.apply(square, 3).unwrap(), 9);
    join_with_deadline(&pool);
}

#[test]
fn kill_9_mid_task_fails_that_task_naming_pid_and_signal_and_the_rest_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pid");
    let pool = Pool::new(2).unwrap();
    let long = pool
        .apply_async(report_pid_then_sleep, path.to_string_lossy().into_owned())
        .unwrap();
    let rest: Vec<_> = (0..50u64)
        .map(|x| pool.apply_async(sum_all_values, x).unwrap())
        .collect();
    let mut victim = 0u32;
    assert!(eventually(|| {
        victim = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        victim != 0
    }));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim as i32), Signal::SIGKILL).unwrap();
    match long.get_timeout(DEADLINE) {
        Err(PoolError::WorkerDied { pid, status }) => {
            assert_eq!(pid, victim);
            assert_eq!(status, ExitStatus::Signaled(Signal::SIGKILL));
            let message = PoolError::WorkerDied { pid, status }.to_string();
            assert!(message.contains(&victim.to_string()) && message.contains("SIGKILL"));
        }
        other => panic!("expected a worker death, got {other:?}"),
    }
    for (x, r) in rest.into_iter().enumerate() {
        assert_eq!(r.get_timeout(DEADLINE).unwrap(), sum_all_values(x as u64));
    }
    assert!(!pool.worker_pids().contains(&victim));
    join_with_deadline(&pool);
}

#[test]
fn a_killed_fork_server_breaks_the_pool_without_hanging() {
    let pool = Pool::new(2).unwrap();
    let pids = pool_pids(&pool);
    let slow: Vec<_> = (0..4)
        .map(|_| pool.apply_async(sleep_ms, 60_000).unwrap())
        .collect();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pool.fork_server_pid() as i32),
        Signal::SIGKILL,
    )
    .unwrap();
    for r in slow {
        assert!(matches!(
            r.get_timeout(DEADLINE),
            Err(PoolError::ForkServerDied { .. })
        ));
    }
    assert!(matches!(
        pool.apply_async(square, 1),
        Err(PoolError::ForkServerDied { .. })
    ));
    drop(pool);
    // The workers die with their server (PR_SET_PDEATHSIG); nobody else reaps them here,
    // so they may linger as zombies of init for a moment.
    for pid in pids {
        assert!(eventually(|| is_gone(pid)), "process {pid} remains");
    }
}

#[test]
fn submitting_after_close_is_an_error() {
    let pool = Pool::new(1).unwrap();
    pool.close();
    assert!(matches!(
        pool.apply_async(square, 2),
        Err(PoolError::Closed)
    ));
    assert!(matches!(pool.map(square, [1, 2]), Err(PoolError::Closed)));
    assert!(matches!(pool.imap(square, [1, 2]), Err(PoolError::Closed)));
    pool.join_timeout(DEADLINE).unwrap();
    assert!(matches!(pool.apply(square, 2), Err(PoolError::Closed)));
}

#[test]
fn join_before_close_is_an_error() {
    let pool = Pool::new(1).unwrap();
    assert!(matches!(pool.join(), Err(PoolError::StillRunning)));
    join_with_deadline(&pool);
}

#[test]
fn zero_chunksize_is_an_error() {
    let pool = Pool::new(1).unwrap();
    assert!(matches!(
        pool.map_chunked(square, [1, 2], 0),
        Err(PoolError::ZeroChunksize)
    ));
    assert!(matches!(
        pool.imap_unordered_chunked(square, [1, 2], 0),
        Err(PoolError::ZeroChunksize)
    ));
    join_with_deadline(&pool);
}

#[test]
fn a_result_that_cannot_be_serialised_fails_that_task() {
    let pool = Pool::new(1).unwrap();
    match pool.apply(unserialisable, ()) {
        // postcard keeps only the kind of a custom serde error, not its text.
        Err(PoolError::ResultEncode { message }) => assert!(message.contains("Serialization")),
        other => panic!("expected a serialisation error, got {other:?}"),
    }
    assert_eq!(pool.apply(square, 4).unwrap(), 16);
    join_with_deadline(&pool);
}

#[test]
fn an_argument_that_cannot_be_serialised_is_refused_at_submission() {
    fn takes_anything(_: Unserialisable) -> u8 {
        0
    }
    let pool = Pool::new(1).unwrap();
    assert!(matches!(
        pool.apply_async(takes_anything, Unserialisable),
        Err(PoolError::ArgumentEncode { .. })
    ));
    join_with_deadline(&pool);
}

#[test]
fn map_fails_when_one_item_fails() {
    let pool = Pool::new(2).unwrap();
    match pool.map_chunked(panics_on_odd, [0, 2, 4, 5, 6], 2) {
        Err(PoolError::TaskPanicked { message, .. }) => assert_eq!(message, "odd input 5"),
        other => panic!("expected the panic, got {other:?}"),
    }
    let items: Vec<_> = pool
        .imap_chunked(panics_on_odd, [0, 2, 3, 4], 2)
        .unwrap()
        .collect();
    assert_eq!(items.len(), 4);
    assert!(matches!(items[0], Ok(0)));
    assert!(matches!(items[1], Ok(2)));
    assert!(matches!(items[2], Err(PoolError::TaskPanicked { .. })));
    assert!(matches!(items[3], Err(PoolError::TaskPanicked { .. })));
    join_with_deadline(&pool);
}

#[test]
fn waiting_on_the_pool_inside_its_callback_is_refused_not_deadlocked() {
    let pool = Pool::new(1).unwrap();
    let inner = Mutex::new(None);
    pool.scope(|s| {
        s.apply_async_callback(square, 2, |_| {
            *inner.lock().unwrap() = Some(pool.apply(square, 3));
        })
        .unwrap();
    })
    .unwrap();
    assert!(matches!(
        inner.into_inner().unwrap(),
        Some(Err(PoolError::WouldDeadlock))
    ));
    join_with_deadline(&pool);
}

#[test]
fn a_panicking_callback_is_reported_by_join() {
    let pool = Pool::new(1).unwrap();
    let handle = pool
        .apply_async_callback(square, 2, |_| panic!("callback failed"))
        .unwrap();
    assert!(matches!(
        handle.get_timeout(DEADLINE),
        Err(PoolError::CallbackPanicked { .. })
    ));
    // The result thread survived it.
    assert_eq!(pool.apply(square, 5).unwrap(), 25);
    pool.close();
    match pool.join_timeout(DEADLINE) {
        Err(PoolError::CallbackPanicked { message }) => assert_eq!(message, "callback failed"),
        other => panic!("expected the callback's panic, got {other:?}"),
    }
}

#[test]
fn terminate_fails_unfinished_tasks_and_fires_their_error_callbacks() {
    let pool = Pool::new(2).unwrap();
    let pids = pool_pids(&pool);
    let errors = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let errors = Arc::clone(&errors);
            pool.apply_async_callbacks(
                sleep_ms,
                60_000,
                |_| {},
                move |error| {
                    if matches!(error, PoolError::Terminated) {
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                },
            )
            .unwrap()
        })
        .collect();
    let started = Instant::now();
    pool.terminate();
    assert!(started.elapsed() < DEADLINE);
    for handle in handles {
        assert!(matches!(
            handle.get_timeout(DEADLINE),
            Err(PoolError::Terminated)
        ));
    }
    assert_eq!(errors.load(Ordering::SeqCst), 6);
    for pid in pids {
        assert!(is_gone(pid), "process {pid} remains after terminate");
    }
    pool.join_timeout(DEADLINE).unwrap();
}

#[test]
fn no_process_remains_after_join() {
    let pool = Pool::new(3).unwrap();
    let pids = pool_pids(&pool);
    assert_eq!(pids.len(), 4);
    assert_eq!(pool.map(square, 0..100).unwrap().len(), 100);
    join_with_deadline(&pool);
    for pid in pids {
        assert!(is_gone(pid), "process {pid} remains after join");
    }
    assert!(pool.worker_pids().is_empty());
}

#[test]
fn no_process_remains_after_drop() {
    let pool = Pool::new(2).unwrap();
    let pids = pool_pids(&pool);
    let _running = pool.apply_async(sleep_ms, 60_000).unwrap();
    drop(pool);
    for pid in pids {
        assert!(is_gone(pid), "process {pid} remains after drop");
    }
}

#[test]
fn workers_do_not_hold_the_parents_pipes_open() {
    use std::io::Read;
    let (mut reader, writer) = std::io::pipe().unwrap();
    let pool = Pool::new(1).unwrap();
    drop(writer);
    // Had the fork server or a worker kept a copy of the write end, this would block.
    let mut buf = Vec::new();
    assert_eq!(reader.read_to_end(&mut buf).unwrap(), 0);
    join_with_deadline(&pool);
}

#[test]
fn a_pool_can_be_shared_by_threads() {
    let pool = Arc::new(Pool::new(2).unwrap());
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.map(square, t * 100..(t + 1) * 100).unwrap())
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..400).map(square).collect::<Vec<_>>());
    join_with_deadline(&pool);
}

#[test]
fn a_pool_is_refused_in_a_forked_child() {
    let pool = Arc::new(Pool::new(1).unwrap());
    let mut child = multiprocessing::Process::new({
        let pool = Arc::clone(&pool);
        move || {
            let refused = matches!(pool.apply(square, 2), Err(PoolError::NotOwner { .. }))
                && matches!(pool.join(), Err(PoolError::NotOwner { .. }));
            std::process::exit(if refused { 0 } else { 9 });
        }
    });
    child.start().unwrap();
    let outcome = child.join_timeout(DEADLINE);
    let _ = child.kill();
    outcome.expect("the child's copy of the pool refused to work");
    // The parent's pool is unaffected.
    assert_eq!(pool.apply(square, 3).unwrap(), 9);
    join_with_deadline(&pool);
}

#[test]
fn a_pool_whose_owner_exits_without_cleanup_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pids");
    let mut child = multiprocessing::Process::new({
        let path = path.clone();
        move || {
            let Ok(pool) = Pool::new(2) else {
                std::process::exit(9);
            };
            let pids: Vec<String> = pool_pids(&pool).iter().map(u32::to_string).collect();
            let _ = std::fs::write(&path, pids.join(" "));
            // Leaves without dropping the pool: its processes must notice on their own.
            std::process::exit(0);
        }
    });
    child.start().unwrap();
    let outcome = child.join_timeout(DEADLINE);
    let _ = child.kill();
    outcome.expect("the child made a pool");
    let pids: Vec<u32> = std::fs::read_to_string(&path)
        .unwrap()
        .split_whitespace()
        .map(|pid| pid.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3);
    for pid in pids {
        assert!(
            eventually(|| is_gone(pid)),
            "process {pid} outlived its pool's owner"
        );
    }
}

fn reversed(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.reverse();
    bytes
}

#[test]
fn large_arguments_and_results_cross_intact() {
    let pool = Pool::new(2).unwrap();
    let big: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut expected = big.clone();
    expected.reverse();
    let pending: Vec<_> = (0..3)
        .map(|_| pool.apply_async(reversed, big.clone()).unwrap())
        .collect();
    for result in pending {
        assert_eq!(result.get_timeout(DEADLINE).unwrap(), expected);
    }
    join_with_deadline(&pool);
}
