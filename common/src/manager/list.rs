//! `ListProxy`: a shared list, as `manager.list()`.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::client::{call, unexpected};
use super::protocol::{Request, Response, decode, encode};
use crate::ManagerError;

/// A list held by a [`Manager`](crate::Manager)'s server, as Python's `manager.list()`.
///
/// Clone it into each child (or pass it to a pool task: it serialises to its address and
/// id); every operation is one atomic round trip to the server. Items are any serde type.
///
/// ```
/// use multiprocessing as mp;
///
/// let manager = mp::Manager::new()?;
/// let shared_list = manager.list::<String>()?;
/// let mut child = mp::Process::new({
///     let shared_list = shared_list.clone();
///     move || shared_list.append(&mp::current_process().name).expect("append")
/// })
/// .with_name("Process-2");
/// child.start()?;
/// child.join()?;
/// assert_eq!(shared_list.to_vec()?, ["Process-2"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ListProxy<T> {
    address: String,
    id: u64,
    #[serde(skip)]
    _item: PhantomData<fn() -> T>,
}

impl<T> Clone for ListProxy<T> {
    fn clone(&self) -> Self {
        Self::at(self.address.clone(), self.id)
    }
}

impl<T> std::fmt::Debug for ListProxy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListProxy")
            .field("address", &self.address)
            .field("id", &self.id)
            .finish()
    }
}

impl<T> ListProxy<T> {
    pub(crate) fn at(address: String, id: u64) -> Self {
        Self {
            address,
            id,
            _item: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> ListProxy<T> {
    fn call(&self, request: Request) -> Result<Response, ManagerError> {
        call(&self.address, &request)
    }

    fn done(&self, request: Request) -> Result<(), ManagerError> {
        match self.call(request)? {
            Response::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Adds `item` at the end (Python's `append`).
    pub fn append(&self, item: &T) -> Result<(), ManagerError> {
        self.done(Request::ListAppend {
            id: self.id,
            item: encode(item)?,
        })
    }

    /// Adds every item at the end, in one atomic request (Python's `extend`).
    pub fn extend(&self, items: impl IntoIterator<Item = T>) -> Result<(), ManagerError> {
        let items = items
            .into_iter()
            .map(|item| encode(&item))
            .collect::<Result<_, _>>()?;
        self.done(Request::ListExtend { id: self.id, items })
    }

    /// The item at `index` (Python's `list[index]`);
    /// [`ManagerError::IndexOutOfRange`] past the end.
    pub fn get(&self, index: usize) -> Result<T, ManagerError> {
        match self.call(Request::ListGet {
            id: self.id,
            index: index as u64,
        })? {
            Response::Item(bytes) => decode(&bytes),
            other => Err(unexpected(other)),
        }
    }

    /// Replaces the item at `index` (Python's `list[index] = item`).
    pub fn set(&self, index: usize, item: &T) -> Result<(), ManagerError> {
        self.done(Request::ListSet {
            id: self.id,
            index: index as u64,
            item: encode(item)?,
        })
    }

    /// Removes and returns the last item, `None` when empty.
    pub fn pop(&self) -> Result<Option<T>, ManagerError> {
        match self.call(Request::ListPop { id: self.id })? {
            Response::MaybeItem(bytes) => bytes.map(|bytes| decode(&bytes)).transpose(),
            other => Err(unexpected(other)),
        }
    }

    /// The number of items (Python's `len(list)`).
    pub fn len(&self) -> Result<usize, ManagerError> {
        match self.call(Request::ListLen { id: self.id })? {
            Response::Len(len) => Ok(len as usize),
            other => Err(unexpected(other)),
        }
    }

    /// True when the list has no items.
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// A copy of the whole list (Python's `list(shared_list)`).
    pub fn to_vec(&self) -> Result<Vec<T>, ManagerError> {
        match self.call(Request::ListItems { id: self.id })? {
            Response::Items(items) => items.iter().map(|bytes| decode(bytes)).collect(),
            other => Err(unexpected(other)),
        }
    }

    /// Removes every item.
    pub fn clear(&self) -> Result<(), ManagerError> {
        self.done(Request::ListClear { id: self.id })
    }
}
