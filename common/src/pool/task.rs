//! How a Rust function becomes a task that another process can run.
//!
//! A task is a function item or a closure that captures nothing (`F: Fn(A) -> R + Copy`,
//! zero-sized). Every pool process is forked from the same executable, so code addresses
//! mean the same thing in all of them: the submitting side sends the address of a
//! *trampoline*, a function monomorphised for `F`, `A` and `R` that decodes the argument,
//! calls `F`, and encodes the result. Since `F` has no bytes, the trampoline needs nothing
//! but its type to call it.

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::service::{panic_message, take_panic_location};
use crate::PoolError;
use crate::codec;

/// Runs a task in a worker: argument bytes in, encoded result appended to `out`.
pub(crate) type Trampoline = fn(&[u8], &mut Vec<u8>) -> Result<(), TaskFailure>;

/// Why a task produced no result, as the worker reports it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum TaskFailure {
    Panicked {
        message: String,
        location: Option<String>,
    },
    ArgumentDecode {
        message: String,
    },
    ResultEncode {
        message: String,
    },
    ResultTooLarge {
        bytes: u64,
    },
}

impl From<TaskFailure> for PoolError {
    fn from(failure: TaskFailure) -> Self {
        match failure {
            TaskFailure::Panicked { message, location } => {
                PoolError::TaskPanicked { message, location }
            }
            TaskFailure::ArgumentDecode { message } => PoolError::ArgumentDecode { message },
            TaskFailure::ResultEncode { message } => PoolError::ResultEncode { message },
            TaskFailure::ResultTooLarge { bytes } => PoolError::MessageTooLarge {
                bytes: bytes as usize,
                limit: codec::MAX_MESSAGE_BYTES,
            },
        }
    }
}

/// A trampoline as it travels in a task frame.
pub(crate) fn trampoline_address(trampoline: Trampoline) -> u64 {
    trampoline as usize as u64
}

/// The trampoline at `address`.
///
/// # Safety
///
/// `address` must come from [`trampoline_address`] in this process or in one it was forked
/// from (with no `exec` in between), so the same executable image is mapped at the same
/// addresses and the address still points at a function of type [`Trampoline`].
pub(crate) unsafe fn trampoline_at(address: u64) -> Trampoline {
    // SAFETY: per the contract, `address` is a `Trampoline` function pointer of this very
    // image; function pointers and `usize` have the same size on every target we build for.
    unsafe { std::mem::transmute::<usize, Trampoline>(address as usize) }
}

struct CapturesNothing<F>(PhantomData<F>);

impl<F> CapturesNothing<F> {
    const CHECK: () = assert!(
        size_of::<F>() == 0,
        "a pool task must be a function or a closure that captures nothing: it runs in another process"
    );
}

/// Fails the build (at monomorphisation) when `F` is not zero-sized.
pub(crate) fn assert_captures_nothing<F>() {
    let () = CapturesNothing::<F>::CHECK;
}

/// Produces the task function from its type alone.
///
/// # Safety
///
/// A value of `F` must have existed (the type is inhabited): the submitter had one.
pub(crate) unsafe fn conjure<F: Copy>() -> F {
    assert_captures_nothing::<F>();
    // SAFETY: This is safe because: [1] `F` is zero-sized, so reading it reads no bytes and a
    // dangling, aligned, non-null pointer is valid for the read; [2] `F` is inhabited (the
    // caller's contract), and a zero-sized type has exactly one value, the one the submitter
    // held; [3] `F: Copy`, so making another value of it is what copying would have done.
    unsafe { std::ptr::NonNull::<F>::dangling().as_ptr().read() }
}

/// Runs `body` and turns a panic (in the task, or in a `Serialize`/`Deserialize` impl) into
/// a failure the worker reports, so the worker survives it.
fn guarded(body: impl FnOnce() -> Result<(), TaskFailure>) -> Result<(), TaskFailure> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(outcome) => outcome,
        Err(payload) => Err(TaskFailure::Panicked {
            message: panic_message(payload.as_ref()),
            location: take_panic_location(),
        }),
    }
}

fn decode_argument<A: DeserializeOwned>(bytes: &[u8]) -> Result<A, TaskFailure> {
    codec::decode(bytes).map_err(|error| TaskFailure::ArgumentDecode {
        message: error.to_string(),
    })
}

fn encode_result<R: Serialize>(result: &R, out: &mut Vec<u8>) -> Result<(), TaskFailure> {
    let buffer = std::mem::take(out);
    match codec::encode_into(result, buffer) {
        Ok(buffer) => {
            *out = buffer;
            Ok(())
        }
        Err(error) => Err(TaskFailure::ResultEncode {
            message: error.to_string(),
        }),
    }
}

/// `f(arg)` for one argument.
pub(crate) fn run_one<F, A, R>(args: &[u8], out: &mut Vec<u8>) -> Result<(), TaskFailure>
where
    F: Fn(A) -> R + Copy + 'static,
    A: DeserializeOwned,
    R: Serialize,
{
    guarded(|| {
        let arg: A = decode_argument(args)?;
        // SAFETY: the submitter held an `F` (see `Pool::submit_one`).
        let f = unsafe { conjure::<F>() };
        encode_result(&f(arg), out)
    })
}

/// `[f(a) for a in chunk]`: a chunk of `map` items, one message each way.
pub(crate) fn run_chunk<F, A, R>(args: &[u8], out: &mut Vec<u8>) -> Result<(), TaskFailure>
where
    F: Fn(A) -> R + Copy + 'static,
    A: DeserializeOwned,
    R: Serialize,
{
    guarded(|| {
        let chunk: Vec<A> = decode_argument(args)?;
        // SAFETY: the submitter held an `F` (see `Pool::submit_chunks`).
        let f = unsafe { conjure::<F>() };
        let results: Vec<R> = chunk.into_iter().map(f).collect();
        encode_result(&results, out)
    })
}

/// `[f(a, b) for (a, b) in chunk]`: a chunk of `starmap` items.
pub(crate) fn run_star_chunk<F, A, B, R>(args: &[u8], out: &mut Vec<u8>) -> Result<(), TaskFailure>
where
    F: Fn(A, B) -> R + Copy + 'static,
    A: DeserializeOwned,
    B: DeserializeOwned,
    R: Serialize,
{
    guarded(|| {
        let chunk: Vec<(A, B)> = decode_argument(args)?;
        // SAFETY: the submitter held an `F` (see `Pool::starmap_chunked`).
        let f = unsafe { conjure::<F>() };
        let results: Vec<R> = chunk.into_iter().map(|(a, b)| f(a, b)).collect();
        encode_result(&results, out)
    })
}
