//! Reaping: as PID 1 (and as a subreaper) every orphan is reaped, many
//! children exiting at once do not hang the exit, and a plain process
//! without -s warns that zombie reaping won't work.

mod common;
use common::*;
use std::time::Duration;

fn run(args: &[&str]) -> Run {
    let mut all = vec!["--seccomp", "unconfined", "--log-format", "raw"];
    all.extend_from_slice(args);
    Run::new(&all)
}

#[test]
fn pid1_reaps_2000_orphaned_zombies() {
    if !can_be_pid1() {
        return;
    }
    let orphans = example("orphans");
    // The fixture counts zombies in the namespace from inside and exits 0
    // only when there are none left.
    let out = run(&["--", orphans.to_str().unwrap(), "2000"])
        .pid1()
        .output();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "reaped 2000 zombies=0 leftovers=0\n", "{out:?}");
}

#[test]
fn subreaper_reaps_orphans() {
    let orphans = example("orphans");
    // (name, options, environment)
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    );
    let cases: &[Case] = &[
        ("-s", &["-s"], &[]),
        ("--subreaper", &["--subreaper"], &[]),
        ("HARDINIT_SUBREAPER", &[], &[("HARDINIT_SUBREAPER", "1")]),
    ];
    for (name, opts, env) in cases {
        let mut args = opts.to_vec();
        args.extend(["--", orphans.to_str().unwrap(), "300"]);
        let mut r = run(&args);
        for (k, v) in *env {
            r = r.env(k, v);
        }
        let out = r.output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_eq!(
            out.stdout, "reaped 300 zombies=0 leftovers=0\n",
            "{name}: {out:?}"
        );
        assert!(!out.stderr.contains("zombie reaping"), "{name}: {out:?}");
    }
}

#[test]
fn many_children_exiting_at_once_do_not_hang_the_exit() {
    if !can_be_pid1() {
        return;
    }
    let orphans = example("orphans");
    // The main child and 500 orphans end together: their SIGCHLDs coalesce.
    for format in ["raw", "mozlog"] {
        let args = [
            "--seccomp",
            "unconfined",
            "--log-format",
            format,
            "--",
            orphans.to_str().unwrap(),
            "500",
            "--burst",
            "7",
        ];
        for round in 0..5 {
            let out = Run::new(&args)
                .pid1()
                .output_within(Duration::from_secs(10));
            assert_eq!(out.code, Some(7), "{format} round {round}: {out:?}");
            assert!(out.stdout.contains("released 500"), "{format}: {out:?}");
        }
    }
}

#[test]
fn warns_when_reaping_cannot_work() {
    let exit_with = example("exit_with");
    let e = exit_with.to_str().unwrap();
    // (name, options, environment, PID 1, warning expected)
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        bool,
        bool,
    );
    let cases: &[Case] = &[
        ("plain process", &[], &[], false, true),
        ("plain process with -s", &["-s"], &[], false, false),
        (
            "HARDINIT_SUBREAPER=1",
            &[],
            &[("HARDINIT_SUBREAPER", "1")],
            false,
            false,
        ),
        (
            "HARDINIT_SUBREAPER=0",
            &[],
            &[("HARDINIT_SUBREAPER", "0")],
            false,
            true,
        ),
        ("PID 1", &[], &[], true, false),
    ];
    for (name, opts, env, pid1, warned) in cases {
        if *pid1 && !can_be_pid1() {
            continue;
        }
        let mut args = opts.to_vec();
        args.extend(["--", e, "0"]);
        let mut r = run(&args);
        for (k, v) in *env {
            r = r.env(k, v);
        }
        if *pid1 {
            r = r.pid1();
        }
        let out = r.output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_eq!(
            out.stderr.contains("zombie reaping won't work"),
            *warned,
            "{name}: {out:?}"
        );
        if *warned {
            assert!(
                out.stderr.contains("-s"),
                "{name}: the fix is not named: {out:?}"
            );
        }
    }
}

#[test]
fn warn_reap_reports_adopted_zombies() {
    if !can_be_pid1() {
        return;
    }
    let orphans = example("orphans");
    for (opts, warned) in [
        (&["-w"][..], true),
        (&["--warn-reap"][..], true),
        (&[][..], false),
    ] {
        let mut args = opts.to_vec();
        args.extend(["--", orphans.to_str().unwrap(), "3"]);
        let out = run(&args).pid1().output();
        assert_eq!(out.code, Some(0), "{opts:?}: {out:?}");
        let reaped = out
            .stderr
            .matches("Reaped zombie process with pid=")
            .count();
        assert_eq!(reaped, if warned { 3 } else { 0 }, "{opts:?}: {out:?}");
    }
}

#[test]
fn an_inherited_ignored_sigchld_does_not_hang_hardinit() {
    // The parent leaves SIGCHLD ignored (SIG_IGN), then execs hardinit: the
    // kernel would reap the program itself and send no SIGCHLD.
    let code = format!(
        "import os, signal, sys\nsignal.signal(signal.SIGCHLD, signal.SIG_IGN)\nos.execv({0:?}, [{0:?}, '--log-format', 'raw', '--seccomp', 'unconfined', '--', 'grep', 'SigIgn', '/proc/self/status'])",
        bin().to_str().unwrap()
    );
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", &code])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = output_of(cmd);
    assert_eq!(out.code, Some(0), "{out:?}");
    // The program gets SIGCHLD (17, bit 16) back as ignored.
    let ign = out.stdout.split_whitespace().nth(1).expect("SigIgn line");
    let mask = u64::from_str_radix(ign, 16).unwrap();
    assert!(mask & (1 << 16) != 0, "SigIgn {ign}");
}

#[test]
fn grace_gives_up_on_processes_outside_the_group_when_not_pid1() {
    // The leftover leaves the program's process group (setsid) before the
    // program exits: a fifo hand-shake, so SIGTERM to the group cannot win
    // the race and kill it first. It prints its pid and lets go of the
    // output pipes (or collecting the output would wait for it).
    let script = r#"f=$(mktemp -u); mkfifo "$f"
setsid sh -c 'echo $$ > "$0"; exec sleep 30' "$f" </dev/null >/dev/null 2>&1 &
read pid < "$f"; rm -f "$f"; echo "leftover $pid" >&2; exit 0"#;
    let out = Run::new(&[
        "-s",
        "--grace",
        "300ms",
        "--log-format",
        "raw",
        "--seccomp",
        "unconfined",
        "--",
        "sh",
        "-c",
        script,
    ])
    .output_within(Duration::from_secs(20));
    let leftover: Option<i32> = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("leftover ")?.trim().parse().ok());
    if let Some(pid) = leftover {
        // SAFETY: kill has no memory arguments; the pid is the test's own sleep.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(leftover.is_some(), "{out:?}");
    assert!(
        out.stderr
            .contains("leftover processes remain after SIGKILL"),
        "{out:?}"
    );
    assert!(
        out.elapsed < Duration::from_secs(5),
        "took {:?}",
        out.elapsed
    );
}
