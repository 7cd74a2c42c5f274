//! `ValueProxy`: one shared value, as `manager.Value(...)`.

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::client::{call, unexpected};
use super::protocol::{Request, Response, decode, encode, image_anchor};
use crate::ManagerError;
use crate::pool::service::panic_message;
use crate::pool::task::{assert_captures_nothing, conjure};

/// Why an update function produced no new value.
pub(crate) enum UpdateFailure {
    Panicked(String),
    Codec(String),
}

/// Runs in the server: current value bytes in, new value bytes out.
pub(crate) type UpdateTrampoline = fn(&[u8]) -> Result<Vec<u8>, UpdateFailure>;

fn run_update<F, T>(current: &[u8]) -> Result<Vec<u8>, UpdateFailure>
where
    F: Fn(T) -> T + Copy + 'static,
    T: Serialize + DeserializeOwned,
{
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let value: T = crate::codec::decode(current)
            .map_err(|error| UpdateFailure::Codec(error.to_string()))?;
        // SAFETY: the proxy that sent this trampoline held an `F` (see `ValueProxy::update`).
        let f = unsafe { conjure::<F>() };
        crate::codec::encode(&f(value)).map_err(|error| UpdateFailure::Codec(error.to_string()))
    }));
    outcome.unwrap_or_else(|payload| Err(UpdateFailure::Panicked(panic_message(payload.as_ref()))))
}

/// The update trampoline at `address`.
///
/// # Safety
///
/// `address` must be an [`UpdateTrampoline`]'s address taken in this executable image,
/// mapped at the same place (checked by the caller with the image anchor).
pub(crate) unsafe fn update_trampoline_at(address: u64) -> UpdateTrampoline {
    // SAFETY: per the contract, `address` is an `UpdateTrampoline` of this very image.
    unsafe { std::mem::transmute::<usize, UpdateTrampoline>(address as usize) }
}

/// A value held by a [`Manager`](crate::Manager)'s server, as Python's `manager.Value`.
///
/// Each call is one round trip to the server. `get` then `set` is not atomic (two
/// processes can both read 5 and both write 6, as the lesson's output shows);
/// [`update`](Self::update) runs the whole read-modify-write in the server, atomically.
///
/// ```
/// use multiprocessing as mp;
///
/// let manager = mp::Manager::new()?;
/// let shared_int = manager.value(0i64)?;
/// let mut workers: Vec<mp::Process> = (0..3)
///     .map(|_| {
///         let shared_int = shared_int.clone();
///         mp::Process::new(move || {
///             for _ in 0..5 {
///                 shared_int.update(|v: i64| v + 1).expect("update");
///             }
///         })
///     })
///     .collect();
/// for worker in &mut workers {
///     worker.start()?;
/// }
/// for worker in &mut workers {
///     worker.join()?;
/// }
/// assert_eq!(shared_int.get()?, 15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ValueProxy<T> {
    address: String,
    id: u64,
    #[serde(skip)]
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for ValueProxy<T> {
    fn clone(&self) -> Self {
        Self::at(self.address.clone(), self.id)
    }
}

impl<T> std::fmt::Debug for ValueProxy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueProxy")
            .field("address", &self.address)
            .field("id", &self.id)
            .finish()
    }
}

impl<T> ValueProxy<T> {
    pub(crate) fn at(address: String, id: u64) -> Self {
        Self {
            address,
            id,
            _value: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> ValueProxy<T> {
    fn call(&self, request: Request) -> Result<Response, ManagerError> {
        call(&self.address, &request)
    }

    /// The current value (Python's `.value`).
    pub fn get(&self) -> Result<T, ManagerError> {
        match self.call(Request::ValueGet { id: self.id })? {
            Response::Item(bytes) => decode(&bytes),
            other => Err(unexpected(other)),
        }
    }

    /// Replaces the value (Python's `.value = x`).
    pub fn set(&self, value: &T) -> Result<(), ManagerError> {
        match self.call(Request::ValueSet {
            id: self.id,
            value: encode(value)?,
        })? {
            Response::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Replaces the value by `f(value)` inside the server, atomically with respect to
    /// every other request, and returns the new value. `f` is a function or a closure
    /// that captures nothing; a panic in it leaves the value unchanged and is returned as
    /// [`ManagerError::UpdatePanicked`].
    pub fn update<F>(&self, f: F) -> Result<T, ManagerError>
    where
        F: Fn(T) -> T + Copy + 'static,
    {
        assert_captures_nothing::<F>();
        let _ = f;
        let trampoline: UpdateTrampoline = run_update::<F, T>;
        match self.call(Request::ValueUpdate {
            id: self.id,
            trampoline: trampoline as usize as u64,
            anchor: image_anchor(),
        })? {
            Response::Item(bytes) => decode(&bytes),
            other => Err(unexpected(other)),
        }
    }
}
