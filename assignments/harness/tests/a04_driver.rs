//! The a04 driver against buffers that are wrong on purpose: each way a round can go wrong
//! must show in its report, and every process the driver forked must be gone afterwards; and
//! the pipeline's watchdog against a pipeline that never consumes anything.
//!
//! One test function runs the cases in turn, so that no other test thread runs while the
//! driver forks (its children run ordinary code, which is only safe in a process with one
//! busy thread).

use std::time::{Duration, Instant};

use std::sync::atomic::Ordering;

use course_harness::a04::ledger::Phase;
use course_harness::a04::{
    Buffer, DriveScenario, PipelineScenario, ProcessFault, Recorder, Role, Round, RoundReport,
    SharedWords, drive, run_pipeline,
};

fn sleep_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// What each method of a test buffer does.
#[derive(Clone, Copy)]
enum Act {
    /// Returns at once (`put`/`producer_done` succeed, `get` says the end).
    Return,
    /// Sleeps forever: a deadlock.
    Block,
    /// Returns an error.
    Fail,
    /// Panics.
    Panic,
}

struct TestBuffer {
    put: Act,
    get: Act,
}

impl Buffer for TestBuffer {
    fn put(&self, _item: u64) -> Result<(), String> {
        match self.put {
            Act::Return => Ok(()),
            Act::Block => sleep_forever(),
            Act::Fail => Err("no room today".to_owned()),
            Act::Panic => panic!("put exploded"),
        }
    }

    fn get(&self) -> Result<Option<u64>, String> {
        match self.get {
            Act::Return => Ok(None),
            Act::Block => sleep_forever(),
            Act::Fail => Err("nothing today".to_owned()),
            Act::Panic => panic!("get exploded"),
        }
    }

    fn producer_done(&self) -> Result<(), String> {
        Ok(())
    }
}

fn scenario(capacity: usize, stall_ms: u64) -> DriveScenario {
    DriveScenario {
        rounds: vec![
            Round {
                capacity,
                items: vec![vec![11, 12, 13, 14], vec![21, 22, 23]],
                consumers: 2,
            };
            2
        ],
        produce_us: 0,
        consume_us: 0,
        fill_first: false,
        stall_ms,
    }
}

fn run(put: Act, get: Act, capacity: usize) -> (Vec<RoundReport>, Duration) {
    let started = Instant::now();
    // SAFETY: this test binary has one test: besides this thread only libtest's main thread
    // exists, blocked waiting for the test to end, holding no lock the children would need.
    let reports = unsafe { drive(&scenario(capacity, 300), |_, _| Ok(TestBuffer { put, get })) };
    (reports, started.elapsed())
}

fn no_child_left() {
    // SAFETY: waitpid with WNOHANG only asks the kernel about this process's children.
    let left = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
    assert_eq!(
        left, -1,
        "a child of the driver is left (waitpid returned {left})"
    );
}

#[test]
fn every_way_a_round_goes_wrong_shows_in_its_report() {
    // Everything blocks: a stall, found after the stall time, with everyone's place.
    let (reports, took) = run(Act::Block, Act::Block, 2);
    assert_eq!(
        reports.len(),
        1,
        "the driver stops after the first bad round"
    );
    let stall = reports[0].stall.as_ref().expect("a stall");
    assert!(stall.quiet_ms >= 300, "{stall:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let places = |role| {
        stall
            .waiting
            .iter()
            .filter(|(who, _)| who.role == role)
            .map(|(_, phase)| *phase)
            .collect::<Vec<_>>()
    };
    assert_eq!(places(Role::Producer), [Phase::Putting, Phase::Putting]);
    assert_eq!(places(Role::Consumer), [Phase::Getting, Phase::Getting]);
    no_child_left();

    // Puts that never wait while nobody takes anything: an overfill beyond capacity 2.
    let (reports, _) = run(Act::Return, Act::Block, 2);
    assert!(reports[0].overfilled);
    assert!(reports[0].max_held > 2, "{:?}", reports[0].max_held);
    no_child_left();

    // An error from put: named, with the item and the place.
    let (reports, _) = run(Act::Fail, Act::Block, 2);
    let failure = &reports[0].failures[0];
    assert_eq!(failure.who.role, Role::Producer);
    assert_eq!(failure.during, Phase::Putting);
    assert!(
        matches!(&failure.fault, ProcessFault::Error { message }
            if message.starts_with("put(") && message.ends_with("returned an error: no room today")),
        "{failure:?}"
    );
    no_child_left();

    // A panic in get: its message comes back (the producers block, so nothing else
    // stops the round first).
    let (reports, _) = run(Act::Block, Act::Panic, 2);
    let failure = reports[0]
        .failures
        .iter()
        .find(|f| f.who.role == Role::Consumer)
        .expect("a consumer failed");
    assert_eq!(failure.during, Phase::Getting);
    assert!(
        matches!(&failure.fault, ProcessFault::Panicked { message, .. } if message == "get exploded"),
        "{failure:?}"
    );
    no_child_left();

    // get says "the end" at once: every process finishes, nothing was consumed (a capacity
    // above the item count, so that the puts never overfill it).
    let (reports, _) = run(Act::Return, Act::Return, 10);
    assert_eq!(reports.len(), 1, "nothing consumed is a bad round");
    let report = &reports[0];
    assert!(report.stall.is_none() && report.failures.is_empty());
    assert_eq!(report.ended, [true, true]);
    assert_eq!(report.put, [4, 3]);
    assert_eq!(report.finished, [true, true]);
    assert!(report.consumed.iter().all(Vec::is_empty));
    no_child_left();

    a_stalled_pipeline_is_stopped_by_its_watchdog();
}

