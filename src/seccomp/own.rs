//! PID 1's own filter, installed once the program runs: hardinit then only
//! polls, reads, writes, signals, reaps and (for `learn`) answers
//! notifications and writes one file. Anything else fails with EPERM; the
//! action is an errno, not a kill, because PID 1 dying would take the whole
//! container down for a call we forgot, and a refused call is only logged.

use super::bpf::{self, Decision};
use super::{syscall_number, Arch};
use seccompiler::BpfProgram;
use std::collections::BTreeMap;

/// What the event loop, the allocator, the exit path and `learn` need.
pub(super) const NEEDED: &[&str] = &[
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
    // musl's open() and stat() use the legacy calls on x86_64
    "open",
    "stat",
    "lstat",
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

/// Compile PID 1's filter for the native architecture (bpf.rs: the same
/// search and prologue as the child's filters, so x32 numbers are killed
/// rather than refused; hardinit is a native binary and never makes them).
pub fn program() -> Result<BpfProgram, String> {
    let arch = Arch::native();
    let mut decisions = BTreeMap::new();
    for name in NEEDED {
        // Names the architecture lacks (poll on aarch64) are simply absent.
        if let Some(nr) = syscall_number(arch, name) {
            let nr = u32::try_from(nr).map_err(|_| format!("syscall number {nr} out of range"))?;
            decisions.insert(nr, Decision::Return(libc::SECCOMP_RET_ALLOW));
        }
    }
    let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    Ok(bpf::program(arch, decisions, eperm))
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
