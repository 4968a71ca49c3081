//! Enforcement for real, in forked children that
//! report through their exit status (and the observed errno through a
//! pipe). Every child arms alarm(10) so a hang ends as SIGALRM.
//!
//! Safety of the probes: every path written to is one the test created
//! under a scratch directory, except two denial probes on system paths
//! (/etc/passwd opened O_WRONLY without O_TRUNC and closed unwritten; a
//! uniquely named O_EXCL file in /), which run only after the same
//! denial was observed on scratch paths, and which the parent removes and
//! reports should they ever have been created.

use super::super::*;
use super::{landlock_at_least, writable};
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One expectation: the probe returns 0 or an errno (or an exit status).
struct Check<'a> {
    name: &'static str,
    want: i32,
    probe: Box<dyn Fn() -> i32 + 'a>,
}

fn check<'a>(name: &'static str, want: i32, probe: impl Fn() -> i32 + 'a) -> Check<'a> {
    Check {
        name,
        want,
        probe: Box::new(probe),
    }
}

/// The first candidate that is not beneath a default writable path: a
/// checkout under /tmp would make every "denied" probe succeed.
fn scratch_base() -> PathBuf {
    let candidates = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/landlock-tests"),
        PathBuf::from("/var/tmp/hardinit-landlock-tests"),
        PathBuf::from("/var/lib/hardinit-landlock-tests"),
    ];
    for c in candidates {
        let _ = std::fs::create_dir_all(&c);
        let Ok(real) = c.canonicalize() else { continue };
        let writable = crate::landlock::DEFAULT_WRITABLE.iter().any(|w| {
            Path::new(w)
                .canonicalize()
                .is_ok_and(|w| real.starts_with(w))
        });
        if !writable {
            return real;
        }
    }
    panic!("no scratch directory outside the default writable paths");
}

/// Scratch tree outside every default writable path (/tmp is one):
/// `ro/` stays read-only, `w/` is passed as --writable.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = scratch_base().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ro")).unwrap();
        std::fs::create_dir_all(dir.join("w")).unwrap();
        std::fs::write(dir.join("ro/a"), "keep").unwrap();
        Scratch(dir)
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    fn c(&self, rel: &str) -> CString {
        cstr(&self.path(rel))
    }
    fn script(&self, rel: &str) -> PathBuf {
        let path = self.path(rel);
        write_script(&path);
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_script(path: &Path) {
    std::fs::write(path, "#!/bin/sh\nexit 42\n").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn cstr(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

fn errno_of(rc: libc::c_long) -> i32 {
    if rc < 0 {
        nix::errno::Errno::last_raw()
    } else {
        0
    }
}

fn open_rc(path: &CString, flags: i32) -> i32 {
    // SAFETY: NUL-terminated path; the fd, if any, is closed at once.
    let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, 0o644) };
    let rc = errno_of(fd.into());
    if fd >= 0 {
        // SAFETY: fd was just opened by us.
        unsafe { libc::close(fd) };
    }
    rc
}

/// Runs PATH ARGV (default: PATH alone) in a grandchild; returns its exit code, or the errno of
/// a failed execve as exit code.
fn run_rc(path: &CString, argv: &[CString]) -> impl Fn() -> i32 + 'static {
    let path = path.clone();
    let argv: Vec<CString> = if argv.is_empty() {
        vec![path.clone()]
    } else {
        argv.to_vec()
    };
    move || {
        let mut ptrs: [*const libc::c_char; 4] = [std::ptr::null(); 4];
        for (slot, arg) in ptrs.iter_mut().zip(argv.iter().take(3)) {
            *slot = arg.as_ptr();
        }
        let env: [*const libc::c_char; 1] = [std::ptr::null()];
        // SAFETY: the child is single-threaded; the grandchild only calls
        // execve and _exit on memory prepared before the fork.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                libc::alarm(10);
                libc::execve(path.as_ptr(), ptrs.as_ptr(), env.as_ptr());
                libc::_exit(nix::errno::Errno::last_raw());
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            }
        }
    }
}

