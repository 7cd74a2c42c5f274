//! `Array`: Python's `multiprocessing.Array`, a fixed-length run of numbers in shared memory
//! with one lock.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use super::scalar::{Scalar, sealed::Sealed};
use crate::errors::{CreateError, IndexError, LockError};
use crate::sync::acquire::{NotSend, Patience, acquire};
use crate::sys::{RawMutex, SharedRegion};

/// A fixed-length array of numbers shared by processes, with one lock, like Python's
/// `multiprocessing.Array`.
///
/// ```
/// use multiprocessing as mp;
///
/// fn f(n: &mp::Value<f64>, a: &mp::Array<i32>) {
///     n.store(3.1415927);
///     for x in a.get_lock().expect("lock").iter_mut() {
///         *x = -*x;
///     }
/// }
///
/// let num = mp::Value::new(0.0f64)?; // Python: Value('d', 0.0)
/// let arr = mp::Array::from_slice(&(0..10).collect::<Vec<i32>>())?; // Array('i', range(10))
/// let mut p = mp::Process::new({
///     let (num, arr) = (num.clone(), arr.clone());
///     move || f(&num, &arr)
/// });
/// p.start()?;
/// p.join()?;
/// assert_eq!(num.load(), 3.1415927);
/// assert_eq!(arr.to_vec(), [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Like [`Value`](crate::Value), an `Array` has two ways in: [`load`](Self::load) and
/// [`store`](Self::store) read or write one element atomically without the lock (Python's
/// `a[i]` and `a[i] = x`), and [`get_lock`](Self::get_lock) holds the lock and gives a guard
/// that derefs to `[T]` for any read-modify-write of several elements. Data shared under a
/// [`Condition`](crate::Condition) is best read and written with `load`/`store` while holding
/// the condition's guard: the condition's lock is the one that orders them.
///
/// ## Memory model
///
/// As for `Value` (see its *Memory model* section), the shared elements are only ever accessed
/// atomically, so no mix of the two ways is a data race. The guard's `&mut [T]` points to a
/// scratch copy that sits next to the elements in the same shared mapping and that only the
/// lock's holder ever touches: taking the lock copies the elements in, dropping the guard
/// copies them back, both with atomic accesses, before unlocking. The cost is one copy of the
/// array each way per `get_lock` (and twice the memory), so take the lock once around a loop
/// over the elements rather than once per element. Until the guard drops, `load` and
/// `to_vec` show the elements as they were before the critical section.
pub struct Array<T: Scalar> {
    region: Arc<SharedRegion<RawMutex>>,
    len: usize,
    _elements: PhantomData<T>,
}

impl<T: Scalar> Clone for Array<T> {
    fn clone(&self) -> Self {
        Self {
            region: Arc::clone(&self.region),
            len: self.len,
            _elements: PhantomData,
        }
    }
}

impl<T: Scalar> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Array").field(&self.to_vec()).finish()
    }
}

/// Holds an [`Array`]'s lock; derefs to the elements as a slice. Changes are written to
/// shared memory when the guard drops, and the lock released.
///
/// Not `Send`: a lock is released by the thread that acquired it.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ArrayGuard<'a, T: Scalar> {
    array: &'a Array<T>,
    scratch: &'a mut [T],
    _not_send: NotSend,
}

impl<T: Scalar> std::fmt::Debug for ArrayGuard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ArrayGuard").field(&self.scratch).finish()
    }
}

impl<T: Scalar> Array<T> {
    /// The longest array of `T` that can be asked for: the elements and their scratch copy
    /// must fit in the address space.
    pub fn max_len() -> usize {
        let per_element = std::mem::size_of::<<T as Sealed>::Cell>() + std::mem::size_of::<T>();
        (isize::MAX as usize / 2) / per_element
    }

    /// An array of `len` copies of `init` (Python's `Array('i', 10)` is
    /// `Array::new(10, 0i32)`); [`CreateError::InvalidLength`] for 0 or more than
    /// [`max_len`](Self::max_len).
    pub fn new(len: usize, init: T) -> Result<Self, CreateError> {
        let array = Self::zeroed(len)?;
        // Fresh shared memory is zero already; not touching it leaves its pages unallocated.
        if !init.is_zero_bits() {
            for cell in array.cells() {
                T::store(cell, init);
            }
        }
        Ok(array)
    }

    /// An array holding a copy of `values` (Python's `Array('i', [1, 2, 3])`);
    /// [`CreateError::InvalidLength`] if `values` is empty.
    pub fn from_slice(values: &[T]) -> Result<Self, CreateError> {
        let array = Self::zeroed(values.len())?;
        for (cell, value) in array.cells().iter().zip(values) {
            T::store(cell, *value);
        }
        Ok(array)
    }

