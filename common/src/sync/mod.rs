//! Process-shared synchronisation: [`Lock`], [`RLock`], [`Semaphore`], [`BoundedSemaphore`],
//! [`Condition`], [`Event`], [`Barrier`].
//!
//! Each lives in a `MAP_SHARED` mapping made before `Process::start` and is inherited by the
//! children; `clone` is cheap and every clone, in every process, is the same object. Locks are
//! robust: a holder's death is reported (`LockError::OwnerDied`), never a silent hang.

pub(crate) mod acquire;
mod barrier;
mod condition;
mod event;
mod lock;
mod rlock;
mod semaphore;
mod state_lock;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condition::{Condition, WaitTimeoutResult};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
