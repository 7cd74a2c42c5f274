//! The filesystem a runner sees in its check's mount namespace, set up by the keeper
//! ([`super::pidns`]) before any runner joins it:
//!
//! - **everything read-only** (`mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY)` on `/`): a
//!   submission cannot change the course, another check's files, the grader's report, the
//!   user's cargo registry, or anything else on the machine;
//! - **the course repository and the grader's target directory hidden**, each covered by an
//!   empty tmpfs: the reference solutions, their built runners, other submissions' builds and
//!   the grader's own sources are not there to read or to run. Only the run's directory of
//!   runner copies comes back (read-only: a runner cannot replace another assignment's
//!   runner), and the check's scratch directory if it lies inside one of them;
//! - the check's scratch directory itself read-only: the harness may write a check's inputs
//!   there (a06 generates the files to search) for the runner to read;
//! - **a private home**: a small tmpfs (`limits::HOME_BYTES`, `limits::HOME_INODES`) at
//!   `<scratch>/home`, the runner's working directory, `HOME` and `TMPDIR`. It is the one
//!   place a runner can write files (besides the namespace's `/dev/shm`); a million tiny
//!   files end there at the inode limit, with `ENOSPC`. It vanishes with the namespace.
//!
//! [`MountPlan`] prepares every path as a C string before the keeper is forked; [`apply`]
//! runs in the keeper and makes system calls only.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::errors::SandboxError;
use crate::sandbox::limits;

/// Most directories brought back from under a hidden one.
const MAX_BINDS: usize = 8;

/// Options of the empty tmpfs covering a hidden directory (room for mount points only).
const COVER_OPTIONS: &CStr = c"mode=0755,size=64k,nr_inodes=256";

// From <linux/mount.h> (the libc crate has the syscall numbers, not these).
const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOUNT_ATTR_RDONLY: u64 = 0x1;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A step of [`apply`] that failed, for the keeper's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountStep {
    /// `open_tree` of a directory to bring back.
    CloneDirectory,
    /// The tmpfs over a hidden directory.
    Cover,
    /// A mount point inside a cover.
    MakeMountPoint,
    /// `move_mount` of a cloned directory back into place.
    BringBack,
    /// `mount_setattr` read-only on `/`.
    ReadOnly,
    /// The namespace's `/proc`.
    Proc,
    /// The private `/dev/shm`.
    DevShm,
    /// The private home.
    Home,
}

impl MountStep {
    /// Every step, in the order of their numbers in the keeper's report.
    pub const ALL: [MountStep; 8] = [
        Self::CloneDirectory,
        Self::Cover,
        Self::MakeMountPoint,
        Self::BringBack,
        Self::ReadOnly,
        Self::Proc,
        Self::DevShm,
        Self::Home,
    ];

    /// What the step does, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CloneDirectory => "clone a directory to bring back (open_tree)",
            Self::Cover => "cover a hidden directory with an empty tmpfs",
            Self::MakeMountPoint => "create a mount point in a cover",
            Self::BringBack => "bring a directory back (move_mount)",
            Self::ReadOnly => "make every mount read-only (mount_setattr)",
            Self::Proc => "mount /proc for the namespace",
            Self::DevShm => "mount a private /dev/shm",
            Self::Home => "mount the private home",
        }
    }
}

/// Every path of the mount setup, prepared before the keeper is forked.
#[derive(Debug)]
pub struct MountPlan {
    /// Directories covered by an empty tmpfs, none inside another.
    covers: Vec<CString>,
    /// Directories created inside the covers, parents first: the mount points of `binds`.
    mount_points: Vec<CString>,
    /// Directories under a cover brought back, read-only.
    binds: Vec<CString>,
    /// The private home (an existing directory in the check's scratch directory).
    home: CString,
    /// The home's tmpfs options.
    home_options: CString,
}

