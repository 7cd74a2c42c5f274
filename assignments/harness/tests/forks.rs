//! The fork counter counts forks in the whole process tree, and nothing else (threads are not
//! forks). One test in its own binary: any other test forking meanwhile would be counted too.

use std::time::Duration;

use course_harness::forks::ForkCounter;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

/// Forks a child that runs `in_child` then `_exit`s with its result; waits for it.
fn fork_and_wait(in_child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child runs only `in_child` (forks and `_exit`s: async-signal-safe) and then
    // `_exit`s; it touches no lock another thread of the test harness might hold.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = in_child();
            // SAFETY: ends the child at once, without running the harness's atexit handlers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("child ended as {other:?}"),
        },
    }
}

#[test]
fn counts_forks_of_the_tree_and_not_threads() {
    let counter = ForkCounter::install().expect("installs");
    assert_eq!(
        ForkCounter::install().expect("installs again").forks(),
        counter.forks(),
        "a second install is the same counter"
    );
    let start = counter.forks();

    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| std::thread::sleep(Duration::from_millis(1)));
        }
    });
    assert_eq!(counter.forks(), start, "threads are not forks");

    assert_eq!(fork_and_wait(|| 0), 0);
    assert_eq!(counter.forks(), start + 1, "one fork");

    // A child that forks a grandchild: both forks count, in the parent's counter.
    let grandchild_ok = fork_and_wait(|| {
        // SAFETY: in the (single-threaded) child; the grandchild only `_exit`s.
        match unsafe { libc::fork() } {
            // SAFETY: the grandchild ends at once, touching nothing.
            0 => unsafe { libc::_exit(0) },
            -1 => 1,
            pid => {
                let mut status = 0;
                // SAFETY: waits for the grandchild just forked; `status` is a valid out-param.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                0
            }
        }
    });
    assert_eq!(grandchild_ok, 0);
    assert_eq!(counter.forks(), start + 3, "a child's fork counts too");
}
