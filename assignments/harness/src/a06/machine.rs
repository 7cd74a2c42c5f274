//! What this machine can show on a06's own work: bare processes searching the speedup
//! corpus's files (page-cached, memory-mapped, `memmem` and line-end counting), one process
//! for all of them, then `k` processes sharing them
//! ([`measure_attainable_split`](crate::checks::speedup::measure_attainable_split)).
//!
//! The work is the search itself, not a CPU loop: reading page-cached memory and mapping
//! pages scale differently from register arithmetic on the same machine, and the student's
//! gain is judged against this one. It runs in the runner, in the student's sandbox, so the
//! bare processes are scheduled (and built) as the student's code is.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use memchr::memmem::Finder;

use crate::checks::speedup::{Attainable, SplitWork, measure_attainable_split};

/// Bytes searched at a time: small enough to stay in the cache between finding the matches
/// in them and counting their line ends, as a good search does.
const BLOCK: usize = 256 * 1024;

/// The search bare processes do: every regular file under a root, listed (and their paths
/// made C strings) before any process is forked, so a share allocates nothing.
#[derive(Debug)]
pub struct BareSearch {
    files: Vec<CString>,
    finder: Finder<'static>,
}

impl BareSearch {
    /// Lists the regular files under `root` (symbolic links are not followed), in a fixed
    /// order. `keyword` must not be empty.
    pub fn new(root: &Path, keyword: &[u8]) -> io::Result<BareSearch> {
        if keyword.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an empty keyword",
            ));
        }
        let mut files = Vec::new();
        let mut pending = vec![root.to_owned()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    pending.push(entry.path());
                } else if kind.is_file() {
                    files.push(CString::new(entry.path().as_os_str().as_bytes())?);
                }
            }
        }
        files.sort();
        Ok(BareSearch {
            files,
            finder: Finder::new(keyword).into_owned(),
        })
    }

    /// How many files it searches.
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// Searches one file: maps it, counts the keyword's matches and the line ends.
    fn search(&self, path: &CStr) -> io::Result<u64> {
        // SAFETY: `path` is NUL-terminated; the flags open read-only and never wait (a FIFO
        // cannot be here: only regular files were listed).
        let fd = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = Fd(fd);
        // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open; fstat writes one `stat` into the local.
        if unsafe { libc::fstat(fd.0, &mut stat) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let len = usize::try_from(stat.st_size).unwrap_or(0);
        if len == 0 {
            return Ok(0);
        }
        let map = Map::new(&fd, len)?;
        Ok(self.scan(map.bytes()))
    }

    /// Matches plus line ends in `text`, block by block.
    fn scan(&self, text: &[u8]) -> u64 {
        let mut found = 0u64;
        for block in text.chunks(BLOCK) {
            let mut at = 0;
            while let Some(offset) = self.finder.find(&block[at..]) {
                found += 1;
                at += offset + 1;
            }
            found += memchr::memchr_iter(b'\n', block).count() as u64;
        }
        found
    }
}

impl SplitWork for BareSearch {
    /// Share `part` of `parts`: every `parts`-th file from the `part`-th. The speedup corpus's
    /// files are of one size and a multiple of the workers, so the shares are equal.
    fn run(&self, part: usize, parts: usize) -> io::Result<u64> {
        let mut found = 0;
        for path in self.files.iter().skip(part).step_by(parts.max(1)) {
            found += self.search(path)?;
        }
        Ok(found)
    }
}

/// What a runner answers to a [`Scenario::Machine`](crate::a06::Scenario::Machine): bare
/// processes searching the files under `root`, one then `processes`. Errors in words.
pub fn measure_machine(
    root: &Path,
    keyword: &[u8],
    processes: usize,
) -> Result<Attainable, String> {
    let search = BareSearch::new(root, keyword)
        .map_err(|e| format!("could not list the files for bare processes: {e}"))?;
    if search.files() == 0 {
        return Err(format!("no file under {} to search", root.display()));
    }
    measure_attainable_split(processes, &search)
        .map_err(|e| format!("bare processes could not search the files: {e}"))
}

/// An open file descriptor, closed on drop.
struct Fd(libc::c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: closes a descriptor this value owns, once; an error leaves nothing to do.
        unsafe { libc::close(self.0) };
    }
}

/// A read-only private mapping of a whole file, unmapped on drop.
struct Map {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Map {
    fn new(fd: &Fd, len: usize) -> io::Result<Map> {
        // SAFETY: maps `len` bytes of an open file read-only at an address the kernel picks;
        // nothing else is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                fd.0,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: advice on the mapping just made; a failure changes nothing.
        unsafe { libc::madvise(ptr, len, libc::MADV_SEQUENTIAL) };
        Ok(Map { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live read-only mapping of `len` bytes, unmapped only when `self`
        // drops, which the borrow outlives not. The harness wrote these files and nothing
        // truncates them while bare processes run (a truncation would raise SIGBUS and end
        // the bare process, which fails the measurement, not the memory safety of the
        // runner).
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmaps the mapping this value owns, once; nothing borrows it any more.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}