impl MountPlan {
    /// The plan for one check: `hidden` directories covered, `shown` ones (the runner's
    /// directory, the check's scratch directory) brought back where they lie under a hidden
    /// one, and a private tmpfs at `home`. Paths must be absolute and canonical.
    pub fn new(hidden: &[PathBuf], shown: &[PathBuf], home: &Path) -> Result<Self, SandboxError> {
        let mut covers: Vec<&PathBuf> = hidden
            .iter()
            .filter(|h| {
                !hidden
                    .iter()
                    .any(|other| other != *h && h.starts_with(other))
            })
            .collect();
        covers.sort();
        covers.dedup();
        let mut mount_points = Vec::new();
        let mut binds = Vec::new();
        for path in shown {
            let Some(cover) = covers.iter().find(|c| path.starts_with(c)) else {
                continue;
            };
            let mut dir = cover.to_path_buf();
            for part in path
                .strip_prefix(cover)
                .into_iter()
                .flat_map(Path::components)
            {
                dir.push(part);
                if !mount_points.contains(&dir) {
                    mount_points.push(dir.clone());
                }
            }
            binds.push(path.clone());
        }
        if binds.len() > MAX_BINDS {
            return Err(SandboxError::Os {
                operation: "plan the check's mounts",
                source: std::io::Error::other(format!(
                    "{} directories to bring back, at most {MAX_BINDS}",
                    binds.len()
                )),
            });
        }
        let c = |path: &Path| {
            CString::new(path.as_os_str().as_bytes()).map_err(|e| SandboxError::Os {
                operation: "name a directory of the check's mounts",
                source: std::io::Error::other(e),
            })
        };
        let home_options = format!(
            "mode=0700,size={},nr_inodes={}",
            limits::HOME_BYTES,
            limits::HOME_INODES
        );
        Ok(Self {
            covers: covers.into_iter().map(|p| c(p)).collect::<Result<_, _>>()?,
            mount_points: mount_points
                .iter()
                .map(|p| c(p))
                .collect::<Result<_, _>>()?,
            binds: binds.iter().map(|p| c(p)).collect::<Result<_, _>>()?,
            home: c(home)?,
            home_options: CString::new(home_options).map_err(|e| SandboxError::Os {
                operation: "format the home's options",
                source: std::io::Error::other(e),
            })?,
        })
    }
}

/// Sets the plan up in the calling process's mount namespace (fresh and private), then mounts
/// the namespace's `/proc` and `/dev/shm` with `shm_options`.
///
/// # Safety
///
/// Call it only in the keeper, a child of a fork of a multithreaded process: it makes system
/// calls on the plan's prepared strings and allocates nothing, but it changes the mounts of
/// whatever mount namespace the caller is in.
pub unsafe fn apply(plan: &MountPlan, shm_options: &CStr) -> Result<(), (MountStep, i32)> {
    let mut clones = [-1 as libc::c_int; MAX_BINDS];
    for (slot, path) in clones.iter_mut().zip(&plan.binds) {
        *slot = open_tree(path).map_err(|e| (MountStep::CloneDirectory, e))?;
    }
    for cover in &plan.covers {
        mount(
            c"tmpfs",
            cover,
            c"tmpfs",
            libc::MS_NOSUID | libc::MS_NODEV,
            COVER_OPTIONS,
        )
        .map_err(|e| (MountStep::Cover, e))?;
    }
    for dir in &plan.mount_points {
        match mkdir(dir) {
            Ok(()) | Err(libc::EEXIST) => {}
            Err(e) => return Err((MountStep::MakeMountPoint, e)),
        }
    }
    for (fd, path) in clones.iter().zip(&plan.binds) {
        move_mount(*fd, path).map_err(|e| (MountStep::BringBack, e))?;
    }
    read_only_everywhere().map_err(|e| (MountStep::ReadOnly, e))?;
    // New mounts from here on are writable: they are made after the read-only pass.
    let quiet = libc::MS_NOSUID | libc::MS_NODEV;
    mount(c"proc", c"/proc", c"proc", quiet | libc::MS_NOEXEC, c"")
        .map_err(|e| (MountStep::Proc, e))?;
    mount(c"tmpfs", c"/dev/shm", c"tmpfs", quiet, shm_options)
        .map_err(|e| (MountStep::DevShm, e))?;
    mount(c"tmpfs", &plan.home, c"tmpfs", quiet, &plan.home_options)
        .map_err(|e| (MountStep::Home, e))
}

