//! Process pools: [`Pool`] (Python's `multiprocessing.Pool`) and [`ProcessPoolExecutor`]
//! (Python's `concurrent.futures.ProcessPoolExecutor`).
//!
//! See [`Pool`] for how tasks, callbacks, worker deaths and shutdown work, and
//! `fork_server.rs` for why workers are forked by a single-threaded fork server.

mod async_result;
mod chunked;
mod dispatcher;
mod executor;
mod fork_server;
mod handle;
mod progress;
mod scope;
pub(crate) mod service;
mod shared;
pub(crate) mod task;
pub(crate) mod wire;
mod worker;

pub use async_result::AsyncResult;
pub use chunked::{Imap, ImapUnordered};
pub use executor::{AsCompleted, PoolFuture, ProcessPoolExecutor, as_completed};
pub use handle::Pool;
pub use scope::PoolScope;
