//! The runner of the a03-counter solution: the assignment's runner, on this crate.

course_harness::a03_runner!(a03_counter_solution);
