//! The `grader` binary end to end. One test binary of modules; each test has its own
//! scratch directory ([`support::Scratch`]) and checks that none of its processes survive.

mod class;
mod cli;
mod fixtures;
mod grading;
mod handout;
mod hostile;
mod hostile_table;
mod reports;
mod submissions;
mod support;
