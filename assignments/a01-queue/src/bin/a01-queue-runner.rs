//! The runner of a01-queue: the only program that calls your library for the tests.
//!
//! The tests start it in a fresh process, give it a scenario (the tasks and the number of
//! workers) on stdin, call `a01_queue::run_workers` with it, and read what came back on a
//! private channel (see `course_harness::a01_runner`). For the speedup check it also runs the
//! sequential baseline, with the course's own copy of `sum_all_values`. Do not edit it: the
//! grader builds your library with its own copy of this file.

course_harness::a01_runner!(a01_queue);
