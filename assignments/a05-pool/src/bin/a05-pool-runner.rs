//! The runner of a05-pool: the only program that calls your library for the tests.
//!
//! The tests start it in a fresh process and give it a scenario on stdin (the inputs, the
//! pool size, and for Example 5 how the inputs arrive). It calls your
//! `apply_async_with_callback` or `add_jobs_while_running` with the tests' own
//! `sum_all_values` (the lesson's sum, which also records which process ran each job, and
//! when), and for Example 5 with an iterator that hands the inputs over one by one and a
//! `log_result` that notes when each result arrives. What it saw goes back on a private
//! channel (see `course_harness::a05_runner`). Do not edit it: the grader builds your library
//! with its own copy of this file.

course_harness::a05_runner!(a05_pool);
