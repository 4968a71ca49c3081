//! The thin layer of raw syscalls that nix does not wrap the way hardinit
//! needs (signal sets with real-time signals, capset, ambient and bounding
//! capabilities, async-signal-safe child steps). Every function is one
//! syscall and returns the raw errno; callers attach the context.

use nix::errno::Errno;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

pub type SysResult<T> = Result<T, Errno>;

fn check(ret: libc::c_int) -> SysResult<libc::c_int> {
    if ret == -1 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

pub fn empty_sigset() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it is given.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

/// A signal set as the kernel reads it: bit N-1 of the first 64 bits for
/// signal N. Written directly because musl's sigaddset refuses 32-34 (it
/// reserves them for itself), and those are forwarded like any other.
pub fn sigset_of(signals: impl Iterator<Item = i32>) -> libc::sigset_t {
    let mut set = empty_sigset();
    let mut bits = 0u64;
    for sig in signals.filter(|s| (1..=64).contains(s)) {
        bits |= 1 << (sig - 1);
    }
    // SAFETY: sigset_t is at least 8 bytes and 8-aligned with glibc and musl.
    unsafe { *(&mut set as *mut libc::sigset_t as *mut u64) = bits };
    set
}

/// rt_sigprocmask itself: musl's sigprocmask hides its reserved signals
/// (32-34) from the old mask, and the child must get exactly what we got.
fn sigprocmask(
    how: libc::c_int,
    set: *const libc::sigset_t,
    old: *mut libc::sigset_t,
) -> SysResult<()> {
    // SAFETY: set and old are null or valid sigset_t pointers; the kernel
    // reads and writes the first 8 bytes (the size passed).
    let rc = unsafe { libc::syscall(libc::SYS_rt_sigprocmask, how, set, old, 8usize) };
    if rc < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// Block `set`, returning the mask that was in force before.
pub fn block_signals(set: &libc::sigset_t) -> SysResult<libc::sigset_t> {
    let mut old = empty_sigset();
    sigprocmask(libc::SIG_BLOCK, set, &mut old)?;
    Ok(old)
}

pub fn set_sigmask(set: &libc::sigset_t) -> SysResult<()> {
    sigprocmask(libc::SIG_SETMASK, set, std::ptr::null_mut())
}

/// Install `handler` (SIG_IGN/SIG_DFL) for `sig`, returning the old action.
pub fn set_disposition(sig: i32, handler: libc::sighandler_t) -> SysResult<libc::sigaction> {
    // SAFETY: sigaction is plain data; zeroed is a valid empty action.
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = handler;
    // SAFETY: zeroed is a valid value to be overwritten by the kernel.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call.
    check(unsafe { libc::sigaction(sig, &new, &mut old) })?;
    Ok(old)
}

/// A signal's current disposition, without changing it.
pub fn disposition(sig: i32) -> SysResult<libc::sigaction> {
    // SAFETY: zeroed is a valid sigaction for the kernel to overwrite.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a query only (null new action); old is a valid out pointer.
    check(unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) })?;
    Ok(old)
}

pub fn restore_disposition(sig: i32, old: &libc::sigaction) -> SysResult<()> {
    // SAFETY: old came from sigaction; null for the previous action.
    check(unsafe { libc::sigaction(sig, old, std::ptr::null_mut()) })?;
    Ok(())
}

pub fn signalfd(set: &libc::sigset_t) -> SysResult<RawFd> {
    // SAFETY: set is valid; -1 creates a new fd.
    check(unsafe { libc::signalfd(-1, set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })
}

/// Pending signals from the signalfd into `buf`, as many as fit; 0 when
/// none is pending. One read takes them all (the kernel fills whole
/// records), so a wake-up costs one read, not one per signal plus the
/// EAGAIN that tells the queue is empty.
pub fn read_signals(fd: RawFd, buf: &mut [libc::signalfd_siginfo]) -> SysResult<usize> {
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: buf is valid for buf.len() records of plain data.
    let n = unsafe {
        libc::read(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            std::mem::size_of_val(buf),
        )
    };
    match n {
        -1 if Errno::last() == Errno::EAGAIN => Ok(0),
        -1 => Err(Errno::last()),
        n if (n as usize).is_multiple_of(size) => Ok(n as usize / size),
        _ => Err(Errno::EIO),
    }
}

pub fn pipe_cloexec() -> SysResult<(RawFd, RawFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    Ok((fds[0], fds[1]))
}

pub fn set_nonblocking(fd: RawFd, on: bool) -> SysResult<libc::c_int> {
    // SAFETY: F_GETFL/F_SETFL only read and set flags of fd.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        // SAFETY: as above.
        check(unsafe { libc::fcntl(fd, libc::F_SETFL, new) })?;
    }
    Ok(flags)
}

pub fn set_flags(fd: RawFd, flags: libc::c_int) -> SysResult<()> {
    // SAFETY: F_SETFL only sets status flags of fd.
    check(unsafe { libc::fcntl(fd, libc::F_SETFL, flags) })?;
    Ok(())
}

