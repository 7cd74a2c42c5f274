//! The runner of the a00-process solution: the assignment's runner, on this crate.

course_harness::a00_runner!(a00_process_solution);
