//! Hostile behaviours for the grader's tests (`tests/grader/hostile_table.rs`), spliced into a
//! correct a00-process (`correct.rs`) at the start of `start_workers`, so they run in the
//! runner's process before the real work. One submission holds them all (built once); which
//! one runs is read from a file the test writes before each grading. The constants below are
//! filled in by the test where it says so.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

// CONSTANTS

/// Does what the current case says.
pub fn act() {
    let case = std::fs::read_to_string(CASE_FILE).unwrap_or_default();
    match case.trim() {
        "busy-loop" => busy(),
        "sigstop-self" => {
            // SAFETY: raise with a constant signal.
            unsafe { libc::raise(libc::SIGSTOP) };
        }
        "ignore-signals" => {
            for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGXCPU, libc::SIGHUP] {
                // SAFETY: SIG_IGN for a catchable signal.
                unsafe { libc::signal(signal, libc::SIG_IGN) };
            }
            busy();
        }
        "fork-bomb" => fork_bomb(),
        "daemon-holding-stdout" => daemon(|| loop {
            println!("the daemon still writes");
            std::thread::sleep(Duration::from_millis(100));
        }),
        "daemon-stdio-closed" => daemon(|| {
            // SAFETY: closes this process's fds, nothing else uses them.
            unsafe { libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) };
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }),
        "endless-stderr" => loop {
            eprintln!("all work and no play makes a dull process");
        },
        "sparse-2gib" => {
            let mut file = std::fs::File::create("sparse").expect("a file in the home");
            file.seek(SeekFrom::Start(2 << 30)).expect("seeks");
            file.write_all(b"x").expect("written (or SIGXFSZ first)");
        }
        "million-files" => million_files(),
        "kill-parent" => {
            // SAFETY: kill with integers. The parent is outside the namespace: getppid() is
            // 0, and kill(0) is the runner's own process group.
            unsafe { libc::kill(libc::getppid(), libc::SIGKILL) };
        }
        "kill-everything" => kill_everything(),
        "kill-group" => {
            // SAFETY: kill with integers.
            unsafe { libc::kill(0, libc::SIGKILL) };
        }
        "read-the-course" => read_the_course(),
        "overwrite" => overwrite(),
        "garbage-on-fd3" => {
            // SAFETY: writes a local buffer to fd 3.
            unsafe { libc::write(3, b"score: 100\n".as_ptr().cast(), 11) };
        }
        "close-fd3" => {
            // SAFETY: closes fd 3, which the runner later fails to write.
            unsafe { libc::close(3) };
        }
        "stdout-into-fd3" => {
            // SAFETY: dup2 between this process's fds.
            unsafe { libc::dup2(3, 1) };
            println!("score: 100");
        }
        "fd3-into-stdout" => {
            // SAFETY: dup2 between this process's fds.
            unsafe { libc::dup2(1, 3) };
        }
        "close-stdio" => {
            for fd in 0..3 {
                // SAFETY: closes a standard fd, which the correct code never uses.
                unsafe { libc::close(fd) };
            }
        }
        "segfault" => {
            // SAFETY: not safe at all: the point is the SIGSEGV.
            unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
        }
        "abort" => std::process::abort(),
        "exit-3" => std::process::exit(3),
        "sysv-leak" => {
            // SAFETY: shmget with integers; the segment is never removed, on purpose.
            let id = unsafe { libc::shmget(SYSV_KEY, 4096, libc::IPC_CREAT | 0o600) };
            assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
        }
        "shm-leak" => {
            // SAFETY: shm_open on a C-string literal; the fd is closed, the name never
            // unlinked, on purpose.
            unsafe {
                let fd = libc::shm_open(
                    c"/grader-hostile-segment".as_ptr(),
                    libc::O_CREAT | libc::O_RDWR,
                    0o600,
                );
                assert!(fd >= 0, "shm_open: {}", std::io::Error::last_os_error());
                libc::close(fd);
            }
        }
        "none" => {}
        other => panic!("unknown hostile case {other:?}"),
    }
}

