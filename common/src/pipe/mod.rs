//! `Pipe` and `Connection`: Python's `multiprocessing.Pipe`, on kernel sockets and pipes.

mod connection;
mod fd_io;
mod frame;
mod one_way;
mod open;
mod pipe_end;
mod pipe_state;
mod reader;
mod sigpipe;
mod writer;

pub use connection::Connection;
pub use one_way::{PipeReceiver, PipeSender};
pub use open::Pipe;
