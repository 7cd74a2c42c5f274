//! The manager's server process: one thread, many clients, every shared object.
//!
//! Requests are handled one at a time, in the order they arrive, so each proxy operation
//! (an append, an insert, an `update`) is atomic with respect to all the others. Objects
//! live until the server exits.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::Pid;

use super::protocol::{ObjectKind, Request, Response, decode, frame, image_anchor};
use super::value::{UpdateFailure, update_trampoline_at};
use crate::pool::service::{parent_is, poll, pollfd};
use crate::pool::wire::{InBuffer, write_all};

/// How often the server checks that the process that started it is alive.
const PARENT_CHECK: Duration = Duration::from_millis(500);

enum Object {
    List(Vec<Vec<u8>>),
    Dict(Dict),
    Value(Vec<u8>),
}

impl Object {
    fn kind(&self) -> ObjectKind {
        match self {
            Self::List(_) => ObjectKind::List,
            Self::Dict(_) => ObjectKind::Dict,
            Self::Value(_) => ObjectKind::Value,
        }
    }
}

/// A dict that remembers insertion order, as Python's does: `keys()` lists keys in the
/// order they were first inserted. Keys compare by their encoding.
#[derive(Default)]
struct Dict {
    entries: HashMap<Vec<u8>, (u64, Vec<u8>)>,
    next_order: u64,
}

impl Dict {
    fn ordered(&self) -> Vec<(&Vec<u8>, &Vec<u8>)> {
        let mut pairs: Vec<_> = self
            .entries
            .iter()
            .map(|(key, (order, value))| (*order, key, value))
            .collect();
        pairs.sort_unstable_by_key(|(order, _, _)| *order);
        pairs
            .into_iter()
            .map(|(_, key, value)| (key, value))
            .collect()
    }
}

#[derive(Default)]
struct Store {
    objects: HashMap<u64, Object>,
    next_id: u64,
}

impl Store {
    fn create(&mut self, object: Object) -> Response {
        self.next_id += 1;
        self.objects.insert(self.next_id, object);
        Response::Created { id: self.next_id }
    }

    fn handle(&mut self, request: Request) -> Response {
        match request {
            Request::NewList { items } => self.create(Object::List(items)),
            Request::NewDict => self.create(Object::Dict(Dict::default())),
            Request::NewValue { value } => self.create(Object::Value(value)),
            Request::ListAppend { id, item } => self.list(id, |list| {
                list.push(item);
                Response::Done
            }),
            Request::ListExtend { id, items } => self.list(id, |list| {
                list.extend(items);
                Response::Done
            }),
            Request::ListGet { id, index } => self.list(id, |list| {
                match usize::try_from(index).ok().and_then(|i| list.get(i)) {
                    Some(item) => Response::Item(item.clone()),
                    None => out_of_range(index, list.len()),
                }
            }),
            Request::ListSet { id, index, item } => self.list(id, |list| {
                let len = list.len();
                match usize::try_from(index).ok().and_then(|i| list.get_mut(i)) {
                    Some(slot) => {
                        *slot = item;
                        Response::Done
                    }
                    None => out_of_range(index, len),
                }
            }),
            Request::ListPop { id } => self.list(id, |list| Response::MaybeItem(list.pop())),
            Request::ListLen { id } => self.list(id, |list| Response::Len(list.len() as u64)),
            Request::ListItems { id } => self.list(id, |list| Response::Items(list.clone())),
            Request::ListClear { id } => self.list(id, |list| {
                list.clear();
                Response::Done
            }),
            Request::DictInsert { id, key, value } => self.dict(id, |dict| {
                let order = dict.next_order;
                let previous = match dict.entries.get_mut(&key) {
                    // Python keeps a re-inserted key in its first position.
                    Some((_, slot)) => Some(std::mem::replace(slot, value)),
                    None => {
                        dict.next_order += 1;
                        dict.entries.insert(key, (order, value));
                        None
                    }
                };
                Response::MaybeItem(previous)
            }),
            Request::DictGet { id, key } => self.dict(id, |dict| {
                Response::MaybeItem(dict.entries.get(&key).map(|(_, value)| value.clone()))
            }),
            Request::DictRemove { id, key } => self.dict(id, |dict| {
                Response::MaybeItem(dict.entries.remove(&key).map(|(_, value)| value))
            }),
            Request::DictContains { id, key } => {
                self.dict(id, |dict| Response::Bool(dict.entries.contains_key(&key)))
            }
            Request::DictLen { id } => {
                self.dict(id, |dict| Response::Len(dict.entries.len() as u64))
            }
            Request::DictItems { id } => self.dict(id, |dict| {
                Response::Pairs(
                    dict.ordered()
                        .into_iter()
                        .map(|(key, value)| (key.clone(), value.clone()))
                        .collect(),
                )
            }),
            Request::DictClear { id } => self.dict(id, |dict| {
                dict.entries.clear();
                Response::Done
            }),
            Request::ValueGet { id } => self.value(id, |value| Response::Item(value.clone())),
            Request::ValueSet { id, value: new } => self.value(id, |value| {
                *value = new;
                Response::Done
            }),
            Request::ValueUpdate {
                id,
                trampoline,
                anchor,
            } => self.value(id, |value| {
                if anchor != image_anchor() {
                    return Response::UpdateFailed {
                        message: "the update function comes from a different executable".to_owned(),
                    };
                }
                // SAFETY: the client took `trampoline` from `update_trampoline_address` and
                // its image anchor equals ours: the same executable, mapped at the same
                // address (both processes descend by fork from the one that made the
                // manager), so the address is that monomorphised update function here too.
                let update = unsafe { update_trampoline_at(trampoline) };
                match update(value) {
                    Ok(new) => {
                        *value = new;
                        Response::Item(value.clone())
                    }
                    Err(UpdateFailure::Panicked(message)) => Response::UpdatePanicked { message },
                    Err(UpdateFailure::Codec(message)) => Response::UpdateFailed { message },
                }
            }),
        }
    }