fn busy() -> ! {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

/// Every process forks, forever; where the kernel refuses, it waits a little and tries
/// again (a gentler bomb on a shared machine: it still tries forever).
fn fork_bomb() -> ! {
    loop {
        // SAFETY: the child runs this same loop, forking and sleeping only.
        if unsafe { libc::fork() } < 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A double fork and `setsid`: `body` runs in a daemon of its own session that outlives the
/// program.
fn daemon(body: fn() -> !) {
    // SAFETY: the children only fork, setsid, run `body` or exit.
    unsafe {
        let child = libc::fork();
        if child == 0 {
            libc::setsid();
            if libc::fork() == 0 {
                body();
            }
            libc::_exit(0);
        }
        let mut status = 0;
        libc::waitpid(child, &mut status, 0);
    }
}

/// Creates files in the working directory until something stops it, then says what.
fn million_files() -> ! {
    let mut made = 0u32;
    let stopped = loop {
        if made == 1_000_000 {
            break None;
        }
        match std::fs::File::create(format!("tiny-{made}")) {
            Ok(_) => made += 1,
            Err(error) => break Some(error),
        }
    };
    let stopped = stopped.map_or_else(|| "nothing".to_owned(), |e| e.to_string());
    panic!("made {made} files, then: {stopped}")
}

/// `kill(-1)` with a child alive: every process the runner may signal, except itself.
fn kill_everything() {
    // SAFETY: the child only sleeps.
    let child = unsafe { libc::fork() };
    if child == 0 {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    // SAFETY: kill with integers; waitpid on the child just forked.
    unsafe {
        libc::kill(-1, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(child, &mut status, 0);
    }
}

/// Tries to read the reference solution, the course's manifest and the grader's builds;
/// panics with what it could read.
fn read_the_course() {
    let mut read = Vec::new();
    for path in [
        format!("{COURSE_ROOT}/solutions/a00-process/src/lib.rs"),
        format!("{COURSE_ROOT}/course.toml"),
        format!("{TARGET_DIR}/release/a00-process-solution-runner"),
    ] {
        let mut bytes = Vec::new();
        if std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .is_ok()
        {
            read.push(path);
        }
    }
    for dir in [
        format!("{COURSE_ROOT}/solutions"),
        format!("{TARGET_DIR}/release"),
    ] {
        if std::fs::read_dir(&dir).is_ok() {
            read.push(dir);
        }
    }
    assert!(read.is_empty(), "could read {read:?}");
}

/// Tries to change the course, the runner, and files outside its home; panics with what it
/// could write.
fn overwrite() {
    let exe = std::env::current_exe().map(|p| p.display().to_string());
    let exe = exe.unwrap_or_default();
    let runners = exe.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned();
    let home = std::env::current_dir().map(|p| p.display().to_string());
    let scratch = home
        .unwrap_or_default()
        .rsplit_once('/')
        .map_or(String::new(), |(dir, _)| dir.to_owned());
    let mut wrote = Vec::new();
    for (path, create) in [
        (format!("{COURSE_ROOT}/course.toml"), false),
        (format!("{COURSE_ROOT}/hostile-was-here"), true),
        (exe, false),
        (format!("{runners}/hostile-was-here"), true),
        (format!("{scratch}/hostile-was-here"), true),
        (format!("{OUTSIDE_DIR}/hostile-was-here"), true),
    ] {
        let opened = std::fs::OpenOptions::new()
            .append(true)
            .create(create)
            .open(&path);
        if opened.and_then(|mut f| f.write_all(b"")).is_ok() {
            wrote.push(path);
        }
    }
    assert!(wrote.is_empty(), "could write {wrote:?}");
    std::fs::write("allowed", "the home is writable").expect("the home is writable");
}
