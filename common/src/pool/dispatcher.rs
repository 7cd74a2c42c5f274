//! The pool's result thread: it hands tasks to workers, reads their outcomes, and runs
//! callbacks, multiplexing every worker socket with `poll`.
//!
//! Each worker gets a few tasks ahead of the one it runs, so it never waits for a round trip
//! between tasks; how many depends on how long tasks take (see [`Dispatcher::prefetch`]).
//! The thread remembers which tasks are on which worker, in order. When a worker dies, the
//! fork server says so; the thread reads what the worker wrote before dying, fails the one
//! task it was running (if any), gives the tasks it had not started to other workers, and
//! asks for a replacement.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::fork_server::ForkServer;
use super::progress::ProgressSlots;
use super::service::{panic_message, poll, pollfd};
use super::shared::{Lifecycle, Shared, Task, become_result_thread};
use super::task::TaskFailure;
use super::wire::{
    ControlEvent, ControlRequest, InBuffer, KIND_EXIT, OUTCOME_HEADER, OutBuffer, STATUS_OK,
    read_u64, recv_control,
};
use crate::{ExitStatus, PoolError, codec};

/// Work queued on one worker, in estimated run time, beyond which it gets no more tasks.
const QUEUED_WORK_TARGET_NANOS: f64 = 2_000_000.0;
/// Fewest tasks on a worker (one running, one ready), most (bounds the tail of a `map`).
const MIN_PREFETCH: usize = 2;
/// Tasks at least this long go one per worker: the round trip a worker then waits between
/// tasks costs under 1% of a task, and no task waits behind another while a worker idles.
const LONG_TASK_NANOS: f64 = 20_000_000.0;
const MAX_PREFETCH: usize = 256;
/// Weight of the newest sample in the running mean of task run times.
const RUN_TIME_WEIGHT: f64 = 0.2;
/// How long a failed worker start waits before it is tried again, and how many failures in
/// a row, with no worker alive, break the pool rather than leave its tasks waiting.
const SPAWN_RETRY: Duration = Duration::from_millis(100);
const SPAWN_ATTEMPTS_WITHOUT_WORKERS: u32 = 30;
/// How long `Pool::new` waits for its workers, and the fork server for a clean exit.
const START_DEADLINE: Duration = Duration::from_secs(30);
const STOP_GRACE: Duration = Duration::from_secs(10);

struct Worker {
    pid: u32,
    socket: OwnedFd,
    input: InBuffer,
    output: OutBuffer,
    /// Tasks sent (or being sent) to this worker, oldest first; it runs them in this order.
    in_flight: VecDeque<Task>,
    /// The socket ended or failed: the worker is dying and gets nothing more; the fork
    /// server's report of its death settles its tasks.
    closed: bool,
}

enum Slot {
    /// The fork server was asked for a worker.
    Starting,
    Live(Worker),
    /// Starting failed; ask again at `at`.
    Retry {
        at: Instant,
        errno: i32,
    },
}

pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    server: ForkServer,
    progress: Arc<ProgressSlots>,
    slots: Vec<Slot>,
    /// Submitted, not yet on a worker.
    pending: VecDeque<Task>,
    /// Running mean of task run times, in nanoseconds, as the workers measure them.
    task_nanos: f64,
    failed_spawns: u32,
    broken: Option<PoolError>,
    /// Shutting down: dead workers are not replaced.
    stopping: bool,
}

fn spawn_error(source: std::io::Error) -> PoolError {
    PoolError::Spawn {
        source: Arc::new(source),
    }
}