/// The calling thread's errno.
fn errno() -> i32 {
    // SAFETY: reads this thread's errno.
    unsafe { *libc::__errno_location() }
}

/// `mount(2)`; the errno on failure.
fn mount(
    source: &CStr,
    target: &CStr,
    kind: &CStr,
    flags: libc::c_ulong,
    data: &CStr,
) -> Result<(), i32> {
    // SAFETY: a system call on NUL-terminated strings that outlive it.
    let mounted = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            kind.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    if mounted == 0 { Ok(()) } else { Err(errno()) }
}

/// `mkdir(2)` with mode 0755; the errno on failure.
fn mkdir(dir: &CStr) -> Result<(), i32> {
    // SAFETY: a system call on a NUL-terminated string.
    if unsafe { libc::mkdir(dir.as_ptr(), 0o755) } == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

/// A detached copy of the mounts at `path` (`open_tree(OPEN_TREE_CLONE | AT_RECURSIVE)`), as
/// an fd, to be moved back after `path` has been covered.
fn open_tree(path: &CStr) -> Result<libc::c_int, i32> {
    let flags = OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: a system call on a NUL-terminated string; it returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
    if fd < 0 {
        Err(errno())
    } else {
        Ok(fd as libc::c_int)
    }
}

/// Moves the detached mounts of `fd` onto `path`, then closes `fd`.
fn move_mount(fd: libc::c_int, path: &CStr) -> Result<(), i32> {
    // SAFETY: a system call on an fd `open_tree` returned and NUL-terminated strings.
    let moved = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd,
            c"".as_ptr(),
            libc::AT_FDCWD,
            path.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    let error = if moved == 0 { None } else { Some(errno()) };
    // SAFETY: closes the fd `open_tree` returned, which nothing else uses.
    unsafe { libc::close(fd) };
    error.map_or(Ok(()), Err)
}

/// Every mount of the namespace made read-only (`mount_setattr(AT_RECURSIVE)` on `/`).
fn read_only_everywhere() -> Result<(), i32> {
    let read_only = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a system call on a C-string literal and a local `mount_attr` of the size given.
    let set = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c"/".as_ptr(),
            AT_RECURSIVE,
            &read_only as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if set == 0 { Ok(()) } else { Err(errno()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[CString]) -> Vec<String> {
        list.iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_directory_under_a_hidden_one_is_brought_back_through_its_mount_points() {
        let plan = MountPlan::new(
            &[
                PathBuf::from("/course"),
                PathBuf::from("/course/target/grader"),
                PathBuf::from("/elsewhere/target"),
            ],
            &[
                PathBuf::from("/course/target/grader/grader-runs/run-1"),
                PathBuf::from("/tmp/grader-check-1"),
            ],
            Path::new("/tmp/grader-check-1/home"),
        )
        .expect("a plan");
        assert_eq!(strings(&plan.covers), ["/course", "/elsewhere/target"]);
        assert_eq!(
            strings(&plan.mount_points),
            [
                "/course/target",
                "/course/target/grader",
                "/course/target/grader/grader-runs",
                "/course/target/grader/grader-runs/run-1",
            ]
        );
        assert_eq!(
            strings(&plan.binds),
            ["/course/target/grader/grader-runs/run-1"],
            "the scratch directory is not under a hidden one: nothing to bring back"
        );
        let options = plan.home_options.to_string_lossy();
        assert!(options.contains(&format!("nr_inodes={}", limits::HOME_INODES)));
    }
}
