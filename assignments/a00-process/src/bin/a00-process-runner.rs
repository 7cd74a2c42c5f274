//! The runner of a00-process: the only program that calls your library for the tests.
//!
//! The tests start it in a fresh process, give it a scenario (the worker names and how long
//! each works) on stdin, call `a00_process::start_workers` with it, and read what came back on
//! a private channel (see `course_harness::a00_runner`). Do not edit it: the grader builds your
//! library with its own copy of this file.

course_harness::a00_runner!(a00_process);
