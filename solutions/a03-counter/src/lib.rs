//! # a03-counter: reference solution
//!
//! Same public API as `assignments/a03-counter/src/lib.rs`.

// `let _ = counter.get_lock()?;` drops the guard at once, releasing the lock before the
// increment it was meant to protect: this makes the compiler refuse it.
#![deny(let_underscore_drop)]

use multiprocessing as mp;

/// What [`count_in_processes`] found once every worker had been joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterReport {
    /// The shared counter's final value (Python: `counter.value` after the joins).
    pub total: u64,
    /// How many increments each worker made, as it recorded them in the shared array:
    /// `per_process[i]` is worker `i`'s slot (Python: `counts[:]`).
    pub per_process: Vec<u64>,
}

/// Why counting failed.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    /// The shared counter or the shared counts could not be created.
    #[error("could not create the shared counter or counts")]
    Create(#[from] mp::CreateError),
    /// A worker could not be started or joined, or it panicked (its message is inside).
    #[error("a worker process failed")]
    Process(#[from] mp::ProcessError),
    /// The counter's lock could not be taken.
    #[error("could not take the counter's lock")]
    Lock(#[source] mp::LockError<()>),
    /// A worker's slot is outside the shared counts.
    #[error("a worker has no slot in the shared counts")]
    Slot(#[from] mp::IndexError),
}

/// Lets `?` work on `get_lock()`: the guard inside the error, if any, is dropped (which
/// releases the lock) and the error kept.
impl<G> From<mp::LockError<G>> for CounterError {
    fn from(error: mp::LockError<G>) -> Self {
        Self::Lock(error.without_guard())
    }
}

/// What one worker does (the lesson's `increment_counter`): adds 1 to `counter`
/// `increments` times, each time under the counter's own lock, then records in its own slot
/// of `counts`, `counts[slot]`, how many increments it made.
pub fn increment_counter(
    counter: &mp::Value<u64>,
    counts: &mp::Array<u64>,
    slot: usize,
    increments: u64,
) -> Result<(), CounterError> {
    for _ in 0..increments {
        *counter.get_lock()? += 1;
    }
    // The slot is this worker's alone: no other process writes it, so no lock is needed.
    counts.store(slot, increments)?;
    Ok(())
}

/// Starts one worker process per slot of `counts`, all at the same time: worker `i` runs
/// [`increment_counter`] on `counter` with slot `i` and `increments`. Joins them all before
/// returning.
pub fn run_workers(
    counter: &mp::Value<u64>,
    counts: &mp::Array<u64>,
    increments: u64,
) -> Result<(), CounterError> {
    let mut processes: Vec<mp::Process> = (0..counts.len())
        .map(|slot| {
            let (counter, counts) = (counter.clone(), counts.clone());
            mp::Process::new(move || {
                if let Err(error) = increment_counter(&counter, &counts, slot, increments) {
                    panic!("worker {slot}: {}", with_causes(&error));
                }
            })
            .with_name(format!("counter {slot}"))
        })
        .collect();
    // Start them all before joining any, so they run at the same time. If one cannot start,
    // the ones already started are still joined below: none outlives this call.
    let mut outcome = Ok(());
    let mut started = 0;
    for process in &mut processes {
        if let Err(error) = process.start() {
            outcome = Err(error);
            break;
        }
        started += 1;
    }
    for process in &mut processes[..started] {
        let joined = process.join();
        if outcome.is_ok() {
            outcome = joined;
        }
    }
    Ok(outcome?)
}

/// The whole program, as the lesson's main: creates the shared counter (at 0) and the shared
/// counts (one slot per worker, at 0), runs [`run_workers`] on them, and returns what they
/// hold afterwards.
pub fn count_in_processes(workers: usize, increments: u64) -> Result<CounterReport, CounterError> {
    let counter = mp::Value::new(0u64)?;
    let counts = mp::Array::new(workers, 0u64)?;
    run_workers(&counter, &counts, increments)?;
    Ok(CounterReport {
        total: counter.load(),
        per_process: counts.to_vec(),
    })
}

/// An error and its causes, for a worker's panic message.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
