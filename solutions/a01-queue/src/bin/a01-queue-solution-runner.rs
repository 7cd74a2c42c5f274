course_harness::a01_runner!(a01_queue_solution);