impl Dispatcher {
    /// Forks the fork server and waits until it has started `processes` workers. Runs on
    /// the caller's thread, before the pool has any thread of its own.
    pub(crate) fn start(shared: Arc<Shared>, processes: usize) -> Result<Self, PoolError> {
        let progress = Arc::new(ProgressSlots::new(processes).map_err(spawn_error)?);
        let server = ForkServer::start(Arc::clone(&progress)).map_err(spawn_error)?;
        let mut dispatcher = Self {
            shared,
            server,
            progress,
            slots: (0..processes).map(|_| Slot::Starting).collect(),
            pending: VecDeque::new(),
            task_nanos: QUEUED_WORK_TARGET_NANOS / MIN_PREFETCH as f64,
            failed_spawns: 0,
            broken: None,
            stopping: false,
        };
        for index in 0..processes {
            dispatcher
                .server
                .request(&ControlRequest::Spawn {
                    index: index as u32,
                })
                .map_err(spawn_error)?;
        }
        let deadline = Instant::now() + START_DEADLINE;
        while dispatcher
            .slots
            .iter()
            .any(|slot| matches!(slot, Slot::Starting))
        {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(spawn_error(std::io::ErrorKind::TimedOut.into()));
            }
            let mut fds = [pollfd(dispatcher.server.control.as_raw_fd(), libc::POLLIN)];
            poll(&mut fds, Some(left)).map_err(spawn_error)?;
            dispatcher.handle_control();
            if let Some(error) = dispatcher.broken.take() {
                return Err(error);
            }
            if let Some(errno) = dispatcher.slots.iter().find_map(|slot| match slot {
                Slot::Retry { errno, .. } => Some(*errno),
                _ => None,
            }) {
                return Err(spawn_error(std::io::Error::from_raw_os_error(errno)));
            }
        }
        dispatcher.publish_pids();
        Ok(dispatcher)
    }

    pub(crate) fn fork_server_pid(&self) -> u32 {
        self.server.process.pid()
    }

    /// The result thread's whole life.
    pub(crate) fn run(mut self) {
        become_result_thread(self.shared.id);
        let ending = loop {
            let lifecycle = self.take_inbox();
            if let Some(error) = self.broken.clone() {
                // Refuse new tasks before failing the queued ones, so none slips in after.
                self.shared.inbox().broken = Some(error.clone());
                break Some(error);
            }
            if lifecycle == Lifecycle::Terminating {
                break Some(PoolError::Terminated);
            }
            self.assign();
            self.flush();
            if lifecycle == Lifecycle::Closed && self.idle() {
                break None;
            }
            self.wait(&lifecycle);
        };
        self.stopping = true;
        let leftover_error = match ending {
            None => {
                self.finish_gracefully();
                PoolError::Closed
            }
            Some(error) => {
                self.finish_now(&error);
                error
            }
        };
        let leftovers = {
            let mut inbox = self.shared.inbox();
            inbox.lifecycle = Lifecycle::Finished;
            inbox.worker_pids.clear();
            if let Some(error) = self.broken.clone() {
                inbox.broken = Some(error);
            }
            std::mem::take(&mut inbox.tasks)
        };
        // Only a submission racing with a broken pool can be here; it must not hang.
        for task in leftovers {
            self.complete(task, Err(leftover_error.clone()));
        }
        self.shared.finished.notify_all();
    }

    /// Moves submitted tasks into `pending`; returns the lifecycle seen.
    fn take_inbox(&mut self) -> Lifecycle {
        let mut inbox = self.shared.inbox();
        let tasks = std::mem::take(&mut inbox.tasks);
        let lifecycle = inbox.lifecycle.clone();
        drop(inbox);
        self.pending.extend(tasks);
        lifecycle
    }

    /// How many tasks a worker may have: enough queued work to cover a round trip, few
    /// enough that a long task does not hold many others behind it while another worker is
    /// idle.
    fn prefetch(&self) -> usize {
        if self.task_nanos >= LONG_TASK_NANOS {
            return 1;
        }
        let tasks = (QUEUED_WORK_TARGET_NANOS / self.task_nanos.max(1.0)).ceil();
        (tasks as usize).clamp(MIN_PREFETCH, MAX_PREFETCH)
    }

    /// Hands pending tasks to the least loaded workers with room.
    fn assign(&mut self) {
        let limit = self.prefetch();
        while !self.pending.is_empty() {
            let Some(worker) = self
                .slots
                .iter_mut()
                .filter_map(|slot| match slot {
                    Slot::Live(worker) if !worker.closed && worker.in_flight.len() < limit => {
                        Some(worker)
                    }
                    _ => None,
                })
                .min_by_key(|worker| worker.in_flight.len())
            else {
                return;
            };
            // One task at a time to the least loaded worker: a few tasks spread over all
            // workers instead of queueing behind one.
            if let Some(task) = self.pending.pop_front() {
                worker.output.push(&task.frame);
                worker.in_flight.push_back(task);
            }
        }
    }

    fn flush(&mut self) {
        for slot in &mut self.slots {
            if let Slot::Live(worker) = slot
                && !worker.closed
                && !worker.output.is_empty()
                && worker.output.flush(worker.socket.as_raw_fd()).is_err()
            {
                worker.closed = true;
            }
        }
    }

    fn idle(&self) -> bool {
        self.pending.is_empty()
            && self.slots.iter().all(|slot| match slot {
                Slot::Live(worker) => worker.in_flight.is_empty(),
                Slot::Starting | Slot::Retry { .. } => true,
            })
    }

    /// Sleeps until a worker writes (or can be written to), the fork server reports, or a
    /// task is submitted; then handles what happened.
    fn wait(&mut self, seen: &Lifecycle) {
        let mut fds = vec![
            pollfd(self.shared.wake_fd(), libc::POLLIN),
            pollfd(self.server.control.as_raw_fd(), libc::POLLIN),
        ];
        let mut owners = Vec::with_capacity(self.slots.len());
        for (index, slot) in self.slots.iter().enumerate() {
            if let Slot::Live(worker) = slot
                && !worker.closed
            {
                let mut events = libc::POLLIN;
                if !worker.output.is_empty() {
                    events |= libc::POLLOUT;
                }
                fds.push(pollfd(worker.socket.as_raw_fd(), events));
                owners.push(index);
            }
        }
        let retry = self
            .slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Retry { at, .. } => Some(at.saturating_duration_since(Instant::now())),
                _ => None,
            })
            .min();
        let timeout = if self.shared.prepare_sleep(seen) {
            retry
        } else {
            Some(Duration::ZERO)
        };
        if poll(&mut fds, timeout).is_err() {
            // Only EINVAL/ENOMEM: nothing to do but avoid a busy loop.
            std::thread::sleep(Duration::from_millis(1));
        }
        self.shared.woke(fds[0].revents != 0);
        if fds[1].revents != 0 {
            self.handle_control();
        }
        for (pollfd, &index) in fds[2..].iter().zip(&owners) {
            if pollfd.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                self.read_worker(index);
            }
        }
        self.retry_spawns();
    }

    fn read_worker(&mut self, index: usize) {
        let Slot::Live(worker) = &mut self.slots[index] else {
            return;
        };
        match worker.input.fill_from(worker.socket.as_raw_fd(), true) {
            Ok(0) => worker.closed = true,
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => worker.closed = true,
        }
        self.deliver_outcomes(index);
    }

    /// Completes every task whose outcome frame has fully arrived from slot `index`.
    fn deliver_outcomes(&mut self, index: usize) {
        let Self {
            slots,
            shared,
            task_nanos,
            ..
        } = self;
        let Slot::Live(worker) = &mut slots[index] else {
            return;
        };
        loop {
            let frame = match worker.input.next_frame() {
                Ok(Some(frame)) if frame.len() >= OUTCOME_HEADER => frame,
                Ok(None) => return,
                // A worker that writes garbage is of no use: end it; its death settles its
                // tasks.
                Ok(Some(_)) | Err(_) => {
                    let _ = kill(Pid::from_raw(worker.pid as i32), Signal::SIGKILL);
                    worker.closed = true;
                    return;
                }
            };
            let seq = read_u64(frame, 0);
            let nanos = read_u64(frame, 8) as f64;
            let body = &frame[OUTCOME_HEADER..];
            let outcome = if frame[16] == STATUS_OK {
                Ok(body)
            } else {
                Err(match codec::decode::<TaskFailure>(body) {
                    Ok(failure) => failure.into(),
                    Err(error) => PoolError::ArgumentDecode {
                        message: format!("undecodable failure report: {error}"),
                    },
                })
            };
            *task_nanos += RUN_TIME_WEIGHT * (nanos - *task_nanos);
            let Some(position) = worker.in_flight.iter().position(|task| task.seq == seq) else {
                continue;
            };
            let Some(task) = worker.in_flight.remove(position) else {
                continue;
            };
            if let Err(payload) = task.complete(outcome) {
                record_callback_panic(shared, payload.as_ref());
            }
        }
    }

    fn complete(&self, task: Task, outcome: Result<&[u8], PoolError>) {
        if let Err(payload) = task.complete(outcome) {
            record_callback_panic(&self.shared, payload.as_ref());
        }
    }

    fn handle_control(&mut self) {
        loop {
            match recv_control::<ControlEvent>(self.server.control.as_raw_fd(), true) {
                Ok(Some((event, fd))) => self.on_event(event, fd),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return,
                Ok(None) | Err(_) => {
                    if self.broken.is_none() && !self.stopping {
                        self.broken = Some(PoolError::ForkServerDied {
                            pid: self.server.process.pid(),
                        });
                    }
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, event: ControlEvent, fd: Option<OwnedFd>) {
        match (event, fd) {
            (ControlEvent::Spawned { index, pid }, Some(socket)) => {
                let Some(slot) = self.slots.get_mut(index as usize) else {
                    return;
                };
                *slot = Slot::Live(Worker {
                    pid,
                    socket,
                    input: InBuffer::new(),
                    output: OutBuffer::default(),
                    in_flight: VecDeque::new(),
                    closed: false,
                });
                self.failed_spawns = 0;
                self.publish_pids();
            }
            (ControlEvent::Spawned { pid, .. }, None) => {
                // Without its socket the worker is useless; its death will be reported
                // and a replacement asked for.
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
            (ControlEvent::SpawnFailed { index, errno }, _) => {
                if let Some(slot) = self.slots.get_mut(index as usize) {
                    *slot = Slot::Retry {
                        at: Instant::now() + SPAWN_RETRY,
                        errno,
                    };
                }
                self.failed_spawns += 1;
                let none_alive = !self.slots.iter().any(|slot| matches!(slot, Slot::Live(_)));
                if none_alive && self.failed_spawns >= SPAWN_ATTEMPTS_WITHOUT_WORKERS {
                    self.broken = Some(spawn_error(std::io::Error::from_raw_os_error(errno)));
                }
            }
            (ControlEvent::WorkerDied { index, pid, status }, _) => {
                self.on_worker_died(index as usize, pid, status.into());
            }
        }
    }

    fn on_worker_died(&mut self, index: usize, pid: u32, status: ExitStatus) {
        let is_that_worker =
            matches!(self.slots.get(index), Some(Slot::Live(worker)) if worker.pid == pid);
        if !is_that_worker {
            return;
        }
        // Outcomes the worker wrote before it died are still in the socket.
        loop {
            let Slot::Live(worker) = &mut self.slots[index] else {
                return;
            };
            match worker.input.fill_from(worker.socket.as_raw_fd(), true) {
                Ok(n) if n > 0 => self.deliver_outcomes(index),
                _ => break,
            }
        }
        self.deliver_outcomes(index);
        let Slot::Live(worker) = std::mem::replace(&mut self.slots[index], Slot::Starting) else {
            return;
        };
        let mut in_flight = worker.in_flight;
        let started = self.progress.slot(index).last_started();
        if in_flight.front().is_some_and(|task| task.seq == started)
            && let Some(task) = in_flight.pop_front()
        {
            self.complete(task, Err(PoolError::WorkerDied { pid, status }));
        }
        // The rest never started: first in line for the other workers, in their order.
        while let Some(task) = in_flight.pop_back() {
            self.pending.push_front(task);
        }
        if self.stopping {
            return;
        }
        if self
            .server
            .request(&ControlRequest::Spawn {
                index: index as u32,
            })
            .is_err()
        {
            self.broken = Some(PoolError::ForkServerDied {
                pid: self.server.process.pid(),
            });
        }
        self.publish_pids();
    }

    fn retry_spawns(&mut self) {
        let now = Instant::now();
        for index in 0..self.slots.len() {
            if matches!(self.slots[index], Slot::Retry { at, .. } if at <= now) {
                self.slots[index] = Slot::Starting;
                let request = ControlRequest::Spawn {
                    index: index as u32,
                };
                if self.server.request(&request).is_err() && self.broken.is_none() {
                    self.broken = Some(PoolError::ForkServerDied {
                        pid: self.server.process.pid(),
                    });
                }
            }
        }
    }

    fn publish_pids(&self) {
        let pids = self
            .slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Live(worker) => Some(worker.pid),
                _ => None,
            })
            .collect();
        self.shared.inbox().worker_pids = pids;
    }

    /// All work is done after `close`: workers are told to exit, then the server.
    fn finish_gracefully(&mut self) {
        // A replacement being started would miss its exit frame; wait for its socket.
        let deadline = Instant::now() + STOP_GRACE;
        while self.slots.iter().any(|slot| matches!(slot, Slot::Starting))
            && Instant::now() < deadline
            && self.broken.is_none()
        {
            let mut fds = [pollfd(self.server.control.as_raw_fd(), libc::POLLIN)];
            let _ = poll(&mut fds, Some(Duration::from_millis(100)));
            self.handle_control();
        }
        for slot in &mut self.slots {
            if let Slot::Live(worker) = slot {
                worker.output.push(&[1, 0, 0, 0, KIND_EXIT]);
                let _ = worker.output.flush(worker.socket.as_raw_fd());
            }
        }
        let _ = self
            .server
            .request(&ControlRequest::Shutdown { kill: false });
        // Closing our ends also gives each worker end of file, should its frame not arrive.
        self.slots.clear();
        self.server.process.stop(STOP_GRACE);
    }

    /// `terminate`, or the pool broke: fail every unfinished task with `error`, kill the
    /// workers, reap the server.
    fn finish_now(&mut self, error: &PoolError) {
        let _ = self
            .server
            .request(&ControlRequest::Shutdown { kill: true });
        let slots = std::mem::take(&mut self.slots);
        for slot in slots {
            if let Slot::Live(worker) = slot {
                for task in worker.in_flight {
                    self.complete(task, Err(error.clone()));
                }
            }
        }
        while let Some(task) = self.pending.pop_front() {
            self.complete(task, Err(error.clone()));
        }
        self.server.process.stop(STOP_GRACE);
    }
}

fn record_callback_panic(shared: &Shared, payload: &(dyn std::any::Any + Send)) {
    let message = panic_message(payload);
    shared.inbox().callback_panic.get_or_insert(message);
}
