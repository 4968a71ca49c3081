//! Signals: every forwardable signal reaches the child, `--rewrite`,
//! `-g`, `--grace`, the inherited signal mask and ignored set, and no
//! wake-ups while idle. Run as PID 1 of a new PID namespace (root) and as a
//! plain process.

mod common;
use common::*;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// hardinit with the options every test here wants: no seccomp (not the
/// subject), output untouched.
fn run(args: &[&str]) -> Run {
    let mut all = vec!["--seccomp", "unconfined", "--log-format", "raw"];
    all.extend_from_slice(args);
    Run::new(&all)
}

/// `Run::pid1()` when it is possible, else None (skipped with a reason).
fn modes() -> Vec<(&'static str, bool)> {
    let mut m = vec![("plain process", false)];
    if can_be_pid1() {
        m.push(("PID 1", true));
    }
    m
}

fn in_mode(r: Run, pid1: bool) -> Run {
    if pid1 {
        r.pid1()
    } else {
        r
    }
}

/// Every signal `signals::is_forwarded` accepts that a test can name; TERM
/// last, since it ends the fixture.
const FORWARDED: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CONT", libc::SIGCONT),
    ("TSTP", libc::SIGTSTP),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("RTMIN", 34),
    ("RTMIN+5", 39),
    ("RTMAX-1", 63),
    ("RTMAX", 64),
    ("TERM", libc::SIGTERM),
];

#[test]
fn every_forwardable_signal_reaches_the_child() {
    let printer = example("signal_printer");
    for (mode, pid1) in modes() {
        let mut s = in_mode(run(&["--", printer.to_str().unwrap()]), pid1).spawn();
        assert_eq!(s.next_line(), "ready", "{mode}");
        let init = s.hardinit_pid(pid1);
        for (name, sig) in FORWARDED {
            s.signal(init, *sig);
            assert_eq!(s.next_line(), format!("signal {sig}"), "{mode}: SIG{name}");
        }
        let out = s.finish();
        assert_eq!(out.code, Some(0), "{mode}: {out:?}");
    }
}

#[test]
fn rewrite_maps_and_drops_signals() {
    let printer = example("signal_printer");
    for (mode, pid1) in modes() {
        let args = [
            "--rewrite",
            "TERM:QUIT",
            "--rewrite",
            "USR1:0",
            "--",
            printer.to_str().unwrap(),
            "--exit-on",
            "3",
        ];
        let mut s = in_mode(run(&args), pid1).spawn();
        assert_eq!(s.next_line(), "ready", "{mode}");
        let init = s.hardinit_pid(pid1);
        // USR1 is dropped: the next thing the child sees is USR2, sent after.
        s.signal(init, libc::SIGUSR1);
        s.signal(init, libc::SIGUSR2);
        assert_eq!(s.next_line(), "signal 12", "{mode}: USR1 must be dropped");
        s.signal(init, libc::SIGTERM);
        assert_eq!(
            s.next_line(),
            "signal 3",
            "{mode}: TERM must arrive as QUIT"
        );
        let out = s.finish();
        assert_eq!(out.code, Some(0), "{mode}: {out:?}");
    }
}

#[test]
fn kill_group_reaches_the_childs_process_group() {
    let printer = example("signal_printer");
    let p = printer.to_str().unwrap();
    // (name, extra options, does the helper in the child's group get USR1?)
    let cases: &[(&str, &[&str], bool)] = &[
        ("-g", &["-g"], true),
        ("--kill-group", &["--kill-group"], true),
        ("HARDINIT_KILL_GROUP", &[], true),
        ("default: the child only", &[], false),
    ];
    for (mode, pid1) in modes() {
        for (name, extra, group) in cases {
            let mut args: Vec<&str> = extra.to_vec();
            args.extend(["--", p, "--group"]);
            let mut r = in_mode(run(&args), pid1);
            if *name == "HARDINIT_KILL_GROUP" {
                r = r.env("HARDINIT_KILL_GROUP", "1");
            }
            let mut s = r.spawn();
            s.wait_line("ready");
            let init = s.hardinit_pid(pid1);
            let out = usr1_reaches_group(s, init, *group);
            assert_eq!(out.code, Some(0), "{mode} {name}: {out:?}");
            let lines: Vec<&str> = out.stdout.lines().collect();
            assert_eq!(
                lines.contains(&"child signal 10"),
                *group,
                "{mode} {name}: {lines:?}"
            );
            assert!(
                lines.contains(&"child signal 15"),
                "{mode} {name}: {lines:?}"
            );
        }
    }
}

#[test]
fn grace_kills_a_child_that_ignores_term() {
    let printer = example("signal_printer");
    let grace = Duration::from_millis(300);
    for (mode, pid1) in modes() {
        let args = [
            "--grace",
            "300ms",
            "--",
            printer.to_str().unwrap(),
            "--exit-on",
            "0",
        ];
        let mut s = in_mode(run(&args), pid1).spawn();
        s.wait_line("ready");
        let init = s.hardinit_pid(pid1);
        let sent = Instant::now();
        s.signal(init, libc::SIGTERM);
        s.wait_line("signal 15");
        let out = s.finish();
        let took = sent.elapsed();
        assert_eq!(out.code, Some(128 + libc::SIGKILL), "{mode}: {out:?}");
        assert!(
            took >= grace,
            "{mode}: killed after {took:?}, before the grace"
        );
        assert!(
            took < grace + Duration::from_secs(3),
            "{mode}: killed only after {took:?}"
        );
    }
}

