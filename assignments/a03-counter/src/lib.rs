//! # a03-counter: count in processes, with a shared Value under its lock
//!
//! Read `README.md` first: it explains the task, and what the tests check.
//! Then replace every `todo!()` below; each `// TODO:` marks a place where you act.
//! Run the tests with `cargo test -p a03-counter`.

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
    // TODO: `increments` times: take the counter's lock and add 1 through the guard,
    //       `*counter.get_lock()? += 1` (Python: `with counter.get_lock(): counter.value += 1`).
    //       The lock is held until the guard is dropped, at the end of that statement.
    //       Not `counter.store(counter.load() + 1)`: that is two steps, and another process can
    //       write between them.
    // TODO: record how many increments this worker made in its own slot:
    //       `counts.store(slot, ...)?`. Only this worker writes that slot, so it needs no lock.
    todo!(
        "add 1 to the counter (now {}) {increments} times, each under its lock, then record \
         {increments} in slot {slot} of the {} counts",
        counter.load(),
        counts.len()
    )
}

/// Starts one worker process per slot of `counts`, all at the same time: worker `i` runs
/// [`increment_counter`] on `counter` with slot `i` and `increments`. Joins them all before
/// returning.
pub fn run_workers(
    counter: &mp::Value<u64>,
    counts: &mp::Array<u64>,
    increments: u64,
) -> Result<(), CounterError> {
    // TODO: for each `slot` in `0..counts.len()`, clone the counter and the counts
    //       (`let (counter, counts) = (counter.clone(), counts.clone());`) and create an
    //       `mp::Process` whose `move` closure calls
    //       `increment_counter(&counter, &counts, slot, increments)`. If that returns an error,
    //       panic with it: `join` hands the message back to the main process.
    //       Every clone is the same shared object: a worker only sees memory that existed
    //       when it was started, and these clones are how it gets to the counter.
    // TODO: start every process first...
    // TODO: ...then join every process, and return Ok(()) once all are joined.
    todo!(
        "start one mp::Process per slot of the counts ({} slots, counter now {}), each running \
         increment_counter with {increments} increments; then join them all",
        counts.len(),
        counter.load()
    )
}

/// The whole program, as the lesson's main: creates the shared counter (at 0) and the shared
/// counts (one slot per worker, at 0), runs [`run_workers`] on them, and returns what they
/// hold afterwards.
pub fn count_in_processes(workers: usize, increments: u64) -> Result<CounterReport, CounterError> {
    // TODO: create the shared counter, `mp::Value::new(0u64)?`, and the shared counts, one slot
    //       per worker, `mp::Array::new(workers, 0u64)?` (lesson: `Value('i', 0)` and
    //       `Array('i', [0, 0, 0, 0, 0])`).
    // TODO: run the workers on them: `run_workers(&counter, &counts, increments)?`.
    // TODO: return the counter's final value (`counter.load()`) and the counts
    //       (`counts.to_vec()`) in a `CounterReport`.
    todo!(
        "create a shared mp::Value counter and an mp::Array with one slot per worker \
         (workers: {workers}), run_workers on them ({increments} increments each), and return \
         what they hold"
    )
}
