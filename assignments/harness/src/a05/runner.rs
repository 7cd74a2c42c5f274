//! The glue of an a05 runner binary: [`run_scenario`] sets up what the tests observe with,
//! calls the student's function, and gathers the report; [`a05_runner!`](crate::a05_runner)
//! is the binary's `main`, as a macro so every implementation (stub, solution, fixtures)
//! runs the very same glue under its own crate name.

use std::time::Duration;

use crate::a05::clock::now_ns;
use crate::a05::feed::{EventLog, Feed};
use crate::a05::protocol::{Report, Scenario};
use crate::a05::task_log::TaskLog;
use crate::a05::work::{MAX_X, sum_all_values, sum_loop};
use crate::checks::speedup::{iterations_for, measure_machine, process_cpu_time};

/// The student's two functions, each already given the tests' `sum_all_values`, with errors
/// turned into text. [`a05_runner!`](crate::a05_runner) builds it.
#[derive(Debug, Clone, Copy)]
pub struct Student {
    /// `apply_async_with_callback(processes, sum_all_values, inputs)`.
    pub apply_async_with_callback: fn(usize, &[u64]) -> Result<Vec<u64>, String>,
    /// `add_jobs_while_running(processes, sum_all_values, inputs, log_result)`, where
    /// `log_result` pushes into the given log.
    pub add_jobs_while_running: fn(usize, Feed, EventLog) -> Result<(), String>,
}

/// Room in the task log for this many runs per input: a mistake that runs each job twice
/// must still show in full.
const LOG_RUNS_PER_INPUT: usize = 4;

/// Runs one scenario in this (runner) process and reports what happened.
pub fn run_scenario(scenario: Scenario, student: Student) -> Report {
    match scenario {
        Scenario::Sequential { inputs } => {
            let called_at_ns = now_ns();
            let cpu_before = process_cpu_time();
            let values = inputs.iter().map(|&x| sum_all_values(x)).collect();
            let cpu = process_cpu_time().saturating_sub(cpu_before);
            Report {
                sequential_cpu_ns: Some(u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX)),
                ..report(Ok(values), None, Vec::new(), Vec::new(), called_at_ns)
            }
        }
        Scenario::Calibrate { job_ms } => {
            let called_at_ns = now_ns();
            // Sized by the very build that runs the jobs; capped so no sum wraps around.
            let x = iterations_for(sum_loop, Duration::from_millis(job_ms)).min(MAX_X);
            report(Ok(vec![x]), None, Vec::new(), Vec::new(), called_at_ns)
        }
        Scenario::Machine {
            processes,
            target_micros,
        } => {
            let called_at_ns = now_ns();
            match measure_machine(processes, Duration::from_micros(target_micros), sum_loop) {
                Ok(machine) => Report {
                    machine: Some(machine),
                    ..report(Ok(Vec::new()), None, Vec::new(), Vec::new(), called_at_ns)
                },
                Err(why) => report(Err(why), None, Vec::new(), Vec::new(), called_at_ns),
            }
        }
        Scenario::AllAtOnce {
            processes,
            inputs,
            hold_ms,
        } => {
            let log = install(inputs.len(), hold_ms);
            let called_at_ns = now_ns();
            let returned = (student.apply_async_with_callback)(processes, &inputs);
            report(returned, Some(log), Vec::new(), Vec::new(), called_at_ns)
        }
        Scenario::OverTime {
            processes,
            inputs,
            gaps_ms,
            hold_ms,
        } => {
            let log = install(inputs.len(), hold_ms);
            let taken = EventLog::default();
            let arrivals = EventLog::default();
            let gaps: Vec<Duration> = gaps_ms
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect();
            let feed = Feed::new(inputs, &gaps, taken.clone());
            let called_at_ns = now_ns();
            let returned = (student.add_jobs_while_running)(processes, feed, arrivals.clone())
                .map(|()| vec![]);
            report(
                returned,
                Some(log),
                taken.events(),
                arrivals.events(),
                called_at_ns,
            )
        }
    }
}

