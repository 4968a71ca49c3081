//! Fixture for seccomp integration tests: `probe_syscalls NAME...` makes each
//! named call with arguments that make an ALLOWED call fail harmlessly
//! (EBADF, EFAULT, EINVAL, ...) and prints `NAME ERRNO_NAME` or `NAME ok`.
//! A seccomp denial shows as the profile's errno instead (EPERM for the
//! default profile, ENOSYS for clone3/io_uring). The arguments are chosen so
//! that no call can do harm even as root without a filter.
//!
//! `int80` performs an i386 `int 0x80` getpid on x86_64; under a filter the
//! process is expected to be killed (SIGSYS) before it prints anything.

use std::process::ExitCode;

/// A pointer the kernel will refuse with EFAULT: never mapped in user space.
const BAD_PTR: usize = usize::MAX - 4095;

fn errno_name(e: i32) -> String {
    let known = [
        (libc::EPERM, "EPERM"),
        (libc::ENOENT, "ENOENT"),
        (libc::ESRCH, "ESRCH"),
        (libc::EBADF, "EBADF"),
        (libc::ECHILD, "ECHILD"),
        (libc::EAGAIN, "EAGAIN"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EACCES, "EACCES"),
        (libc::EFAULT, "EFAULT"),
        (libc::EBUSY, "EBUSY"),
        (libc::EEXIST, "EEXIST"),
        (libc::ENOTDIR, "ENOTDIR"),
        (libc::EINVAL, "EINVAL"),
        (libc::EMFILE, "EMFILE"),
        (libc::ENOTTY, "ENOTTY"),
        (libc::ENOSPC, "ENOSPC"),
        (libc::ENOSYS, "ENOSYS"),
        (libc::ENOTSOCK, "ENOTSOCK"),
        (libc::EPROTONOSUPPORT, "EPROTONOSUPPORT"),
        (libc::EOPNOTSUPP, "EOPNOTSUPP"),
        (libc::EAFNOSUPPORT, "EAFNOSUPPORT"),
        (libc::ENOKEY, "ENOKEY"),
        (libc::ENODEV, "ENODEV"),
        (libc::EBADMSG, "EBADMSG"),
    ];
    match known.iter().find(|(n, _)| *n == e) {
        Some((_, name)) => name.to_string(),
        None => format!("E{e}"),
    }
}

/// Run a raw syscall with up to six arguments; Ok(return) or Err(errno).
fn sys(nr: libc::c_long, a: [usize; 6]) -> Result<libc::c_long, i32> {
    // SAFETY: every probe passes only integers, NULL or a never-mapped
    // pointer; the kernel validates them and returns an error.
    let rc = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if rc == -1 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(rc)
    }
}

