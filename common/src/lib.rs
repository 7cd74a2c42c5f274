//! Python's `multiprocessing`, in Rust, on real OS processes.
//!
//! The course's lessons write `import multiprocessing as mp`; here it is
//! `use multiprocessing as mp;`, and the names are the ones the lessons use: [`Process`],
//! [`Pipe`], [`Queue`], [`Value`], [`Array`], [`Lock`], [`Condition`], [`Pool`], [`Manager`].
//! Underneath, every one is a kernel object: `fork`ed processes, pipes and sockets,
//! `MAP_SHARED` memory, robust process-shared mutexes and futexes. Nothing is a thread
//! pretending to be a process.
//!
//! ```
//! use multiprocessing as mp;
//!
//! let counter = mp::Value::new(0i64)?;
//! let mut workers: Vec<mp::Process> = (0..3)
//!     .map(|_| {
//!         let counter = counter.clone();
//!         mp::Process::new(move || {
//!             for _ in 0..1000 {
//!                 *counter.get_lock().expect("lock") += 1;
//!             }
//!         })
//!     })
//!     .collect();
//! for worker in &mut workers {
//!     worker.start()?;
//! }
//! for worker in &mut workers {
//!     worker.join()?;
//! }
//! assert_eq!(counter.load(), 3000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod codec;
mod errors;
mod manager;
mod pipe;
mod pool;
mod process;
mod queue;
mod shared;
mod sync;
mod sys;
mod timer;

pub use errors::*;
pub use manager::*;
pub use pipe::*;
pub use pool::*;
pub use process::{
    CurrentProcess, ExitStatus, PANIC_EXIT_CODE, Process, cpu_count, current_process,
};
pub use queue::*;
pub use shared::*;
pub use sync::*;
pub use timer::Log;
