//! The runner of a02-pipe: the only program that calls your library for the tests.
//!
//! The tests start it in a fresh process and give it a scenario (the messages, drawn from a
//! seed) on stdin. It either calls `a02_pipe::echo_session` with the messages, or plays the
//! parent itself and runs your `a02_pipe::echo_child` in a child process; then it sends what
//! came back on a private channel (see `course_harness::a02_runner`). Do not edit it: the
//! grader builds your library with its own copy of this file.

course_harness::a02_runner!(a02_pipe);
