//! The process library against Python's `multiprocessing`, side by side, on this machine.
//!
//! `cargo bench -p multiprocessing --bench vs_python [-- --rounds N]`
//!
//! Each workload runs in Rust and in Python (`mp_bench.py`, same workload) alternately, round
//! after round, so both see the same machine state; a raw OS pipe runs beside them as the
//! floor for pipe workloads. The table shows medians and the ratio to Python, with the
//! project's target for each. Timings here are noisy: this is a benchmark, not a test.
//!
//! Every sample runs in a fresh process on both sides (this binary again, with
//! `--sample NAME N [--raw]`, as Python runs a fresh interpreter): a fork's cost grows with
//! the forking process's memory, and the samples before would otherwise leave theirs behind.

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::Command;
use std::time::{Duration, Instant};

use multiprocessing as mp;

/// How a workload's `n` and seconds become the figure we compare.
#[derive(Clone, Copy)]
enum Unit {
    /// n operations per second; higher is better.
    PerSecond(&'static str),
    /// Microseconds per operation; lower is better.
    MicrosEach,
    /// n MiB moved: MB/s; higher is better.
    MegabytesPerSecond,
}

impl Unit {
    fn figure(self, n: u64, seconds: f64) -> f64 {
        match self {
            Self::PerSecond(_) => n as f64 / seconds,
            Self::MicrosEach => seconds / n as f64 * 1e6,
            Self::MegabytesPerSecond => n as f64 * 1.048_576 / seconds,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::PerSecond(what) => what,
            Self::MicrosEach => "us each",
            Self::MegabytesPerSecond => "MB/s",
        }
    }

