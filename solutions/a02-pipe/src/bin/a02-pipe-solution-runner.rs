//! The a02-pipe runner, on the reference solution.

course_harness::a02_runner!(a02_pipe_solution);
