//! PID 1's own filter, installed once the program runs: hardinit then only
//! polls, reads, writes, signals, reaps and (for `learn`) answers
//! notifications and writes one file. Anything else fails with EPERM; the
//! action is an errno, not a kill, because PID 1 dying would take the whole
//! container down for a call we forgot, and a refused call is only logged.

use super::{syscall_number, Arch};
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};
use std::collections::BTreeMap;

/// What the event loop, the allocator, the exit path and `learn` need.
const NEEDED: &[&str] = &[
    // the event loop: poll, signalfd reads, pipes, stdout
    "poll",
    "ppoll",
    "read",
    "write",
    "writev",
    "close",
    "fcntl",
    "kill",
    "wait4",
    "waitid",
    "clock_gettime",
    "clock_nanosleep",
    "getpid",
    "gettid",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sched_yield",
    "futex",
    // the allocator
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "madvise",
    // learn: notifications and the profile file
    "ioctl",
    "openat",
    "rename",
    "renameat",
    "renameat2",
    "fstat",
    "newfstatat",
    "statx",
    "lseek",
    "uname",
    "getrandom",
    // leaving
    "exit",
    "exit_group",
    "restart_syscall",
];

/// Compile PID 1's filter for the native architecture.
pub fn program() -> Result<BpfProgram, String> {
    let arch = Arch::native();
    let mut rules = BTreeMap::new();
    for name in NEEDED {
        // Names the architecture lacks (poll on aarch64) are simply absent.
        if let Some(nr) = syscall_number(arch, name) {
            rules.insert(nr, vec![]);
        }
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch.seccompiler(),
    )
    .map_err(|e| e.to_string())?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())
}

/// Install it on PID 1 (no_new_privs first, which the kernel requires
/// without CAP_SYS_ADMIN; PID 1 never executes anything after this).
pub fn install() -> Result<usize, String> {
    let prog = program()?;
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(format!(
            "prctl(PR_SET_NO_NEW_PRIVS): {}",
            std::io::Error::last_os_error()
        ));
    }
    seccompiler::apply_filter(&prog).map_err(|e| format!("seccomp: {e}"))?;
    Ok(prog.len())
}
