//! Python's `multiprocessing.Queue` and `JoinableQueue`: a FIFO of typed items shared by any
//! number of producer and consumer processes, kept in one ring of shared memory.

mod builder;
mod joinable_queue;
mod plain_queue;
mod ring;
mod scratch;

pub use builder::QueueBuilder;
pub use joinable_queue::JoinableQueue;
pub use plain_queue::Queue;
