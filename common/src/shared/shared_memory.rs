//! `SharedMemory`: Python's `multiprocessing.shared_memory.SharedMemory`, a named block of
//! bytes any process can attach to by name.

use std::fs::File;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapMut, MmapOptions};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;

use crate::errors::SharedMemoryError;

/// The longest name, in bytes: glibc refuses names of `NAME_MAX` (255) bytes or more.
const MAX_NAME_LEN: usize = 254;

/// Generated names: Python's prefix, then random hex digits.
const GENERATED_PREFIX: &str = "psm_";

/// How many generated names `create(None, ..)` tries before giving up (they are random, so a
/// clash is rare; a run of them means something else is wrong).
const GENERATED_NAME_ATTEMPTS: usize = 100;

/// A named block of shared memory, like Python's
/// `multiprocessing.shared_memory.SharedMemory`.
///
/// One process [`create`](Self::create)s the block (with a name, or a generated `psm_...` one);
/// others [`attach`](Self::attach) to it by [`name`](Self::name), also processes not forked
/// from the creator. The bytes are [`as_slice`](Self::as_slice) and
/// [`as_mut_slice`](Self::as_mut_slice) (Python's `buf`); view them as numbers with
/// `bytemuck`, as the lesson views them with NumPy:
///
/// ```
/// use multiprocessing as mp;
///
/// fn worker_shmem(name: &str, len: usize) {
///     let mut shm = mp::SharedMemory::attach(name).expect("attach"); // connect by name
///     let shared_array: &mut [i32] = bytemuck::cast_slice_mut(&mut shm.as_mut_slice()[..len * 4]);
///     for x in shared_array.iter_mut() {
///         *x += 1; // modify the array in place
///     }
/// } // dropping an attached block unmaps it (Python's `close`)
///
/// let a = [1i32, 2, 3, 4, 5];
/// let mut shm = mp::SharedMemory::create(None, std::mem::size_of_val(&a))?;
/// bytemuck::cast_slice_mut::<u8, i32>(shm.as_mut_slice()).copy_from_slice(&a);
///
/// let name = shm.name().to_owned();
/// let mut p = mp::Process::new(move || worker_shmem(&name, a.len()));
/// p.start()?;
/// p.join()?;
///
/// assert_eq!(bytemuck::cast_slice::<u8, i32>(shm.as_slice()), [2, 3, 4, 5, 6]);
/// shm.unlink()?; // release the block's name (dropping the creator's handle also would)
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ## Lifetime
///
/// Dropping a handle unmaps the block from this process. The handle that created the block
/// also unlinks it when dropped (in the creating process only: not a forked child's copy),
/// so a block does not outlive its creator in `/dev/shm`. Processes still attached keep
/// their mapping; new `attach`es fail with [`SharedMemoryError::NotFound`].
/// [`unlink`](Self::unlink) does it earlier, from any process.
///
/// ## Synchronisation
///
/// As in Python, the bytes have no lock: coordinate with a [`Lock`](crate::Lock),
/// [`Event`](crate::Event), [`Barrier`](crate::Barrier) or a `join` (one process writes, then
/// signals; the others read after the signal). Bytes read while another process writes them
/// are unspecified, though always valid bytes. Do not shrink a block that others map: their
/// accesses past the new end would crash them with `SIGBUS`.
pub struct SharedMemory {
    name: String,
    map: MmapMut,
    /// Pid of the process that created the block, if this handle did: only it unlinks on
    /// drop, and not in children that inherited a copy through `fork`.
    creator_pid: Option<u32>,
    unlinked: bool,
}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name)
            .field("size", &self.size())
            .finish()
    }
}