/// A "pipeline" whose one consumer sleeps forever: the watchdog must record a stall and kill
/// the consumer, so the pipeline's join returns. Run in a child that leads its own process
/// group, as a runner does (the watchdog watches the runner's group).
fn a_stalled_pipeline_is_stopped_by_its_watchdog() {
    let outcome = SharedWords::new(3).expect("maps");
    // SAFETY: see `run`: this thread is the only busy one; the child ends with `_exit`.
    match unsafe { nix::unistd::fork() }.expect("forks") {
        nix::unistd::ForkResult::Child => {
            let _ =
                nix::unistd::setpgid(nix::unistd::Pid::from_raw(0), nix::unistd::Pid::from_raw(0));
            let scenario = PipelineScenario {
                round: Round {
                    capacity: 1,
                    items: vec![vec![1, 2, 3]],
                    consumers: 1,
                },
                stall_ms: 300,
            };
            let student = |recorder: &Recorder| {
                recorder.sink()(1);
                // SAFETY: this child is single-threaded (fork copies only the calling thread);
                // the grandchild only sleeps until it is killed.
                match unsafe { nix::unistd::fork() } {
                    Ok(nix::unistd::ForkResult::Child) => sleep_forever(),
                    Ok(nix::unistd::ForkResult::Parent { child }) => {
                        let _ = nix::sys::wait::waitpid(child, None);
                        Ok(())
                    }
                    Err(errno) => Err(errno.to_string()),
                }
            };
            // SAFETY: this child is single-threaded.
            let report = unsafe { run_pipeline(&scenario, student) };
            if let Ok(report) = report {
                let words = outcome.words();
                words[0].store(
                    report.stall.as_ref().map_or(0, |s| s.quiet_ms),
                    Ordering::SeqCst,
                );
                words[1].store(
                    report.stall.as_ref().map_or(0, |s| s.asleep),
                    Ordering::SeqCst,
                );
                words[2].store(report.calls, Ordering::SeqCst);
            }
            // SAFETY: ends the child at once, running nothing of the test's state.
            unsafe { libc::_exit(0) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match nix::sys::wait::waitpid(child, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
                    Ok(nix::sys::wait::WaitStatus::StillAlive) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Ok(nix::sys::wait::WaitStatus::StillAlive) => {
                        let _ = nix::sys::signal::killpg(child, nix::sys::signal::Signal::SIGKILL);
                        let _ = nix::sys::wait::waitpid(child, None);
                        panic!("the stalled pipeline was not stopped within 20 s");
                    }
                    _ => break,
                }
            }
        }
    }
    let words = outcome.words();
    let (quiet_ms, asleep, calls) = (
        words[0].load(Ordering::SeqCst),
        words[1].load(Ordering::SeqCst),
        words[2].load(Ordering::SeqCst),
    );
    assert!(quiet_ms >= 300, "no stall recorded (quiet {quiet_ms} ms)");
    assert_eq!(asleep, 2, "the runner and its consumer slept");
    assert_eq!(calls, 1);
    no_child_left();
}