    /// How many times better `ours` is than `theirs`.
    fn speedup(self, ours: f64, theirs: f64) -> f64 {
        match self {
            Self::PerSecond(_) | Self::MegabytesPerSecond => ours / theirs,
            Self::MicrosEach => theirs / ours,
        }
    }
}

/// What a workload must reach, as the project states it.
#[derive(Clone, Copy)]
enum Target {
    /// At least this many times Python's figure.
    TimesPython(f64),
    /// Within this factor of the raw OS pipe (latency).
    WithinRawPipe(f64),
    /// At least the raw OS pipe's figure.
    AtLeastRawPipe,
}

struct Workload {
    name: &'static str,
    unit: Unit,
    target: Target,
    rust_n: u64,
    python_n: u64,
    rust: fn(u64) -> Duration,
    raw_pipe: Option<fn(u64) -> Duration>,
}

fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "queue_1to1",
            unit: Unit::PerSecond("msgs/s"),
            target: Target::TimesPython(20.0),
            rust_n: 2_000_000,
            python_n: 200_000,
            rust: |n| queue(n, 1),
            raw_pipe: None,
        },
        Workload {
            name: "queue_2to2",
            unit: Unit::PerSecond("msgs/s"),
            target: Target::TimesPython(20.0),
            rust_n: 2_000_000,
            python_n: 200_000,
            rust: |n| queue(n, 2),
            raw_pipe: None,
        },
        Workload {
            name: "pipe_oneway",
            unit: Unit::PerSecond("msgs/s"),
            target: Target::TimesPython(5.0),
            rust_n: 1_000_000,
            python_n: 200_000,
            rust: pipe_oneway,
            raw_pipe: Some(raw_pipe_oneway),
        },
        Workload {
            name: "pipe_roundtrip",
            unit: Unit::MicrosEach,
            target: Target::WithinRawPipe(1.5),
            rust_n: 20_000,
            python_n: 20_000,
            rust: pipe_roundtrip,
            raw_pipe: Some(raw_pipe_roundtrip),
        },
        Workload {
            name: "pipe_1mib",
            unit: Unit::MegabytesPerSecond,
            target: Target::AtLeastRawPipe,
            rust_n: 2_000,
            python_n: 1_000,
            rust: pipe_1mib,
            raw_pipe: Some(raw_pipe_1mib),
        },
        Workload {
            name: "value_locked",
            unit: Unit::PerSecond("incr/s"),
            target: Target::TimesPython(10.0),
            rust_n: 4_000_000,
            python_n: 400_000,
            rust: value_locked,
            raw_pipe: None,
        },
        Workload {
            name: "condition_buffer",
            unit: Unit::PerSecond("items/s"),
            target: Target::TimesPython(10.0),
            rust_n: 1_000_000,
            python_n: 50_000,
            rust: condition_buffer,
            raw_pipe: None,
        },
        Workload {
            name: "start_join",
            unit: Unit::MicrosEach,
            target: Target::TimesPython(10.0),
            rust_n: 500,
            python_n: 200,
            rust: start_join,
            raw_pipe: Some(raw_fork_join),
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Rust workloads: each mirrors the function of the same name in mp_bench.py.
// ---------------------------------------------------------------------------------------------

fn spawn(target: impl FnOnce() + 'static) -> mp::Process {
    let mut process = mp::Process::new(target);
    process.start().expect("fork");
    process
}

fn join_all(processes: &mut [mp::Process]) {
    for process in processes {
        process.join().expect("bench child failed");
    }
}

fn queue(n: u64, producers: u64) -> Duration {
    let queue = mp::Queue::<Option<u64>>::new().expect("queue");
    let done = mp::Queue::<u64>::new().expect("queue");
    let each = n / producers;
    let start = Instant::now();
    let mut processes = Vec::new();
    for _ in 0..producers {
        let producer_queue = queue.clone();
        processes.push(spawn(move || {
            for i in 0..each {
                producer_queue.put(Some(i)).expect("put");
            }
            producer_queue.put(None).expect("put");
        }));
        let (queue, done) = (queue.clone(), done.clone());
        processes.push(spawn(move || {
            let mut count = 0;
            while let Some(item) = queue.get().expect("get") {
                black_box(item);
                count += 1;
            }
            done.put(count).expect("put");
        }));
    }
    let total: u64 = (0..producers).map(|_| done.get().expect("get")).sum();
    let elapsed = start.elapsed();
    join_all(&mut processes);
    assert_eq!(total, each * producers);
    elapsed
}

fn pipe_oneway(n: u64) -> Duration {
    let (mut receiver, mut sender) = mp::Pipe::one_way::<u64>().expect("pipe");
    let start = Instant::now();
    let mut child = spawn(move || {
        for i in 0..n {
            sender.send(&i).expect("send");
        }
    });
    for _ in 0..n {
        black_box(receiver.recv().expect("recv"));
    }
    let elapsed = start.elapsed();
    child.join().expect("sender");
    elapsed
}

fn pipe_roundtrip(n: u64) -> Duration {
    let (mut parent, mut child_end) = mp::Pipe::new::<u64>().expect("pipe");
    let mut child = spawn(move || {
        while let Ok(value) = child_end.recv() {
            if child_end.send(&value).is_err() {
                break;
            }
        }
    });
    parent.send(&0).expect("send");
    parent.recv().expect("recv");
    let start = Instant::now();
    for i in 0..n {
        parent.send(&i).expect("send");
        black_box(parent.recv().expect("recv"));
    }
    let elapsed = start.elapsed();
    drop(parent);
    child.join().expect("echo");
    elapsed
}

fn pipe_1mib(n: u64) -> Duration {
    let (mut receiver, mut sender) = mp::Pipe::one_way::<()>().expect("pipe");
    let start = Instant::now();
    let mut child = spawn(move || {
        let blob = vec![b'x'; 1 << 20];
        for _ in 0..n {
            sender.send_bytes(&blob).expect("send");
        }
    });
    for _ in 0..n {
        black_box(receiver.recv_bytes().expect("recv"));
    }
    let elapsed = start.elapsed();
    child.join().expect("sender");
    elapsed
}

fn value_locked(n: u64) -> Duration {
    let value = mp::Value::new(0i64).expect("value");
    let start = Instant::now();
    let mut processes: Vec<_> = (0..2)
        .map(|_| {
            let value = value.clone();
            spawn(move || {
                for _ in 0..n / 2 {
                    *value.get_lock().expect("lock") += 1;
                }
            })
        })
        .collect();
    join_all(&mut processes);
    let elapsed = start.elapsed();
    assert_eq!(value.load(), (n / 2 * 2) as i64);
    elapsed
}

const CAPACITY: usize = 10;

fn condition_buffer(n: u64) -> Duration {
    let condition = mp::Condition::new().expect("condition");
    let buffer = mp::Array::<u64>::new(CAPACITY, 0).expect("array");
    let head = mp::Value::new(0usize).expect("value");
    let count = mp::Value::new(0usize).expect("value");
    let start = Instant::now();
    let producer = {
        let (condition, buffer, head, count) = (
            condition.clone(),
            buffer.clone(),
            head.clone(),
            count.clone(),
        );
        spawn(move || {
            for i in 0..n {
                let mut guard = condition.acquire().expect("acquire");
                while count.load() == CAPACITY {
                    guard = condition.wait(guard).expect("wait");
                }
                let slot = (head.load() + count.load()) % CAPACITY;
                buffer.store(slot, i).expect("store");
                count.store(count.load() + 1);
                condition.notify_all();
                drop(guard);
            }
        })
    };
    let consumer = {
        let (condition, buffer, head, count) = (
            condition.clone(),
            buffer.clone(),
            head.clone(),
            count.clone(),
        );
        spawn(move || {
            for _ in 0..n {
                let mut guard = condition.acquire().expect("acquire");
                while count.load() == 0 {
                    guard = condition.wait(guard).expect("wait");
                }
                black_box(buffer.load(head.load()).expect("load"));
                head.store((head.load() + 1) % CAPACITY);
                count.store(count.load() - 1);
                condition.notify_all();
                drop(guard);
            }
        })
    };
    let mut processes = [producer, consumer];
    join_all(&mut processes);
    start.elapsed()
}

/// The floor for `start_join`: fork, `_exit(0)` in the child, `waitpid` in the parent.
fn raw_fork_join(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        // SAFETY: the child only calls `_exit`, which is async-signal-safe.
        match unsafe { nix::unistd::fork() }.expect("fork") {
            // SAFETY: `_exit` ends the child at once; nothing of the parent's runs in it.
            nix::unistd::ForkResult::Child => unsafe { libc::_exit(0) },
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).expect("waitpid");
            }
        }
    }
    start.elapsed()
}

