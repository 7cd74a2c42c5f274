//! # a05-pool: reference solution
//!
//! Same public API as `assignments/a05-pool/src/lib.rs`.

use std::sync::{Arc, Mutex, PoisonError};

use multiprocessing as mp;

/// The lesson's `sum_all_values`: `1 + 2 + ... + x`, one addition at a time (the loop is the
/// point: it is the CPU work a pool spreads over its workers).
pub fn sum_all_values(x: u64) -> u64 {
    let mut total = 0;
    for i in 1..=x {
        // black_box: without it the compiler would replace the loop with x (x + 1) / 2.
        total += std::hint::black_box(i);
    }
    total
}

/// The first error a job reported, kept for the caller once the pool is joined.
#[derive(Clone, Default)]
struct FirstError(Arc<Mutex<Option<mp::PoolError>>>);

impl FirstError {
    fn keep(&self, error: mp::PoolError) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(error);
    }

    fn take(&self) -> Option<mp::PoolError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The lesson's fourth example: runs `sum_all_values(x)` for every `x` of `inputs` in a pool
/// of `processes` workers, each job submitted with `apply_async` and a callback that collects
/// its result in this process; then closes and joins the pool and returns the results, in
/// the order the callbacks received them (one per input).
///
/// A job that fails (its worker killed, say) calls its error callback instead: the first
/// such error is returned once the pool is joined, rather than a list with a hole in it.
///
/// ```
/// use a05_pool_solution::{apply_async_with_callback, sum_all_values};
///
/// let inputs: Vec<u64> = (100_000..100_000 + 10).collect();
/// let mut result_list = apply_async_with_callback(4, sum_all_values, &inputs)?;
/// result_list.sort();
/// assert_eq!(result_list[0], 5_000_050_000);
/// # Ok::<(), multiprocessing::PoolError>(())
/// ```
pub fn apply_async_with_callback<F>(
    processes: usize,
    sum_all_values: F,
    inputs: &[u64],
) -> Result<Vec<u64>, mp::PoolError>
where
    F: Fn(u64) -> u64 + Copy + 'static,
{
    // The lesson's global `result_list`: the callbacks run on the pool's result thread, so
    // each holds its own handle to the one list.
    let result_list = Arc::new(Mutex::new(Vec::with_capacity(inputs.len())));
    let first_error = FirstError::default();
    let pool = mp::Pool::new(processes)?;
    for &x in inputs {
        let result_list = Arc::clone(&result_list);
        let first_error = first_error.clone();
        pool.apply_async_callbacks(
            sum_all_values,
            x,
            move |result| {
                result_list
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(result)
            },
            move |error| first_error.keep(error),
        )?;
    }
    // Do something while the processes are doing their work; then wait for all of them.
    pool.close();
    pool.join()?;
    if let Some(error) = first_error.take() {
        return Err(error);
    }
    let result_list = result_list
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Ok(result_list)
}

/// The lesson's fifth example: the inputs arrive over time, and each is added to the pool
/// as soon as it arrives, while earlier jobs run.
///
/// Takes each input from `inputs` (an iterator whose `next()` waits until the next input is
/// there), submits `sum_all_values(x)` to a pool of `processes` workers with `apply_async`
/// and `log_result` as the callback, and once the inputs are exhausted closes and joins the
/// pool. A failed job's error is returned once the pool is joined.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use a05_pool_solution::{add_jobs_while_running, sum_all_values};
///
/// let result_list = Arc::new(Mutex::new(Vec::new()));
/// let log_result = {
///     let result_list = Arc::clone(&result_list);
///     move |result: u64| result_list.lock().unwrap().push(result)
/// };
/// add_jobs_while_running(4, sum_all_values, 100_000..100_004, log_result)?;
/// assert_eq!(result_list.lock().unwrap().len(), 4);
/// # Ok::<(), multiprocessing::PoolError>(())
/// ```
pub fn add_jobs_while_running<F, C>(
    processes: usize,
    sum_all_values: F,
    inputs: impl Iterator<Item = u64>,
    log_result: C,
) -> Result<(), mp::PoolError>
where
    F: Fn(u64) -> u64 + Copy + 'static,
    C: Fn(u64) + Clone + Send + 'static,
{
    let first_error = FirstError::default();
    let pool = mp::Pool::new(processes)?;
    // Each `next()` waits for the next input; the pool works on the earlier jobs meanwhile.
    for x in inputs {
        let log_result = log_result.clone();
        let first_error = first_error.clone();
        pool.apply_async_callbacks(sum_all_values, x, log_result, move |error| {
            first_error.keep(error)
        })?;
    }
    pool.close();
    pool.join()?;
    match first_error.take() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
