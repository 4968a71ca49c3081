//! `hardinit learn`: record every syscall the program makes with seccomp
//! user notification, and write a minimal Docker/OCI profile.
//!
//! How the listener reaches PID 1 without a trapped syscall: the child,
//! just before installing the notification filter, clones a helper that
//! shares its fd table (CLONE_FILES) and is PID 1's child (CLONE_PARENT).
//! The helper is not filtered (filters attach to the installing task). The
//! listener fd number is known in advance (the lowest free fd, computed
//! before the clone), so the helper waits for that fd to appear in the
//! shared table and sends it to PID 1 over a socketpair with SCM_RIGHTS.
//! Meanwhile the child's next syscall (execve) waits in the kernel until
//! PID 1 answers it. Every notification is answered with
//! SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.5+); on 5.19+ the waiting task
//! stays killable (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV). If PID 1 dies,
//! the listener closes and the kernel fails pending calls with ENOSYS, so a
//! recorded process never hangs.

use crate::seccomp::{self, Arch};
use crate::sys;
use nix::errno::Errno;
use std::collections::BTreeSet;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

/// Syscalls the run-time itself makes under the learned profile between
/// installing the filter and execve (the hand-shake's write and read, and
/// exit_group when exec fails), so they are allowed even if the recording
/// never saw them (a program killed by a signal never calls exit_group).
const RUNTIME: &[&str] = &["execve", "exit_group", "read", "write"];

/// What `learn` was asked to do, checked before fork.
pub struct LearnPlan {
    pub output: PathBuf,
    pub merged: BTreeSet<String>,
    pub duration: Option<Duration>,
    pub arch: Arch,
    /// The kernel can keep waiting tasks killable (5.19+).
    pub killable: bool,
    /// An outer seccomp filter is present: what it denies is never seen.
    pub outer_filters: u32,
}

impl LearnPlan {
    pub fn new(
        output: Option<&str>,
        merge: &[String],
        duration: Option<Duration>,
        outer_filters: u32,
    ) -> Result<LearnPlan, String> {
        let output = output.ok_or("learn needs -o FILE (where to write the profile)")?;
        let target = seccomp::Target::running(0).map_err(|e| e.to_string())?;
        if target.kernel < (5, 5) {
            return Err(format!(
                "learn needs Linux 5.5+ (seccomp user notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE); this kernel is {}.{}",
                target.kernel.0, target.kernel.1
            ));
        }
        let mut merged = BTreeSet::new();
        for path in merge {
            let text = std::fs::read_to_string(path).map_err(|e| format!("--merge {path}: {e}"))?;
            let profile = seccomp::parse(path, &text).map_err(|e| format!("--merge: {e}"))?;
            for rule in &profile.rules {
                if rule.action.passes() {
                    merged.extend(rule.names.iter().cloned());
                }
            }
        }
        let dir = PathBuf::from(output)
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        if !dir.is_dir() {
            return Err(format!(
                "-o {output}: directory {} does not exist",
                dir.display()
            ));
        }
        Ok(LearnPlan {
            output: PathBuf::from(output),
            merged,
            duration,
            arch: target.arch,
            killable: target.kernel >= (5, 19),
            outer_filters,
        })
    }
}

/// The one-instruction filter: every syscall goes to the listener.
fn notify_program() -> [libc::sock_filter; 1] {
    [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_USER_NOTIF,
    }]
}

/// In the child, right before execve: start the helper, install the
/// notification filter. `sock` is the child's end of the socketpair.
/// Allocates nothing.
pub fn install_in_child(plan: &LearnPlan, sock: RawFd) -> Result<(), Errno> {
    // The listener will get the lowest free fd: find it now.
    // SAFETY: the path is a valid C string.
    let probe = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if probe < 0 {
        return Err(Errno::last());
    }
    sys::close(probe);
    let listener = probe;

    // SAFETY: a fork-like clone (no CLONE_VM): the helper has its own copy
    // of memory and runs only raw syscalls before _exit.
    let helper = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_FILES | libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if helper < 0 {
        return Err(Errno::last());
    }
    if helper == 0 {
        helper_main(listener, sock);
    }

    let prog = notify_program();
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    let mut flags = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if plan.killable {
        flags |= libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    }
    // SAFETY: fprog points to a valid one-instruction program.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog,
        )
    };
    if fd < 0 {
        let e = Errno::last();
        let _ = sys::kill(helper as libc::pid_t, libc::SIGKILL);
        return Err(e);
    }
    // From here every syscall waits for PID 1. If the fd is not the one the
    // helper watches, PID 1 never gets it and kills us after its timeout.
    Ok(())
}

