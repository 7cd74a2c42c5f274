//! The runner of the a05-pool reference solution: the assignment's glue on this crate.

course_harness::a05_runner!(a05_pool_solution);
