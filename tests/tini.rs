//! tini mode: invoked as `tini` or `docker-init`, hardinit takes tini's
//! flags and variables, uses its wording and exit codes, leaves output
//! untouched and hardens nothing unless HARDINIT_* asks.

mod common;
use common::*;

const NAMES: [&str; 2] = ["tini", "docker-init"];

fn tini(name: &str, args: &[&str]) -> Run {
    Run::new(args).argv0(name)
}

/// A named case: (name, arguments, environment, expected).
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    bool,
);

fn with_env(mut r: Run, env: &[(&str, &str)]) -> Run {
    for (k, v) in env {
        r = r.env(k, v);
    }
    r
}

#[test]
fn version_help_and_license() {
    for name in NAMES {
        let out = tini(name, &["--version"]).output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        let line = out.stdout.strip_suffix('\n').unwrap_or_default();
        let rest = line
            .strip_prefix("tini version ")
            .unwrap_or_else(|| panic!("{name}: {line:?}"));
        let (version, git) = rest
            .split_once(" - git.")
            .unwrap_or_else(|| panic!("{name}: {line:?}"));
        let parts: Vec<&str> = version.split('.').collect();
        assert_eq!(parts.len(), 3, "{name}: {line:?}");
        assert!(
            parts.iter().all(|p| p.parse::<u32>().is_ok()),
            "{name}: {line:?}"
        );
        assert!(!git.is_empty() && !git.contains(' '), "{name}: {line:?}");

        let out = tini(name, &["-h"]).output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert!(out.stdout.starts_with("Usage: tini"), "{name}: {out:?}");

        let out = tini(name, &["-l"]).output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert!(out.stdout.contains("License"), "{name}: {out:?}");
    }
}