fn loopback(port: u16) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = port.to_be();
    addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    addr
}

/// bind(2) or connect(2) a fresh TCP socket to 127.0.0.1:port; 0 or errno.
fn socket_rc(port: u16, connect: bool) -> i32 {
    let addr = loopback(port);
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a new socket, a valid sockaddr_in of the given length, closed
    // before returning.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return -1;
        }
        let one: libc::c_int = 1;
        let one_ptr = &one as *const libc::c_int as *const libc::c_void;
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, one_ptr, 4);
        let sa = &addr as *const libc::sockaddr_in as *const libc::sockaddr;
        let rc = if connect {
            libc::connect(fd, sa, len)
        } else {
            libc::bind(fd, sa, len)
        };
        let rc = errno_of(rc.into());
        libc::close(fd);
        rc
    }
}

/// Two ports free on 127.0.0.1 right now (kept free by nobody; the window
/// until the child binds is tiny and only this test uses them).
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// Forks; the child sets no-new-privs, enforces, runs the checks in order
/// and stops at the first miss. Panics naming the failed check.
fn run_checks(prepared: &Prepared, checks: &[Check<'_>]) {
    let (read_end, write_end) = nix::unistd::pipe().unwrap();
    let report_fd = write_end.as_raw_fd();
    // SAFETY: fork from the multi-threaded test harness: the child only
    // runs syscalls on memory built before the fork, then _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: async-signal-safe calls in the forked child; `seen` is a
        // local i32 written to our own pipe.
        unsafe {
            libc::alarm(10);
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(100);
            }
            if let Err(errno) = prepared.enforce() {
                libc::write(report_fd, &errno as *const i32 as *const libc::c_void, 4);
                libc::_exit(101);
            }
            for (i, c) in checks.iter().enumerate() {
                let seen = (c.probe)();
                if seen != c.want {
                    libc::write(report_fd, &seen as *const i32 as *const libc::c_void, 4);
                    libc::_exit(i as i32 + 1);
                }
            }
            libc::_exit(0);
        }
    }
    drop(write_end);
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
    let mut seen = [0u8; 4];
    let got = nix::unistd::read(read_end.as_raw_fd(), &mut seen).unwrap_or(0);
    let seen = if got == 4 {
        i32::from_ne_bytes(seen)
    } else {
        0
    };
    match status {
        nix::sys::wait::WaitStatus::Exited(_, 0) => {}
        nix::sys::wait::WaitStatus::Exited(_, 100) => panic!("PR_SET_NO_NEW_PRIVS failed"),
        nix::sys::wait::WaitStatus::Exited(_, 101) => panic!("enforce failed: errno {seen}"),
        nix::sys::wait::WaitStatus::Exited(_, n) => {
            let c = &checks[n as usize - 1];
            panic!("check {:?}: want {}, got {seen}", c.name, c.want);
        }
        other => panic!("child did not exit: {other:?}"),
    }
}

