//! `Manager`: starts the server process and makes shared objects.

use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::client::{call, unexpected};
use super::dict::DictProxy;
use super::list::ListProxy;
use super::protocol::{Request, Response, encode};
use super::server::serve;
use super::value::ValueProxy;
use crate::ManagerError;
use crate::pool::service::ServiceProcess;

static NEXT_MANAGER: AtomicU64 = AtomicU64::new(1);

/// How long `shutdown` lets the server end after SIGTERM before it kills it.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A server process holding shared lists, dicts and values, as Python's
/// `multiprocessing.Manager()`; processes use them through proxies.
///
/// The seed lesson's first Manager example, three processes appending their names:
///
/// ```
/// use multiprocessing as mp;
///
/// let manager = mp::Manager::new()?;
/// let shared_list = manager.list::<String>()?;
/// let shared_dict = manager.dict::<String, usize>()?;
/// let mut processes: Vec<mp::Process> = (0..3)
///     .map(|_| {
///         let (shared_list, shared_dict) = (shared_list.clone(), shared_dict.clone());
///         mp::Process::new(move || {
///             let name = mp::current_process().name;
///             shared_list.append(&name).expect("append");
///             let len = shared_list.len().expect("len");
///             shared_dict.insert(&name, &len).expect("insert");
///         })
///     })
///     .collect();
/// for p in &mut processes {
///     p.start()?;
/// }
/// for p in &mut processes {
///     p.join()?;
/// }
/// println!("Shared list: {:?}", shared_list.to_vec()?);
/// println!("Shared dict: {:?}", shared_dict.items()?);
/// assert_eq!(shared_list.len()?, 3);
/// assert_eq!(shared_dict.len()?, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The server is forked by `new`, serves every process on one thread (so each proxy
/// operation is atomic), and is stopped (and reaped) by [`shutdown`](Self::shutdown) or
/// when the `Manager` is dropped, as at the end of Python's `with Manager() as manager:`.
/// Proxies used after that fail with [`ManagerError::Connect`] or
/// [`ManagerError::ServerGone`]. It listens on an abstract unix socket (no file to clean
/// up) and serves only processes of the same user.
pub struct Manager {
    address: String,
    server: Mutex<Option<ServiceProcess>>,
    server_pid: u32,
    owner_pid: u32,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("address", &self.address)
            .field("server_pid", &self.server_pid)
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// Starts the server process.
    pub fn new() -> Result<Self, ManagerError> {
        let start_error = |source| ManagerError::Start { source };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let address = format!(
            "multiprocessing-manager-{}-{}-{nanos}",
            std::process::id(),
            NEXT_MANAGER.fetch_add(1, Ordering::Relaxed)
        );
        let socket_address =
            SocketAddr::from_abstract_name(address.as_bytes()).map_err(start_error)?;
        let listener = UnixListener::bind_addr(&socket_address).map_err(start_error)?;
        let parent = Pid::this();
        let keep = [listener.as_raw_fd()];
        // The parent's copy of the listener is closed when the closure is dropped here.
        let server =
            ServiceProcess::spawn(&keep, move || serve(&listener, parent)).map_err(start_error)?;
        Ok(Self {
            address,
            server_pid: server.pid(),
            server: Mutex::new(Some(server)),
            owner_pid: std::process::id(),
        })
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.server_pid
    }

    /// The server's (abstract) socket name.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn create(&self, request: Request) -> Result<u64, ManagerError> {
        match call(&self.address, &request)? {
            Response::Created { id } => Ok(id),
            other => Err(unexpected(other)),
        }
    }

    /// A new, empty shared list (Python's `manager.list()`).
    pub fn list<T: Serialize + DeserializeOwned>(&self) -> Result<ListProxy<T>, ManagerError> {
        self.list_from(std::iter::empty())
    }

    /// A new shared list holding `items` (Python's `manager.list(items)`, and the lesson's
    /// `manager.Array('d', data)`).
    pub fn list_from<T: Serialize + DeserializeOwned>(
        &self,
        items: impl IntoIterator<Item = T>,
    ) -> Result<ListProxy<T>, ManagerError> {
        let items = items
            .into_iter()
            .map(|item| encode(&item))
            .collect::<Result<_, _>>()?;
        let id = self.create(Request::NewList { items })?;
        Ok(ListProxy::at(self.address.clone(), id))
    }

    /// A new, empty shared dict (Python's `manager.dict()`).
    pub fn dict<K, V>(&self) -> Result<DictProxy<K, V>, ManagerError>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        let id = self.create(Request::NewDict)?;
        Ok(DictProxy::at(self.address.clone(), id))
    }

    /// A new shared value (Python's `manager.Value('i', 0)` is `manager.value(0i32)`).
    pub fn value<T: Serialize + DeserializeOwned>(
        &self,
        initial: T,
    ) -> Result<ValueProxy<T>, ManagerError> {
        let id = self.create(Request::NewValue {
            value: encode(&initial)?,
        })?;
        Ok(ValueProxy::at(self.address.clone(), id))
    }

    /// Stops the server and waits for it to exit. The shared objects are gone afterwards.
    /// Calling it again does nothing.
    pub fn shutdown(&self) {
        if std::process::id() != self.owner_pid {
            return;
        }
        let server = self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut server) = server {
            // The server holds no state worth saving: SIGTERM's default action ends it
            // wherever it is; `stop` escalates to SIGKILL and reaps it either way.
            server.signal(Signal::SIGTERM);
            server.stop(STOP_GRACE);
        }
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        // A forked child's copy of the handle does not own the server.
        self.shutdown();
    }
}