fn probe(name: &str) -> Option<Result<libc::c_long, i32>> {
    use libc::*;
    let z = 0usize;
    let bad_fd = usize::MAX; // -1 as an int
    let r = match name {
        // Allowed: EBADF/EFAULT. Denied: the filter's errno.
        "read" => sys(SYS_read, [bad_fd, BAD_PTR, 1, z, z, z]),
        "write" => sys(SYS_write, [bad_fd, BAD_PTR, 1, z, z, z]),
        "close" => sys(SYS_close, [bad_fd, z, z, z, z, z]),
        "openat" => sys(SYS_openat, [AT_FDCWD as usize, BAD_PTR, z, z, z, z]),
        "execve" => sys(SYS_execve, [BAD_PTR, z, z, z, z, z]),
        // clone with an invalid combination (CLONE_SIGHAND without CLONE_VM): EINVAL, no child.
        "clone" => sys(SYS_clone, [CLONE_SIGHAND as usize, z, z, z, z, z]),
        "clone_newuser" => sys(
            SYS_clone,
            [(CLONE_NEWUSER | CLONE_SIGHAND) as usize, z, z, z, z, z],
        ),
        // size 0 is below CLONE_ARGS_SIZE_VER0: EINVAL, no child.
        "clone3" => sys(SYS_clone3, [BAD_PTR, z, z, z, z, z]),
        // Invalid flag bits: EINVAL before anything is unshared.
        "unshare" => sys(SYS_unshare, [0x8000_0000_0000_0000, z, z, z, z, z]),
        "unshare_userns" => sys(SYS_unshare, [(CLONE_NEWUSER | 0x1) as usize, z, z, z, z, z]),
        "setns" => sys(SYS_setns, [bad_fd, z, z, z, z, z]),
        // Every pointer invalid: EFAULT (or EPERM without CAP_SYS_ADMIN).
        "mount" => sys(SYS_mount, [BAD_PTR, BAD_PTR, BAD_PTR, z, z, z]),
        "umount2" => sys(SYS_umount2, [BAD_PTR, z, z, z, z, z]),
        "pivot_root" => sys(SYS_pivot_root, [BAD_PTR, BAD_PTR, z, z, z, z]),
        "chroot" => sys(SYS_chroot, [BAD_PTR, z, z, z, z, z]),
        // KEYCTL_GET_KEYRING_ID of a nonexistent special id without create.
        "keyctl" => sys(SYS_keyctl, [0, (-100i64) as usize, z, z, z, z]),
        "add_key" => sys(SYS_add_key, [BAD_PTR, BAD_PTR, z, z, z, z]),
        "request_key" => sys(SYS_request_key, [BAD_PTR, BAD_PTR, z, z, z, z]),
        // An invalid command with a NULL attribute: EINVAL/EFAULT.
        "bpf" => sys(SYS_bpf, [0xffff, z, z, z, z, z]),
        "perf_event_open" => sys(SYS_perf_event_open, [BAD_PTR, z, bad_fd, bad_fd, z, z]),
        // PTRACE_PEEKDATA on pid 0 (never a tracee): ESRCH.
        "ptrace" => sys(SYS_ptrace, [PTRACE_PEEKDATA as usize, z, z, z, z, z]),
        "process_vm_readv" => sys(SYS_process_vm_readv, [z, BAD_PTR, 1, BAD_PTR, 1, 1]),
        "process_vm_writev" => sys(SYS_process_vm_writev, [z, BAD_PTR, 1, BAD_PTR, 1, 1]),
        // Undefined flags: EINVAL before any image is looked at.
        "kexec_load" => sys(SYS_kexec_load, [z, z, z, 0xdead_0000, z, z]),
        "kexec_file_load" => sys(
            SYS_kexec_file_load,
            [bad_fd, bad_fd, z, BAD_PTR, 0xdead_0000, z],
        ),
        "init_module" => sys(SYS_init_module, [BAD_PTR, z, BAD_PTR, z, z, z]),
        "finit_module" => sys(SYS_finit_module, [bad_fd, BAD_PTR, 0xdead_0000, z, z, z]),
        "delete_module" => sys(SYS_delete_module, [BAD_PTR, z, z, z, z, z]),
        "open_by_handle_at" => sys(SYS_open_by_handle_at, [bad_fd, BAD_PTR, z, z, z, z]),
        "name_to_handle_at" => sys(
            SYS_name_to_handle_at,
            [bad_fd, BAD_PTR, BAD_PTR, BAD_PTR, z, z],
        ),
        // Bad flags: EINVAL.
        "userfaultfd" => sys(SYS_userfaultfd, [0xdead_0000, z, z, z, z, z]),
        // entries 0: EINVAL.
        "io_uring_setup" => sys(SYS_io_uring_setup, [z, BAD_PTR, z, z, z, z]),
        "io_uring_enter" => sys(SYS_io_uring_enter, [bad_fd, z, z, z, z, z]),
        // Swap/reboot/time with arguments the kernel rejects first.
        "swapon" => sys(SYS_swapon, [BAD_PTR, z, z, z, z, z]),
        "reboot" => sys(SYS_reboot, [z, z, z, z, z, z]), // bad magic: EINVAL
        "settimeofday" => sys(SYS_settimeofday, [BAD_PTR, z, z, z, z, z]),
        "syslog" => sys(SYS_syslog, [0xff, z, z, z, z, z]), // bad type: EINVAL
        // socket(family, -1 type): EINVAL when allowed, no socket created.
        "socket_inet" => sys(SYS_socket, [AF_INET as usize, bad_fd, z, z, z, z]),
        "socket_inet_highbits" => sys(SYS_socket, [AF_INET as usize | 1 << 32, bad_fd, z, z, z, z]),
        "socket_unix" => sys(SYS_socket, [AF_UNIX as usize, bad_fd, z, z, z, z]),
        "socket_vsock" => sys(SYS_socket, [AF_VSOCK as usize, bad_fd, z, z, z, z]),
        "socket_vsock_highbits" => sys(
            SYS_socket,
            [AF_VSOCK as usize | 1 << 32, bad_fd, z, z, z, z],
        ),
        "socket_packet" => sys(SYS_socket, [AF_PACKET as usize, bad_fd, z, z, z, z]),
        "socket_netlink_audit" => sys(SYS_socket, [AF_NETLINK as usize, bad_fd, 9, z, z, z]),
        // Query form: returns the persona, changes nothing.
        "personality" => sys(SYS_personality, [0xffff_ffff, z, z, z, z, z]),
        // PER_LINUX | READ_IMPLIES_EXEC: if allowed, the old persona is put
        // back at once (it only affects this process and its later execs).
        "personality_rie" => {
            let r = sys(SYS_personality, [0x0040_0000, z, z, z, z, z]);
            if let Ok(old) = r {
                let _restore = sys(SYS_personality, [old as usize, z, z, z, z, z]);
            }
            r
        }
        // TIOCSTI on a bad fd: EBADF when allowed.
        "ioctl_tiocsti" => sys(SYS_ioctl, [bad_fd, TIOCSTI as usize, BAD_PTR, z, z, z]),
        "ioctl" => sys(SYS_ioctl, [bad_fd, TCGETS as usize, BAD_PTR, z, z, z]),
        "seccomp" => sys(SYS_seccomp, [0xff, z, z, z, z, z]), // bad op: EINVAL
        "getpid" => sys(SYS_getpid, [z; 6]),
        #[cfg(target_arch = "x86_64")]
        "int80" => Ok(int80_getpid()),
        _ => return None,
    };
    Some(r)
}

/// i386 getpid (nr 20) through the 32-bit entry point. A filter built for
/// x86_64 sees AUDIT_ARCH_I386 and must kill the process.
#[cfg(target_arch = "x86_64")]
fn int80_getpid() -> libc::c_long {
    let mut rax: i64 = 20;
    // SAFETY: getpid has no arguments and no side effects; int 0x80 clobbers
    // only rax (result) and, on return, r8-r11 are preserved by the kernel,
    // but declare them clobbered to be safe.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inout("rax") rax,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            options(nostack)
        );
    }
    rax as libc::c_long
}

fn main() -> ExitCode {
    let names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        eprintln!("usage: probe_syscalls NAME... (e.g. read mount keyctl socket_inet int80)");
        return ExitCode::from(2);
    }
    let mut status = 0;
    for name in &names {
        match probe(name) {
            Some(Ok(_)) => println!("{name} ok"),
            Some(Err(e)) => println!("{name} {}", errno_name(e)),
            None => {
                eprintln!("probe_syscalls: unknown probe {name:?}");
                status = 2;
            }
        }
    }
    ExitCode::from(status)
}
