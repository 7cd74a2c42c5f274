//! `Pool` side by side with Python's `multiprocessing.Pool`, in one run.
//!
//! `cargo bench -p multiprocessing --bench pool_vs_python` (release build). Rounds alternate
//! a Rust sample and a Python sample of each workload, so both see the same machine load;
//! the table shows medians and ratios. The CPU-bound workload also measures the machine's
//! ceiling in the same run: the same loop in one bare forked process versus `k` of them,
//! and reports the pool's speedup as a fraction of that ceiling. Python's side is
//! `benches/pool_bench.py`, run with `python3`. `BENCH_ROUNDS` sets the rounds (default 3).

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use multiprocessing as mp;

const START_SHUTDOWN_POOLS: usize = 20;
const APPLY_ASYNC_TASKS_RUST: usize = 100_000;
const APPLY_ASYNC_TASKS_PYTHON: usize = 20_000;
const MAP_ITEMS: usize = 200_000;
const CPU_TASKS: usize = 20;
/// Run time of one CPU task the Rust side aims for (Python's is about the same).
const CPU_TASK_TARGET: Duration = Duration::from_millis(60);

fn trivial(x: u64) -> u64 {
    x
}

fn sum_all_values(x: u64) -> u64 {
    let mut total = 0u64;
    for i in 1..=x {
        // Without this the compiler replaces the loop by x(x+1)/2.
        total = total.wrapping_add(black_box(i));
    }
    total
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2.0
    }
}

fn python(workload: &str, n: usize, processes: usize) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pool_bench.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(workload)
        .arg(n.to_string())
        .arg(processes.to_string())
        .output()
        .expect("python3 runs (it is needed for the comparison)");
    assert!(
        output.status.success(),
        "pool_bench.py {workload} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("pool_bench.py prints one JSON object")
}

fn seconds(value: &serde_json::Value, key: &str) -> f64 {
    value[key].as_f64().expect("a number of seconds")
}

fn rust_start_shutdown(processes: usize) -> f64 {
    let mut samples: Vec<f64> = (0..START_SHUTDOWN_POOLS)
        .map(|_| {
            let start = Instant::now();
            let pool = mp::Pool::new(processes).expect("pool");
            pool.close();
            pool.join().expect("join");
            start.elapsed().as_secs_f64()
        })
        .collect();
    median(&mut samples)
}

fn rust_apply_async(processes: usize) -> f64 {
    let pool = mp::Pool::new(processes).expect("pool");
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    for i in 0..APPLY_ASYNC_TASKS_RUST as u64 {
        let done = Arc::clone(&done);
        let _ = pool
            .apply_async_callback(trivial, i, move |_| {
                done.fetch_add(1, Ordering::Relaxed);
            })
            .expect("submit");
    }
    pool.close();
    pool.join().expect("join");
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(done.load(Ordering::Relaxed), APPLY_ASYNC_TASKS_RUST);
    elapsed
}

fn rust_map(processes: usize, chunksize: usize) -> f64 {
    let pool = mp::Pool::new(processes).expect("pool");
    let start = Instant::now();
    let out = pool
        .map_chunked(trivial, 0..MAP_ITEMS as u64, chunksize)
        .expect("map");
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(out.len(), MAP_ITEMS);
    elapsed
}

struct CpuRun {
    sequential: f64,
    pool: f64,
    bare_one: f64,
    bare_k: f64,
}

fn bare(processes: usize, tasks: usize, x: u64) -> f64 {
    let start = Instant::now();
    let mut children: Vec<mp::Process> = (0..processes)
        .map(|i| {
            let share = tasks / processes + usize::from(i < tasks % processes);
            mp::Process::new(move || {
                for _ in 0..share {
                    black_box(sum_all_values(black_box(x)));
                }
            })
        })
        .collect();
    for child in &mut children {
        child.start().expect("fork");
    }
    for child in &mut children {
        child.join().expect("bare child");
    }
    start.elapsed().as_secs_f64()
}

fn rust_cpu(processes: usize, x: u64) -> CpuRun {
    let start = Instant::now();
    for _ in 0..CPU_TASKS {
        black_box(sum_all_values(black_box(x)));
    }
    let sequential = start.elapsed().as_secs_f64();
    let pool = mp::Pool::new(processes).expect("pool");
    let start = Instant::now();
    let out = pool
        .map_chunked(sum_all_values, vec![x; CPU_TASKS], 1)
        .expect("map");
    let pooled = start.elapsed().as_secs_f64();
    assert_eq!(out.len(), CPU_TASKS);
    drop(pool);
    CpuRun {
        sequential,
        pool: pooled,
        bare_one: bare(1, CPU_TASKS, x),
        bare_k: bare(processes, CPU_TASKS, x),
    }
}

