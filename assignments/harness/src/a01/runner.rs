//! The glue of an a01 runner binary, as a macro so every implementation (stub, solution,
//! fixtures) runs the very same glue under its own crate name.

/// Expands to the `main` of an a01-queue runner that serves `$student::run_workers`.
///
/// `assignments/a01-queue/src/bin/a01-queue-runner.rs` is `a01_runner!(a01_queue);`, the
/// solution's is `a01_runner!(a01_queue_solution);`. The sequential baseline and the machine
/// measurement never call the student's code: they run the course's own copy of
/// `sum_all_values`, and bare processes running it.
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
                $crate::a01::Scenario::Sequential { tasks } => {
                    $crate::a01::oracle::sequential(&tasks)
                }
                $crate::a01::Scenario::Machine {
                    processes,
                    target_micros,
                } => $crate::a01::Report::Machine($crate::checks::speedup::measure_machine(
                    processes,
                    ::std::time::Duration::from_micros(target_micros),
                    $crate::a01::sum_all_values,
                )),
            })
        }
    };
}
