//! # a05-pool: a pool of workers, results collected by a callback
//!
//! Read `README.md` first: it explains the task, and what the tests check.
//! Then replace every `todo!()` below; each `// TODO:` marks a place where you act.
//! Run the tests with `cargo test -p a05-pool`.

use multiprocessing as mp;

/// The lesson's `sum_all_values`: `1 + 2 + ... + x`, one addition at a time (the loop is the
/// point: it is the CPU work a pool spreads over its workers).
///
/// Already written. The tests do not use it: they pass their own copy of the same sum to
/// your functions, one that also records which process ran each job and when. Use this one
/// to try your functions yourself.
pub fn sum_all_values(x: u64) -> u64 {
    let mut total = 0;
    for i in 1..=x {
        // black_box: without it the compiler would replace the loop with x (x + 1) / 2.
        total += std::hint::black_box(i);
    }
    total
}

/// The lesson's fourth example: runs `sum_all_values(x)` for every `x` of `inputs` in a pool
/// of `processes` workers, each job submitted with `apply_async` and a callback that collects
/// its result in this process; then closes and joins the pool and returns the results, in
/// the order the callbacks received them (one per input).
///
/// ```no_run
/// use a05_pool::{apply_async_with_callback, sum_all_values};
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
    // TODO: create the list the callback collects into (the lesson's global `result_list`).
    //       The callback runs later, on the pool's result thread, so it cannot borrow a plain
    //       local `Vec`: share an `Arc<Mutex<Vec<u64>>>` (a clone of the Arc in each
    //       callback), or borrow a `Mutex<Vec<u64>>` inside `pool.scope(|s| ...)`.
    // TODO: create a pool of `processes` workers: `mp::Pool::new(processes)?`.
    // TODO: for each input x: `pool.apply_async_callback(sum_all_values, x, callback)?`, where
    //       the callback (the lesson's `log_result`) pushes the result it receives into the list.
    //       Do not wait for the job here: `apply_async_callback` returns at once.
    // TODO: `pool.close()`, then `pool.join()?`: after that, every callback has run.
    // TODO: return the list.
    // TODO: delete this line: it only keeps the unfinished stub free of warnings.
    let _ = sum_all_values;
    todo!(
        "create mp::Pool::new({processes}); submit each of the {} inputs with \
         pool.apply_async_callback(sum_all_values, x, callback), the callback pushing the \
         result into a shared list; then close() and join() the pool and return the list",
        inputs.len()
    )
}

/// The lesson's fifth example: the inputs arrive over time, and each is added to the pool
/// as soon as it arrives, while earlier jobs run.
///
/// Takes each input from `inputs` (an iterator whose `next()` waits until the next input is
/// there: you do not know how many will come), submits `sum_all_values(x)` to a pool of
/// `processes` workers with `apply_async` and `log_result` as the callback, and once the
/// inputs are exhausted closes and joins the pool.
///
/// ```no_run
/// use std::sync::{Arc, Mutex};
/// use a05_pool::{add_jobs_while_running, sum_all_values};
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
    // TODO: create a pool of `processes` workers.
    // TODO: for each input, as the iterator gives it (do not collect them first):
    //       `pool.apply_async_callback(sum_all_values, x, log_result.clone())?`.
    // TODO: once the iterator is exhausted: `pool.close()`, then `pool.join()`.
    // TODO: delete this line: it only keeps the unfinished stub free of warnings.
    let _ = (sum_all_values, inputs, log_result);
    todo!(
        "create mp::Pool::new({processes}); submit each input as the iterator gives it, with \
         pool.apply_async_callback(sum_all_values, x, log_result.clone()); then close() and \
         join() the pool"
    )
}
