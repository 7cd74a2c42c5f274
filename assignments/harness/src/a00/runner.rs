//! The glue of an a00 runner binary, as a macro so every implementation (stub, solution,
//! fixtures) runs the very same glue under its own crate name.

/// Expands to the `main` of an a00-process runner that serves `$student::start_workers`.
///
/// `assignments/a00-process/src/bin/a00-process-runner.rs` is `a00_runner!(a00_process);`,
/// the solution's is `a00_runner!(a00_process_solution);`.
#[macro_export]
macro_rules! a00_runner {
    ($student:ident) => {
        fn main() {
            $crate::runner::serve(|scenario: $crate::a00::Scenario| {
                let work = ::std::time::Duration::from_millis(scenario.work_ms);
                let workers = $student::start_workers(&scenario.names, work)
                    .map(|reports| {
                        reports
                            .into_iter()
                            .map(|report| $crate::a00::WorkerFact {
                                name: report.name,
                                pid: report.pid,
                                parent_pid: report.parent_pid,
                            })
                            .collect()
                    })
                    .map_err(|error| $crate::runner::error_chain(&error));
                $crate::a00::Report { workers }
            })
        }
    };
}
