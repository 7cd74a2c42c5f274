//! Reading processes from `/proc`: who is alive in a process group, what state each is in,
//! how much CPU it used, and what it is blocked on.
//!
//! Every reader tolerates processes vanishing between listing and reading (they do, all the
//! time): a process that cannot be read is simply not there.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One process as `/proc/PID/stat` describes it at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSnapshot {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid (1 or a subreaper once orphaned).
    pub ppid: u32,
    /// Its process group.
    pub pgid: u32,
    /// The kernel's one-letter state: `R` running, `S` sleeping, `D` uninterruptible,
    /// `T`/`t` stopped, `Z` zombie (exited, not yet reaped by its parent).
    pub state: char,
    /// The executable's short name (`comm`, at most 15 bytes).
    pub comm: String,
    /// User plus system CPU time so far, in clock ticks (see [`clock_ticks_per_second`]).
    pub cpu_ticks: u64,
    /// Number of threads.
    pub threads: u32,
}

impl ProcessSnapshot {
    /// True for a zombie: it has exited and only waits for its parent to reap it.
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }

    /// True when it cannot run right now: sleeping, in uninterruptible wait, or stopped.
    pub fn is_blocked(&self) -> bool {
        matches!(self.state, 'S' | 'D' | 'T' | 't' | 'I')
    }

    /// The state letter in words.
    pub fn state_in_words(&self) -> &'static str {
        match self.state {
            'R' => "running",
            'S' => "sleeping",
            'D' => "in uninterruptible wait",
            'T' | 't' => "stopped",
            'Z' => "zombie (exited, not reaped)",
            'X' => "dead",
            'I' => "idle",
            _ => "in an unknown state",
        }
    }
}

/// Reads `/proc/PID/stat`; `None` if the process is gone or unreadable.
pub fn snapshot(pid: u32) -> Option<ProcessSnapshot> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses the text of a `/proc/PID/stat` file.
///
/// `comm` may hold spaces and parentheses, so the fields are split after its *last* `)`.
pub fn parse_stat(text: &str) -> Option<ProcessSnapshot> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // Indices count from the state field (field 3 in proc(5)).
    let field = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok());
    let state = fields.first()?.chars().next()?;
    Some(ProcessSnapshot {
        pid,
        ppid: u32::try_from(field(1)?).ok()?,
        pgid: u32::try_from(field(2)?).ok()?,
        state,
        comm,
        cpu_ticks: field(11)? + field(12)?,
        threads: u32::try_from(field(17)?).ok()?,
    })
}

/// Every process this harness can see.
pub fn all_processes() -> Vec<ProcessSnapshot> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(snapshot)
        .collect()
}

/// The members of process group `pgid`, zombies included.
pub fn group_members(pgid: u32) -> Vec<ProcessSnapshot> {
    all_processes()
        .into_iter()
        .filter(|p| p.pgid == pgid)
        .collect()
}

/// The children of `ppid` (running or zombie: a zombie child is one nobody reaped).
pub fn children_of(ppid: u32) -> Vec<ProcessSnapshot> {
    all_processes()
        .into_iter()
        .filter(|p| p.ppid == ppid)
        .collect()
}

/// The kernel function a sleeping process waits in (`/proc/PID/wchan`), e.g. `do_wait`,
/// `pipe_read`, `futex_wait_queue`. `None` when running, unreadable, or hidden ("0").
pub fn wchan(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/wchan")).ok()?;
    let text = text.trim();
    (!text.is_empty() && text != "0").then(|| text.to_owned())
}

/// What `/proc/PID/syscall` says a process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyscallState {
    /// On a CPU, in user space.
    Running,
    /// Blocked, but not in a system call (e.g. a page fault).
    NotInSyscall,
    /// Blocked in this system call.
    In {
        /// The architecture's syscall number.
        number: i64,
    },
}

impl SyscallState {
    /// The syscall's name and what waiting in it usually means, for the common blocking ones.
    pub fn meaning(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::In { number } => SYSCALL_MEANINGS
                .iter()
                .find(|(nr, _, _)| *nr == number)
                .map(|(_, name, meaning)| (*name, *meaning)),
            Self::Running | Self::NotInSyscall => None,
        }
    }
}

/// Reads `/proc/PID/syscall` (needs ptrace access: fine for our own descendants).
pub fn syscall(pid: u32) -> Option<SyscallState> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let first = text.split_whitespace().next()?;
    match first {
        "running" => Some(SyscallState::Running),
        "-1" => Some(SyscallState::NotInSyscall),
        number => number
            .parse()
            .ok()
            .map(|number| SyscallState::In { number }),
    }
}

