//! Throughput of `Queue` with small messages, for self-measurement only: no assertion on
//! speed (the machine is shared and noisy). Run with
//! `cargo test --release -p multiprocessing --test queue_throughput -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use multiprocessing as mp;

/// Messages per run, split evenly among producers; `QUEUE_BENCH_MESSAGES` overrides it.
fn messages() -> u64 {
    std::env::var("QUEUE_BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000)
}

/// A small message, like the benchmark's Python side sends: an id and a value.
#[derive(serde::Serialize, serde::Deserialize)]
struct Message {
    producer: u32,
    seq: u64,
}

/// Starts `producers` and `consumers` processes over one queue and returns messages per
/// second, from the first `start` until every process is joined.
fn run(producers: u32, consumers: u32) -> f64 {
    let queue: mp::Queue<Message> = mp::Queue::new().unwrap();
    let messages = messages();
    let per_producer = messages / u64::from(producers);
    let per_consumer = messages / u64::from(consumers);
    let started = Instant::now();
    let mut processes = KillOnDrop(Vec::new());
    for consumer in 0..consumers {
        let queue = queue.clone();
        let mut process = mp::Process::new(move || {
            let mut sum = 0u64;
            for _ in 0..per_consumer {
                match queue.get() {
                    Ok(message) => sum = sum.wrapping_add(message.seq),
                    Err(_) => std::process::exit(3),
                }
            }
            std::hint::black_box(sum);
        })
        .with_name(format!("consumer-{consumer}"));
        process.start().unwrap();
        processes.0.push(process);
    }
    for producer in 0..producers {
        let queue = queue.clone();
        let mut process = mp::Process::new(move || {
            for seq in 0..per_producer {
                if queue.put(Message { producer, seq }).is_err() {
                    std::process::exit(3);
                }
            }
        })
        .with_name(format!("producer-{producer}"));
        process.start().unwrap();
        processes.0.push(process);
    }
    for process in &mut processes.0 {
        process.join_timeout(Duration::from_secs(120)).unwrap();
    }
    messages as f64 / started.elapsed().as_secs_f64()
}

/// Kills and reaps the processes if a join fails (consumers block in `get` without deadline).
struct KillOnDrop(Vec<mp::Process>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for process in &mut self.0 {
            let _ = process.kill();
            let _ = process.join_timeout(Duration::from_secs(10));
        }
    }
}

#[test]
#[ignore = "measurement, run by hand in release mode"]
fn small_message_throughput() {
    // `QUEUE_BENCH_PAIRS=1,2` runs 1 -> 1 then 2 -> 2 (the default, three times over).
    let pairs: Vec<u32> = std::env::var("QUEUE_BENCH_PAIRS")
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|_| vec![1, 2, 1, 2, 1, 2]);
    for n in pairs {
        let (producers, consumers) = (n, n);
        let rate = run(producers, consumers);
        println!("{producers} -> {consumers}: {:.2}M msgs/s", rate / 1e6);
    }
}