/// The loop length whose run time is about `CPU_TASK_TARGET` on this machine.
fn calibrate() -> u64 {
    let probe = 20_000_000;
    let start = Instant::now();
    black_box(sum_all_values(black_box(probe)));
    let per_iteration = start.elapsed().as_secs_f64() / probe as f64;
    (CPU_TASK_TARGET.as_secs_f64() / per_iteration) as u64
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let cores = mp::cpu_count();
    let processes = cores.max(2);
    let x = calibrate();
    println!(
        "pool_vs_python: {rounds} rounds, Pool({processes}) on {cores} available core(s), \
         CPU task = sum_all_values({x}) in Rust"
    );

    let mut start_shutdown = (Vec::new(), Vec::new());
    let mut apply_async = (Vec::new(), Vec::new());
    let mut map1 = (Vec::new(), Vec::new());
    let mut map1000 = (Vec::new(), Vec::new());
    let mut cpu_rust = Vec::new();
    let mut cpu_python = Vec::new();
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}");
        start_shutdown.0.push(rust_start_shutdown(processes));
        start_shutdown.1.push(seconds(
            &python("start_shutdown", START_SHUTDOWN_POOLS, processes),
            "seconds",
        ));
        apply_async
            .0
            .push(APPLY_ASYNC_TASKS_RUST as f64 / rust_apply_async(processes));
        apply_async.1.push(
            APPLY_ASYNC_TASKS_PYTHON as f64
                / seconds(
                    &python("apply_async", APPLY_ASYNC_TASKS_PYTHON, processes),
                    "seconds",
                ),
        );
        map1.0.push(MAP_ITEMS as f64 / rust_map(processes, 1));
        map1.1
            .push(MAP_ITEMS as f64 / seconds(&python("map1", MAP_ITEMS, processes), "seconds"));
        map1000.0.push(MAP_ITEMS as f64 / rust_map(processes, 1000));
        map1000
            .1
            .push(MAP_ITEMS as f64 / seconds(&python("map1000", MAP_ITEMS, processes), "seconds"));
        cpu_rust.push(rust_cpu(processes, x));
        let py = python("cpu", CPU_TASKS, processes);
        cpu_python.push(CpuRun {
            sequential: seconds(&py, "sequential"),
            pool: seconds(&py, "pool"),
            bare_one: seconds(&py, "bare_one"),
            bare_k: seconds(&py, "bare_k"),
        });
    }

    println!();
    println!(
        "{:<40} {:>14} {:>14} {:>9} {:>8}",
        "workload (median)", "rust", "python", "ratio", "target"
    );
    let ms = |s: f64| format!("{:.2} ms", s * 1e3);
    let rate = |r: f64| {
        if r >= 1e6 {
            format!("{:.2} M/s", r / 1e6)
        } else {
            format!("{:.1} k/s", r / 1e3)
        }
    };
    let (rust, py) = (median(&mut start_shutdown.0), median(&mut start_shutdown.1));
    println!(
        "{:<40} {:>14} {:>14} {:>8.1}x {:>8}",
        format!("pool start+shutdown, Pool({processes})"),
        ms(rust),
        ms(py),
        py / rust,
        ">= 5x"
    );
    for (name, samples, target) in [
        (
            "apply_async + callback, trivial task",
            &mut apply_async,
            ">= 10x",
        ),
        ("map 200k trivial items, chunksize 1", &mut map1, ">= 10x"),
        ("map 200k trivial items, chunksize 1000", &mut map1000, ""),
    ] {
        let (rust, py) = (median(&mut samples.0), median(&mut samples.1));
        println!(
            "{name:<40} {:>14} {:>14} {:>8.1}x {target:>8}",
            rate(rust),
            rate(py),
            rust / py
        );
    }

    println!();
    if cores < 2 {
        println!("CPU-bound sum_all_values speedup: not measurable (1 available core)");
        return;
    }
    let speedups = |runs: &[CpuRun]| {
        let mut pool: Vec<f64> = runs.iter().map(|r| r.sequential / r.pool).collect();
        let mut ceiling: Vec<f64> = runs.iter().map(|r| r.bare_one / r.bare_k).collect();
        let mut fraction: Vec<f64> = runs
            .iter()
            .map(|r| (r.sequential / r.pool) / (r.bare_one / r.bare_k))
            .collect();
        (
            median(&mut pool),
            median(&mut ceiling),
            median(&mut fraction),
        )
    };
    let (rust_speedup, rust_ceiling, rust_fraction) = speedups(&cpu_rust);
    let (py_speedup, py_ceiling, py_fraction) = speedups(&cpu_python);
    println!(
        "CPU-bound sum_all_values x{CPU_TASKS}, Pool({processes}) vs sequential (target: rust >= 0.90 of its ceiling)"
    );
    println!(
        "  rust:   speedup {rust_speedup:.2}x, bare ceiling (1 vs {processes} forked processes) {rust_ceiling:.2}x, fraction {rust_fraction:.2}"
    );
    println!(
        "  python: speedup {py_speedup:.2}x, bare ceiling (1 vs {processes} forked processes) {py_ceiling:.2}x, fraction {py_fraction:.2}"
    );
}
