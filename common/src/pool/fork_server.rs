//! The fork server: the single-threaded process that forks (and reaps) the pool's workers.
//!
//! The pool's parent side runs a result thread, and the user's program may run many more.
//! Forking from a multithreaded process copies only the forking thread: a lock that another
//! thread held at that instant (the allocator's, stdout's, one of ours) stays locked forever
//! in the child. So no thread of the pool's parent ever forks: `Pool::new` forks this server
//! once, before starting any thread, and the server, which has one thread and takes no lock,
//! forks every worker and every replacement on request. This is how CPython's `forkserver`
//! start method works.
//!
//! For each worker the server makes a socket pair, forks the worker with one end, and passes
//! the other end to the parent with `SCM_RIGHTS`. As the workers' parent it is the one that
//! reaps them; it tells the parent each death with the pid and how the worker ended. Workers
//! die with the server (`PR_SET_PDEATHSIG`), and the server leaves when the parent does.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use super::progress::ProgressSlots;
use super::service::{
    ServiceProcess, become_service_process, exit_status, parent_is, pidfd_open, poll, pollfd,
};
use super::wire::{ControlEvent, ControlRequest, recv_control, send_control};
use super::worker;

/// How long the server waits for workers told to exit before it kills them.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// How often the server checks that its parent is alive when nothing else happens.
const PARENT_CHECK: Duration = Duration::from_millis(500);
/// How often it looks for dead workers on kernels without pidfds.
const REAP_SWEEP: Duration = Duration::from_millis(20);

/// The parent's handle on its fork server.
pub(crate) struct ForkServer {
    pub(crate) process: ServiceProcess,
    /// The parent's end of the control socket.
    pub(crate) control: OwnedFd,
}

impl ForkServer {
    /// Forks the server. Call before the pool starts any thread.
    pub(crate) fn start(progress: Arc<ProgressSlots>) -> std::io::Result<Self> {
        let (control, server_end) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let parent = Pid::this();
        let keep = [server_end.as_raw_fd()];
        let process = ServiceProcess::spawn(&keep, move || serve(&server_end, parent, &progress))?;
        Ok(Self { process, control })
    }

    pub(crate) fn request(&self, request: &ControlRequest) -> std::io::Result<()> {
        send_control(self.control.as_raw_fd(), request, None)
    }
}

struct Child {
    index: u32,
    pid: Pid,
    pidfd: Option<OwnedFd>,
}

/// The server's loop; returns its exit code.
fn serve(control: &OwnedFd, parent: Pid, progress: &ProgressSlots) -> i32 {
    let control = control.as_raw_fd();
    let mut children: Vec<Child> = Vec::new();
    loop {
        let mut fds: Vec<libc::pollfd> = std::iter::once(pollfd(control, libc::POLLIN))
            .chain(
                children
                    .iter()
                    .filter_map(|child| child.pidfd.as_ref())
                    .map(|fd| pollfd(fd.as_raw_fd(), libc::POLLIN)),
            )
            .collect();
        let sweep = children.iter().any(|child| child.pidfd.is_none());
        let _ = poll(
            &mut fds,
            Some(if sweep { REAP_SWEEP } else { PARENT_CHECK }),
        );
        if !parent_is(parent) {
            shut_down(&mut children, true);
            return 0;
        }
        reap_dead(&mut children, control);
        if fds[0].revents == 0 {
            continue;
        }
        loop {
            match recv_control::<ControlRequest>(control, true) {
                Ok(Some((ControlRequest::Spawn { index }, _))) => {
                    if let Some(child) = spawn_worker(index, control, progress) {
                        children.push(child);
                    }
                }
                Ok(Some((ControlRequest::Shutdown { kill }, _))) => {
                    shut_down(&mut children, kill);
                    return 0;
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                // End of file or a broken socket: the parent is gone or dropped the pool.
                Ok(None) | Err(_) => {
                    shut_down(&mut children, true);
                    return 0;
                }
            }
        }
    }
}

/// Reaps every child that has ended and reports it to the parent.
fn reap_dead(children: &mut Vec<Child>, control: RawFd) {
    children.retain(|child| {
        let Ok(status) = waitpid(child.pid, Some(WaitPidFlag::WNOHANG)) else {
            return false;
        };
        let Some(status) = exit_status(status) else {
            return true;
        };
        let event = ControlEvent::WorkerDied {
            index: child.index,
            pid: child.pid.as_raw() as u32,
            status: status.into(),
        };
        // If the parent is gone, the next loop turn notices and shuts down.
        let _ = send_control(control, &event, None);
        false
    });
}

/// Forks the worker for slot `index` and hands its socket to the parent.
fn spawn_worker(index: u32, control: RawFd, progress: &ProgressSlots) -> Option<Child> {
    let failed = |errno: Errno| {
        let event = ControlEvent::SpawnFailed {
            index,
            errno: errno as i32,
        };
        let _ = send_control(control, &event, None);
        None
    };
    if index as usize >= progress.count() {
        return failed(Errno::EINVAL);
    }
    let (parent_end, worker_end) = match socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    ) {
        Ok(pair) => pair,
        Err(errno) => return failed(errno),
    };
    let server = Pid::this();
    // SAFETY: the fork server has a single thread, so the child inherits no lock held by
    // another thread; the child runs the worker loop and `_exit`s, never returning here.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // A worker must not outlive the server, which reaps it and reports its death.
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            if !parent_is(server) {
                super::service::exit_now(0);
            }
            become_service_process(&[worker_end.as_raw_fd()]);
            worker::run(worker_end, progress.slot(index as usize))
        }
        Ok(ForkResult::Parent { child }) => {
            drop(worker_end);
            let event = ControlEvent::Spawned {
                index,
                pid: child.as_raw() as u32,
            };
            // If this fails the parent is gone; the worker then sees end of file and exits.
            let _ = send_control(control, &event, Some(parent_end.as_raw_fd()));
            drop(parent_end);
            Some(Child {
                index,
                pid: child,
                pidfd: pidfd_open(child),
            })
        }
        Err(errno) => failed(errno),
    }
}

/// Ends every worker (at once when `kill`, else after their exit frames, within a grace
/// period) and reaps them all.
fn shut_down(children: &mut Vec<Child>, kill_now: bool) {
    if kill_now {
        for child in children.iter() {
            let _ = kill(child.pid, Signal::SIGKILL);
        }
    }
    let deadline = Instant::now() + EXIT_GRACE;
    let mut killed = kill_now;
    while !children.is_empty() {
        children.retain(|child| {
            !matches!(
                waitpid(child.pid, Some(WaitPidFlag::WNOHANG)),
                Ok(nix::sys::wait::WaitStatus::Exited(..)
                    | nix::sys::wait::WaitStatus::Signaled(..))
                    | Err(_)
            )
        });
        if children.is_empty() {
            break;
        }
        if !killed && Instant::now() >= deadline {
            for child in children.iter() {
                let _ = kill(child.pid, Signal::SIGKILL);
            }
            killed = true;
        }
        let mut fds: Vec<libc::pollfd> = children
            .iter()
            .filter_map(|child| child.pidfd.as_ref())
            .map(|fd| pollfd(fd.as_raw_fd(), libc::POLLIN))
            .collect();
        if fds.len() == children.len() {
            let _ = poll(&mut fds, Some(Duration::from_millis(100)));
        } else {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
