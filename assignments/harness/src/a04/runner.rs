//! The glue of an a04 runner binary, as a macro so every implementation (stub, solution,
//! fixtures) runs the very same glue under its own crate name.

/// Expands to the `main` of an a04-condition runner for the crate `$student`.
///
/// A [`Scenario::Buffer`](crate::a04::Scenario::Buffer) drives `$student::BoundedBuffer`
/// with the harness's own processes ([`drive`](crate::a04::drive)); a
/// [`Scenario::Pipeline`](crate::a04::Scenario::Pipeline) calls
/// `$student::produce_and_consume` with a recording `consume`, under a watchdog
/// ([`run_pipeline`](crate::a04::run_pipeline)).
///
/// `assignments/a04-condition/src/bin/a04-condition-runner.rs` is
/// `a04_runner!(a04_condition);`.
#[macro_export]
macro_rules! a04_runner {
    ($student:ident) => {
        /// The student's buffer, as the driver sees it.
        struct StudentBuffer($student::BoundedBuffer);

        impl $crate::a04::Buffer for StudentBuffer {
            fn put(&self, item: u64) -> ::std::result::Result<(), ::std::string::String> {
                self.0
                    .put(item)
                    .map_err(|error| $crate::runner::error_chain(&error))
            }

            fn get(
                &self,
            ) -> ::std::result::Result<::std::option::Option<u64>, ::std::string::String> {
                self.0
                    .get()
                    .map_err(|error| $crate::runner::error_chain(&error))
            }

            fn producer_done(&self) -> ::std::result::Result<(), ::std::string::String> {
                self.0
                    .producer_done()
                    .map_err(|error| $crate::runner::error_chain(&error))
            }
        }

        fn main() {
            $crate::runner::serve(|scenario: $crate::a04::Scenario| match scenario {
                $crate::a04::Scenario::Buffer(drive) => {
                    // SAFETY: a runner is a fresh process that starts no thread.
                    let rounds = unsafe {
                        $crate::a04::drive(&drive, |capacity, producers| {
                            $student::BoundedBuffer::new(capacity, producers)
                                .map(StudentBuffer)
                                .map_err(|error| $crate::runner::error_chain(&error))
                        })
                    };
                    $crate::a04::Report::Buffer { rounds }
                }
                $crate::a04::Scenario::Pipeline(pipeline) => {
                    // SAFETY: a runner is a fresh process that starts no thread.
                    let ran = unsafe {
                        $crate::a04::run_pipeline(&pipeline, |recorder| {
                            $student::produce_and_consume(
                                pipeline.round.capacity,
                                &pipeline.round.items,
                                pipeline.round.consumers,
                                recorder.sink(),
                            )
                            .map_err(|error| $crate::runner::error_chain(&error))
                        })
                    };
                    match ran {
                        Ok(report) => $crate::a04::Report::Pipeline(report),
                        Err(error) => $crate::a04::Report::CouldNotRun {
                            why: format!("could not set up the pipeline's record: {error}"),
                        },
                    }
                }
            })
        }
    };
}
