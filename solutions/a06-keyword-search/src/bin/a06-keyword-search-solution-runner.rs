//! The a06-keyword-search runner, on the reference solution.

course_harness::a06_runner!(a06_keyword_search_solution);
