//! `hardinit learn`: record, write a profile, re-run under it.
mod common;
use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hardinit-learn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn learn(profile: &Path, extra: &[&str], program: &[&str]) -> Output {
    let mut args = vec![
        "learn",
        "-o",
        profile.to_str().unwrap(),
        "--log-format",
        "raw",
    ];
    args.extend_from_slice(extra);
    args.push("--");
    args.extend_from_slice(program);
    Run::new(&args).output()
}

fn under(profile: &Path, program: &[&str]) -> Output {
    let mut args = vec![
        "--log-format",
        "raw",
        "--seccomp",
        profile.to_str().unwrap(),
        "--",
    ];
    args.extend_from_slice(program);
    Run::new(&args).output()
}

fn allowed(profile: &Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(profile).unwrap()).unwrap();
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    v["syscalls"][0]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn default_allowed() -> usize {
    let out = Run::new(&["check"]).output();
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("seccomp_allowed"))
        .expect("check prints seccomp_allowed");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn shell_script_learned_and_replayed() {
    let d = tmpdir("sh");
    let profile = d.join("sh.json");
    let script = "echo one | cat; ls / >/dev/null; echo done";
    let out = learn(&profile, &[], &["sh", "-c", script]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "one\ndone\n");
    assert!(
        out.stderr.contains("hardinit learn: learned"),
        "{}",
        out.stderr
    );
    let names = allowed(&profile);
    for needed in ["execve", "read", "write", "exit_group"] {
        assert!(
            names.iter().any(|n| n == needed),
            "{needed} missing from {names:?}"
        );
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "the allow list is sorted");
    let total = default_allowed();
    eprintln!(
        "shell script: learned {} syscalls, default allows {total}",
        names.len()
    );
    assert!(names.len() * 2 < total, "{} vs {total}", names.len());

    let replay = under(&profile, &["sh", "-c", script]);
    assert_eq!(
        (replay.code, replay.stdout.as_str()),
        (Some(0), "one\ndone\n"),
        "{replay:?}"
    );

    // mkdir was never made while learning: denied (EPERM) under the profile.
    let target = d.join("new-dir");
    let denied = under(
        &profile,
        &["sh", "-c", &format!("mkdir {}", target.display())],
    );
    assert_ne!(denied.code, Some(0), "{denied:?}");
    assert!(
        denied.stderr.contains("Operation not permitted"),
        "{}",
        denied.stderr
    );
    assert!(!target.exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn threaded_python_learned_and_replayed() {
    let d = tmpdir("py");
    let profile = d.join("py.json");
    let code = "import threading, subprocess\n\
                out = []\n\
                t = threading.Thread(target=lambda: out.append(sum(range(1000))))\n\
                t.start(); t.join()\n\
                r = subprocess.run(['echo', 'child'], capture_output=True, text=True)\n\
                print(out[0], r.stdout.strip())";
    let out = learn(&profile, &[], &["python3", "-c", code]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "499500 child\n"),
        "{out:?}"
    );
    let names = allowed(&profile);
    eprintln!(
        "threaded python: learned {} syscalls, default allows {}",
        names.len(),
        default_allowed()
    );
    let replay = under(&profile, &["python3", "-c", code]);
    assert_eq!(
        (replay.code, replay.stdout.as_str()),
        (Some(0), "499500 child\n"),
        "{replay:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    r
}

/// Serve, answer requests, stop with SIGTERM (the profile is written on
/// SIGTERM and again at exit).
fn serve(args: &[&str], port: u16) -> String {
    let mut run = Run::new(args);
    run.env.push(("PYTHONUNBUFFERED".into(), "1".into()));
    let mut s = run.spawn();
    s.wait_line("Serving HTTP");
    let first = get(port);
    let second = get(port);
    assert!(second.starts_with("HTTP/1.0 200"), "{second}");
    s.signal(s.pid(), libc::SIGTERM);
    let code = s.wait_timeout(TIMEOUT);
    assert!(code.is_some(), "server did not stop");
    first
}

#[test]
fn http_server_learned_and_replayed() {
    let d = tmpdir("http");
    let profile = d.join("http.json");
    let port = free_port().to_string();
    let server = [
        "python3",
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        "/",
        &port,
    ];
    let mut args = vec![
        "learn",
        "-o",
        profile.to_str().unwrap(),
        "--log-format",
        "raw",
        "--",
    ];
    args.extend_from_slice(&server);
    let r = serve(&args, port.parse().unwrap());
    assert!(r.starts_with("HTTP/1.0 200"), "{r}");
    let names = allowed(&profile);
    assert!(
        names.iter().any(|n| n == "accept4" || n == "accept"),
        "{names:?}"
    );
    eprintln!(
        "http server: learned {} syscalls, default allows {}",
        names.len(),
        default_allowed()
    );

    let mut args = vec![
        "--log-format",
        "raw",
        "--seccomp",
        profile.to_str().unwrap(),
        "--",
    ];
    args.extend_from_slice(&server);
    let r = serve(&args, port.parse().unwrap());
    assert!(r.starts_with("HTTP/1.0 200"), "{r}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn merge_unions_runs_and_duration_stops_the_program() {
    let d = tmpdir("merge");
    let first = d.join("a.json");
    let both = d.join("b.json");
    assert_eq!(
        learn(
            &first,
            &[],
            &["sh", "-c", "mkdir $0/x", d.to_str().unwrap()]
        )
        .code,
        Some(0)
    );
    assert!(allowed(&first)
        .iter()
        .any(|n| n == "mkdir" || n == "mkdirat"));
    let out = learn(
        &both,
        &["--merge", first.to_str().unwrap(), "--duration", "300ms"],
        &["sleep", "30"],
    );
    // sleep got SIGTERM at the end of the duration: 128 + 15.
    assert_eq!(out.code, Some(143), "{out:?}");
    assert!(out.elapsed < Duration::from_secs(10));
    let names = allowed(&both);
    assert!(
        names.iter().any(|n| n == "mkdir" || n == "mkdirat"),
        "merged run lost mkdir: {names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n == "clock_nanosleep" || n == "nanosleep"),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn learn_errors_are_clear() {
    let cases: &[(&[&str], &str)] = &[
        (&["learn", "--", "true"], "-o FILE"),
        (
            &["learn", "-o", "/nonexistent-dir/p.json", "--", "true"],
            "does not exist",
        ),
        (
            &[
                "learn",
                "-o",
                "/tmp/x.json",
                "--merge",
                "/nonexistent.json",
                "--",
                "true",
            ],
            "--merge",
        ),
    ];
    for (args, want) in cases {
        let out = Run::new(args).output();
        assert_eq!(out.code, Some(125), "{args:?}: {out:?}");
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn a_second_listener_is_refused_clearly() {
    let d = tmpdir("nested");
    let (outer, inner) = (d.join("outer.json"), d.join("inner.json"));
    let bin = bin();
    let out = learn(
        &outer,
        &[],
        &[
            bin.to_str().unwrap(),
            "learn",
            "-o",
            inner.to_str().unwrap(),
            "--log-format",
            "raw",
            "--",
            "true",
        ],
    );
    // The inner learn fails (125) and says why; the outer one records it.
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(
        out.stderr.contains("EBUSY") && out.stderr.contains("only one"),
        "{}",
        out.stderr
    );
    assert!(outer.exists());
    assert!(!inner.exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_program_that_cannot_be_executed_never_hangs_the_recording() {
    let d = tmpdir("noexec");
    let script = d.join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let profile = d.join("p.json");
    // exec fails after the recording filter is in; the child's exit is a
    // recorded call PID 1 must still answer.
    for _ in 0..20 {
        let out = learn(&profile, &[], &[script.to_str().unwrap()]);
        assert_eq!(out.code, Some(126), "{out:?}");
        assert!(out.elapsed < std::time::Duration::from_secs(10), "{out:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