impl SharedMemory {
    /// Creates a block of `size` bytes, zero-filled. `name: None` generates a unique name
    /// like Python's `psm_...`.
    ///
    /// Errors: [`SharedMemoryError::InvalidName`], [`SharedMemoryError::ZeroSize`],
    /// [`SharedMemoryError::AlreadyExists`] (a block has that name), [`SharedMemoryError::Os`].
    pub fn create(name: Option<&str>, size: usize) -> Result<Self, SharedMemoryError> {
        if let Some(name) = name {
            validate_name(name)?;
        }
        if size == 0 {
            return Err(SharedMemoryError::ZeroSize {
                name: name.unwrap_or_default().to_owned(),
            });
        }
        let (name, file) = match name {
            Some(name) => (name.to_owned(), open_new(name)?),
            None => open_new_generated()?,
        };
        let created = u64::try_from(size)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::FileTooLarge))
            .and_then(|len| file.set_len(len))
            .map_err(|source| os_error(&name, "ftruncate", source))
            .and_then(|()| map(&name, &file, size));
        match created {
            Ok(map) => Ok(Self {
                name,
                map,
                creator_pid: Some(std::process::id()),
                unlinked: false,
            }),
            Err(error) => {
                // The name was ours for a moment; do not leave an unusable block behind.
                let _ = shm_unlink(slash_name(&name).as_str());
                Err(error)
            }
        }
    }

    /// Attaches to the existing block called `name` (Python's `SharedMemory(name)`), mapping
    /// all of it.
    ///
    /// Errors: [`SharedMemoryError::InvalidName`], [`SharedMemoryError::NotFound`],
    /// [`SharedMemoryError::ZeroSize`] (the block is empty), [`SharedMemoryError::Os`].
    pub fn attach(name: &str) -> Result<Self, SharedMemoryError> {
        validate_name(name)?;
        let fd =
            shm_open(slash_name(name).as_str(), OFlag::O_RDWR, Mode::empty()).map_err(|errno| {
                match errno {
                    Errno::ENOENT => SharedMemoryError::NotFound {
                        name: name.to_owned(),
                    },
                    other => os_error(name, "shm_open", other.into()),
                }
            })?;
        let file = File::from(fd);
        let size = file
            .metadata()
            .map_err(|source| os_error(name, "fstat", source))?
            .len();
        let size = usize::try_from(size).map_err(|_| {
            os_error(
                name,
                "mmap",
                std::io::Error::from(std::io::ErrorKind::FileTooLarge),
            )
        })?;
        if size == 0 {
            return Err(SharedMemoryError::ZeroSize {
                name: name.to_owned(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            map: map(name, &file, size)?,
            creator_pid: None,
            unlinked: false,
        })
    }

    /// The block's name, without a leading `/` (pass it to [`attach`](Self::attach)).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The block's size in bytes.
    pub fn size(&self) -> usize {
        self.map.len()
    }

    /// The block's bytes (Python's `buf`, read-only).
    pub fn as_slice(&self) -> &[u8] {
        &self.map
    }

    /// The block's bytes, writable (Python's `buf`).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.map
    }

    /// Removes the block's name, as Python's `unlink()`: no new process can attach, and the
    /// memory is freed once every process has unmapped it. Call it once, from one process;
    /// the creator's drop then does not unlink again.
    ///
    /// Errors: [`SharedMemoryError::NotFound`] if the name was already removed.
    pub fn unlink(&mut self) -> Result<(), SharedMemoryError> {
        match shm_unlink(slash_name(&self.name).as_str()) {
            Ok(()) => {
                self.unlinked = true;
                Ok(())
            }
            Err(Errno::ENOENT) => {
                // Someone else unlinked it: the name may be reused, so never unlink it again.
                self.unlinked = true;
                Err(SharedMemoryError::NotFound {
                    name: self.name.clone(),
                })
            }
            Err(other) => Err(os_error(&self.name, "shm_unlink", other.into())),
        }
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        let creator_here = self.creator_pid == Some(std::process::id());
        if creator_here && !self.unlinked && !crate::process::discarding_fork_copy() {
            // Already gone (another process unlinked it) is fine; nothing else can be done
            // about an error in a drop.
            let _ = shm_unlink(slash_name(&self.name).as_str());
        }
        // `map` unmaps itself.
    }
}

fn validate_name(name: &str) -> Result<(), SharedMemoryError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.contains('/') {
        "it contains '/' (give the name without a leading '/')"
    } else if name.contains('\0') {
        "it contains a NUL byte"
    } else if name == "." || name == ".." {
        "it is '.' or '..'"
    } else if name.len() > MAX_NAME_LEN {
        "it is longer than 254 bytes"
    } else {
        return Ok(());
    };
    Err(SharedMemoryError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

/// POSIX shared memory names start with one `/`.
fn slash_name(name: &str) -> String {
    format!("/{name}")
}

fn os_error(name: &str, operation: &'static str, source: std::io::Error) -> SharedMemoryError {
    SharedMemoryError::Os {
        name: name.to_owned(),
        operation,
        source,
    }
}

/// Creates the block `name`, failing if it exists.
fn open_new(name: &str) -> Result<File, SharedMemoryError> {
    let fd = shm_open(
        slash_name(name).as_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
        Mode::S_IRUSR | Mode::S_IWUSR,
    )
    .map_err(|errno| match errno {
        Errno::EEXIST => SharedMemoryError::AlreadyExists {
            name: name.to_owned(),
        },
        other => os_error(name, "shm_open", other.into()),
    })?;
    Ok(File::from(fd))
}

/// Creates a block under a fresh random name, retrying on the rare clash.
fn open_new_generated() -> Result<(String, File), SharedMemoryError> {
    let mut last_error = None;
    for _ in 0..GENERATED_NAME_ATTEMPTS {
        let name = generated_name();
        match open_new(&name) {
            Ok(file) => return Ok((name, file)),
            Err(error @ SharedMemoryError::AlreadyExists { .. }) => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(
        last_error.unwrap_or_else(|| SharedMemoryError::AlreadyExists {
            name: GENERATED_PREFIX.to_owned(),
        }),
    )
}

/// `psm_` and 16 hex digits from a randomly keyed hash of this pid, a counter and the time,
/// so that forked processes, whose random keys are copies of their parent's, still differ.
fn generated_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    format!("{GENERATED_PREFIX}{:016x}", hasher.finish())
}

fn map(name: &str, file: &File, size: usize) -> Result<MmapMut, SharedMemoryError> {
    // SAFETY: memmap2 asks that the mapped object not be truncated or changed by others in
    // ways the program does not expect. A shared memory block exists to be changed by other
    // processes; the bytes are plain `u8` (any value is valid), handed out only through
    // `&self`/`&mut self` of this handle, and the type's docs state the synchronisation and
    // no-shrinking contract, as Python's `SharedMemory` does.
    unsafe { MmapOptions::new().len(size).map_mut(file) }
        .map_err(|source| os_error(name, "mmap", source))
}
