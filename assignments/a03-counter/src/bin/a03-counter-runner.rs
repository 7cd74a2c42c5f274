//! The runner of a03-counter: the only program that calls your library for the tests.
//!
//! The tests start it in a fresh process, give it a scenario (how many workers, how many
//! increments each) on stdin, call `a03_counter::count_in_processes` with it, and read what came
//! back on a private channel, together with how many processes your code started (see
//! `course_harness::a03_runner`). Do not edit it: the grader builds your library with its own
//! copy of this file.

course_harness::a03_runner!(a03_counter);
