//! `Pool::scope`: callbacks that borrow from the caller, as `std::thread::scope` lets
//! threads borrow.
//!
//! The seed lesson's callbacks append to a list the caller owns. A plain `apply_async`
//! callback runs later on the result thread, so it must own what it touches (an
//! `Arc<Mutex<Vec<_>>>`). Inside a scope, callbacks may borrow (`&Mutex<Vec<_>>`, or
//! anything `Sync` the caller has), because the scope does not end until every task
//! submitted through it has finished and its callback has run.

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::async_result::AsyncResult;
use super::async_result::result_slot;
use super::handle::{Deliver, Pool, deliver_to_callbacks, deliver_to_slot};
use super::service::panic_message;
use super::shared::on_result_thread_of;
use crate::PoolError;

#[derive(Default)]
pub(crate) struct ScopeState {
    counts: Mutex<ScopeCounts>,
    all_done: Condvar,
}

#[derive(Default)]
struct ScopeCounts {
    outstanding: usize,
    callback_panic: Option<String>,
}

impl ScopeState {
    fn lock(&self) -> MutexGuard<'_, ScopeCounts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_all(&self) {
        let mut counts = self.lock();
        while counts.outstanding > 0 {
            counts = self
                .all_done
                .wait(counts)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Carried by every task submitted through a scope; the scope ends only when all its tokens
/// are dropped, which a task does after its completion (and the borrowed callbacks in it).
pub(crate) struct ScopeToken(Arc<ScopeState>);

impl ScopeToken {
    fn new(state: &Arc<ScopeState>) -> Self {
        state.lock().outstanding += 1;
        Self(Arc::clone(state))
    }

    pub(crate) fn record_panic(&self, payload: &(dyn std::any::Any + Send)) {
        self.0
            .lock()
            .callback_panic
            .get_or_insert_with(|| panic_message(payload));
    }
}

impl Drop for ScopeToken {
    fn drop(&mut self) {
        let mut counts = self.0.lock();
        counts.outstanding -= 1;
        if counts.outstanding == 0 {
            drop(counts);
            self.0.all_done.notify_all();
        }
    }
}

/// Submits tasks whose callbacks borrow from the enclosing function; see [`Pool::scope`].
pub struct PoolScope<'scope, 'env: 'scope> {
    pool: &'env Pool,
    state: Arc<ScopeState>,
    /// Invariant in `'scope`, as `std::thread::Scope`: the scope's lifetime cannot be
    /// stretched or shrunk by variance.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

impl std::fmt::Debug for PoolScope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolScope")
            .field("outstanding", &self.state.lock().outstanding)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// Runs `body` with a [`PoolScope`] whose tasks' callbacks may borrow local variables,
    /// then waits until every task submitted through the scope has finished and its
    /// callback has run. Mirrors the seed lesson's callback collecting into a list:
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use multiprocessing as mp;
    ///
    /// fn sum_all_values(x: u64) -> u64 {
    ///     (1..=x).sum()
    /// }
    ///
    /// let pool = mp::Pool::new(2)?;
    /// let result_list = Mutex::new(Vec::new());
    /// let log_result = |result: u64| result_list.lock().unwrap().push(result);
    /// pool.scope(|s| {
    ///     for i in 10_000..10_000 + 10 {
    ///         s.apply_async_callback(sum_all_values, i, log_result)?;
    ///     }
    ///     Ok::<(), mp::PoolError>(())
    /// })??;
    /// pool.close();
    /// pool.join()?;
    /// let mut result_list = result_list.into_inner().unwrap();
    /// result_list.sort();
    /// assert_eq!(result_list.len(), 10);
    /// assert_eq!(result_list[0], 50_005_000);
    /// # Ok::<(), mp::PoolError>(())
    /// ```
    ///
    /// Errors: [`PoolError::WouldDeadlock`] when called from one of this pool's callbacks
    /// (the scope could never end), [`PoolError::CallbackPanicked`] when a callback of the
    /// scope panicked (after waiting for all of them). A panic in `body` itself is resumed
    /// after the wait.
    pub fn scope<'env, T>(
        &'env self,
        body: impl for<'scope> FnOnce(&'scope PoolScope<'scope, 'env>) -> T,
    ) -> Result<T, PoolError> {
        if on_result_thread_of(self.id()) {
            return Err(PoolError::WouldDeadlock);
        }
        let scope = PoolScope {
            pool: self,
            state: Arc::new(ScopeState::default()),
            _scope: PhantomData,
            _env: PhantomData,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| body(&scope)));
        // Even when `body` panicked: its tasks' callbacks may borrow what unwinding frees.
        scope.state.wait_all();
        let value = match outcome {
            Ok(value) => value,
            Err(payload) => resume_unwind(payload),
        };
        match scope.state.lock().callback_panic.take() {
            Some(message) => Err(PoolError::CallbackPanicked { message }),
            None => Ok(value),
        }
    }
}

impl<'scope, 'env> PoolScope<'scope, 'env> {
    /// [`Pool::apply_async`] as part of this scope: the scope waits for it.
    pub fn apply_async<F, A, R>(&'scope self, f: F, arg: A) -> Result<AsyncResult<R>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let (writer, handle) = result_slot(self.pool.id());
        let token = ScopeToken::new(&self.state);
        self.pool
            .submit_one(f, arg, deliver_to_slot(writer), Some(token))?;
        Ok(handle)
    }

    /// [`Pool::apply_async_callback`] with a callback that may borrow for `'scope`.
    pub fn apply_async_callback<F, A, R, C>(
        &'scope self,
        f: F,
        arg: A,
        callback: C,
    ) -> Result<AsyncResult<()>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        C: FnOnce(R) + Send + 'scope,
    {
        self.apply_async_callbacks(f, arg, callback, |_| {})
    }

    /// [`Pool::apply_async_callbacks`] with callbacks that may borrow for `'scope`.
    pub fn apply_async_callbacks<F, A, R, C, E>(
        &'scope self,
        f: F,
        arg: A,
        callback: C,
        error_callback: E,
    ) -> Result<AsyncResult<()>, PoolError>
    where
        F: Fn(A) -> R + Copy + 'static,
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        C: FnOnce(R) + Send + 'scope,
        E: FnOnce(PoolError) + Send + 'scope,
    {
        let (writer, handle) = result_slot(self.pool.id());
        let deliver: Deliver<'scope> = deliver_to_callbacks(writer, callback, error_callback);
        // SAFETY: This is safe because: [1] `deliver` (and the callbacks it owns) travels
        // only inside the task submitted below, which carries a token of this scope; [2] a
        // `Task` drops its completion before its token (field order), whether it completes
        // or is dropped; [3] `Pool::scope` does not return, even by unwinding, until every
        // token is dropped. So nothing borrowed for `'scope` is used after `'scope` ends.
        // Only the lifetime changes: the two box types have the same layout.
        let deliver: Deliver<'static> =
            unsafe { std::mem::transmute::<Deliver<'scope>, Deliver<'static>>(deliver) };
        let token = ScopeToken::new(&self.state);
        self.pool.submit_one(f, arg, deliver, Some(token))?;
        Ok(handle)
    }
}
