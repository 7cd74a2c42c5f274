//! The glue of an a01 runner binary, as a macro so every implementation (stub, solution,
//! fixtures) runs the very same glue under its own crate name.

/// Expands to the `main` of an a01-queue runner that serves `$student::run_workers`.
///
/// `assignments/a01-queue/src/bin/a01-queue-runner.rs` is `a01_runner!(a01_queue);`, the
/// solution's is `a01_runner!(a01_queue_solution);`. The sequential baseline never calls the
/// student's code: it runs the course's own copy of `sum_all_values`.
#[macro_export]
macro_rules! a01_runner {
    ($student:ident) => {
        fn main() {
            $crate::runner::serve(|scenario: $crate::a01::Scenario| match scenario {
                $crate::a01::Scenario::Workers { tasks, workers } => {
                    let tasks: ::std::vec::Vec<$student::Task> = tasks
                        .iter()
                        .map(|task| $student::Task {
                            id: task.id,
                            x: task.x,
                        })
                        .collect();
                    let results = $student::run_workers(&tasks, workers)
                        .map(|results| {
                            results
                                .into_iter()
                                .map(|result| $crate::a01::ResultFact {
                                    id: result.id,
                                    value: result.value,
                                    worker_pid: result.worker_pid,
                                })
                                .collect()
                        })
                        .map_err(|error| $crate::runner::error_chain(&error));
                    $crate::a01::Report::Workers(results)
                }
                $crate::a01::Scenario::Sequential { tasks } => $crate::a01::Report::Sequential(
                    tasks
                        .iter()
                        .map(|task| $crate::a01::sum_all_values(task.x))
                        .collect(),
                ),
            })
        }
    };
}