fn install(inputs: usize, hold_ms: u64) -> &'static TaskLog {
    let capacity = inputs * LOG_RUNS_PER_INPUT + 64;
    match TaskLog::install(capacity, Duration::from_millis(hold_ms)) {
        Ok(log) => log,
        // Not the student's doing, and nothing can be observed without it.
        Err(error) => panic!(
            "the course's runner could not map its task log ({error}); this is not your \
             code's fault: report it"
        ),
    }
}

fn report(
    returned: Result<Vec<u64>, String>,
    log: Option<&TaskLog>,
    taken: Vec<crate::a05::protocol::Event>,
    arrivals: Vec<crate::a05::protocol::Event>,
    called_at_ns: u64,
) -> Report {
    let (task_runs, task_runs_dropped) = log.map(TaskLog::runs).unwrap_or_default();
    Report {
        returned,
        task_runs,
        task_runs_dropped,
        taken,
        arrivals,
        sequential_cpu_ns: None,
        machine: None,
        called_at_ns,
    }
}

/// Expands to the `main` of an a05-pool runner that serves `$student`'s
/// `apply_async_with_callback` and `add_jobs_while_running`, giving both the tests'
/// [`sum_all_values`](crate::a05::sum_all_values), and the second a `log_result` that notes
/// when each result arrives.
///
/// `assignments/a05-pool/src/bin/a05-pool-runner.rs` is `a05_runner!(a05_pool);`, the
/// solution's is `a05_runner!(a05_pool_solution);`.
#[macro_export]
macro_rules! a05_runner {
    ($student:ident) => {
        fn main() {
            $crate::runner::serve(|scenario: $crate::a05::Scenario| {
                $crate::a05::run_scenario(
                    scenario,
                    $crate::a05::Student {
                        apply_async_with_callback: |processes, inputs| {
                            $student::apply_async_with_callback(
                                processes,
                                $crate::a05::sum_all_values,
                                inputs,
                            )
                            .map_err(|error| $crate::runner::error_chain(&error))
                        },
                        add_jobs_while_running: |processes, inputs, arrivals| {
                            $student::add_jobs_while_running(
                                processes,
                                $crate::a05::sum_all_values,
                                inputs,
                                move |result: u64| arrivals.push(result),
                            )
                            .map_err(|error| $crate::runner::error_chain(&error))
                        },
                    },
                )
            })
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The course's scenarios never call the student's functions.
    const NO_STUDENT: Student = Student {
        apply_async_with_callback: |_, _| Err("not called".to_owned()),
        add_jobs_while_running: |_, _, _| Err("not called".to_owned()),
    };

    #[test]
    fn the_sequential_baseline_reports_its_values_and_cpu_time() {
        let inputs = vec![3, 10, 2_000_000];
        let report = run_scenario(
            Scenario::Sequential {
                inputs: inputs.clone(),
            },
            NO_STUDENT,
        );
        let values = report.returned.expect("values");
        assert_eq!(
            values,
            inputs.iter().map(|&x| sum_loop(x)).collect::<Vec<_>>()
        );
        assert!(report.sequential_cpu_ns.expect("a CPU time") > 0);
        assert_eq!(report.machine, None);
    }

    #[test]
    fn a_machine_scenario_reports_what_bare_processes_showed() {
        let report = run_scenario(
            Scenario::Machine {
                processes: 2,
                target_micros: 20_000,
            },
            NO_STUDENT,
        );
        assert_eq!(report.returned, Ok(Vec::new()));
        let machine = report.machine.expect("a measurement");
        assert_eq!(machine.processes, 2);
        assert!(machine.one > Duration::ZERO && machine.many > Duration::ZERO);
    }

    #[test]
    fn calibration_sizes_a_job_within_the_cap() {
        let report = run_scenario(Scenario::Calibrate { job_ms: 5 }, NO_STUDENT);
        let sized = report.returned.expect("a size");
        assert!(
            matches!(sized.as_slice(), [x] if (1..=MAX_X).contains(x)),
            "{sized:?}"
        );
    }
}
