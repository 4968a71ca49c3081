//! The raw Landlock syscalls the crate does not expose in the form the
//! child needs: the ABI query and a `landlock_restrict_self(2)` that
//! borrows the ruleset fd and allocates nothing.

use std::os::fd::{AsRawFd, BorrowedFd};

/// `LANDLOCK_CREATE_RULESET_VERSION` from <linux/landlock.h>.
const CREATE_RULESET_VERSION: libc::c_uint = 1;

/// The kernel's Landlock ABI; 0 when it answers ENOSYS (not built) or
/// EOPNOTSUPP (not enabled at boot) or anything else.
pub fn kernel_abi() -> i32 {
    // SAFETY: with LANDLOCK_CREATE_RULESET_VERSION the kernel requires a
    // NULL attr and size 0, reads no memory and returns the ABI version.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    i32::try_from(version).unwrap_or(0).max(0)
}

/// Enforces the ruleset on the calling thread. Needs no-new-privs or
/// CAP_SYS_ADMIN in the user namespace (else EPERM).
pub fn restrict_self(ruleset: BorrowedFd<'_>) -> Result<(), i32> {
    // SAFETY: plain syscall on a borrowed, open ruleset fd with flags 0; it
    // touches no memory of ours. The fd stays owned by the caller.
    let rc = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0u32) };
    if rc == 0 {
        Ok(())
    } else {
        Err(nix::errno::Errno::last_raw())
    }
}

/// Whether the O_PATH fd refers to a directory (rules on other files may
/// only carry file rights, else the kernel answers EINVAL).
pub fn is_dir(fd: BorrowedFd<'_>) -> Result<bool, i32> {
    let stat = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(|e| e as i32)?;
    Ok(stat.st_mode & libc::S_IFMT == libc::S_IFDIR)
}
