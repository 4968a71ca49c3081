//! Landlock through the real binary: --read-only, --writable,
//! --no-exec-writable, port allowlists, and the fail-closed / best-effort
//! paths on a (simulated) kernel without the ABI an option needs.
mod common;
use common::*;
use std::path::{Path, PathBuf};

/// A scratch tree outside every default writable path (/tmp is one).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let base = ["/var/tmp", "/var/lib"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .expect("/var/tmp or /var/lib");
        let dir = base.join(format!("hardinit-landlock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("w")).unwrap();
        std::fs::create_dir_all(dir.join("ro")).unwrap();
        std::fs::write(dir.join("ro/existing"), "keep").unwrap();
        Scratch(dir)
    }
    fn p(&self, rel: &str) -> String {
        self.0.join(rel).to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kernel_abi() -> i64 {
    let out = Run::new(&["inspect", "--json"]).output();
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    v["landlock_abi"].as_i64().unwrap_or(0)
}

/// The kernel has at least Landlock ABI `min`; otherwise print why the
/// test cannot run (a failure under CI).
fn has_abi(min: i64, why: &str) -> bool {
    if kernel_abi() < min {
        skip(why);
        return false;
    }
    true
}

fn probe(flags: &[&str], ops: &[&str]) -> Output {
    probe_at(&example("landlock_probe"), flags, ops)
}

fn probe_at(probe: &Path, flags: &[&str], ops: &[&str]) -> Output {
    let mut args: Vec<&str> = vec!["--log-format", "raw"];
    args.extend_from_slice(flags);
    args.push("--");
    args.push(probe.to_str().unwrap());
    args.extend_from_slice(ops);
    Run::new(&args).output()
}

fn results(out: &Output) -> Vec<String> {
    out.stdout.lines().map(|l| l.to_string()).collect()
}

#[test]
fn read_only_denies_writes_outside_the_writable_set() {
    if !has_abi(
        3,
        "this kernel's Landlock ABI is below 3 (needed for --read-only)",
    ) {
        return;
    }
    let s = Scratch::new("ro");
    let (w, existing) = (s.p("w"), s.p("ro/existing"));
    let flags = ["--read-only", "--writable", &w];
    let cases: &[(&str, String, &str)] = &[
        ("create", "/etc/hardinit-landlock-probe".into(), "EACCES"),
        ("create", "/hardinit-landlock-probe".into(), "EACCES"),
        ("write", existing.clone(), "EACCES"),
        ("truncate", existing.clone(), "EACCES"),
        ("mkdir", s.p("ro/newdir"), "EACCES"),
        ("create", s.p("w/new"), "ok"),
        ("write", "/dev/null".into(), "ok"),
        ("read", existing.clone(), "ok"),
    ];
    let ops: Vec<&str> = cases
        .iter()
        .flat_map(|(op, arg, _)| [*op, arg.as_str()])
        .collect();
    let out = probe(&flags, &ops);
    assert_eq!(out.code, Some(0), "{out:?}");
    let got = results(&out);
    for ((op, arg, want), line) in cases.iter().zip(&got) {
        assert_eq!(line, &format!("{op} {arg}: {want}"), "{op} {arg}");
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep");
    assert!(!Path::new("/etc/hardinit-landlock-probe").exists());
    assert!(!Path::new("/hardinit-landlock-probe").exists());

    // rename and unlink outside the writable set, through a shell.
    let script = format!(
        "mv {existing} {existing}.moved; echo mv=$?; rm -f {existing}; echo rm=$?; echo data > {w}/f && cat {w}/f"
    );
    let out = read_only(&["--writable", &w], &["sh", "-c", &script]);
    assert_eq!(out.stdout, "mv=1\nrm=1\ndata\n", "{out:?}");
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
    assert!(Path::new(&existing).exists());
}

/// `hardinit --log-format raw --read-only FLAGS -- COMMAND`, run to its end.
fn read_only(flags: &[&str], command: &[&str]) -> Output {
    let head = ["--log-format", "raw", "--read-only"];
    Run::new(&[&head[..], flags, &["--"], command].concat()).output()
}

#[test]
fn real_programs_keep_working_read_only() {
    if !has_abi(3, "this kernel's Landlock ABI is below 3") {
        return;
    }
    let s = Scratch::new("programs");
    let w = s.p("w");
    let code = "import threading, subprocess, tempfile, http.server, socketserver, urllib.request\n\
                tempfile.NamedTemporaryFile(dir='/tmp').close()\n\
                srv = socketserver.TCPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)\n\
                t = threading.Thread(target=srv.handle_request); t.start()\n\
                r = urllib.request.urlopen(f'http://127.0.0.1:{srv.server_address[1]}/')\n\
                t.join(); print(r.status, subprocess.run(['echo', 'sub'], capture_output=True, text=True).stdout.strip())";
    let out = read_only(&["--writable", &w], &["python3", "-c", code]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(0), "200 sub\n"),
        "{out:?}"
    );
    let out = read_only(&[], &["sh", "-c", "ls / >/dev/null && echo ok | cat"]);
    assert_eq!(out.stdout, "ok\n", "{out:?}");
}

#[test]
fn nothing_written_can_be_executed() {
    if !has_abi(1, "this kernel has no Landlock") {
        return;
    }
    let s = Scratch::new("noexec");
    let script = s.p("w/run.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 42\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let w = s.p("w");
    // The probe itself must live outside every writable path (a checkout
    // under /tmp would not be executable here).
    let runner = s.0.join("ro/landlock_probe");
    std::fs::copy(example("landlock_probe"), &runner).unwrap();
    let out = probe_at(
        &runner,
        &["--no-exec-writable", "--writable", &w],
        &["exec", &script, "exec", "/bin/sh"],
    );
    let got = results(&out);
    assert_eq!(got[0], format!("exec {script}: EACCES"), "{out:?}");
    assert!(got[1].starts_with("exec /bin/sh: ok"), "{out:?}");
    // The same script outside the no-exec set runs.
    let out = probe(&[], &["exec", &script]);
    assert_eq!(
        results(&out)[0],
        format!("exec {script}: ok: exit 42"),
        "{out:?}"
    );
}

#[test]
fn tcp_port_allowlists() {
    if !has_abi(
        4,
        "this kernel's Landlock ABI is below 4 (TCP rules need Linux 6.7+)",
    ) {
        return;
    }
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (a, b) = (free().to_string(), free().to_string());
    let out = probe(&["--bind-ports", &a], &["bind", &a, "bind", &b]);
    assert_eq!(
        results(&out),
        vec![format!("bind {a}: ok"), format!("bind {b}: EACCES")],
        "{out:?}"
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port().to_string();
    let out = probe(
        &["--connect-ports", &open],
        &["connect", &open, "connect", &b],
    );
    assert_eq!(
        results(&out),
        vec![
            format!("connect {open}: ok"),
            format!("connect {b}: EACCES")
        ],
        "{out:?}"
    );
}

#[test]
fn missing_kernel_support_fails_closed_or_warns() {
    // Test-only simulation (debug builds): the kernel "has" ABI 3.
    let marker =
        std::env::temp_dir().join(format!("hardinit-landlock-marker-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let touch = format!("touch {}", marker.display());
    let run = |flags: &[&str], abi: &str| {
        let mut args = vec!["--log-format", "raw"];
        args.extend_from_slice(flags);
        args.extend(["--", "sh", "-c", &touch]);
        Run::new(&args)
            .env("HARDINIT_TEST_LANDLOCK_ABI", abi)
            .output()
    };
    let out = run(&["--bind-ports", "8080"], "3");
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(
        out.stderr.contains("--bind-ports") && out.stderr.contains("ABI 3"),
        "{}",
        out.stderr
    );
    assert!(!marker.exists(), "the program ran");

    let out = run(&["--read-only"], "0");
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(out.stderr.contains("--read-only"), "{}", out.stderr);
    assert!(!marker.exists(), "the program ran");

    let out = run(
        &[
            "--debug",
            "--landlock",
            "best-effort",
            "--bind-ports",
            "8080",
        ],
        "3",
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("landlock_warnings"), "{}", out.stderr);
    assert!(marker.exists());
    let _ = std::fs::remove_file(&marker);

    // check gives the same verdict without running anything.
    let out = Run::new(&["check", "--bind-ports", "8080"])
        .env("HARDINIT_TEST_LANDLOCK_ABI", "3")
        .output();
    assert_eq!(out.code, Some(125), "{out:?}");
}

#[test]
fn debug_report_shows_landlock() {
    if !has_abi(3, "this kernel's Landlock ABI is below 3") {
        return;
    }
    let out = Run::new(&[
        "--log-format",
        "mozlog",
        "--debug",
        "--read-only",
        "--",
        "true",
    ])
    .output();
    let rec = out
        .records()
        .into_iter()
        .find(|r| r["Type"] == "hardinit.restrictions")
        .expect("restrictions record");
    let f = &rec["Fields"];
    assert_eq!(f["landlock_status"], "enforced");
    assert!(f["landlock_abi"].as_i64().unwrap() >= 3);
    assert!(
        f["landlock_rules"]
            .as_str()
            .unwrap()
            .contains("write: /tmp"),
        "{f}"
    );
}
