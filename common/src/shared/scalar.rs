//! `Scalar`: the plain-data element types a [`Value`](crate::Value) or
//! [`Array`](crate::Array) may hold.

use std::sync::atomic::{
    AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicU8, AtomicU16, AtomicU32,
    AtomicU64, AtomicUsize, Ordering,
};

pub(crate) mod sealed {
    /// How a scalar sits in shared memory: in an atomic of the same size, so that reads and
    /// writes without the lock are atomic, never a data race.
    pub trait Sealed: Copy {
        /// The atomic type of the same size.
        type Cell: Send + Sync;
        /// A cell holding `value`.
        fn new_cell(value: Self) -> Self::Cell;
        /// Reads the cell (Relaxed).
        fn load(cell: &Self::Cell) -> Self;
        /// Writes the cell (Relaxed).
        fn store(cell: &Self::Cell, value: Self);
        /// True if the value's bytes are all zero (the state of fresh shared memory).
        fn is_zero_bits(self) -> bool;
    }
}

/// A plain-data number that can live in shared memory: `i8`..`i64`, `u8`..`u64`, `isize`,
/// `usize`, `f32`, `f64` (Python's typecodes `'b'`, `'B'`, `'h'`, ..., `'f'`, `'d'`).
///
/// Every bit pattern is a valid value of these types, and each has an atomic of the same size,
/// which is what lets processes share them. The trait is sealed: types that own memory
/// elsewhere (a `String`, a `Vec`) hold pointers that mean nothing in another process, so
/// they cannot be shared this way and do not compile:
///
/// ```compile_fail
/// let name = multiprocessing::Value::new(String::from("shared?"));
/// ```
///
/// ```compile_fail
/// let lists = multiprocessing::Array::new(3, vec![1, 2, 3]);
/// ```
///
/// Send such data through a `Queue` or a `Pipe` instead.
pub trait Scalar: sealed::Sealed + Send + Sync + PartialEq + std::fmt::Debug + 'static {}

macro_rules! integer_scalar {
    ($($int:ty => $atomic:ty),* $(,)?) => {$(
        impl sealed::Sealed for $int {
            type Cell = $atomic;
            fn new_cell(value: Self) -> Self::Cell {
                <$atomic>::new(value)
            }
            fn load(cell: &Self::Cell) -> Self {
                cell.load(Ordering::Relaxed)
            }
            fn store(cell: &Self::Cell, value: Self) {
                cell.store(value, Ordering::Relaxed);
            }
            fn is_zero_bits(self) -> bool {
                self == 0
            }
        }
        impl Scalar for $int {}
    )*};
}

/// Floats have no atomic type of their own: they travel as their bit pattern.
macro_rules! float_scalar {
    ($($float:ty => $atomic:ty),* $(,)?) => {$(
        impl sealed::Sealed for $float {
            type Cell = $atomic;
            fn new_cell(value: Self) -> Self::Cell {
                <$atomic>::new(value.to_bits())
            }
            fn load(cell: &Self::Cell) -> Self {
                <$float>::from_bits(cell.load(Ordering::Relaxed))
            }
            fn store(cell: &Self::Cell, value: Self) {
                cell.store(value.to_bits(), Ordering::Relaxed);
            }
            fn is_zero_bits(self) -> bool {
                self.to_bits() == 0
            }
        }
        impl Scalar for $float {}
    )*};
}

integer_scalar! {
    i8 => AtomicI8,
    i16 => AtomicI16,
    i32 => AtomicI32,
    i64 => AtomicI64,
    isize => AtomicIsize,
    u8 => AtomicU8,
    u16 => AtomicU16,
    u32 => AtomicU32,
    u64 => AtomicU64,
    usize => AtomicUsize,
}

float_scalar! {
    f32 => AtomicU32,
    f64 => AtomicU64,
}