    fn object(&mut self, id: u64, kind: ObjectKind) -> Result<&mut Object, Response> {
        match self.objects.get_mut(&id) {
            Some(object) if object.kind() == kind => Ok(object),
            _ => Err(Response::NoSuchObject { kind, id }),
        }
    }

    fn list(&mut self, id: u64, op: impl FnOnce(&mut Vec<Vec<u8>>) -> Response) -> Response {
        match self.object(id, ObjectKind::List) {
            Ok(Object::List(list)) => op(list),
            Ok(_) => Response::NoSuchObject {
                kind: ObjectKind::List,
                id,
            },
            Err(response) => response,
        }
    }

    fn dict(&mut self, id: u64, op: impl FnOnce(&mut Dict) -> Response) -> Response {
        match self.object(id, ObjectKind::Dict) {
            Ok(Object::Dict(dict)) => op(dict),
            Ok(_) => Response::NoSuchObject {
                kind: ObjectKind::Dict,
                id,
            },
            Err(response) => response,
        }
    }

    fn value(&mut self, id: u64, op: impl FnOnce(&mut Vec<u8>) -> Response) -> Response {
        match self.object(id, ObjectKind::Value) {
            Ok(Object::Value(value)) => op(value),
            Ok(_) => Response::NoSuchObject {
                kind: ObjectKind::Value,
                id,
            },
            Err(response) => response,
        }
    }
}

fn out_of_range(index: u64, len: usize) -> Response {
    Response::IndexOutOfRange {
        index,
        len: len as u64,
    }
}

struct Client {
    stream: UnixStream,
    input: InBuffer,
}

/// The server's loop; returns its exit code. Ends when the parent does (the `Manager`
/// normally ends it first with a signal).
pub(crate) fn serve(listener: &UnixListener, parent: Pid) -> i32 {
    if listener.set_nonblocking(true).is_err() {
        return 1;
    }
    // SAFETY: getuid takes nothing, touches no memory of ours and cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut store = Store::default();
    let mut clients: Vec<Client> = Vec::new();
    loop {
        let mut fds: Vec<libc::pollfd> = std::iter::once(listener.as_raw_fd())
            .chain(clients.iter().map(|client| client.stream.as_raw_fd()))
            .map(|fd| pollfd(fd, libc::POLLIN))
            .collect();
        let _ = poll(&mut fds, Some(PARENT_CHECK));
        if !parent_is(parent) {
            return 0;
        }
        let mut ready = fds[1..].iter().map(|pollfd| pollfd.revents != 0);
        clients.retain_mut(|client| {
            !ready.next().unwrap_or(false) || serve_client(client, &mut store)
        });
        if fds[0].revents != 0 {
            while let Ok((stream, _)) = listener.accept() {
                // Only processes of the same user may use the objects (as file permissions
                // would allow on a socket path).
                let same_user = getsockopt(&stream, PeerCredentials)
                    .is_ok_and(|credentials| credentials.uid() == uid);
                if same_user && stream.set_nonblocking(false).is_ok() {
                    clients.push(Client {
                        stream,
                        input: InBuffer::new(),
                    });
                }
            }
        }
    }
}

/// Reads what `client` sent and answers every complete request; false when the client is
/// gone (or sent garbage).
fn serve_client(client: &mut Client, store: &mut Store) -> bool {
    match client.input.fill_from(client.stream.as_raw_fd(), true) {
        Ok(0) => return false,
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return true,
        Err(_) => return false,
    }
    loop {
        let request = match client.input.next_frame() {
            Ok(Some(bytes)) => match decode::<Request>(bytes) {
                Ok(request) => request,
                Err(_) => return false,
            },
            Ok(None) => return true,
            Err(_) => return false,
        };
        let response = store.handle(request);
        let Ok(bytes) = frame(&response) else {
            return false;
        };
        if write_all(client.stream.as_raw_fd(), &bytes).is_err() {
            return false;
        }
    }
}
