//! System V shared-memory segments a check left behind.
//!
//! `/proc/sysvipc/shm` lists the segments of the *reader's* IPC namespace. With a PID
//! namespace, each check's thread has an IPC namespace of its own
//! ([`super::pidns::unshare_ipc`]), so what it lists after the check is exactly what the
//! check created; the namespace frees them when its last process is gone, and
//! [`remove`] frees them at once. Without one, the machine's segments are compared before and
//! after the check, with the same caveat as `/dev/shm` in [`super::sweep`].

use std::collections::BTreeSet;

/// Where the kernel lists the segments of the reader's IPC namespace.
const PROC_SYSVIPC_SHM: &str = "/proc/sysvipc/shm";

/// One segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Its key (`IPC_PRIVATE` is 0).
    pub key: i64,
    /// Its id, for `shmctl`.
    pub id: i32,
    /// Its size in bytes.
    pub bytes: u64,
    /// The pid of the process that created it (as its namespace numbers it).
    pub creator: u32,
}

impl Segment {
    /// The segment in words, for leak reports.
    pub fn describe(&self) -> String {
        format!(
            "System V segment id {} (key {:#x}, {} bytes, made by pid {})",
            self.id, self.key, self.bytes, self.creator
        )
    }
}

/// The segments of the calling thread's IPC namespace.
pub fn segments() -> Vec<Segment> {
    std::fs::read_to_string(PROC_SYSVIPC_SHM)
        .map(|text| parse(&text))
        .unwrap_or_default()
}

/// Parses `/proc/sysvipc/shm`: a header line, then `key shmid perms size cpid lpid ...`.
fn parse(text: &str) -> Vec<Segment> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some(Segment {
                key: fields.first()?.parse().ok()?,
                id: fields.get(1)?.parse().ok()?,
                bytes: fields.get(3)?.parse().ok()?,
                creator: fields.get(4)?.parse().ok()?,
            })
        })
        .collect()
}

/// Removes `segment` (`IPC_RMID`: gone once nobody has it attached).
pub fn remove(segment: &Segment) {
    // SAFETY: shmctl with IPC_RMID takes no buffer; an id that is gone is only an error.
    unsafe { libc::shmctl(segment.id, libc::IPC_RMID, std::ptr::null_mut()) };
}

/// Removes every segment of the calling thread's IPC namespace and describes them.
pub fn remove_all() -> Vec<String> {
    remove_new(&BTreeSet::new())
}

/// The ids of the current segments.
pub fn ids() -> BTreeSet<i32> {
    segments().into_iter().map(|s| s.id).collect()
}

/// Removes the segments whose id is not in `before`, and describes them.
pub fn remove_new(before: &BTreeSet<i32>) -> Vec<String> {
    segments()
        .into_iter()
        .filter(|s| !before.contains(&s.id))
        .map(|s| {
            remove(&s);
            s.describe()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_listing_parses() {
        let text = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n\
                    \x20        0          5   600                  4096    42    42      0     0     0     0     0          0          0 1700000000                     0                     0\n\
                    \x20   123456          6  1600               1048576    43     0      1     0     0     0     0          0          0 1700000000                  4096                     0\n";
        let segments = parse(text);
        assert_eq!(segments.len(), 2, "{segments:?}");
        assert_eq!(
            segments[1],
            Segment {
                key: 123_456,
                id: 6,
                bytes: 1_048_576,
                creator: 43
            }
        );
        assert!(segments[0].describe().contains("id 5"));
    }

    /// In an IPC namespace of its own, a thread sees the segment it made, and nothing else,
    /// and removing it leaves none.
    #[test]
    fn a_segment_made_in_a_private_ipc_namespace_is_listed_and_removed() {
        std::thread::spawn(|| {
            if crate::sandbox::pidns::unshare_ipc().is_err() {
                eprintln!("skipped: no IPC namespace here");
                return;
            }
            assert!(segments().is_empty(), "a fresh namespace has no segment");
            // SAFETY: shmget with plain integers creates a segment and returns its id.
            let id = unsafe { libc::shmget(libc::IPC_PRIVATE, 4096, libc::IPC_CREAT | 0o600) };
            assert!(id >= 0, "{}", std::io::Error::last_os_error());
            let listed = segments();
            assert_eq!(listed.len(), 1, "{listed:?}");
            assert_eq!(listed[0].id, id);
            assert_eq!(remove_all().len(), 1);
            assert!(segments().is_empty());
        })
        .join()
        .expect("the test thread");
    }
}
