//! `Pool` side by side with Python's `multiprocessing.Pool`, in one run.
//!
//! `cargo bench -p multiprocessing --bench pool_vs_python` (release build). Rounds alternate
//! a Rust sample and a Python sample of each workload, so both see the same machine load;
//! the table shows medians and ratios. Every sample runs in a fresh process on both sides
//! (this binary re-runs itself with `--workload`; Python runs `benches/pool_bench.py`), so
//! neither side's forks pay for memory an earlier workload left behind: forking costs time
//! in proportion to the parent's resident memory, for both languages.
//!
//! The CPU-bound workload also measures the machine's ceiling in the same process: the same
//! loop in one bare forked process versus `k` of them; the pool's speedup is reported as a
//! fraction of that ceiling. `BENCH_ROUNDS` sets the number of rounds (default 5).

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use multiprocessing as mp;
use serde_json::{Value, json};

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

// ---------------------------------------------------------------------------------------
// The Rust workloads, each run in a fresh process (`--workload NAME N PROCESSES [X]`).
// ---------------------------------------------------------------------------------------

fn start_shutdown(n: usize, processes: usize) -> Value {
    let mut samples: Vec<f64> = (0..n)
        .map(|_| {
            let start = Instant::now();
            let pool = mp::Pool::new(processes).expect("pool");
            pool.close();
            pool.join().expect("join");
            start.elapsed().as_secs_f64()
        })
        .collect();
    json!({ "seconds": median(&mut samples) })
}

fn apply_async(n: usize, processes: usize) -> Value {
    let pool = mp::Pool::new(processes).expect("pool");
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    for i in 0..n as u64 {
        let done = Arc::clone(&done);
        let _ = pool
            .apply_async_callback(trivial, i, move |_| {
                done.fetch_add(1, Ordering::Relaxed);
            })
            .expect("submit");
    }
    pool.close();
    pool.join().expect("join");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(done.load(Ordering::Relaxed), n);
    json!({ "seconds": seconds })
}

fn map(n: usize, processes: usize, chunksize: usize) -> Value {
    let pool = mp::Pool::new(processes).expect("pool");
    let start = Instant::now();
    let out = pool
        .map_chunked(trivial, 0..n as u64, chunksize)
        .expect("map");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(out.len(), n);
    json!({ "seconds": seconds })
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

fn cpu(n: usize, processes: usize, x: u64) -> Value {
    let start = Instant::now();
    for _ in 0..n {
        black_box(sum_all_values(black_box(x)));
    }
    let sequential = start.elapsed().as_secs_f64();
    let pool = mp::Pool::new(processes).expect("pool");
    let start = Instant::now();
    let out = pool
        .map_chunked(sum_all_values, vec![x; n], 1)
        .expect("map");
    let pooled = start.elapsed().as_secs_f64();
    assert_eq!(out.len(), n);
    drop(pool);
    json!({
        "sequential": sequential,
        "pool": pooled,
        "bare_one": bare(1, n, x),
        "bare_k": bare(processes, n, x),
    })
}

fn run_workload(args: &[String]) {
    let number = |i: usize| -> usize { args[i].parse().expect("a number") };
    let (workload, n, processes) = (args[0].as_str(), number(1), number(2));
    let result = match workload {
        "start_shutdown" => start_shutdown(n, processes),
        "apply_async" => apply_async(n, processes),
        "map1" => map(n, processes, 1),
        "map1000" => map(n, processes, 1000),
        "cpu" => cpu(n, processes, number(3) as u64),
        other => panic!("unknown workload {other}"),
    };
    println!("{result}");
}

// ---------------------------------------------------------------------------------------
// The comparison.
// ---------------------------------------------------------------------------------------

fn sample(mut command: Command, what: &str) -> Value {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{what} printed no JSON: {e}"))
}

fn rust(workload: &str, n: usize, processes: usize, x: u64) -> Value {
    let mut command = Command::new(std::env::current_exe().expect("this benchmark's path"));
    command
        .arg("--workload")
        .arg(workload)
        .arg(n.to_string())
        .arg(processes.to_string())
        .arg(x.to_string());
    sample(command, &format!("rust {workload}"))
}

fn python(workload: &str, n: usize, processes: usize) -> Value {
    let mut command = Command::new("python3");
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/pool_bench.py"
        ))
        .arg(workload)
        .arg(n.to_string())
        .arg(processes.to_string());
    sample(command, &format!("python {workload}"))
}

fn seconds(value: &Value, key: &str) -> f64 {
    value[key].as_f64().expect("a number of seconds")
}

/// The loop length whose run time is about `CPU_TASK_TARGET` on this machine.
fn calibrate() -> u64 {
    let probe = 20_000_000;
    let start = Instant::now();
    black_box(sum_all_values(black_box(probe)));
    let per_iteration = start.elapsed().as_secs_f64() / probe as f64;
    (CPU_TASK_TARGET.as_secs_f64() / per_iteration) as u64
}