fn start_join(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let mut process = spawn(|| {});
        process.join().expect("no-op child");
    }
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// The floor: a raw OS pipe, each message one write(2), as little as a channel can do.
// ---------------------------------------------------------------------------------------------

fn raw_pipe() -> (std::fs::File, std::fs::File) {
    let (read, write): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
    (read.into(), write.into())
}

fn raw_pipe_oneway(n: u64) -> Duration {
    let (mut read, mut write) = raw_pipe();
    let start = Instant::now();
    let mut child = spawn(move || {
        for i in 0..n {
            write.write_all(&i.to_le_bytes()).expect("write");
        }
    });
    // Read in bulk, as any sensible receiver would; 8-byte messages.
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    while received < n * 8 {
        let got = read.read(&mut buf).expect("read");
        assert!(got > 0, "raw pipe closed early");
        received += got as u64;
    }
    let elapsed = start.elapsed();
    child.join().expect("writer");
    elapsed
}

fn raw_pipe_roundtrip(n: u64) -> Duration {
    let (mut to_child_read, mut to_child_write) = raw_pipe();
    let (mut to_parent_read, mut to_parent_write) = raw_pipe();
    // The child inherits the parent's write end too, so it would never see end-of-file:
    // it echoes exactly the n + 1 messages it is sent, then exits.
    let mut child = spawn(move || {
        let mut byte = [0u8; 8];
        for _ in 0..=n {
            to_child_read.read_exact(&mut byte).expect("read");
            to_parent_write.write_all(&byte).expect("write");
        }
    });
    let mut byte = [0u8; 8];
    to_child_write.write_all(&byte).expect("write");
    to_parent_read.read_exact(&mut byte).expect("read");
    let start = Instant::now();
    for i in 0..n {
        to_child_write.write_all(&i.to_le_bytes()).expect("write");
        to_parent_read.read_exact(&mut byte).expect("read");
    }
    let elapsed = start.elapsed();
    drop(to_child_write);
    child.join().expect("echo");
    elapsed
}

fn raw_pipe_1mib(n: u64) -> Duration {
    let (mut read, mut write) = raw_pipe();
    let start = Instant::now();
    let mut child = spawn(move || {
        let blob = vec![b'x'; 1 << 20];
        for _ in 0..n {
            write.write_all(&blob).expect("write");
        }
    });
    let mut blob = vec![0u8; 1 << 20];
    for _ in 0..n {
        read.read_exact(&mut blob).expect("read");
        black_box(&blob);
    }
    let elapsed = start.elapsed();
    child.join().expect("writer");
    elapsed
}

// ---------------------------------------------------------------------------------------------
// Python side and the table.
// ---------------------------------------------------------------------------------------------

