//! # a04-condition: reference solution
//!
//! Same public API as `assignments/a04-condition/src/lib.rs`.

use multiprocessing as mp;

/// What producers make and consumers take: a plain number, so it fits in an `mp::Array`.
pub type Item = u64;

/// A bounded first-in, first-out buffer of [`Item`]s in shared memory, for processes.
///
/// A ring of `capacity` slots in an `mp::Array`, with the index of the oldest item, the
/// number of items, and the number of producers still producing in `mp::Value`s, all read and
/// written only while holding `condition`'s lock. Clones share the same buffer: clone it into
/// each process before starting it.
#[derive(Debug, Clone)]
pub struct BoundedBuffer {
    condition: mp::Condition,
    slots: mp::Array<Item>,
    head: mp::Value<usize>,
    count: mp::Value<usize>,
    producers_left: mp::Value<usize>,
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
    /// The condition's lock failed (its holder died, or the OS refused).
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

fn lock_failed<G>(error: mp::LockError<G>) -> BufferError {
    BufferError::Lock(error.without_guard())
}

impl BoundedBuffer {
    /// An empty buffer with room for `capacity` items, fed by `producers` producers.
    pub fn new(capacity: usize, producers: usize) -> Result<BoundedBuffer, BufferError> {
        if capacity == 0 {
            return Err(BufferError::ZeroCapacity);
        }
        Ok(BoundedBuffer {
            condition: mp::Condition::new()?,
            slots: mp::Array::new(capacity, 0)?,
            head: mp::Value::new(0)?,
            count: mp::Value::new(0)?,
            producers_left: mp::Value::new(producers)?,
        })
    }

    /// Adds `item` at the tail, waiting while the buffer is full.
    pub fn put(&self, item: Item) -> Result<(), BufferError> {
        let capacity = self.slots.len();
        let held = self.condition.acquire().map_err(lock_failed)?;
        // wait_for re-checks after every wakeup: another producer may have taken the free
        // slot between the notification and our turn.
        let held = self
            .condition
            .wait_for(held, || self.count.load() < capacity)
            .map_err(lock_failed)?;
        let count = self.count.load();
        let tail = (self.head.load() + count) % capacity;
        // In range by construction: `tail < capacity`.
        let _ = self.slots.store(tail, item);
        self.count.store(count + 1);
        // Producers and consumers wait on this one condition: wake them all, each re-checks
        // its own predicate (notify() could wake only another producer, and be lost).
        self.condition.notify_all();
        drop(held);
        Ok(())
    }

    /// Takes the item at the head, waiting while the buffer is empty and a producer is
    /// still producing; `None` once it is empty and every producer is done.
    pub fn get(&self) -> Result<Option<Item>, BufferError> {
        let capacity = self.slots.len();
        let held = self.condition.acquire().map_err(lock_failed)?;
        let held = self
            .condition
            .wait_for(held, || {
                self.count.load() > 0 || self.producers_left.load() == 0
            })
            .map_err(lock_failed)?;
        let count = self.count.load();
        if count == 0 {
            return Ok(None);
        }
        let head = self.head.load();
        let item = self.slots.load(head).unwrap_or_default();
        self.head.store((head + 1) % capacity);
        self.count.store(count - 1);
        self.condition.notify_all();
        drop(held);
        Ok(Some(item))
    }

    /// Says one producer has put its last item; when the last one says so, every waiting
    /// consumer is woken to find the buffer empty and end.
    pub fn producer_done(&self) -> Result<(), BufferError> {
        let _held = self.condition.acquire().map_err(lock_failed)?;
        let left = self.producers_left.load();
        if left == 0 {
            return Err(BufferError::TooManyDone);
        }
        self.producers_left.store(left - 1);
        self.condition.notify_all();
        Ok(())
    }
}

/// Starts one producer process per list of `items` (each puts its items in order, then calls
/// `producer_done`) and `consumers` consumer processes (each gets items until `None`, calling
/// `consume` with each), around a buffer of `capacity`; joins them all.
pub fn produce_and_consume<F>(
    capacity: usize,
    items: &[Vec<Item>],
    consumers: usize,
    consume: F,
) -> Result<(), PipelineError>
where
    F: Fn(Item) + Clone + 'static,
{
    let buffer = BoundedBuffer::new(capacity, items.len())?;
    let mut processes = Vec::with_capacity(items.len() + consumers);
    for (index, own) in items.iter().enumerate() {
        let (buffer, own) = (buffer.clone(), own.clone());
        let producer = mp::Process::new(move || {
            let put = own.iter().try_for_each(|item| buffer.put(*item));
            // Counted out even after a failed put, so the consumers still end.
            let done = buffer.producer_done();
            if let Err(error) = put.and(done) {
                panic!("producer {index}: {}", error_chain(&error));
            }
        });
        processes.push(producer.with_name(format!("producer {index}")));
    }
    for index in 0..consumers {
        let (buffer, consume) = (buffer.clone(), consume.clone());
        let consumer = mp::Process::new(move || {
            loop {
                match buffer.get() {
                    Ok(Some(item)) => consume(item),
                    Ok(None) => break,
                    Err(error) => panic!("consumer {index}: {}", error_chain(&error)),
                }
            }
        });
        processes.push(consumer.with_name(format!("consumer {index}")));
    }
    for process in &mut processes {
        process.start()?;
    }
    // Join every process even after one failed, so none is left running.
    let mut joined = Ok(());
    for process in &mut processes {
        if let Err(error) = process.join()
            && joined.is_ok()
        {
            joined = Err(error);
        }
    }
    Ok(joined?)
}

/// An error and its causes, for a child's panic message (which `join` carries back).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