#[test]
fn read_only_denies_writes_outside_writable() {
    if !landlock_at_least(3, "read_only_denies_writes_outside_writable") {
        return;
    }
    let s = Scratch::new("read-only");
    let opts = Options {
        read_only: true,
        writable: vec![writable(&s.path("w"))],
        ..Options::default()
    };
    let p = prepare(&opts).unwrap().unwrap();
    assert_eq!(p.report.status, "enforced");
    assert!(p
        .report
        .rules
        .contains(&format!("write: {}", s.path("w").display())));

    let root_file = PathBuf::from(format!("/.hardinit-landlock-test-{}", std::process::id()));
    let tmp_file = PathBuf::from(format!(
        "/tmp/.hardinit-landlock-test-{}",
        std::process::id()
    ));
    let (in_root, in_tmp, passwd, null) = (
        cstr(&root_file),
        cstr(&tmp_file),
        cstr(Path::new("/etc/passwd")),
        cstr(Path::new("/dev/null")),
    );
    let (ro_new, ro_a, ro_b, ro_dir) = (s.c("ro/new"), s.c("ro/a"), s.c("ro/b"), s.c("ro/d"));
    let (w_new, w_sub, w_moved) = (s.c("w/new"), s.c("w/sub"), s.c("w/sub/new"));
    let create = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
    let eacces = libc::EACCES;
    // SAFETY (every unsafe block below): libc calls on NUL-terminated paths
    // built before the fork.
    let checks = [
        check("create in ro", eacces, || open_rc(&ro_new, create)),
        check("mkdir in ro", eacces, || {
            errno_of(unsafe { libc::mkdir(ro_dir.as_ptr(), 0o755) }.into())
        }),
        check("mkfifo in ro", eacces, || {
            errno_of(unsafe { libc::mkfifo(ro_dir.as_ptr(), 0o644) }.into())
        }),
        check("open ro/a for write", eacces, || {
            open_rc(&ro_a, libc::O_WRONLY)
        }),
        check("open ro/a O_TRUNC", eacces, || {
            open_rc(&ro_a, libc::O_RDONLY | libc::O_TRUNC)
        }),
        check("truncate ro/a", eacces, || {
            errno_of(unsafe { libc::truncate(ro_a.as_ptr(), 0) }.into())
        }),
        check("rename ro/a", eacces, || {
            errno_of(unsafe { libc::rename(ro_a.as_ptr(), ro_b.as_ptr()) }.into())
        }),
        check("symlink in ro", eacces, || {
            errno_of(unsafe { libc::symlink(c"a".as_ptr(), ro_b.as_ptr()) }.into())
        }),
        check("unlink ro/a", eacces, || {
            errno_of(unsafe { libc::unlink(ro_a.as_ptr()) }.into())
        }),
        check("open /etc/passwd for write", eacces, || {
            open_rc(&passwd, libc::O_WRONLY)
        }),
        check("create in /", eacces, || open_rc(&in_root, create)),
        check("read ro/a", 0, || open_rc(&ro_a, libc::O_RDONLY)),
        check("create in w", 0, || open_rc(&w_new, create)),
        check("truncate in w", 0, || {
            errno_of(unsafe { libc::truncate(w_new.as_ptr(), 0) }.into())
        }),
        check("write in w", 0, || {
            open_rc(&w_new, libc::O_WRONLY | libc::O_TRUNC)
        }),
        check("mkdir in w", 0, || {
            errno_of(unsafe { libc::mkdir(w_sub.as_ptr(), 0o755) }.into())
        }),
        check("rename across dirs in w", 0, || {
            errno_of(unsafe { libc::rename(w_new.as_ptr(), w_moved.as_ptr()) }.into())
        }),
        check("unlink in w", 0, || {
            errno_of(unsafe { libc::unlink(w_moved.as_ptr()) }.into())
        }),
        check("rmdir in w", 0, || {
            errno_of(unsafe { libc::rmdir(w_sub.as_ptr()) }.into())
        }),
        check("write /dev/null", 0, || open_rc(&null, libc::O_WRONLY)),
        check("create in /tmp", 0, || {
            let rc = open_rc(&in_tmp, create);
            // SAFETY: removes the file this probe just created.
            unsafe { libc::unlink(in_tmp.as_ptr()) };
            rc
        }),
    ];
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_checks(&p, &checks)));
    let leaked = root_file.exists();
    let _ = std::fs::remove_file(&root_file);
    let _ = std::fs::remove_file(&tmp_file);
    assert!(!leaked, "a file was created in / despite --read-only");
    assert_eq!(std::fs::read_to_string(s.path("ro/a")).unwrap(), "keep");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn standard_streams_stay_writable() {
    if !landlock_at_least(3, "standard_streams_stay_writable") {
        return;
    }
    let s = Scratch::new("streams");
    let p = prepare(&Options {
        read_only: true,
        ..Options::default()
    })
    .unwrap()
    .unwrap();
    let (_pipe_r, pipe_w) = nix::unistd::pipe().unwrap();
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(s.path("ro/a"))
        .unwrap();
    let (pipe_w, file) = (pipe_w.as_raw_fd(), file.as_raw_fd());
    let (stdout, fd1) = (
        cstr(Path::new("/dev/stdout")),
        cstr(Path::new("/proc/self/fd/1")),
    );
    let write_1 = || errno_of(unsafe { libc::write(1, c"x".as_ptr().cast(), 1) } as libc::c_long);
    // SAFETY (every unsafe block below): dup2 and write on fds inherited
    // from the parent; the child's own fd 1 is replaced, nothing else.
    let checks = [
        check("fd 1 = pipe", 0, || {
            errno_of(unsafe { libc::dup2(pipe_w, 1) }.into())
        }),
        check("write inherited pipe", 0, write_1),
        check("open /dev/stdout (pipe)", 0, || {
            open_rc(&stdout, libc::O_WRONLY | libc::O_TRUNC)
        }),
        check("open /proc/self/fd/1 (pipe)", 0, || {
            open_rc(&fd1, libc::O_WRONLY)
        }),
        check("fd 1 = ro file", 0, || {
            errno_of(unsafe { libc::dup2(file, 1) }.into())
        }),
        check("write inherited ro file", 0, write_1),
        check("re-open /dev/stdout (ro file)", libc::EACCES, || {
            open_rc(&stdout, libc::O_WRONLY)
        }),
    ];
    run_checks(&p, &checks);
    assert_eq!(std::fs::read_to_string(s.path("ro/a")).unwrap(), "keepx");
}

