//! `Manager`: a server process holding shared lists, dicts and values, used from any
//! process through proxies (Python's `multiprocessing.Manager`).

mod client;
mod dict;
mod handle;
mod list;
mod protocol;
mod server;
mod value;

pub use dict::DictProxy;
pub use handle::Manager;
pub use list::ListProxy;
pub use value::ValueProxy;