pub fn close(fd: RawFd) {
    // SAFETY: closing a descriptor this process owns; EBADF is harmless.
    unsafe { libc::close(fd) };
}

pub fn read(fd: RawFd, buf: &mut [u8]) -> SysResult<usize> {
    // SAFETY: buf is valid for buf.len() bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

pub fn open_read(path: &std::ffi::CStr) -> SysResult<RawFd> {
    // SAFETY: path is a valid C string.
    check(unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) })
}

/// Read until EOF or until `buf` is full; the number of bytes read.
pub fn read_all(fd: RawFd, buf: &mut [u8]) -> SysResult<usize> {
    let mut len = 0;
    while len < buf.len() {
        match read(fd, &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

/// A small file (under /proc mostly) as text: open, read until EOF, close.
/// std's `read_to_string` asks for the size first, and /proc reports 0, so
/// it reads in growing steps from 32 bytes: a dozen system calls where
/// this makes three or four. Invalid UTF-8 is replaced.
pub fn read_text(path: &str) -> SysResult<String> {
    let path = std::ffi::CString::new(path).map_err(|_| Errno::EINVAL)?;
    let fd = open_read(&path)?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    // read_all stops at EOF or a full buffer; only a full one needs more room.
    let result = loop {
        match read_all(fd, &mut buf[len..]) {
            Ok(n) if len + n == buf.len() => {
                len = buf.len();
                buf.resize(len * 2, 0);
            }
            Ok(n) => break Ok(len + n),
            Err(e) => break Err(e),
        }
    };
    close(fd);
    buf.truncate(result?);
    Ok(String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

pub fn write(fd: RawFd, buf: &[u8]) -> SysResult<usize> {
    // SAFETY: buf is valid for buf.len() bytes.
    let n = unsafe { libc::write(fd, buf.as_ptr() as *const libc::c_void, buf.len()) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// Write all of `buf`, blocking; retries EINTR. For start-up and exit paths.
pub fn write_all(fd: RawFd, buf: &[u8]) -> SysResult<()> {
    write_all_within(fd, buf, -1)
}

/// write_all, giving up with ETIMEDOUT when a non-blocking `fd` accepts
/// nothing for `timeout_ms` (-1: wait forever).
pub fn write_all_within(fd: RawFd, mut buf: &[u8], timeout_ms: libc::c_int) -> SysResult<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                if poll_one(fd, libc::POLLOUT, timeout_ms)? == 0 {
                    return Err(Errno::ETIMEDOUT);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn poll_one(
    fd: RawFd,
    events: libc::c_short,
    timeout_ms: libc::c_int,
) -> SysResult<libc::c_short> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    check(unsafe { libc::poll(&mut p, 1, timeout_ms) })?;
    Ok(p.revents)
}

pub fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> SysResult<usize> {
    // SAFETY: fds is a valid array of fds.len() pollfd structs.
    let n = check(unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) })?;
    Ok(n as usize)
}

pub fn kill(pid: libc::pid_t, sig: i32) -> SysResult<()> {
    // SAFETY: kill has no memory arguments.
    check(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// Reap one child without blocking: Some((pid, status)) or None.
pub fn reap_one() -> SysResult<Option<(libc::pid_t, libc::c_int)>> {
    let mut status = 0;
    // SAFETY: status is a valid out pointer.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    match pid {
        -1 => Err(Errno::last()),
        0 => Ok(None),
        pid => Ok(Some((pid, status))),
    }
}

pub fn wait_pid(pid: libc::pid_t) -> SysResult<libc::c_int> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == -1 && Errno::last() == Errno::EINTR {
            continue;
        }
        check(r)?;
        return Ok(status);
    }
}

pub fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> SysResult<libc::c_int> {
    // SAFETY: the prctl options used here take integer arguments only.
    check(unsafe {
        libc::prctl(
            option,
            arg2,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
}

pub fn prctl3(
    option: libc::c_int,
    arg2: libc::c_ulong,
    arg3: libc::c_ulong,
) -> SysResult<libc::c_int> {
    // SAFETY: as for prctl: integer arguments only.
    check(unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) })
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// capset(2) for the calling thread: effective, permitted, inheritable.
/// Raw so the child path allocates nothing.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> SysResult<()> {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: effective as u32,
            permitted: permitted as u32,
            inheritable: inheritable as u32,
        },
        CapData {
            effective: (effective >> 32) as u32,
            permitted: (permitted >> 32) as u32,
            inheritable: (inheritable >> 32) as u32,
        },
    ];
    // SAFETY: header and the two-element data array match the v3 ABI.
    check(unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) as libc::c_int })?;
    Ok(())
}

/// capget(2) for the calling thread: (effective, permitted, inheritable).
pub fn capget() -> SysResult<(u64, u64, u64)> {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and data match the v3 ABI; data has two elements.
    check(unsafe { libc::syscall(libc::SYS_capget, &header, data.as_mut_ptr()) as libc::c_int })?;
    let join = |lo: u32, hi: u32| (hi as u64) << 32 | lo as u64;
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ))
}