#[test]
fn exit_codes_and_failure_messages() {
    let exit_with = example("exit_with");
    let e = exit_with.to_str().unwrap();
    let dir = std::env::temp_dir().join(format!("hardinit-tini-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("not-executable");
    std::fs::write(&plain, "#!/bin/sh\necho never\n").unwrap();
    let plain = plain.to_str().unwrap();
    let missing_msg = "exec /nonexistent/prog failed: No such file or directory";
    let denied_msg = format!("exec {plain} failed: Permission denied");
    // (name, arguments, code, message)
    let cases: &[(&str, Vec<&str>, i32, &str)] = &[
        ("status", vec!["-s", "--", e, "42"], 42, ""),
        ("no --", vec!["-s", e, "3"], 3, ""),
        (
            "death by signal",
            vec!["-s", "--", e, "signal", "15"],
            143,
            "",
        ),
        (
            "-e remaps",
            vec!["-s", "-e", "143", "--", e, "signal", "15"],
            0,
            "",
        ),
        ("-e other code", vec!["-s", "-e", "3", "--", e, "4"], 4, ""),
        (
            "missing program",
            vec!["-s", "--", "/nonexistent/prog"],
            127,
            missing_msg,
        ),
        ("not executable", vec!["-s", "--", plain], 126, &denied_msg),
        ("bad option", vec!["-x", "--", e, "0"], 1, "-x"),
        (
            "hardinit-only option",
            vec!["--user", "root", "--", e, "0"],
            1,
            "--user",
        ),
        ("bad -e", vec!["-e", "300", "--", e, "0"], 1, "300"),
        ("no program", vec!["-s"], 1, "no program"),
    ];
    for name in NAMES {
        for (case, args, code, msg) in cases {
            let out = tini(name, args).output();
            assert_eq!(out.code, Some(*code), "{name} {case}: {out:?}");
            assert!(
                out.stderr.contains(msg),
                "{name} {case}: {msg:?} not in {out:?}"
            );
            assert!(!out.stdout.contains("never"), "{name} {case}: {out:?}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_is_untouched() {
    let mut modes = vec![false];
    if can_be_pid1() {
        modes.push(true);
    }
    for name in NAMES {
        for pid1 in &modes {
            let mut r = tini(
                name,
                &[
                    "-s",
                    "--",
                    "sh",
                    "-c",
                    "echo hello; echo '{\"a\":1}'; echo err >&2",
                ],
            );
            if *pid1 {
                r = r.pid1();
            }
            let out = r.output();
            assert_eq!(out.code, Some(0), "{name}: {out:?}");
            assert_eq!(out.stdout, "hello\n{\"a\":1}\n", "{name}: {out:?}");
            assert_eq!(out.stderr, "err\n", "{name}: {out:?}");
        }
        // HARDINIT_LOG_FORMAT still switches mozlog on.
        let out = with_env(
            tini(name, &["-s", "--", "echo", "hello"]),
            &[("HARDINIT_LOG_FORMAT", "mozlog")],
        )
        .output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_eq!(out.msgs("stdout"), vec!["hello"], "{name}: {out:?}");
    }
}

/// The hardening fields of /proc/<pid>/status, as "Key: value" lines.
fn hardening_of(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            ["CapEff:", "CapPrm:", "CapBnd:", "NoNewPrivs:", "Seccomp:"]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn no_hardening_by_default_but_hardinit_variables_apply() {
    let ours = hardening_of(&std::fs::read_to_string("/proc/self/status").unwrap());
    for name in NAMES {
        let out = tini(name, &["-s", "--", "cat", "/proc/self/status"]).output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_eq!(
            hardening_of(&out.stdout),
            ours,
            "{name}: tini mode must not harden"
        );

        let out = with_env(
            tini(name, &["-s", "--", "cat", "/proc/self/status"]),
            &[("HARDINIT_CAP_DROP", "ALL")],
        )
        .output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        let fields = hardening_of(&out.stdout);
        assert!(
            fields.contains(&"CapEff: 0000000000000000".to_string()),
            "{name}: {fields:?}"
        );
        assert!(
            fields.contains(&"CapPrm: 0000000000000000".to_string()),
            "{name}: {fields:?}"
        );
    }
}

#[test]
fn subreaper_flag_and_variable() {
    let orphans = example("orphans");
    let o = orphans.to_str().unwrap();
    // (name, arguments, environment, warning expected; else orphans reaped by us)
    let cases: &[Case] = &[
        ("-s", &["-s"], &[], false),
        ("TINI_SUBREAPER set", &[], &[("TINI_SUBREAPER", "")], false),
        ("neither", &[], &[], true),
    ];
    for name in NAMES {
        for (case, args, env, warned) in cases {
            let mut all = args.to_vec();
            // Without a subreaper orphans would go to the host's init: make none.
            all.extend(["--", o, if *warned { "0" } else { "50" }]);
            let out = with_env(tini(name, &all), env).output();
            assert_eq!(
                out.stderr.contains("zombie reaping won't work"),
                *warned,
                "{name} {case}: {out:?}"
            );
            if *warned {
                assert!(
                    out.stderr.contains("Tini is not running as PID 1"),
                    "{name} {case}: {out:?}"
                );
                assert!(
                    out.stderr.contains("TINI_SUBREAPER"),
                    "{name} {case}: {out:?}"
                );
            } else {
                assert_eq!(out.code, Some(0), "{name} {case}: {out:?}");
                assert_eq!(
                    out.stdout, "reaped 50 zombies=0 leftovers=0\n",
                    "{name} {case}"
                );
            }
        }
    }
}

#[test]
fn warn_reap_wording() {
    if !can_be_pid1() {
        return;
    }
    let orphans = example("orphans");
    for name in NAMES {
        let out = tini(name, &["-w", "--", orphans.to_str().unwrap(), "2"])
            .pid1()
            .output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_eq!(
            out.stderr
                .matches("Reaped zombie process with pid=")
                .count(),
            2,
            "{name}: {out:?}"
        );
    }
}

#[test]
fn verbosity_flag_and_variable() {
    let exit_with = example("exit_with");
    // (name, arguments, environment, info messages shown)
    let cases: &[Case] = &[
        ("default", &[], &[], false),
        ("-v", &["-v"], &[], true),
        (
            "TINI_VERBOSITY=1 (tini's default)",
            &[],
            &[("TINI_VERBOSITY", "1")],
            false,
        ),
        ("TINI_VERBOSITY=2", &[], &[("TINI_VERBOSITY", "2")], true),
    ];
    for name in NAMES {
        for (case, args, env, info) in cases {
            let mut all = vec!["-s"];
            all.extend_from_slice(args);
            all.extend(["--", exit_with.to_str().unwrap(), "0"]);
            let out = with_env(tini(name, &all), env).output();
            assert_eq!(out.code, Some(0), "{name} {case}: {out:?}");
            assert_eq!(
                out.stderr.contains("Spawned child process"),
                *info,
                "{name} {case}: {out:?}"
            );
        }
    }
}

#[test]
fn kill_group_flag_and_variable() {
    let printer = example("signal_printer");
    let p = printer.to_str().unwrap();
    // (name, arguments, environment, the helper in the child's group gets USR1)
    let cases: &[Case] = &[
        ("-g", &["-g"], &[], true),
        (
            "TINI_KILL_PROCESS_GROUP set",
            &[],
            &[("TINI_KILL_PROCESS_GROUP", "1")],
            true,
        ),
        ("neither", &[], &[], false),
    ];
    for name in NAMES {
        for (case, args, env, group) in cases {
            let mut all = vec!["-s"];
            all.extend_from_slice(args);
            all.extend(["--", p, "--group"]);
            let mut s = with_env(tini(name, &all), env).spawn();
            s.wait_line("ready");
            let init = s.hardinit_pid(false);
            let out = usr1_reaches_group(s, init, *group);
            assert_eq!(out.code, Some(0), "{name} {case}: {out:?}");
            assert_eq!(
                out.stdout.contains("child signal 10"),
                *group,
                "{name} {case}: {out:?}"
            );
        }
    }
}

#[test]
fn pdeathsig_is_forwarded_when_the_parent_dies() {
    if !can_be_pid1() {
        return;
    }
    let printer = example("signal_printer");
    for name in NAMES {
        // The parent of hardinit is unshare: killing it sends hardinit
        // SIGUSR1, which it forwards to the program.
        let mut s = tini(name, &["-p", "SIGUSR1", "--", printer.to_str().unwrap()])
            .pid1()
            .spawn();
        s.wait_line("ready");
        let init = s.hardinit_pid(true);
        s.signal(s.pid(), libc::SIGKILL);
        assert_eq!(s.next_line(), "signal 10", "{name}");
        s.signal(init, libc::SIGTERM);
        assert_eq!(s.next_line(), "signal 15", "{name}");
        wait_gone(init);
        let out = s.finish();
        assert_eq!(out.code, None, "{name}: unshare was killed: {out:?}");
    }
}
