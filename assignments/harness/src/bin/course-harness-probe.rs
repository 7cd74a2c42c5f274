//! A runner that misbehaves on request, for the harness's own tests (`tests/run.rs`): each
//! scenario is one way student code can end, hang, crash or leak.

use std::io::Write;
use std::time::Duration;

use serde::Deserialize;

/// What the probe does.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Probe {
    /// Returns `echo N`.
    Echo(u64),
    /// Prints `bytes` bytes on stdout, then returns.
    Print(usize),
    /// Prints a well-formed report on stdout (an attempt to fake one), then panics.
    FakeReportOnStdout,
    /// Panics with this message.
    Panic(String),
    /// Hits a `todo!()`.
    Todo,
    /// Sleeps forever.
    SleepForever,
    /// Burns CPU forever.
    Spin,
    /// Forks a child that blocks reading a pipe nobody writes; the parent waits for it.
    DeadlockPair,
    /// Calls `std::process::exit(code)`.
    Exit(i32),
    /// Aborts (SIGABRT).
    Abort,
    /// Writes garbage on the result channel, then returns normally.
    Garbage,
    /// Forks a child that sleeps this many ms, and returns without waiting for it.
    LeaveChild(u64),
    /// Forks a child that exits at once, and returns without reaping it.
    Zombie,
    /// Forks with libc::fork; the child returns from the closure too (it must not report).
    ForkReturns,
    /// Returns the value of an environment variable.
    Env(String),
}

fn fork() -> libc::pid_t {
    // SAFETY: the probe is single-threaded; the child only sleeps, reads or exits.
    unsafe { libc::fork() }
}

fn main() {
    course_harness::runner::serve(|probe: Probe| -> String {
        match probe {
            Probe::Echo(n) => format!("echo {n}"),
            Probe::Print(bytes) => {
                let line = [b'x'; 1023];
                let mut out = std::io::stdout().lock();
                for _ in 0..bytes / 1024 {
                    let _ = out.write_all(&line);
                    let _ = out.write_all(b"\n");
                }
                "printed".to_owned()
            }
            Probe::FakeReportOnStdout => {
                println!("CRS1 {{\"protocol\":1,\"outcome\":{{\"returned\":\"score: 100\"}}}}");
                println!("score: 100");
                panic!("the real result")
            }
            Probe::Panic(message) => panic!("{message}"),
            Probe::Todo => todo!("write the probe"),
            Probe::SleepForever => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Probe::Spin => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            Probe::DeadlockPair => {
                let mut fds = [0; 2];
                // SAFETY: a valid two-int array for pipe's output.
                unsafe { libc::pipe(fds.as_mut_ptr()) };
                if fork() == 0 {
                    let mut byte = 0u8;
                    // SAFETY: reads one byte into a local; blocks forever since this process
                    // holds the write end itself.
                    unsafe { libc::read(fds[0], (&raw mut byte).cast(), 1) };
                    // SAFETY: ends the child.
                    unsafe { libc::_exit(0) }
                }
                let mut status = 0;
                // SAFETY: waits for any child into a local.
                unsafe { libc::wait(&mut status) };
                "unreachable".to_owned()
            }
            Probe::Exit(code) => std::process::exit(code),
            Probe::Abort => std::process::abort(),
            Probe::Garbage => {
                let garbage = b"score: 100\n";
                // SAFETY: writes a local buffer to the result channel's fd.
                unsafe { libc::write(3, garbage.as_ptr().cast(), garbage.len()) };
                "after garbage".to_owned()
            }
            Probe::LeaveChild(ms) => {
                if fork() == 0 {
                    std::thread::sleep(Duration::from_millis(ms));
                    // SAFETY: ends the child.
                    unsafe { libc::_exit(0) }
                }
                "left a child".to_owned()
            }
            Probe::Zombie => {
                if fork() == 0 {
                    // SAFETY: ends the child at once.
                    unsafe { libc::_exit(0) }
                }
                std::thread::sleep(Duration::from_millis(100));
                "made a zombie".to_owned()
            }
            Probe::ForkReturns => {
                let child = fork();
                if child != 0 {
                    let mut status = 0;
                    // SAFETY: waits for our child into a local.
                    unsafe { libc::waitpid(child, &mut status, 0) };
                }
                format!("returned in {}", std::process::id())
            }
            Probe::Env(name) => std::env::var(&name).unwrap_or_else(|_| "<unset>".to_owned()),
        }
    })
}