#[derive(Default)]
struct Samples {
    rust: Vec<f64>,
    python: Vec<f64>,
}

struct CpuRun {
    speedup: f64,
    ceiling: f64,
}

fn cpu_run(value: &Value) -> CpuRun {
    CpuRun {
        speedup: seconds(value, "sequential") / seconds(value, "pool"),
        ceiling: seconds(value, "bare_one") / seconds(value, "bare_k"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--workload") {
        run_workload(&args[at + 1..]);
        return;
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let cores = mp::cpu_count();
    let processes = cores.max(2);
    let x = calibrate();
    println!(
        "pool_vs_python: {rounds} rounds, Pool({processes}) on {cores} available core(s), \
         each sample in a fresh process; CPU task = sum_all_values({x}) in Rust"
    );

    let mut start = Samples::default();
    let mut apply = Samples::default();
    let mut map1 = Samples::default();
    let mut map1000 = Samples::default();
    let mut cpu_rust = Vec::new();
    let mut cpu_python = Vec::new();
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}");
        let n = START_SHUTDOWN_POOLS;
        start
            .rust
            .push(seconds(&rust("start_shutdown", n, processes, x), "seconds"));
        start
            .python
            .push(seconds(&python("start_shutdown", n, processes), "seconds"));
        let (n_rust, n_python) = (APPLY_ASYNC_TASKS_RUST, APPLY_ASYNC_TASKS_PYTHON);
        apply
            .rust
            .push(n_rust as f64 / seconds(&rust("apply_async", n_rust, processes, x), "seconds"));
        apply.python.push(
            n_python as f64 / seconds(&python("apply_async", n_python, processes), "seconds"),
        );
        for (workload, samples) in [("map1", &mut map1), ("map1000", &mut map1000)] {
            let n = MAP_ITEMS;
            samples
                .rust
                .push(n as f64 / seconds(&rust(workload, n, processes, x), "seconds"));
            samples
                .python
                .push(n as f64 / seconds(&python(workload, n, processes), "seconds"));
        }
        cpu_rust.push(cpu_run(&rust("cpu", CPU_TASKS, processes, x)));
        cpu_python.push(cpu_run(&python("cpu", CPU_TASKS, processes)));
    }

    println!();
    println!(
        "{:<42} {:>12} {:>12} {:>8} {:>8}",
        "workload (median of rounds)", "rust", "python", "ratio", "target"
    );
    let (rust_start, python_start) = (median(&mut start.rust), median(&mut start.python));
    println!(
        "{:<42} {:>12} {:>12} {:>7.1}x {:>8}",
        format!("pool start+shutdown, Pool({processes})"),
        format!("{:.2} ms", rust_start * 1e3),
        format!("{:.2} ms", python_start * 1e3),
        python_start / rust_start,
        ">= 5x"
    );
    let rate = |r: f64| {
        if r >= 1e6 {
            format!("{:.2} M/s", r / 1e6)
        } else {
            format!("{:.1} k/s", r / 1e3)
        }
    };
    for (name, samples, target) in [
        (
            "apply_async + callback, trivial (tasks/s)",
            &mut apply,
            ">= 10x",
        ),
        (
            "map 200k trivial, chunksize 1 (items/s)",
            &mut map1,
            ">= 10x",
        ),
        (
            "map 200k trivial, chunksize 1000 (items/s)",
            &mut map1000,
            "-",
        ),
    ] {
        let (rust, python) = (median(&mut samples.rust), median(&mut samples.python));
        println!(
            "{name:<42} {:>12} {:>12} {:>7.1}x {target:>8}",
            rate(rust),
            rate(python),
            rust / python
        );
    }

    println!();
    if cores < 2 {
        println!("CPU-bound sum_all_values speedup: not measurable (1 available core)");
        return;
    }
    println!(
        "CPU-bound sum_all_values x{CPU_TASKS}: Pool({processes}).map vs sequential, and the bare \
         ceiling (1 vs {processes} forked processes) measured beside it (target: rust >= 0.90)"
    );
    for (name, runs) in [("rust", &cpu_rust), ("python", &cpu_python)] {
        let mut speedup: Vec<f64> = runs.iter().map(|r| r.speedup).collect();
        let mut ceiling: Vec<f64> = runs.iter().map(|r| r.ceiling).collect();
        let mut fraction: Vec<f64> = runs.iter().map(|r| r.speedup / r.ceiling).collect();
        println!(
            "  {name:<7} speedup {:.2}x, ceiling {:.2}x, fraction of ceiling {:.2} \
             (per round: {})",
            median(&mut speedup),
            median(&mut ceiling),
            median(&mut fraction),
            runs.iter()
                .map(|r| format!("{:.2}", r.speedup / r.ceiling))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}