#[test]
fn terminal_use_keeps_working() {
    if !landlock_at_least(3, "terminal_use_keeps_working") {
        return;
    }
    if !Path::new("/dev/ptmx").exists() {
        println!("skipping terminal_use_keeps_working: no /dev/ptmx");
        return;
    }
    let p = prepare(&Options {
        read_only: true,
        ..Options::default()
    })
    .unwrap()
    .unwrap();
    let ptmx = cstr(Path::new("/dev/ptmx"));
    let urandom = cstr(Path::new("/dev/urandom"));
    // Opens the pty master, unlocks it, opens the slave /dev/pts/N and
    // reads its termios: the ioctls an interactive program makes.
    let pty = || -> i32 {
        let mut name = *b"/dev/pts/\0\0\0\0\0\0\0\0\0\0\0";
        // SAFETY: fds opened here are closed here; ioctl arguments point
        // to live locals of the types the requests expect.
        unsafe {
            let master = libc::open(
                ptmx.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            );
            if master < 0 {
                return 1000 + nix::errno::Errno::last_raw();
            }
            let (mut n, unlock): (libc::c_uint, libc::c_int) = (0, 0);
            if libc::ioctl(master, libc::TIOCGPTN, &mut n) != 0
                || libc::ioctl(master, libc::TIOCSPTLCK, &unlock) != 0
            {
                return 2000 + nix::errno::Errno::last_raw();
            }
            // Decimal digits of n after "/dev/pts/", without allocating.
            let (mut digits, mut len, mut v) = ([0u8; 10], 0, n);
            loop {
                digits[len] = b'0' + (v % 10) as u8;
                len += 1;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            for i in 0..len {
                name[9 + i] = digits[len - 1 - i];
            }
            let slave = libc::open(
                name.as_ptr().cast(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            );
            if slave < 0 {
                return 3000 + nix::errno::Errno::last_raw();
            }
            let mut termios: libc::termios = std::mem::zeroed();
            let rc = if libc::tcgetattr(slave, &mut termios) != 0 {
                4000 + nix::errno::Errno::last_raw()
            } else {
                0
            };
            libc::close(slave);
            libc::close(master);
            rc
        }
    };
    // ioctl_dev (ABI 5): a device opened beneath a read-only path takes no
    // ioctls beyond the few Landlock always allows.
    let urandom_ioctl = || -> i32 {
        // SAFETY: fd opened and closed here; RNDGETENTCNT writes one int.
        unsafe {
            let fd = libc::open(urandom.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            let mut count: libc::c_int = 0;
            // The request type is the C library's (glibc: c_ulong, musl: c_int).
            let rc = errno_of(libc::ioctl(fd, 0x8004_5200_u32 as _, &mut count).into());
            libc::close(fd);
            rc
        }
    };
    let ioctl_want = if abi() >= 5 { libc::EACCES } else { 0 };
    let checks = [
        check("pty open + ioctls", 0, pty),
        check("ioctl /dev/urandom", ioctl_want, urandom_ioctl),
    ];
    run_checks(&p, &checks);
}

#[test]
fn no_exec_writable_denies_exec_in_writable_paths() {
    if !landlock_at_least(3, "no_exec_writable_denies_exec_in_writable_paths") {
        return;
    }
    let s = Scratch::new("no-exec");
    let tmp_script = PathBuf::from(format!(
        "/tmp/.hardinit-landlock-test-{}.sh",
        std::process::id()
    ));
    write_script(&tmp_script);
    let (w_script, ro_script) = (cstr(&s.script("w/x.sh")), cstr(&s.script("ro/x.sh")));
    let (tmp_c, sh) = (cstr(&tmp_script), cstr(Path::new("/bin/sh")));
    let sh_argv = [c"sh".to_owned(), c"-c".to_owned(), c"exit 7".to_owned()];
    let (run_w, run_ro, run_tmp) = (
        run_rc(&w_script, &[]),
        run_rc(&ro_script, &[]),
        run_rc(&tmp_c, &[]),
    );
    let run_sh = run_rc(&sh, &sh_argv);
    for read_only in [true, false] {
        let opts = Options {
            read_only,
            no_exec_writable: true,
            writable: vec![writable(&s.path("w"))],
            ..Options::default()
        };
        let p = prepare(&opts).unwrap().unwrap();
        let exec_line = p
            .report
            .rules
            .iter()
            .find(|r| r.starts_with("exec: everything except /tmp"));
        assert!(exec_line.is_some(), "{:?}", p.report.rules);
        let checks = [
            check("exec script in w", libc::EACCES, &run_w),
            check("exec script in /tmp", libc::EACCES, &run_tmp),
            check("exec script in ro", 42, &run_ro),
            check("exec /bin/sh", 7, &run_sh),
        ];
        run_checks(&p, &checks);
    }
    let _ = std::fs::remove_file(&tmp_script);
}

#[test]
fn bind_ports_allowlist() {
    if !landlock_at_least(4, "bind_ports_allowlist") {
        return;
    }
    let (allowed, denied) = free_ports();
    let p = prepare(&Options {
        bind_ports: vec![allowed],
        ..Options::default()
    })
    .unwrap()
    .unwrap();
    assert_eq!(
        p.report.rules,
        [format!("tcp bind: {allowed} (all other ports denied)")]
    );
    let checks = [
        check("bind allowed port", 0, || socket_rc(allowed, false)),
        check("bind other port", libc::EACCES, || socket_rc(denied, false)),
    ];
    run_checks(&p, &checks);
}

#[test]
fn connect_ports_allowlist() {
    if !landlock_at_least(4, "connect_ports_allowlist") {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let allowed = listener.local_addr().unwrap().port();
    let (other, _) = free_ports();
    let p = prepare(&Options {
        connect_ports: vec![allowed],
        ..Options::default()
    })
    .unwrap()
    .unwrap();
    let checks = [
        check("connect allowed port", 0, || socket_rc(allowed, true)),
        check("connect other port", libc::EACCES, || {
            socket_rc(other, true)
        }),
        check("bind stays free", 0, || socket_rc(0, false)),
    ];
    run_checks(&p, &checks);
}
