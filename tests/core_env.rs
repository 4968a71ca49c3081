//! HARDINIT_* variables configure hardinit, never reach the program, and
//! lose to a flag; `hardinit -- inspect` runs a program, not the subcommand.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn hardinit_variables_configure_and_are_removed() {
    let out = Run::new(&["--", "env"])
        .env("HARDINIT_SECCOMP", "unconfined")
        .env("HARDINIT_LOG_FORMAT", "raw")
        .env("HARDINIT_SUBREAPER", "1")
        .env("KEEP_ME", "yes")
        .env("TINI_SUBREAPER", "1")
        .output();
    assert_eq!(out.code, Some(0), "{out:?}");
    // Raw output (not mozlog records) and no warning: both variables took effect.
    let vars: Vec<&str> = out.stdout.lines().collect();
    assert!(vars.contains(&"KEEP_ME=yes"), "{vars:?}");
    assert!(vars.contains(&"TINI_SUBREAPER=1"), "{vars:?}");
    assert!(!vars.iter().any(|v| v.starts_with("HARDINIT_")), "{vars:?}");
    assert!(!out.stderr.contains("zombie reaping"), "{out:?}");
}

#[test]
fn a_flag_wins_over_its_variable() {
    let id = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["--seccomp", "unconfined", "-s"];
        all.extend_from_slice(args);
        let mut r = Run::new(&all);
        for (k, v) in env {
            r = r.env(k, v);
        }
        r.output()
    };
    // (name, flags, environment, program, expected stdout check)
    type Check = fn(&Output) -> bool;
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
        Check,
    );
    let cases: &[Case] = &[
        (
            "HARDINIT_LOG_FORMAT=mozlog alone",
            &[],
            &[("HARDINIT_LOG_FORMAT", "mozlog")],
            &["echo", "hi"],
            |o| o.msgs("stdout") == ["hi"],
        ),
        (
            "--log-format raw over HARDINIT_LOG_FORMAT=mozlog",
            &["--log-format", "raw"],
            &[("HARDINIT_LOG_FORMAT", "mozlog")],
            &["echo", "hi"],
            |o| o.stdout == "hi\n",
        ),
        (
            "HARDINIT_USER=nobody alone",
            &["--log-format", "raw"],
            &[("HARDINIT_USER", "nobody")],
            &["id", "-u"],
            |o| o.stdout == "65534\n",
        ),
        (
            "--user root over HARDINIT_USER=nobody",
            &["--log-format", "raw", "--user", "root"],
            &[("HARDINIT_USER", "nobody")],
            &["id", "-u"],
            |o| o.stdout == "0\n",
        ),
        (
            "--logger over HARDINIT_LOGGER",
            &["--log-format", "mozlog", "--logger", "flag"],
            &[("HARDINIT_LOGGER", "variable")],
            &["echo", "hi"],
            |o| {
                o.records()
                    .iter()
                    .any(|r| r["Logger"] == "flag" && r["Type"] == "stdout")
            },
        ),
    ];
    for (name, flags, env, program, check) in cases {
        if env.iter().any(|(k, _)| *k == "HARDINIT_USER") && !is_root() {
            skip(&format!("{name}: not root, cannot switch user"));
            continue;
        }
        let mut args = flags.to_vec();
        args.push("--");
        args.extend_from_slice(program);
        let out = id(&args, env);
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert!(check(&out), "{name}: {out:?}");
    }
}

#[test]
fn a_bad_variable_is_named() {
    let cases = [
        ("HARDINIT_DEBUG", "maybe", "HARDINIT_DEBUG"),
        ("HARDINIT_GRACE", "soon", "soon"),
        ("HARDINIT_LOG_FORMAT", "xml", "xml"),
        ("HARDINIT_REWRITE", "TERM:BOGUS", "BOGUS"),
    ];
    for (k, v, word) in cases {
        let out = Run::new(&["--seccomp", "unconfined", "--", "true"])
            .env(k, v)
            .output();
        assert_eq!(out.code, Some(125), "{k}={v}: {out:?}");
        assert!(out.stderr.contains(word), "{k}={v}: {out:?}");
    }
}

#[test]
fn double_dash_inspect_runs_a_program_called_inspect() {
    let dir = std::env::temp_dir().join(format!("hardinit-core-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("inspect");
    std::fs::write(
        &script,
        "#!/bin/sh\necho the program called inspect \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", dir.display());
    let base = ["--seccomp", "unconfined", "--log-format", "raw", "-s"];

    let mut args = base.to_vec();
    args.extend(["--", "inspect", "--json"]);
    let out = Run::new(&args).env("PATH", &path).output();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "the program called inspect --json\n", "{out:?}");

    let out = Run::new(&args).output();
    assert_eq!(out.code, Some(127), "{out:?}");
    assert!(out.stderr.contains("inspect"), "{out:?}");

    // Without `--` the word is the subcommand.
    let out = Run::new(&["inspect", "--json"]).env("PATH", &path).output();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        !out.stdout.contains("the program called inspect"),
        "{out:?}"
    );
    serde_json::from_str::<serde_json::Value>(out.stdout.trim())
        .expect("inspect --json prints JSON");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A closed stdin or stdout reaches the program as /dev/null: hardinit
/// fills the numbers before it opens anything of its own (its signalfd
/// would otherwise take fd 0 and the program would start without a stdin).
#[test]
fn closed_standard_descriptors_reach_the_program_as_dev_null() {
    // Hardened (the child checks itself) and --unconfined (nothing to check).
    for mode in [&[][..], &["--unconfined"][..]] {
        // A shell closes 0 and 1 and execs hardinit.
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", "exec \"$0\" \"$@\" <&- >&-"])
            .arg(bin())
            .args(["--seccomp", "unconfined", "--log-format", "raw", "-s"])
            .args(mode)
            // What the program got (a shell would move 0 and 1 around for
            // its own redirections before anything could look).
            .args([
                "--",
                "python3",
                "-c",
                "import os, sys; sys.stderr.write(''.join(os.readlink(f'/proc/self/fd/{fd}') + '\\n' for fd in (0, 1)))",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let out = output_of(cmd);
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines, ["/dev/null", "/dev/null"], "{mode:?}: {out:?}");
    }
}
