//! The runner of a06-keyword-search: the only program that calls your library for the tests.
//!
//! The tests start it in a fresh process, give it a scenario (a directory they generated, a
//! keyword, and which search to call) on stdin, call your `search_sequential` or
//! `search_parallel`, and read what came back on a private channel (see
//! `course_harness::a06_runner`). Do not edit it: the grader builds your library with its own
//! copy of this file.

course_harness::a06_runner!(a06_keyword_search);