    fn zeroed(len: usize) -> Result<Self, CreateError> {
        let max = Self::max_len();
        if len == 0 || len > max {
            return Err(CreateError::InvalidLength { len, max });
        }
        let cells_bytes = len * std::mem::size_of::<<T as Sealed>::Cell>();
        let scratch_bytes = len * std::mem::size_of::<T>();
        // SAFETY: `init` makes the mutex valid; the tail (elements and scratch) is zeroed
        // memory, valid for atomics and numbers alike; nothing else can reach it yet.
        let region = unsafe {
            SharedRegion::new(cells_bytes + scratch_bytes, |mutex| {
                RawMutex::init(mutex, false)
            })
        }
        .map_err(|source| CreateError::Os {
            object: "array",
            source,
        })?;
        Ok(Self {
            region: Arc::new(region),
            len,
            _elements: PhantomData,
        })
    }

    /// The shared elements.
    fn cells(&self) -> &[<T as Sealed>::Cell] {
        // SAFETY: the tail starts with `len` cells (`zeroed` sized it so), 64-byte aligned
        // (the header is padded to 64), zero-initialised, which is a valid atomic; atomics are
        // shared through `&` by design, and the slice lives no longer than the mapping.
        unsafe { std::slice::from_raw_parts(self.region.tail_ptr().cast(), self.len) }
    }

    /// The scratch copy handed to the lock's holder.
    ///
    /// # Safety
    ///
    /// The calling thread must hold the lock, and no other reference to the scratch may live
    /// while the returned one does (one guard at a time: the lock is not recursive).
    #[allow(
        clippy::mut_from_ref,
        reason = "exclusive because the caller holds the lock, per the safety contract"
    )]
    unsafe fn scratch(&self) -> &mut [T] {
        let cells_bytes = self.len * std::mem::size_of::<<T as Sealed>::Cell>();
        // SAFETY: the scratch follows the cells inside the tail (`zeroed` sized it), aligned
        // because the cells' size is a multiple of `T`'s alignment; it holds valid `T`s (any
        // bits are); the caller's lock makes this the only reference to it in any thread or
        // process.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.region.tail_ptr().add(cells_bytes).cast::<T>(),
                self.len,
            )
        }
    }

    /// The number of elements (Python's `len(a)`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: an array has at least one element.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Element `index`, read atomically without the lock (Python's `a[i]`); `None` past the
    /// end.
    pub fn load(&self, index: usize) -> Option<T> {
        self.cells().get(index).map(T::load)
    }

    /// Writes element `index` atomically without the lock (Python's `a[i] = x`).
    pub fn store(&self, index: usize, value: T) -> Result<(), IndexError> {
        let cell = self.cells().get(index).ok_or(IndexError {
            index,
            len: self.len,
        })?;
        T::store(cell, value);
        Ok(())
    }

    /// All elements, each read atomically without the lock (Python's `a[:]`). Not a
    /// snapshot if other processes write meanwhile: for one, use
    /// `array.get_lock()?.to_vec()`.
    pub fn to_vec(&self) -> Vec<T> {
        self.cells().iter().map(T::load).collect()
    }

    /// Takes the array's lock, blocking until it is free; the guard derefs to `[T]`.
    ///
    /// Errors: [`LockError::OwnerDied`] (acquired; the previous holder died in its critical
    /// section, possibly while writing its changes back), [`LockError::Deadlock`] (this thread
    /// holds it), [`LockError::Os`].
    pub fn get_lock(&self) -> Result<ArrayGuard<'_, T>, LockError<ArrayGuard<'_, T>>> {
        self.lock_with(Patience::Block)
    }

    /// Takes the lock only if it is free now: [`LockError::WouldBlock`] if another thread or
    /// process holds it, [`LockError::Deadlock`] if this thread does.
    pub fn try_get_lock(&self) -> Result<ArrayGuard<'_, T>, LockError<ArrayGuard<'_, T>>> {
        self.lock_with(Patience::Try)
    }

    /// Waits at most `timeout` for the lock: [`LockError::Timeout`] if it stayed held.
    pub fn get_lock_timeout(
        &self,
        timeout: Duration,
    ) -> Result<ArrayGuard<'_, T>, LockError<ArrayGuard<'_, T>>> {
        self.lock_with(Patience::Timeout(timeout))
    }

    fn lock_with(
        &self,
        patience: Patience,
    ) -> Result<ArrayGuard<'_, T>, LockError<ArrayGuard<'_, T>>> {
        acquire(self.region.header(), patience, || {
            // SAFETY: `acquire` runs this only once the lock is held, and the guard built here
            // is the only holder of the scratch until it drops and unlocks.
            let scratch = unsafe { self.scratch() };
            for (copy, cell) in scratch.iter_mut().zip(self.cells()) {
                *copy = T::load(cell);
            }
            ArrayGuard {
                array: self,
                scratch,
                _not_send: NotSend::default(),
            }
        })
    }
}

impl<T: Scalar> Deref for ArrayGuard<'_, T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.scratch
    }
}

impl<T: Scalar> DerefMut for ArrayGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.scratch
    }
}

impl<T: Scalar> Drop for ArrayGuard<'_, T> {
    fn drop(&mut self) {
        for (cell, value) in self.array.cells().iter().zip(self.scratch.iter()) {
            T::store(cell, *value);
        }
        // SAFETY: a guard exists only while its thread holds the mutex (built by `acquire`
        // after a successful lock, and not Send).
        unsafe { self.array.region.header().unlock() };
    }
}