fn python(workload: &str, n: u64) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/mp_bench.py");
    let output = Command::new("python3")
        .args([script, workload, &n.to_string()])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "python {workload} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let key = "\"seconds\": ";
    let at = text.find(key)? + key.len();
    text[at..].split([',', '}']).next()?.trim().parse().ok()
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

/// Runs one workload's Rust (or, with `raw`, its floor's) sample in a fresh process of this
/// binary; its seconds.
fn rust_sample(workload: &str, n: u64, raw: bool) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let mut command = Command::new(exe);
    command.args(["--sample", workload, &n.to_string()]);
    if raw {
        command.arg("--raw");
    }
    let output = command.output().ok()?;
    if !output.status.success() {
        eprintln!(
            "rust {workload} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// The `--sample NAME N [--raw]` mode: run that sample here and print its seconds.
fn run_sample(args: &[String]) {
    let name = args.get(2).map(String::as_str).unwrap_or_default();
    let n: u64 = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(0);
    let raw = args.iter().any(|a| a == "--raw");
    let workload = workloads()
        .into_iter()
        .find(|w| w.name == name)
        .expect("a workload name");
    let run = if raw {
        workload.raw_pipe.expect("a workload with a floor")
    } else {
        workload.rust
    };
    println!("{}", run(n).as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--sample") {
        run_sample(&args);
        return;
    }
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|r| r.parse().ok())
        .unwrap_or(5usize);
    // Workload names to run (all when none): every argument that is not a flag or its value.
    let only: Vec<&String> = args
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, a)| !a.starts_with("--") && args[i - 1] != "--rounds")
        .map(|(_, a)| a)
        .collect();
    let python_available = Command::new("python3").arg("--version").output().is_ok();
    if !python_available {
        println!("python3 not found: Rust figures only");
    }
    println!(
        "{} cores available; {rounds} rounds, Rust and Python alternating\n",
        mp::cpu_count()
    );
    println!(
        "{:<17} {:>9} {:>14} {:>14} {:>14} {:>9}  target",
        "workload", "unit", "python", "rust", "raw pipe", "vs python"
    );
    for workload in workloads() {
        if !only.is_empty()
            && !only
                .iter()
                .any(|name| workload.name.contains(name.as_str()))
        {
            continue;
        }
        let (mut ours, mut theirs, mut raw) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let run_python = |theirs: &mut Vec<f64>| {
                if python_available && let Some(seconds) = python(workload.name, workload.python_n)
                {
                    theirs.push(workload.unit.figure(workload.python_n, seconds));
                }
            };
            // Alternate who goes first, so neither always runs on a warmer machine.
            if round % 2 == 1 {
                run_python(&mut theirs);
            }
            if let Some(seconds) = rust_sample(workload.name, workload.rust_n, false) {
                ours.push(workload.unit.figure(workload.rust_n, seconds));
            }
            if workload.raw_pipe.is_some()
                && let Some(seconds) = rust_sample(workload.name, workload.rust_n, true)
            {
                raw.push(workload.unit.figure(workload.rust_n, seconds));
            }
            if round % 2 == 0 {
                run_python(&mut theirs);
            }
        }
        let ours = median(&mut ours).unwrap_or(f64::NAN);
        let theirs = median(&mut theirs);
        let raw = median(&mut raw);
        let ratio = theirs.map(|t| workload.unit.speedup(ours, t));
        let verdict = match workload.target {
            Target::TimesPython(times) => {
                ratio.map(|r| (format!(">= {times}x python"), r >= times))
            }
            Target::WithinRawPipe(factor) => raw.map(|raw| {
                let slower = 1.0 / workload.unit.speedup(ours, raw);
                (
                    format!("<= {factor}x raw pipe (is {slower:.2}x)"),
                    slower <= factor,
                )
            }),
            Target::AtLeastRawPipe => raw.map(|raw| {
                let times = workload.unit.speedup(ours, raw);
                (format!(">= raw pipe (is {times:.2}x)"), times >= 1.0)
            }),
        };
        let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
        println!(
            "{:<17} {:>9} {:>14} {:>14} {:>14} {:>9}  {}",
            workload.name,
            workload.unit.label(),
            show(theirs),
            show(Some(ours)),
            show(raw),
            ratio.map_or("-".to_owned(), |r| format!("{r:.1}x")),
            verdict.map_or("-".to_owned(), |(target, met)| format!(
                "{target}: {}",
                if met { "met" } else { "NOT met" }
            )),
        );
    }
}
