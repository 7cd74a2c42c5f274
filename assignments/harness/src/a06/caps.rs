//! The runner gives up reading what permissions forbid, before it calls the student's search.
//!
//! The corpora hold entries without read permission (`chmod 000`), so that a search must
//! report them as errors rather than crash or leave them out. Root reads them anyway: its
//! capabilities `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH` bypass permission bits (and the
//! grader runs checks as root, or as root of a user namespace). Without those two
//! capabilities, root is refused like anyone else. So the runner drops them from every set of
//! its own (its children inherit that) before the student's code runs; the harness, which
//! made the files and removes them, keeps its own.

/// `_LINUX_CAPABILITY_VERSION_3`: capability sets of two 32-bit words.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `CAP_DAC_OVERRIDE`: bypass read, write and execute permission checks.
const CAP_DAC_OVERRIDE: u32 = 1;
/// `CAP_DAC_READ_SEARCH`: bypass file read and directory read/search permission checks.
const CAP_DAC_READ_SEARCH: u32 = 2;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct Header {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops `CAP_DAC_OVERRIDE` and `CAP_DAC_READ_SEARCH` from this process's effective,
/// permitted and inheritable sets, so permission bits apply to it and to the processes it
/// starts. True when neither is left; false when the kernel refused (the search then reads
/// files root may read, and the checks accept either answer for those entries).
pub fn drop_permission_overrides() -> bool {
    let mut header = Header {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget writes two `Data` (version 3) into the local array, and reads the
    // header, both laid out as the kernel's structs.
    let got = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut Header,
            data.as_mut_ptr(),
        )
    };
    if got != 0 {
        return false;
    }
    let overrides = (1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH);
    if (data[0].effective | data[0].permitted | data[0].inheritable) & overrides == 0 {
        return true;
    }
    data[0].effective &= !overrides;
    data[0].permitted &= !overrides;
    data[0].inheritable &= !overrides;
    // SAFETY: capset reads the header and two `Data` from locals laid out as the kernel's
    // structs; it only lowers this process's own capabilities.
    let set = unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) };
    set == 0
}
