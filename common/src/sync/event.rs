//! `Event`: Python's `multiprocessing.Event`, a flag processes can wait on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::acquire::Patience;
use super::state_lock::{Budget, StateGuard, Waited};
use crate::errors::{CreateError, EventError};
use crate::sys::{RawCondvar, RawMutex, SharedRegion};

/// A flag shared by processes, like Python's `multiprocessing.Event`: [`set`](Self::set)
/// wakes every process in [`wait`](Self::wait), and later waits return at once until
/// [`clear`](Self::clear).
///
/// ```
/// use multiprocessing as mp;
///
/// fn wait_for_event(event: &mp::Event) {
///     println!("Waiting for the event to be set...");
///     event.wait().expect("wait");
///     println!("Event has been set, continuing with the task");
/// }
///
/// let event = mp::Event::new()?;
/// let mut process = mp::Process::new({
///     let event = event.clone();
///     move || wait_for_event(&event)
/// });
/// process.start()?;
/// std::thread::sleep(std::time::Duration::from_millis(20)); // simulate doing something
/// event.set()?;
/// process.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Setting the event after writing shared data publishes that data: a process that returns
/// from `wait` (or sees [`is_set`](Self::is_set) true) then reads what was written before
/// `set`.
#[derive(Clone)]
pub struct Event {
    region: Arc<SharedRegion<EventState>>,
}

struct EventState {
    mutex: RawMutex,
    /// Notified when the flag is set.
    was_set: RawCondvar,
    /// 1 when set. Changed only under `mutex`, so a waiter cannot miss the change between
    /// checking the flag and sleeping; read without it by `is_set`.
    flag: AtomicU32,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Result<Self, CreateError> {
        // SAFETY: `init` makes the mutex valid; all-zero memory is a valid condvar and an
        // unset flag; nothing else can reach the region yet.
        let region = unsafe {
            SharedRegion::new(0, |state: *mut EventState| {
                RawMutex::init(std::ptr::addr_of_mut!((*state).mutex), false)
            })
        }
        .map_err(|source| CreateError::Os {
            object: "event",
            source,
        })?;
        Ok(Self {
            region: Arc::new(region),
        })
    }

    fn state(&self) -> &EventState {
        self.region.header()
    }

    /// Sets the flag and wakes every waiting process.
    pub fn set(&self) -> Result<(), EventError> {
        let state = self.state();
        // The flag is one word, so a holder that died in here left it whole.
        let (held, _) = StateGuard::lock(&state.mutex).map_err(EventError::Os)?;
        state.flag.store(1, Ordering::Release);
        state.was_set.notify_all();
        drop(held);
        Ok(())
    }

    /// Clears the flag: later waits block until the next `set`.
    pub fn clear(&self) -> Result<(), EventError> {
        let state = self.state();
        let (held, _) = StateGuard::lock(&state.mutex).map_err(EventError::Os)?;
        state.flag.store(0, Ordering::Release);
        drop(held);
        Ok(())
    }

    /// Whether the flag is set now.
    pub fn is_set(&self) -> bool {
        self.state().flag.load(Ordering::Acquire) == 1
    }

    /// Blocks until the flag is set (at once if it is).
    pub fn wait(&self) -> Result<(), EventError> {
        self.wait_with(Patience::Block)
    }

    /// Blocks at most `timeout` for the flag: [`EventError::Timeout`] if it stayed clear
    /// (Python's `wait(timeout)` returning `False`).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<(), EventError> {
        self.wait_with(Patience::Timeout(timeout))
    }

    fn wait_with(&self, patience: Patience) -> Result<(), EventError> {
        if self.is_set() {
            return Ok(());
        }
        let state = self.state();
        let (mut held, _) = StateGuard::lock(&state.mutex).map_err(EventError::Os)?;
        let budget = Budget::start(patience);
        while !self.is_set() {
            let (again, _, waited) = held
                .wait_within(&state.was_set, budget)
                .map_err(EventError::Os)?;
            held = again;
            if waited == Waited::TimedOut && !self.is_set() {
                return Err(EventError::Timeout(match budget.patience() {
                    Patience::Timeout(timeout) => timeout,
                    // Events have no try-wait, and a blocking wait never times out.
                    Patience::Block | Patience::Try => Duration::ZERO,
                }));
            }
        }
        Ok(())
    }
}
