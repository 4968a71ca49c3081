//! Exit status: the child's code, 128+N for death by signal N, `-e` remap,
//! and hardinit's own codes 125 (bad option), 126 (cannot execute) and
//! 127 (not found) with a message that names the problem.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

fn run(args: &[&str]) -> Run {
    let mut all = vec!["--seccomp", "unconfined", "--log-format", "raw", "-s"];
    all.extend_from_slice(args);
    Run::new(&all)
}

#[test]
fn all_256_exit_codes_pass_through() {
    let exit_with = example("exit_with");
    for code in 0..=255 {
        let out = run(&["--", exit_with.to_str().unwrap(), &code.to_string()]).output();
        assert_eq!(out.code, Some(code), "{out:?}");
    }
}

#[test]
fn exit_codes_pass_through_as_pid1() {
    if !can_be_pid1() {
        return;
    }
    let exit_with = example("exit_with");
    for code in [0, 1, 2, 42, 125, 126, 127, 128, 137, 143, 255] {
        let out = run(&["--", exit_with.to_str().unwrap(), &code.to_string()])
            .pid1()
            .output();
        assert_eq!(out.code, Some(code), "{out:?}");
    }
}

#[test]
fn death_by_signal_is_128_plus_n() {
    let exit_with = example("exit_with");
    let cases = [
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("ABRT", libc::SIGABRT),
        ("KILL", libc::SIGKILL),
        ("USR1", libc::SIGUSR1),
        ("SEGV", libc::SIGSEGV),
        ("PIPE", libc::SIGPIPE),
        ("TERM", libc::SIGTERM),
        ("SYS", libc::SIGSYS),
        ("RTMIN", 34),
        ("RTMAX", 64),
    ];
    let mut modes = vec![false];
    if can_be_pid1() {
        modes.push(true);
    }
    for pid1 in modes {
        for (name, sig) in cases {
            let mut r = run(&[
                "--",
                exit_with.to_str().unwrap(),
                "signal",
                &sig.to_string(),
            ]);
            if pid1 {
                r = r.pid1();
            }
            let out = r.output();
            assert_eq!(
                out.code,
                Some(128 + sig),
                "SIG{name} (PID 1: {pid1}): {out:?}"
            );
        }
    }
}

#[test]
fn remap_exit_maps_listed_codes_to_zero() {
    let exit_with = example("exit_with");
    let e = exit_with.to_str().unwrap();
    // (name, options, program arguments, expected code)
    let cases: &[(&str, &[&str], &[&str], i32)] = &[
        ("listed code", &["-e", "3"], &["3"], 0),
        ("other code", &["-e", "3"], &["4"], 4),
        ("long form", &["--remap-exit", "7"], &["7"], 0),
        ("inline value", &["-e7"], &["7"], 0),
        ("repeated", &["-e", "3", "-e", "143"], &["143"], 0),
        ("death by TERM", &["-e", "143"], &["signal", "15"], 0),
        (
            "death by TERM unlisted",
            &["-e", "137"],
            &["signal", "15"],
            143,
        ),
        ("zero stays zero", &["-e", "1"], &["0"], 0),
        ("from the environment", &[], &["5"], 0),
    ];
    for (name, opts, prog, want) in cases {
        let mut args: Vec<&str> = opts.to_vec();
        args.push("--");
        args.push(e);
        args.extend_from_slice(prog);
        let mut r = run(&args);
        if *name == "from the environment" {
            r = r.env("HARDINIT_REMAP_EXIT", "4,5");
        }
        let out = r.output();
        assert_eq!(out.code, Some(*want), "{name}: {out:?}");
    }
}

#[test]
fn own_failures_have_their_codes_and_name_the_problem() {
    let dir = std::env::temp_dir().join(format!("hardinit-core-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("not-executable");
    std::fs::write(&plain, "#!/bin/sh\necho never\n").unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, [0u8, 1, 2, 3]).unwrap();
    std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain = plain.to_str().unwrap();
    let garbage = garbage.to_str().unwrap();
    let d = dir.to_str().unwrap();

    // (name, arguments, code, words the message must hold)
    let cases: &[(&str, &[&str], i32, &[&str])] = &[
        (
            "missing path",
            &["--", "/nonexistent/prog"],
            127,
            &["/nonexistent/prog", "No such file or directory"],
        ),
        (
            "missing on PATH",
            &["--", "no-such-program-x1"],
            127,
            &["no-such-program-x1", "not found"],
        ),
        (
            "not executable",
            &["--", plain],
            126,
            &[plain, "Permission denied"],
        ),
        ("a directory", &["--", d], 126, &[d]),
        ("exec format error", &["--", garbage], 126, &[garbage]),
        (
            "unknown option",
            &["--bogus", "true"],
            125,
            &["unknown option --bogus"],
        ),
        (
            "unknown short option",
            &["-Z", "true"],
            125,
            &["unknown option -Z"],
        ),
        (
            "bad duration",
            &["--grace", "soon", "true"],
            125,
            &["--grace", "soon"],
        ),
        (
            "bad signal",
            &["--rewrite", "TERM:BOGUS", "true"],
            125,
            &["BOGUS"],
        ),
        ("bad remap", &["-e", "300", "true"], 125, &["300"]),
        ("no program", &[], 125, &["no program"]),
        (
            "missing value",
            &["--grace"],
            125,
            &["--grace", "needs a value"],
        ),
    ];
    // Hardened (the child stops for verification before execve) and
    // --unconfined (nothing to verify: it goes straight on to execve).
    for (mode, (name, args, code, words)) in [&[][..], &["--unconfined"][..]]
        .into_iter()
        .flat_map(|mode| cases.iter().map(move |c| (mode, c)))
    {
        let name = format!("{name} {mode:?}");
        let out = run(&[mode, args].concat()).output();
        assert_eq!(out.code, Some(*code), "{name}: {out:?}");
        for w in *words {
            assert!(
                out.stderr.contains(w),
                "{name}: {w:?} not in {:?}",
                out.stderr
            );
        }
        assert!(
            !out.stdout.contains("never"),
            "{name}: the program ran: {out:?}"
        );
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(
            !first.contains("directory: No such") && !first.contains("denied: Permission"),
            "{name}: the reason is said twice: {first}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
