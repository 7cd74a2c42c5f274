//! `DictProxy`: a shared dict, as `manager.dict()`.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::client::{call, unexpected};
use super::protocol::{EncodedPairs, Request, Response, decode, encode};
use crate::ManagerError;

/// A dict held by a [`Manager`](crate::Manager)'s server, as Python's `manager.dict()`.
///
/// Keys compare by their serialised form, and iterate in insertion order, as in Python.
/// Every operation is one atomic round trip to the server.
///
/// ```
/// use multiprocessing as mp;
///
/// let manager = mp::Manager::new()?;
/// let shared_dict = manager.dict::<String, usize>()?;
/// shared_dict.insert(&"Process-2".to_owned(), &2)?;
/// assert_eq!(shared_dict.get(&"Process-2".to_owned())?, Some(2));
/// assert_eq!(shared_dict.keys()?, ["Process-2"]);
/// # Ok::<(), mp::ManagerError>(())
/// ```
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct DictProxy<K, V> {
    address: String,
    id: u64,
    #[serde(skip)]
    _entries: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for DictProxy<K, V> {
    fn clone(&self) -> Self {
        Self::at(self.address.clone(), self.id)
    }
}

impl<K, V> std::fmt::Debug for DictProxy<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DictProxy")
            .field("address", &self.address)
            .field("id", &self.id)
            .finish()
    }
}

impl<K, V> DictProxy<K, V> {
    pub(crate) fn at(address: String, id: u64) -> Self {
        Self {
            address,
            id,
            _entries: PhantomData,
        }
    }
}

impl<K, V> DictProxy<K, V>
where
    K: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    fn call(&self, request: Request) -> Result<Response, ManagerError> {
        call(&self.address, &request)
    }

    fn maybe_value(&self, request: Request) -> Result<Option<V>, ManagerError> {
        match self.call(request)? {
            Response::MaybeItem(bytes) => bytes.map(|bytes| decode(&bytes)).transpose(),
            other => Err(unexpected(other)),
        }
    }

    fn pairs(&self) -> Result<EncodedPairs, ManagerError> {
        match self.call(Request::DictItems { id: self.id })? {
            Response::Pairs(pairs) => Ok(pairs),
            other => Err(unexpected(other)),
        }
    }

    /// Sets `dict[key] = value`; returns the value it replaced.
    pub fn insert(&self, key: &K, value: &V) -> Result<Option<V>, ManagerError> {
        self.maybe_value(Request::DictInsert {
            id: self.id,
            key: encode(key)?,
            value: encode(value)?,
        })
    }

    /// `dict.get(key)`.
    pub fn get(&self, key: &K) -> Result<Option<V>, ManagerError> {
        self.maybe_value(Request::DictGet {
            id: self.id,
            key: encode(key)?,
        })
    }

    /// Removes `key`; returns its value (Python's `pop(key, None)`).
    pub fn remove(&self, key: &K) -> Result<Option<V>, ManagerError> {
        self.maybe_value(Request::DictRemove {
            id: self.id,
            key: encode(key)?,
        })
    }

    /// `key in dict`.
    pub fn contains_key(&self, key: &K) -> Result<bool, ManagerError> {
        match self.call(Request::DictContains {
            id: self.id,
            key: encode(key)?,
        })? {
            Response::Bool(found) => Ok(found),
            other => Err(unexpected(other)),
        }
    }

    /// `len(dict)`.
    pub fn len(&self) -> Result<usize, ManagerError> {
        match self.call(Request::DictLen { id: self.id })? {
            Response::Len(len) => Ok(len as usize),
            other => Err(unexpected(other)),
        }
    }

    /// True when the dict has no entries.
    pub fn is_empty(&self) -> Result<bool, ManagerError> {
        Ok(self.len()? == 0)
    }

    /// The keys, in insertion order.
    pub fn keys(&self) -> Result<Vec<K>, ManagerError> {
        self.pairs()?.iter().map(|(key, _)| decode(key)).collect()
    }

    /// The values, in their keys' insertion order.
    pub fn values(&self) -> Result<Vec<V>, ManagerError> {
        self.pairs()?
            .iter()
            .map(|(_, value)| decode(value))
            .collect()
    }

    /// A copy of every entry, in insertion order (Python's `dict(shared_dict).items()`).
    pub fn items(&self) -> Result<Vec<(K, V)>, ManagerError> {
        self.pairs()?
            .iter()
            .map(|(key, value)| Ok((decode(key)?, decode(value)?)))
            .collect()
    }

    /// Removes every entry.
    pub fn clear(&self) -> Result<(), ManagerError> {
        match self.call(Request::DictClear { id: self.id })? {
            Response::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}