/// The helper: wait for the listener fd in the shared table, send it to
/// PID 1, exit. Bounded: gives up after 10 s (PID 1 then kills the child).
fn helper_main(listener: RawFd, sock: RawFd) -> ! {
    let deadline = sys::monotonic_ns() + 10_000_000_000;
    loop {
        // SAFETY: F_GETFD only queries the descriptor.
        if unsafe { libc::fcntl(listener, libc::F_GETFD) } >= 0 {
            break;
        }
        if sys::monotonic_ns() > deadline {
            sys::exit_now(1);
        }
        // The fd appears within microseconds; a 100 µs nap keeps a slow
        // start from burning a CPU the child may need.
        // SAFETY: ts is a valid timespec.
        unsafe {
            let ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 100_000,
            };
            libc::nanosleep(&ts, std::ptr::null_mut())
        };
    }
    let code = if send_fd(sock, listener).is_ok() {
        0
    } else {
        1
    };
    sys::exit_now(code)
}

fn one_byte_iov(byte: &mut [u8; 1]) -> libc::iovec {
    libc::iovec {
        iov_base: byte.as_mut_ptr() as *mut libc::c_void,
        iov_len: 1,
    }
}

/// A message of one data byte with room for one fd of control data
/// (`cbuf` is u64-aligned, as cmsghdr wants). The pointers borrow `iov` and
/// `cbuf`, which must outlive its use.
fn one_fd_msghdr(iov: &mut libc::iovec, cbuf: &mut [u64; 4]) -> libc::msghdr {
    // SAFETY: msghdr is plain data; the pointers set below are valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(cbuf) as _;
    msg
}

fn send_fd(sock: RawFd, fd: RawFd) -> Result<(), Errno> {
    let mut byte = [b'L'];
    let mut iov = one_byte_iov(&mut byte);
    let mut cbuf = [0u64; 4];
    let mut msg = one_fd_msghdr(&mut iov, &mut cbuf);
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as _;
    // SAFETY: msg has a control buffer large enough for one cmsghdr + fd.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut RawFd, fd);
    }
    // SAFETY: msg is fully initialised.
    if unsafe { libc::sendmsg(sock, &msg, 0) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// PID 1's side: receive the listener from the helper (blocking; the
/// helper is not filtered and sends at once, or exits on failure).
pub fn receive_listener(sock: RawFd) -> Result<RawFd, String> {
    let mut byte = [0u8];
    let mut iov = one_byte_iov(&mut byte);
    let mut cbuf = [0u64; 4];
    let mut msg = one_fd_msghdr(&mut iov, &mut cbuf);
    // The helper sends at once; 10 s covers a loaded machine. Without a
    // bound, a helper killed before sending would hang us (the child keeps
    // its end of the socket open while it waits for us).
    match sys::poll_one(sock, libc::POLLIN, 10_000) {
        Ok(0) => {
            return Err("the recording helper did not pass the seccomp listener within 10 s".into())
        }
        Ok(_) => {}
        Err(e) => return Err(format!("waiting for the seccomp listener: {e}")),
    }
    loop {
        // SAFETY: msg describes valid buffers.
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        if n <= 0 {
            return Err("the recording helper exited without passing the seccomp listener (the listener fd was not where expected)".into());
        }
        break;
    }
    // SAFETY: the kernel filled msg's control buffer.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_type != libc::SCM_RIGHTS {
            return Err("no seccomp listener received from the recording helper".into());
        }
        Ok(std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const RawFd))
    }
}

/// The recording: PID 1 answers notifications and remembers what it saw.
pub struct Learner {
    pub fd: RawFd,
    seen: BTreeSet<(u32, i32)>,
    pub notifications: u64,
}

impl Learner {
    pub fn new(fd: RawFd) -> Learner {
        // Linux 6.6+: wake PID 1 synchronously on the notifying task's CPU,
        // which makes each round trip several times cheaper. Older kernels
        // answer EINVAL; recording works the same, only slower.
        const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;
        // SAFETY: the flag is passed by value as the ioctl's argument.
        unsafe {
            libc::ioctl(
                fd,
                libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS as _,
                SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
            )
        };
        Learner {
            fd,
            seen: BTreeSet::new(),
            notifications: 0,
        }
    }

