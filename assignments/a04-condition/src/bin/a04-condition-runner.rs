//! The runner of a04-condition: the only program that calls your library for the tests.
//!
//! The tests start it in a fresh process and give it a scenario on stdin. For the buffer
//! checks it creates your `BoundedBuffer` and starts producer and consumer processes of its
//! own that call `put`, `get` and `producer_done` and record what each call returned; for the
//! pipeline checks it calls your `produce_and_consume` with a `consume` that records each
//! item. What it observed goes back on a private channel (see `course_harness::a04_runner`).
//! Do not edit it: the grader builds your library with its own copy of this file.

course_harness::a04_runner!(a04_condition);
