//! Bare processes doing work that is not a CPU loop
//! (`checks::speedup::measure_attainable_split`): a06's search of page-cached files, and the
//! runner's dropping of root's permission overrides. In their own test binary: they fork, and
//! the library's unit tests check that their own forks leave no child of the test process.

use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use course_harness::a06::{BareSearch, ScratchDir, drop_permission_overrides, measure_machine};
use course_harness::checks::speedup::{SplitWork, iterations_for, measure_attainable_split, spin};

/// A share of a job: spins, or fails when told to.
struct Shares {
    iterations: u64,
    failing_part: Option<usize>,
}

impl SplitWork for Shares {
    fn run(&self, part: usize, parts: usize) -> std::io::Result<u64> {
        if self.failing_part == Some(part) && parts > 1 {
            return Err(std::io::Error::other("this share fails"));
        }
        Ok(spin(self.iterations / parts as u64))
    }
}

#[test]
fn split_work_is_measured() {
    let work = Shares {
        iterations: iterations_for(spin, Duration::from_millis(40)),
        failing_part: None,
    };
    let machine = measure_attainable_split(2, &work).expect("forks");
    assert_eq!(machine.processes, 2);
    assert!(machine.one >= Duration::from_millis(5), "{machine:?}");
    assert!(machine.speedup() > 0.3, "{machine:?}");
}

#[test]
fn a_failed_share_fails_the_measurement() {
    let work = Shares {
        iterations: 1000,
        failing_part: Some(1),
    };
    let error = measure_attainable_split(2, &work).expect_err("share 1 failed");
    assert!(error.to_string().contains("share"), "{error}");
}

#[test]
fn bare_processes_search_every_file_and_count_what_they_find() {
    let scratch = ScratchDir::create(None, "bare-work-test").expect("scratch dir");
    let dir = scratch.path();
    std::fs::create_dir_all(dir.join("a/b")).expect("dirs");
    std::fs::write(dir.join("one.txt"), b"kw\nkw kw\n").expect("written");
    std::fs::write(dir.join("a/b/two.txt"), b"no\nmatch").expect("written");
    std::fs::write(dir.join("a/empty.txt"), b"").expect("written");
    std::os::unix::fs::symlink("..", dir.join("a/loop")).expect("link");
    let search = BareSearch::new(dir, b"kw").expect("listed");
    assert_eq!(search.files(), 3, "the link is not followed");
    // one.txt: 3 matches + 2 line ends; two.txt: 1 line end; empty: nothing.
    assert_eq!(search.run(0, 1).expect("searched"), 6);
    let shares: u64 = (0..3)
        .map(|part| search.run(part, 3).expect("searched"))
        .sum();
    assert_eq!(shares, 6, "the shares cover every file once");
    let machine = measure_machine(dir, b"kw", 2).expect("measured");
    assert_eq!(machine.processes, 2);
}

#[test]
fn a_file_that_cannot_be_searched_fails_the_measurement() {
    let scratch = ScratchDir::create(None, "bare-work-test").expect("scratch dir");
    let dir = scratch.path();
    std::fs::write(dir.join("gone.txt"), b"kw").expect("written");
    let search = BareSearch::new(dir, b"kw").expect("listed");
    std::fs::remove_file(dir.join("gone.txt")).expect("removed");
    assert!(search.run(0, 1).is_err());
    assert!(measure_machine(dir, b"kw", 2).is_err(), "no file to search");
    assert!(BareSearch::new(dir, b"").is_err(), "an empty keyword");
}

#[test]
fn without_the_overrides_a_locked_file_cannot_be_read() {
    let mut scratch = ScratchDir::create(None, "bare-work-test").expect("scratch dir");
    let path = scratch.path().join("locked.txt");
    std::fs::write(&path, b"secret").expect("written");
    scratch.lock(&path).expect("chmod 000");
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    // In a child process, so this test process keeps its capabilities.
    // SAFETY: the child only makes system calls (capget, capset, open) and `_exit`s: no lock
    // or allocation another thread may hold (the path was made a C string before).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let dropped = drop_permission_overrides();
        // SAFETY: opens a NUL-terminated path read-only.
        let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY) };
        let code = match (dropped, fd >= 0) {
            (true, false) => 0, // refused, as it must be
            (true, true) => 1,  // read although the overrides were dropped
            (false, _) => 2,    // the kernel refused the drop
        };
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(code) }
    }
    let status = wait_with_deadline(pid, Duration::from_secs(10));
    assert!(libc::WIFEXITED(status), "status {status}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "1: the file was read without the overrides; 2: they could not be dropped"
    );
}

/// The wait status of child `pid`, which is killed (and the test failed) if it has not ended
/// within `deadline`.
fn wait_with_deadline(pid: libc::pid_t, deadline: Duration) -> libc::c_int {
    let started = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: polls our own child into a local, without blocking.
        let waited = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if waited == pid {
            return status;
        }
        assert!(
            waited == 0,
            "waitpid failed: {}",
            std::io::Error::last_os_error()
        );
        if started.elapsed() > deadline {
            // SAFETY: kills and reaps our own child, which is stuck.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("the child did not end within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
