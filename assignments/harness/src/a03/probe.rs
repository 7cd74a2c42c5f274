//! Holding the counter's lock while the workers start: a deterministic test of whether they
//! take it.
//!
//! Lost updates are a race: whether two unlocked read-modify-writes interleave depends on
//! timing, and in an optimised build a worker's whole loop can end before the next worker is
//! even forked. Holding the lock turns the question into an observation instead. A helper
//! thread of the runner takes the counter's lock *before* the student's code runs and keeps
//! it while the workers start: a worker that takes the lock for each increment waits; a worker
//! that does not (a bare `store(load() + 1)`, or a lock of its own) changes the counter while
//! the lock is held, and the helper sees it. The hold ends as soon as every worker has been
//! forked and each is blocked (or gone), so a correct run only waits for its workers to start.
//!
//! The helper thread does nothing while the student's code forks but atomic loads, reads of
//! `/proc` and sleeps, and it does not exit before the student's code has returned: a forked
//! child never inherits a lock it holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use multiprocessing as mp;

use crate::a03::protocol::{LockHold, Release};
use crate::forks::ForkCounter;
use crate::procfs;

/// How often the helper looks at the counter and the workers.
const POLL: Duration = Duration::from_millis(1);

/// Holds a counter's lock from a helper thread; see the module docs.
#[derive(Debug)]
pub struct LockProbe {
    stop: Arc<AtomicBool>,
    helper: Option<JoinHandle<LockHold>>,
}

/// What the probe waits for before it releases the lock.
#[derive(Debug, Clone, Copy)]
pub struct Expecting {
    /// The fork counter, and its value before the student's code ran.
    pub forks: Option<(ForkCounter, u64)>,
    /// How many workers will be forked.
    pub workers: usize,
    /// Longest hold, whatever happens.
    pub limit: Duration,
}

impl LockProbe {
    /// Takes `counter`'s lock in a helper thread and returns once it is held. `counter` must
    /// be 0.
    pub fn hold(counter: &mp::Value<u64>, expecting: Expecting) -> Result<LockProbe, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let (held_tx, held_rx) = mpsc::sync_channel::<Result<(), String>>(1);
        let helper = std::thread::Builder::new()
            .name("lock-probe".to_owned())
            .spawn({
                let (counter, stop) = (counter.clone(), Arc::clone(&stop));
                move || watch(&counter, expecting, &stop, &held_tx)
            })
            .map_err(|e| format!("could not start the lock probe's thread: {e}"))?;
        let probe = LockProbe {
            stop,
            helper: Some(helper),
        };
        match held_rx.recv() {
            Ok(Ok(())) => Ok(probe),
            Ok(Err(why)) => Err(why),
            Err(_) => Err("the lock probe's thread ended before taking the lock".to_owned()),
        }
    }

    /// Releases the lock if it is still held, and says how the hold went. Call it once the
    /// student's code has returned.
    pub fn finish(mut self) -> Result<LockHold, String> {
        self.stop_helper()
            .ok_or_else(|| "the lock probe's thread panicked".to_owned())
    }

    fn stop_helper(&mut self) -> Option<LockHold> {
        self.stop.store(true, Ordering::SeqCst);
        let helper = self.helper.take()?;
        helper.thread().unpark();
        helper.join().ok()
    }
}

impl Drop for LockProbe {
    /// Releases the lock even when the student's code panicked, so no worker waits forever.
    fn drop(&mut self) {
        let _ = self.stop_helper();
    }
}

/// The helper thread: hold, watch, release, then wait for the end of the student's code.
fn watch(
    counter: &mp::Value<u64>,
    expecting: Expecting,
    stop: &AtomicBool,
    held: &mpsc::SyncSender<Result<(), String>>,
) -> LockHold {
    let guard = match counter.get_lock() {
        Ok(guard) => guard,
        Err(error) => {
            let _ = held.send(Err(format!("could not take the counter's lock: {error}")));
            return LockHold {
                seen: 0,
                held_micros: 0,
                released: Release::Returned,
            };
        }
    };
    let started = Instant::now();
    let _ = held.send(Ok(()));
    let released = loop {
        if counter.load() != 0 {
            break Release::ChangeSeen;
        }
        if stop.load(Ordering::SeqCst) {
            break Release::Returned;
        }
        if started.elapsed() >= expecting.limit {
            break Release::Limit;
        }
        if all_workers_waiting(&expecting) {
            // A worker may have written between the load above and the look at /proc.
            break if counter.load() != 0 {
                Release::ChangeSeen
            } else {
                Release::WorkersWaiting
            };
        }
        std::thread::sleep(POLL);
    };
    let hold = LockHold {
        seen: counter.load(),
        held_micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        released,
    };
    drop(guard);
    while !stop.load(Ordering::SeqCst) {
        std::thread::park();
    }
    hold
}

/// Every worker has been forked, and every process of the group but the runner is blocked or
/// has exited.
fn all_workers_waiting(expecting: &Expecting) -> bool {
    let Some((counter, before)) = expecting.forks else {
        return false;
    };
    if counter.forks().saturating_sub(before) < expecting.workers as u64 {
        return false;
    }
    let me = std::process::id();
    let group = nix::unistd::getpgrp().as_raw() as u32;
    procfs::group_members(group)
        .iter()
        .filter(|p| p.pid != me && !p.is_zombie())
        .all(procfs::ProcessSnapshot::is_blocked)
}
