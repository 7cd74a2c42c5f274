//! The a04-condition runner, on the reference solution.

course_harness::a04_runner!(a04_condition_solution);