pub fn setgroups(groups: &[libc::gid_t]) -> SysResult<()> {
    // SAFETY: groups is valid for groups.len() gids.
    check(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
    Ok(())
}

pub fn setresgid(gid: libc::gid_t) -> SysResult<()> {
    // SAFETY: no memory arguments.
    check(unsafe { libc::setresgid(gid, gid, gid) })?;
    Ok(())
}

pub fn setresuid(uid: libc::uid_t) -> SysResult<()> {
    // SAFETY: no memory arguments.
    check(unsafe { libc::setresuid(uid, uid, uid) })?;
    Ok(())
}

/// The C library's type for a resource number (glibc: an enum, musl: int).
#[cfg(target_env = "gnu")]
pub type Resource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
pub type Resource = libc::c_int;

pub fn setrlimit(resource: Resource, soft: u64, hard: u64) -> SysResult<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: lim is a valid rlimit.
    check(unsafe { libc::setrlimit(resource, &lim) })?;
    Ok(())
}

pub fn getrlimit(resource: Resource) -> SysResult<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid out pointer.
    check(unsafe { libc::getrlimit(resource, &mut lim) })?;
    Ok((lim.rlim_cur, lim.rlim_max))
}

pub fn dup2(from: RawFd, to: RawFd) -> SysResult<()> {
    // SAFETY: no memory arguments.
    check(unsafe { libc::dup2(from, to) })?;
    Ok(())
}

pub fn setpgid_self() -> SysResult<()> {
    // SAFETY: no memory arguments.
    check(unsafe { libc::setpgid(0, 0) })?;
    Ok(())
}

/// Make our process group the terminal's foreground group, if there is a terminal.
pub fn take_terminal() -> SysResult<()> {
    // SAFETY: no memory arguments.
    check(unsafe { libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp()) })?;
    Ok(())
}

pub fn execve(
    path: &std::ffi::CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> Errno {
    // SAFETY: argv and envp are null-terminated arrays of pointers into
    // CStrings that the plan owns and keeps alive.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    Errno::last()
}

pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process without running atexit handlers or
    // flushing stdio buffers inherited from the parent (which would duplicate output).
    unsafe { libc::_exit(code) }
}

pub fn fork() -> SysResult<libc::pid_t> {
    // SAFETY: hardinit is single-threaded when it forks, so the child may
    // run any code; the child path still sticks to plain syscalls.
    check(unsafe { libc::fork() })
}

pub fn getpid() -> libc::pid_t {
    // SAFETY: no arguments.
    unsafe { libc::getpid() }
}

pub fn ids() -> (u32, u32) {
    // SAFETY: no arguments.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

pub fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn realtime_ns() -> u64 {
    clock_ns(libc::CLOCK_REALTIME)
}

pub fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: no memory arguments.
    unsafe { libc::isatty(fd) == 1 }
}

/// Make sure fds 0, 1 and 2 are open (on /dev/null if not), so that pipes
/// created later never land on them.
pub fn ensure_std_fds() -> SysResult<()> {
    for fd in 0..3 {
        // SAFETY: F_GETFD only queries fd.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            let flags = if fd == 0 {
                libc::O_RDONLY
            } else {
                libc::O_WRONLY
            };
            // SAFETY: the path is a valid C string.
            let new = check(unsafe { libc::open(c"/dev/null".as_ptr(), flags) })?;
            if new != fd {
                dup2(new, fd)?;
                close(new);
            }
        }
    }
    Ok(())
}

/// Give fd 1 an open file description of its own (re-opening the pipe or
/// terminal through /proc), so that O_NONBLOCK set on it cannot leak into a
/// description shared with stdin or another process. Sockets cannot be
/// re-opened this way (ENXIO): they keep the shared one. O_NONBLOCK on the
/// open itself: a FIFO without reader fails instead of blocking. Only pipes
/// and character devices: re-opening a regular file would lose its offset
/// and O_APPEND (and O_NONBLOCK means nothing for it anyway).
pub fn private_stdout() {
    // SAFETY: st is a valid out buffer for fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstat(libc::STDOUT_FILENO, &mut st) } != 0 {
        return;
    }
    let kind = st.st_mode & libc::S_IFMT;
    if kind != libc::S_IFIFO && kind != libc::S_IFCHR {
        return;
    }
    // SAFETY: the path is a valid C string.
    let fd = unsafe {
        libc::open(
            c"/proc/self/fd/1".as_ptr(),
            libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    };
    if fd >= 0 {
        // On failure fd 1 simply stays the shared description.
        let _ = dup2(fd, libc::STDOUT_FILENO);
        close(fd);
    }
}

/// Return the heap's free pages to the kernel (glibc's malloc_trim: the
/// top of the heap is shrunk, whole free pages inside it are discarded).
/// musl's allocator returns freed memory by itself and has no such call.
pub fn release_free_memory() {
    // SAFETY: no arguments beyond the pad; only acts on free memory.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0)
    };
}
