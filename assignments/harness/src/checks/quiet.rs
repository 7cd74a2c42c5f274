//! Checks that time things must not share the machine with other checks.
//!
//! Within one process (one test binary, or the grader), timing checks take the machine lock
//! exclusively and every other check takes it shared: a timing check waits for running checks
//! to finish and holds off new ones until it is done.

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

static MACHINE: RwLock<()> = RwLock::new(());

/// Holds the machine lock for the duration of one check.
#[derive(Debug)]
pub enum MachineGuard {
    /// A timing check: nothing else runs.
    Exclusive(RwLockWriteGuard<'static, ()>),
    /// Any other check: runs beside other non-timing checks.
    Shared(RwLockReadGuard<'static, ()>),
}

/// Takes the machine lock, exclusively when `quiet` (a timing check).
pub fn machine_lock(quiet: bool) -> MachineGuard {
    // A check that panicked while holding the lock left nothing to repair: the lock guards
    // no data.
    if quiet {
        MachineGuard::Exclusive(MACHINE.write().unwrap_or_else(PoisonError::into_inner))
    } else {
        MachineGuard::Shared(MACHINE.read().unwrap_or_else(PoisonError::into_inner))
    }
}
