//! Fixture for the signal tests: blocks every signal, prints `ready`, then
//! waits for signals with sigtimedwait and prints `signal N` for each one.
//!
//!   signal_printer [--exit-on SIG] [--group | --orphan]
//!
//! --exit-on SIG  exit 0 after printing signal SIG [15]; 0 = never
//! --group        fork a helper in the same process group first; it prints
//!                `child signal N`; on exit the parent sends the helper
//!                SIGTERM and waits for it (so a group-wide signal shows up
//!                as both lines, and a signal to the parent alone does not)
//! --orphan       fork a helper that prints `leftover ready` and
//!                `leftover signal N`, then exit 3 once it is ready: the
//!                helper is left behind for PID 1
//!
//! Every line is one write(2) so lines of several processes never mix.
//! Nobody waits forever: after 20 s without a signal it exits 124.

use std::time::Duration;

const IDLE_LIMIT: Duration = Duration::from_secs(20);

fn say(line: &str) {
    let text = format!("{line}\n");
    // SAFETY: the buffer is valid for its length.
    unsafe { libc::write(1, text.as_ptr().cast(), text.len()) };
}

/// Every signal 1..=64, bits written directly: musl's sigfillset leaves
/// out 32-34, which it reserves, and those are forwarded too.
fn full_set() -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is empty; it is at least 8 bytes and
    // 8-aligned (glibc and musl), and the kernel reads its first 64 bits.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        *(&mut set as *mut libc::sigset_t as *mut u64) = u64::MAX;
        set
    }
}

/// Print every signal until `exit_on` arrives; 124 if none comes in time.
fn print_signals(prefix: &str, exit_on: i32) -> i32 {
    let set = full_set();
    let timeout = libc::timespec {
        tv_sec: IDLE_LIMIT.as_secs() as libc::time_t,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: set and timeout are valid; siginfo is not wanted.
        let sig = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &timeout) };
        if sig < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            say(&format!("{prefix}timeout"));
            return 124;
        }
        say(&format!("{prefix}signal {sig}"));
        if sig == exit_on {
            return 0;
        }
    }
}

/// Fork a helper that prints with `prefix`; returns its pid once it is ready.
fn fork_helper(prefix: &str, ready: Option<&str>, exit_on: i32) -> libc::pid_t {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: single-threaded; the child only runs plain syscalls.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        if let Some(r) = ready {
            say(r);
        }
        // SAFETY: fds are ours.
        unsafe {
            libc::write(fds[1], b"r".as_ptr().cast(), 1);
            libc::close(fds[1]);
            libc::_exit(print_signals(prefix, exit_on))
        }
    }
    assert!(pid > 0, "fork failed");
    let mut b = [0u8; 1];
    // SAFETY: reading one byte into b.
    unsafe {
        libc::close(fds[1]);
        libc::read(fds[0], b.as_mut_ptr().cast(), 1);
        libc::close(fds[0]);
    }
    pid
}

fn main() {
    let mut exit_on = libc::SIGTERM;
    let mut group = false;
    let mut orphan = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--exit-on" => {
                exit_on = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--exit-on N")
            }
            "--group" => group = true,
            "--orphan" => orphan = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let set = full_set();
    // SAFETY: set is valid; the old mask is not wanted.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };

    if orphan {
        fork_helper("leftover ", Some("leftover ready"), exit_on);
        std::process::exit(3);
    }
    let helper = group.then(|| fork_helper("child ", None, exit_on));
    say("ready");
    let code = print_signals("", exit_on);
    if let Some(pid) = helper {
        // SAFETY: pid is our child.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    std::process::exit(code);
}