const READING: &str = "waiting for data on a pipe, socket or queue that nobody writes to";
const WRITING: &str = "waiting for room in a full pipe or queue that nobody reads";
const LOCKING: &str = "waiting on a lock, condition, semaphore or event (a futex)";
const JOINING: &str = "waiting for a child process to exit (join)";
const SLEEPING: &str = "sleeping";
const POLLING: &str = "waiting for I/O or a timeout";
const SIGNAL: &str = "waiting for a signal";

/// Common blocking system calls: number, name, what waiting there usually means.
const SYSCALL_MEANINGS: &[(i64, &str, &str)] = &[
    (libc::SYS_read, "read", READING),
    (libc::SYS_readv, "readv", READING),
    (libc::SYS_pread64, "pread64", READING),
    (libc::SYS_recvfrom, "recvfrom", READING),
    (libc::SYS_recvmsg, "recvmsg", READING),
    (libc::SYS_write, "write", WRITING),
    (libc::SYS_writev, "writev", WRITING),
    (libc::SYS_sendto, "sendto", WRITING),
    (libc::SYS_sendmsg, "sendmsg", WRITING),
    (libc::SYS_futex, "futex", LOCKING),
    (libc::SYS_wait4, "wait4", JOINING),
    (libc::SYS_waitid, "waitid", JOINING),
    (libc::SYS_nanosleep, "nanosleep", SLEEPING),
    (libc::SYS_clock_nanosleep, "clock_nanosleep", SLEEPING),
    (libc::SYS_ppoll, "ppoll", POLLING),
    (libc::SYS_pselect6, "pselect6", POLLING),
    (libc::SYS_epoll_pwait, "epoll_pwait", POLLING),
    (libc::SYS_rt_sigsuspend, "rt_sigsuspend", SIGNAL),
    (
        libc::SYS_sched_yield,
        "sched_yield",
        "yielding the CPU in a loop (spinning)",
    ),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_poll, "poll", POLLING),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_select, "select", POLLING),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_epoll_wait, "epoll_wait", POLLING),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_pause, "pause", SIGNAL),
];

/// What `/proc/PID/schedstat` says about a process's main thread: time on a CPU, time
/// runnable but waiting for one, and how many times it was put on a CPU. A process that waits
/// by sleeping (in a futex, a pipe read, `nanosleep`) adds to neither time; a process that
/// busy-waits is always runnable, so on a loaded machine the time it waits for a CPU grows
/// as its CPU time shrinks, and their sum stays close to its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedStat {
    /// Time spent on a CPU.
    pub on_cpu: Duration,
    /// Time spent runnable, waiting in a run queue.
    pub waiting: Duration,
    /// Times it was given a CPU.
    pub timeslices: u64,
}

/// Reads `/proc/PID/schedstat`; `None` if the process is gone or the kernel keeps no such
/// statistics.
pub fn schedstat(pid: u32) -> Option<SchedStat> {
    parse_schedstat(&std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?)
}

/// Parses the text of a `/proc/PID/schedstat` file: three numbers, nanoseconds on a CPU,
/// nanoseconds waiting, timeslices.
pub fn parse_schedstat(text: &str) -> Option<SchedStat> {
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    let (on_cpu, waiting, timeslices) = (fields.next()??, fields.next()??, fields.next()??);
    Some(SchedStat {
        on_cpu: Duration::from_nanos(on_cpu),
        waiting: Duration::from_nanos(waiting),
        timeslices,
    })
}

/// Clock ticks per second, the unit of [`ProcessSnapshot::cpu_ticks`] (100 on Linux).
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// Converts clock ticks to a duration.
pub fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_whose_comm_has_spaces_and_parens() {
        let line = "4242 (we (ird) name) S 4241 4240 4247 0 -1 4194304 125 0 0 0 7 3 0 0 20 0 2 0 186910 2990080 411";
        let p = parse_stat(line).expect("parses");
        assert_eq!(p.pid, 4242);
        assert_eq!(p.comm, "we (ird) name");
        assert_eq!(p.state, 'S');
        assert_eq!((p.ppid, p.pgid), (4241, 4240));
        assert_eq!(p.cpu_ticks, 10);
        assert_eq!(p.threads, 2);
    }

    #[test]
    fn parses_schedstat() {
        let stat = parse_schedstat("290143412 163295546958 985\n").expect("parses");
        assert_eq!(stat.on_cpu, Duration::from_nanos(290_143_412));
        assert_eq!(stat.waiting, Duration::from_nanos(163_295_546_958));
        assert_eq!(stat.timeslices, 985);
        assert_eq!(parse_schedstat("12 x 3"), None);
        assert_eq!(parse_schedstat("12 3"), None);
    }

    #[test]
    fn sees_itself() {
        let me = snapshot(std::process::id()).expect("own stat readable");
        assert_eq!(me.pid, std::process::id());
        assert!(!me.is_zombie());
    }
}
