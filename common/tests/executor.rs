//! `ProcessPoolExecutor`: submit, futures, `as_completed` order, errors, shutdown.

use std::time::{Duration, Instant};

use multiprocessing::{ExitStatus, PoolError, ProcessPoolExecutor, as_completed};

const DEADLINE: Duration = Duration::from_secs(30);

fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn square(x: u64) -> u64 {
    x * x
}

fn fails_on(x: u64) -> u64 {
    assert!(x != 3, "three is not allowed");
    x
}

fn exits(code: i32) -> u64 {
    std::process::exit(code)
}

fn is_gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn an_executor_of_zero_workers_is_an_error() {
    assert!(matches!(
        ProcessPoolExecutor::new(0),
        Err(PoolError::NoWorkers)
    ));
}

#[test]
fn submit_returns_futures_with_results() {
    let executor = ProcessPoolExecutor::new(2).unwrap();
    let futures: Vec<_> = (0..10)
        .map(|x| executor.submit(square, x).unwrap())
        .collect();
    let ids: std::collections::HashSet<u64> = futures.iter().map(|f| f.id()).collect();
    assert_eq!(ids.len(), 10);
    for (x, future) in futures.into_iter().enumerate() {
        assert_eq!(future.result_timeout(DEADLINE).unwrap(), square(x as u64));
    }
    executor.shutdown(true).unwrap();
}

#[test]
fn as_completed_yields_futures_in_completion_order() {
    let executor = ProcessPoolExecutor::new(3).unwrap();
    // Submitted slowest first; they finish fastest first.
    let delays = [900, 450, 10];
    let futures: Vec<_> = delays
        .iter()
        .map(|&ms| executor.submit(sleep_ms, ms).unwrap())
        .collect();
    let mut order = Vec::new();
    let mut completed = as_completed(futures);
    while let Some(future) = completed.next_timeout(DEADLINE) {
        let future = future.unwrap();
        assert!(future.done());
        order.push(future.result().unwrap());
    }
    assert_eq!(order, [10, 450, 900]);
    executor.shutdown(true).unwrap();
}

#[test]
fn as_completed_yields_every_future_once_with_errors_propagated() {
    let executor = ProcessPoolExecutor::new(2).unwrap();
    let futures: Vec<_> = (0..8)
        .map(|x| executor.submit(fails_on, x).unwrap())
        .collect();
    let mut values = Vec::new();
    let mut errors = Vec::new();
    let mut completed = as_completed(futures);
    while let Some(future) = completed.next_timeout(DEADLINE) {
        match future.unwrap().result() {
            Ok(value) => values.push(value),
            Err(error) => errors.push(error),
        }
    }
    values.sort_unstable();
    assert_eq!(values, [0, 1, 2, 4, 5, 6, 7]);
    assert_eq!(errors.len(), 1);
    match &errors[0] {
        PoolError::TaskPanicked { message, .. } => assert_eq!(message, "three is not allowed"),
        other => panic!("expected the task's panic, got {other:?}"),
    }
    executor.shutdown(true).unwrap();
}

#[test]
fn a_dead_worker_fails_only_its_future_not_the_executor() {
    let executor = ProcessPoolExecutor::new(2).unwrap();
    let doomed = executor.submit(exits, 3).unwrap();
    let fine: Vec<_> = (0..10)
        .map(|x| executor.submit(square, x).unwrap())
        .collect();
    assert!(matches!(
        doomed.result_timeout(DEADLINE),
        Err(PoolError::WorkerDied {
            status: ExitStatus::Exited(3),
            ..
        })
    ));
    for (x, future) in fine.into_iter().enumerate() {
        assert_eq!(future.result_timeout(DEADLINE).unwrap(), square(x as u64));
    }
    // Still usable afterwards (Python's executor would be broken here).
    assert_eq!(
        executor
            .submit(square, 9)
            .unwrap()
            .result_timeout(DEADLINE)
            .unwrap(),
        81
    );
    executor.shutdown(true).unwrap();
}

#[test]
fn as_completed_times_out_with_a_typed_error() {
    let executor = ProcessPoolExecutor::new(1).unwrap();
    let slow = executor.submit(sleep_ms, 5_000).unwrap();
    let mut completed = as_completed([slow]);
    assert!(matches!(
        completed.next_timeout(Duration::from_millis(50)),
        Some(Err(PoolError::Timeout { .. }))
    ));
    executor.pool().terminate();
}

#[test]
fn map_returns_results_in_order() {
    let executor = ProcessPoolExecutor::new(2).unwrap();
    assert_eq!(
        executor.map(square, 0..20).unwrap(),
        (0..20).map(square).collect::<Vec<_>>()
    );
    executor.shutdown(true).unwrap();
}

#[test]
fn shutdown_waits_for_the_work_and_leaves_no_process() {
    let executor = ProcessPoolExecutor::new(2).unwrap();
    let mut pids = executor.pool().worker_pids();
    pids.push(executor.pool().fork_server_pid());
    let futures: Vec<_> = (0..4)
        .map(|_| executor.submit(sleep_ms, 100).unwrap())
        .collect();
    let started = Instant::now();
    executor.shutdown(true).unwrap();
    assert!(started.elapsed() < DEADLINE);
    for future in futures {
        assert!(future.done());
        assert_eq!(future.result().unwrap(), 100);
    }
    assert!(matches!(executor.submit(square, 1), Err(PoolError::Closed)));
    for pid in pids {
        assert!(is_gone(pid), "process {pid} remains after shutdown");
    }
}

#[test]
fn dropping_the_executor_waits_like_pythons_with_block() {
    let executor = ProcessPoolExecutor::new(2).unwrap();
    let future = executor.submit(sleep_ms, 100).unwrap();
    drop(executor);
    assert!(future.done());
    assert_eq!(future.result().unwrap(), 100);
}
