//! `Barrier`: Python's `multiprocessing.Barrier`, a meeting point for a fixed number of
//! processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::acquire::Patience;
use super::state_lock::{Budget, Previous, StateGuard, Waited};
use crate::errors::{BarrierError, CreateError};
use crate::sys::{RawCondvar, RawMutex, SharedRegion};

/// A barrier for `parties` processes, like Python's `multiprocessing.Barrier`: each
/// [`wait`](Self::wait) blocks until all `parties` have called it, then all go on together,
/// and the barrier is ready for the next round.
///
/// ```
/// use multiprocessing as mp;
///
/// fn phase_worker(barrier: &mp::Barrier, done: &mp::Array<u32>, id: usize) {
///     done.store(id, 1).expect("slot"); // phase 1
///     barrier.wait().expect("barrier");
///     // Every process finished phase 1 before any gets here.
///     assert_eq!(done.to_vec(), vec![1, 1, 1]);
/// }
///
/// let barrier = mp::Barrier::new(3)?;
/// let done = mp::Array::new(3, 0u32)?;
/// let mut workers: Vec<mp::Process> = (0..2)
///     .map(|id| {
///         let (barrier, done) = (barrier.clone(), done.clone());
///         mp::Process::new(move || phase_worker(&barrier, &done, id))
///     })
///     .collect();
/// for w in &mut workers {
///     w.start()?;
/// }
/// phase_worker(&barrier, &done, 2); // the parent is the third party
/// for w in &mut workers {
///     w.join()?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`abort`](Self::abort) breaks the barrier: every waiting and later `wait` fails with
/// [`BarrierError::Broken`] (Python's `BrokenBarrierError`). A `wait_timeout` that runs out
/// breaks it too, as in Python. There is no `reset`: make a new barrier. A party that dies
/// while it waits still counts as arrived for that round; one that never arrives keeps the
/// others waiting, so give waits a timeout when a party may die.
#[derive(Clone)]
pub struct Barrier {
    region: Arc<SharedRegion<BarrierState>>,
}

/// What one party's successful [`Barrier::wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    parties: usize,
}

impl BarrierWaitResult {
    /// The order in which this party arrived this round, `0..parties` (Python's return
    /// value of `wait`).
    pub fn index(self) -> usize {
        self.index
    }

    /// True for exactly one party per round: the last to arrive, which released the others
    /// (std's `is_leader`). Useful to do something once per round.
    pub fn is_leader(self) -> bool {
        self.index + 1 == self.parties
    }
}

/// The barrier's bookkeeping; every field changes only under `mutex`. Atomics so that
/// `n_waiting` and `broken` can read them without the lock.
struct BarrierState {
    mutex: RawMutex,
    /// Notified when a round completes or the barrier breaks.
    changed: RawCondvar,
    parties: usize,
    /// Parties that have arrived this round.
    arrived: AtomicUsize,
    /// Completed rounds: a waiter whose round number is passed has been released.
    round: AtomicU64,
    broken: AtomicBool,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties())
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish()
    }
}

impl Barrier {
    /// A barrier that releases its waiters once `parties` of them wait;
    /// [`CreateError::NoParties`] for 0.
    pub fn new(parties: usize) -> Result<Self, CreateError> {
        if parties == 0 {
            return Err(CreateError::NoParties);
        }
        // SAFETY: `init` makes the mutex valid, the count of parties is written, and all-zero
        // memory is valid for the condvar, counters and flag; nothing else can reach the
        // region yet.
        let region = unsafe {
            SharedRegion::new(0, |state: *mut BarrierState| {
                RawMutex::init(std::ptr::addr_of_mut!((*state).mutex), false)?;
                std::ptr::addr_of_mut!((*state).parties).write(parties);
                Ok(())
            })
        }
        .map_err(|source| CreateError::Os {
            object: "barrier",
            source,
        })?;
        Ok(Self {
            region: Arc::new(region),
        })
    }

    fn state(&self) -> &BarrierState {
        self.region.header()
    }

    /// Waits until all parties have arrived.
    ///
    /// Errors: [`BarrierError::Broken`] if the barrier is or becomes broken while waiting.
    pub fn wait(&self) -> Result<BarrierWaitResult, BarrierError> {
        self.wait_with(Patience::Block)
    }

    /// Waits at most `timeout`: [`BarrierError::Timeout`] if the others did not all arrive,
    /// and the barrier is then broken for them.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<BarrierWaitResult, BarrierError> {
        self.wait_with(Patience::Timeout(timeout))
    }

    /// Breaks the barrier: waiting parties and every later `wait` get
    /// [`BarrierError::Broken`].
    pub fn abort(&self) -> Result<(), BarrierError> {
        let state = self.state();
        let (held, _) = StateGuard::lock(&state.mutex).map_err(BarrierError::Os)?;
        self.break_barrier();
        drop(held);
        Ok(())
    }

    /// The number of processes needed to pass the barrier.
    pub fn parties(&self) -> usize {
        self.state().parties
    }

    /// The number of parties waiting now (0 once broken).
    pub fn n_waiting(&self) -> usize {
        if self.broken() {
            0
        } else {
            self.state().arrived.load(Ordering::Relaxed)
        }
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.state().broken.load(Ordering::Relaxed)
    }

    /// Marks the barrier broken and wakes everyone; the caller holds the state mutex.
    fn break_barrier(&self) {
        let state = self.state();
        state.broken.store(true, Ordering::Relaxed);
        state.changed.notify_all();
    }

    fn wait_with(&self, patience: Patience) -> Result<BarrierWaitResult, BarrierError> {
        let state = self.state();
        let (mut held, previous) = StateGuard::lock(&state.mutex).map_err(BarrierError::Os)?;
        if previous == Previous::Died {
            // A party died between two updates of the bookkeeping: no count can be trusted.
            self.break_barrier();
        }
        if self.broken() {
            return Err(BarrierError::Broken);
        }
        let my_round = state.round.load(Ordering::Relaxed);
        let index = state.arrived.fetch_add(1, Ordering::Relaxed);
        let arrived = BarrierWaitResult {
            index,
            parties: state.parties,
        };
        if index + 1 == state.parties {
            state.arrived.store(0, Ordering::Relaxed);
            state
                .round
                .store(my_round.wrapping_add(1), Ordering::Relaxed);
            state.changed.notify_all();
            return Ok(arrived);
        }
        let budget = Budget::start(patience);
        loop {
            let (again, previous, waited) = held
                .wait_within(&state.changed, budget)
                .map_err(BarrierError::Os)?;
            held = again;
            if state.round.load(Ordering::Relaxed) != my_round {
                return Ok(arrived);
            }
            if previous == Previous::Died {
                self.break_barrier();
            }
            if self.broken() {
                return Err(BarrierError::Broken);
            }
            if waited == Waited::TimedOut {
                self.break_barrier();
                return Err(BarrierError::Timeout(match budget.patience() {
                    Patience::Timeout(timeout) => timeout,
                    // Barriers have no try-wait, and a blocking wait never times out.
                    Patience::Block | Patience::Try => Duration::ZERO,
                }));
            }
        }
    }
}