#[test]
fn grace_terminates_leftovers_when_the_child_exits() {
    let printer = example("signal_printer");
    let p = printer.to_str().unwrap();
    // (name, options, PID 1 only, leftover gets TERM)
    let cases: &[(&str, &[&str], bool, bool)] = &[
        ("PID 1 with --grace", &["--grace", "10s"], true, true),
        (
            "subreaper with --grace",
            &["-s", "--grace", "10s"],
            false,
            true,
        ),
        ("PID 1 without --grace", &[], true, false),
    ];
    for (name, extra, pid1, termed) in cases {
        if *pid1 && !can_be_pid1() {
            continue;
        }
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(["--", p, "--orphan"]);
        let out = in_mode(run(&args), *pid1).output();
        assert_eq!(out.code, Some(3), "{name}: {out:?}");
        assert!(out.stdout.contains("leftover ready"), "{name}: {out:?}");
        assert_eq!(
            out.stdout.contains("leftover signal 15"),
            *termed,
            "{name}: {out:?}"
        );
        // SIGTERM ended it, not the SIGKILL at the end of the grace.
        assert!(
            out.elapsed < Duration::from_secs(8),
            "{name}: took {:?}",
            out.elapsed
        );
    }
}

/// Block and ignore signals in the process that starts hardinit (or
/// unshare, which passes them on), as a shell `trap ''` or a service
/// manager would.
fn with_inherited(
    mut cmd: std::process::Command,
    blocked: &[i32],
    ignored: &[i32],
) -> std::process::Command {
    let blocked = blocked.to_vec();
    let ignored = ignored.to_vec();
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe calls on stack values.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in &blocked {
                libc::sigaddset(&mut set, *s);
            }
            if libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Exactly `ignored`: whatever this test process inherited
            // (nohup ignores SIGHUP) goes back to the default first. The
            // kernel refuses KILL and STOP, glibc its reserved 32 and 33.
            for s in 1..=64 {
                libc::signal(s, libc::SIG_DFL);
            }
            for s in &ignored {
                if libc::signal(*s, libc::SIG_IGN) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    cmd
}

#[test]
fn child_inherits_the_signal_mask_and_ignored_set() {
    // (name, blocked, ignored)
    let cases: &[(&str, &[i32], &[i32])] = &[
        ("nothing", &[], &[]),
        ("blocked USR1 and RTMIN+3", &[libc::SIGUSR1, 37], &[]),
        ("ignored USR2 and HUP", &[], &[libc::SIGUSR2, libc::SIGHUP]),
        ("ignored PIPE", &[], &[libc::SIGPIPE]),
        (
            "TTIN ignored, TTOU blocked (hardinit changes both)",
            &[libc::SIGTTOU],
            &[libc::SIGTTIN],
        ),
        (
            "blocked TERM and CHLD, ignored INT and QUIT",
            &[libc::SIGTERM, libc::SIGCHLD],
            &[libc::SIGINT, libc::SIGQUIT],
        ),
    ];
    // Hardened (forked, stops for verification) and --unconfined (shares
    // our memory until execve): the same signal state either way.
    let grep = ["--", "grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"];
    let unconfined = [&["--unconfined"][..], &grep].concat();
    for (mode, pid1) in modes() {
        for ((name, blocked, ignored), how) in cases
            .iter()
            .flat_map(|c| [(c, &grep[..]), (c, &unconfined[..])])
        {
            let name = format!("{name} {how:?}");
            let r = in_mode(run(how), pid1);
            let out = output_of(with_inherited(r.command(), blocked, ignored));
            assert_eq!(out.code, Some(0), "{mode} {name}: {out:?}");
            // glibc reserves signals 32 and 33: its posix_spawn marks them
            // ignored in every child and sigaction refuses to change them,
            // so their bits say nothing about hardinit.
            let glibc = sig_mask(&[32, 33]);
            let field = |key: &str| -> u64 {
                let line = out
                    .stdout
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{key}:")))
                    .unwrap_or_else(|| panic!("{mode} {name}: no {key} in {out:?}"));
                u64::from_str_radix(line.trim(), 16).unwrap() & !glibc
            };
            assert_eq!(
                field("SigBlk"),
                sig_mask(blocked),
                "{mode} {name}: SigBlk {:#x}",
                field("SigBlk")
            );
            assert_eq!(
                field("SigIgn"),
                sig_mask(ignored),
                "{mode} {name}: SigIgn {:#x}",
                field("SigIgn")
            );
        }
    }
}

#[test]
fn no_wakeups_while_idle() {
    if !can_be_pid1() {
        return;
    }
    let printer = example("signal_printer");
    for format in ["raw", "mozlog"] {
        let args = [
            "--seccomp",
            "unconfined",
            "--log-format",
            format,
            "--",
            printer.to_str().unwrap(),
        ];
        let mut s = Run::new(&args).pid1().spawn();
        s.wait_line("ready");
        let init = s.hardinit_pid(true);
        wait_blocked_in_poll(init);
        let switches = |key: &str| proc_status(init, key).unwrap_or_default();
        let before = (
            switches("voluntary_ctxt_switches"),
            switches("nonvoluntary_ctxt_switches"),
        );
        // Idleness is measured over time: this sleep is the test, not a sync.
        std::thread::sleep(Duration::from_secs(2));
        let after = (
            switches("voluntary_ctxt_switches"),
            switches("nonvoluntary_ctxt_switches"),
        );
        assert_eq!(before, after, "{format}: hardinit woke up while idle");
        s.signal(init, libc::SIGTERM);
        let out = s.finish();
        assert_eq!(out.code, Some(0), "{format}: {out:?}");
    }
}
