//! The `grader` binary end to end. One test binary of modules; each test has its own
//! scratch directory ([`support::Scratch`]) and checks that none of its processes survive.

mod cli;
mod fixtures;
mod grading;
mod hostile;
mod hostile_table;
mod submissions;
mod support;
