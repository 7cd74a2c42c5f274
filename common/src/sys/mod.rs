//! The kernel objects everything else is built on. Crate-private: the public types wrap them.

mod raw_condvar;
mod raw_mutex;
mod shared_region;

pub(crate) use raw_condvar::{RawCondvar, SPIN_BEFORE_SLEEP, Woken, spin_until};
pub(crate) use raw_mutex::{Acquired, LockFailure, RawMutex, Spin};
pub(crate) use shared_region::SharedRegion;
