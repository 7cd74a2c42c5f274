//! # a04-condition: a bounded buffer for producer and consumer processes
//!
//! Read `README.md` first: it explains the task, and what the tests check.
//! Then replace every `todo!()` below; each `// TODO:` marks a place where you act.
//! Run the tests with `cargo test -p a04-condition`.

use multiprocessing as mp;

/// What producers make and consumers take: a plain number, so it fits in an `mp::Array`.
pub type Item = u64;

/// A bounded first-in, first-out buffer of [`Item`]s in shared memory, for processes.
///
/// Clones share the same buffer: clone it into each process's closure before starting it.
#[derive(Debug, Clone)]
pub struct BoundedBuffer {
    // TODO: the shared state, all created in `new` (before any process starts):
    //       - one `mp::Condition`, whose lock guards everything below;
    //       - an `mp::Array<Item>` of `capacity` slots (a ring);
    //       - `mp::Value`s for where the oldest item is, how many items there are, and how
    //         many producers have not called `producer_done` yet.
}

/// Why a [`BoundedBuffer`] operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BufferError {
    /// A buffer needs room for at least one item.
    #[error("a bounded buffer needs a capacity of at least 1")]
    ZeroCapacity,
    /// The shared objects could not be created.
    #[error("could not create the buffer's shared objects")]
    Create(#[from] mp::CreateError),
    /// The condition's lock failed (its holder died, or the OS refused). Make one from any
    /// lock error with `BufferError::Lock(error.without_guard())`.
    #[error("the buffer's lock failed")]
    Lock(#[source] mp::LockError<()>),
    /// `producer_done` was called more often than there are producers.
    #[error("producer_done was called more times than there are producers")]
    TooManyDone,
}

/// Why [`produce_and_consume`] failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The buffer could not be created.
    #[error("could not create the buffer")]
    Buffer(#[from] BufferError),
    /// A producer or consumer could not be started or joined, or it panicked (its message is
    /// inside).
    #[error("a producer or consumer process failed")]
    Process(#[from] mp::ProcessError),
}

impl BoundedBuffer {
    /// An empty buffer with room for `capacity` items, fed by `producers` producers.
    /// [`BufferError::ZeroCapacity`] if `capacity` is 0.
    pub fn new(capacity: usize, producers: usize) -> Result<BoundedBuffer, BufferError> {
        // TODO: refuse a capacity of 0; create the shared objects of the struct above.
        todo!(
            "create the Condition, an Array with room for {capacity} items, and the Values \
             (head index, item count, {producers} producers left)"
        )
    }

    /// Adds `item` at the tail, waiting while the buffer is full.
    pub fn put(&self, item: Item) -> Result<(), BufferError> {
        // TODO: hold the condition's lock; wait while the buffer is full; store the item at
        //       the tail (head + count, wrapped around); count it; wake the waiters.
        todo!("put {item}: wait while full, store at the tail, count it, notify")
    }

    /// Takes the item at the head, waiting while the buffer is empty and a producer is still
    /// producing; `None` once the buffer is empty and every producer is done.
    pub fn get(&self) -> Result<Option<Item>, BufferError> {
        // TODO: hold the condition's lock; wait while the buffer is empty and a producer is
        //       left; if it is still empty, return None; otherwise take the item at the head,
        //       move the head on (wrapped around), count it out, wake the waiters.
        todo!("get: wait while empty and a producer is left, take the head item, notify")
    }

    /// Says one producer has put its last item. [`BufferError::TooManyDone`] if every
    /// producer already said so.
    pub fn producer_done(&self) -> Result<(), BufferError> {
        // TODO: under the lock, count one producer out, and wake the waiting consumers: when
        //       the last producer is done, each of them must find out.
        todo!("producer_done: count one producer out, notify the consumers")
    }
}

/// Starts one producer process per list of `items` (each puts its items in order, then calls
/// `producer_done`) and `consumers` consumer processes (each calls `get` until it returns
/// `None`, and calls `consume(item)` with every item it gets), around one buffer of
/// `capacity`; joins them all.
pub fn produce_and_consume<F>(
    capacity: usize,
    items: &[Vec<Item>],
    consumers: usize,
    consume: F,
) -> Result<(), PipelineError>
where
    F: Fn(Item) + Clone + 'static,
{
    // TODO: create the buffer (one producer per list of items).
    // TODO: one `mp::Process` per producer, with its own clone of the buffer and its items.
    // TODO: `consumers` processes, each with its own clone of the buffer and of `consume`.
    // TODO: start them all, then join them all (a panic in one comes back from its join).
    let _ = consume; // Only keeps the unfinished stub free of warnings: remove it.
    todo!(
        "start {} producer processes and {consumers} consumer processes around a buffer of \
         {capacity}; join them all",
        items.len()
    )
}