    /// Kill and reap a recorded child that failed before exec, answering
    /// its remaining calls (its exit is one) so it cannot wait on us.
    pub fn reap_serving(&mut self, pid: libc::pid_t) {
        let _ = sys::kill(pid, libc::SIGKILL);
        let deadline = sys::monotonic_ns() + 5_000_000_000;
        loop {
            let mut status = 0;
            // SAFETY: status is a valid out pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r != 0 || sys::monotonic_ns() > deadline {
                return;
            }
            if matches!(sys::poll_one(self.fd, libc::POLLIN, 50), Ok(n) if n & libc::POLLIN != 0) {
                let _ = self.serve_one();
            }
        }
    }

    /// Answer one pending notification: record it, let the call continue.
    pub fn serve_one(&mut self) -> Result<(), Errno> {
        // SAFETY: seccomp_notif is plain data; the kernel requires it zeroed.
        let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: req is a valid seccomp_notif for the kernel to fill.
        if unsafe { libc::ioctl(self.fd, libc::SECCOMP_IOCTL_NOTIF_RECV as _, &mut req) } < 0 {
            return match Errno::last() {
                // The task died or was interrupted between poll and recv.
                Errno::ENOENT | Errno::EINTR | Errno::EAGAIN => Ok(()),
                e => Err(e),
            };
        }
        self.notifications += 1;
        self.seen.insert((req.data.arch, req.data.nr));
        let resp = libc::seccomp_notif_resp {
            id: req.id,
            val: 0,
            error: 0,
            flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
        };
        // SAFETY: resp is a valid response for the kernel to read.
        if unsafe { libc::ioctl(self.fd, libc::SECCOMP_IOCTL_NOTIF_SEND as _, &resp) } < 0 {
            return match Errno::last() {
                Errno::ENOENT => Ok(()),
                e => Err(e),
            };
        }
        Ok(())
    }

    /// Names of the native syscalls seen, plus merged and run-time ones.
    fn names(&self, plan: &LearnPlan) -> (BTreeSet<String>, Vec<String>) {
        let native = native_audit_arch(plan.arch);
        let mut names: BTreeSet<String> = plan.merged.clone();
        let mut foreign = Vec::new();
        for &(arch, nr) in &self.seen {
            match seccomp::syscall_name(plan.arch, nr as i64) {
                Some(n) if arch == native => {
                    names.insert(n.to_string());
                }
                _ => foreign.push(format!("arch {arch:#x} nr {nr}")),
            }
        }
        names.extend(RUNTIME.iter().map(|s| s.to_string()));
        (names, foreign)
    }

    /// Write the profile (atomically: temp file + rename).
    pub fn write_profile(&self, plan: &LearnPlan) -> Result<usize, String> {
        let (names, _) = self.names(plan);
        let profile = serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": [match plan.arch { Arch::X86_64 => "SCMP_ARCH_X86_64", Arch::Aarch64 => "SCMP_ARCH_AARCH64" }],
            "syscalls": [{
                "names": names.iter().collect::<Vec<_>>(),
                "action": "SCMP_ACT_ALLOW",
                "comment": "recorded by hardinit learn (plus execve, exit_group, read and write, which hardinit itself needs after the filter is loaded)",
            }],
        });
        let text = serde_json::to_string_pretty(&profile).map_err(|e| e.to_string())? + "\n";
        let tmp = plan.output.with_extension("tmp-hardinit");
        std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &plan.output)
            .map_err(|e| format!("cannot write {}: {e}", plan.output.display()))?;
        Ok(names.len())
    }

    /// One line for the end: what was learned against the default profile.
    pub fn summary(&self, plan: &LearnPlan) -> String {
        let (names, foreign) = self.names(plan);
        let default_allowed = seccomp::load("default")
            .and_then(|p| seccomp::Target::running(0).and_then(|t| seccomp::compile(&p, &t)))
            .map(|c| c.allowed.len())
            .unwrap_or(0);
        let mut s = format!(
            "learned {} syscalls from {} notifications into {}; the default profile allows {} ({} fewer allowed)",
            names.len(),
            self.notifications,
            plan.output.display(),
            default_allowed,
            default_allowed.saturating_sub(names.len())
        );
        if !foreign.is_empty() {
            s.push_str(&format!(
                "; {} calls of other ABIs were seen and are not allowed: {}",
                foreign.len(),
                foreign.join(", ")
            ));
        }
        if plan.outer_filters > 0 {
            s.push_str(&format!(
                "; note: {} outer seccomp filter(s) were already active, and calls they deny are never seen",
                plan.outer_filters
            ));
        }
        s
    }
}

fn native_audit_arch(arch: Arch) -> u32 {
    match arch {
        Arch::X86_64 => 0xc000_003e,  // AUDIT_ARCH_X86_64
        Arch::Aarch64 => 0xc000_00b7, // AUDIT_ARCH_AARCH64
    }
}

/// A socketpair for the listener hand-off (CLOEXEC: the program never sees it).
pub fn socketpair() -> Result<(RawFd, RawFd), Errno> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok((fds[0], fds[1]))
}
