//! Data shared by processes: [`Value`] and [`Array`] of plain numbers (each with its own
//! lock), and named [`SharedMemory`] blocks.

mod array;
mod scalar;
mod shared_memory;
mod value;

pub use array::{Array, ArrayGuard};
pub use scalar::Scalar;
pub use shared_memory::SharedMemory;
pub use value::{Value, ValueGuard};
