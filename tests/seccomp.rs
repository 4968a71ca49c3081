//! Seccomp against the real binary: syscall probes in the child, real
//! programs under the embedded default, Docker's and Podman's profiles,
//! broken profiles, and the kernel's view of the installed filter.
//!
//! Probes come from `examples/probe_syscalls.rs`: each call is made with
//! arguments the kernel rejects, so an allowed call fails with
//! EBADF/EFAULT/EINVAL (or succeeds harmlessly) and a denied one fails with
//! the profile's errno. Every denial is checked against a control run under
//! `--seccomp unconfined`, where the same call must not fail with that errno.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// SIGSYS: what the kernel kills a process with on SECCOMP_RET_KILL_PROCESS.
const SIGSYS: i32 = 31;

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("hardinit-seccomp-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Write `text` to `name` in the directory; returns the path as a string.
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Run hardinit in raw mode with `opts`, then `program`.
fn raw(opts: &[&str], program: &[&str]) -> Output {
    let mut args = vec!["--log-format", "raw"];
    args.extend_from_slice(opts);
    args.push("--");
    args.extend_from_slice(program);
    Run::new(&args).output()
}

/// Run the probe fixture under hardinit with `opts`; the result of each
/// probe by name.
fn probe(opts: &[&str], probes: &[&str]) -> (Output, BTreeMap<String, String>) {
    let fixture = path_str(&example("probe_syscalls"));
    let mut program = vec![fixture.as_str()];
    program.extend_from_slice(probes);
    let out = raw(opts, &program);
    let results = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (out, results)
}

/// Probe under `opts` and check each (probe, expected result) pair.
#[track_caller]
fn assert_probes(opts: &[&str], cases: &[(&str, &str)]) {
    let names: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
    let (out, got) = probe(opts, &names);
    assert_eq!(out.code, Some(0), "{opts:?}: {out:?}");
    for (name, want) in cases {
        assert_eq!(
            got.get(*name).map(String::as_str),
            Some(*want),
            "{opts:?}: probe {name}; all results: {got:?}; stderr: {}",
            out.stderr
        );
    }
}

/// `key value` lines of `hardinit check` / `--debug` output.
fn fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// `hardinit check --seccomp SPEC`: exit code and fields.
fn check(spec: &str) -> (Output, BTreeMap<String, String>) {
    let out = Run::new(&["check", "--seccomp", spec]).output();
    let f = fields(&out.stdout);
    (out, f)
}

/// The number of filters the kernel reports for the child under `spec`,
/// from `--debug` (read from /proc before exec), minus what we inherit.
fn debug_filters(spec: &str) -> u32 {
    let out = raw(&["--debug", "--seccomp", spec], &["true"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let text = format!("{}{}", out.stdout, out.stderr);
    let n: u32 = fields(&text)
        .get("seccomp_filters")
        .unwrap_or_else(|| panic!("no seccomp_filters in --debug output: {text}"))
        .parse()
        .unwrap();
    n - own_filters()
}

/// Filters the test process itself runs under (inherited by hardinit).
fn own_filters() -> u32 {
    proc_status(std::process::id() as i32, "Seccomp_filters")
        .map(|v| v.parse().unwrap())
        .unwrap_or(0)
}

fn own_seccomp_mode() -> String {
    proc_status(std::process::id() as i32, "Seccomp").unwrap_or_else(|| "0".into())
}

fn have(program: &str) -> bool {
    let found = ["/usr/local/bin", "/usr/bin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).exists());
    if !found {
        skip(&format!("{program} is not installed"));
    }
    found
}

/// The calls issue 4 names, with what the default profile must answer.
const DENIED_BY_DEFAULT: &[&str] = &[
    "mount",
    "unshare_userns",
    "keyctl",
    "bpf",
    "perf_event_open",
    "ptrace",
    "kexec_load",
];

/// Allowed calls and the kernel's own answer to the fixture's bad arguments.
const ALLOWED_BY_DEFAULT: &[(&str, &str)] = &[
    ("read", "EBADF"),
    ("write", "EBADF"),
    ("openat", "EFAULT"),
    ("clone", "EINVAL"),
    ("execve", "EFAULT"),
    ("socket_inet", "EINVAL"),
    ("getpid", "ok"),
];

#[test]
fn default_profile_denies_dangerous_calls_with_eperm() {
    // Control: without a filter none of these fail with EPERM, so an EPERM
    // under the profile comes from the filter.
    let (out, free) = probe(&["--seccomp", "unconfined"], DENIED_BY_DEFAULT);
    assert_eq!(out.code, Some(0), "{out:?}");
    for name in DENIED_BY_DEFAULT {
        let r = free.get(*name).map(String::as_str);
        assert!(
            r.is_some() && r != Some("EPERM"),
            "unconfined {name}: {r:?}"
        );
    }
    let cases: Vec<(&str, &str)> = DENIED_BY_DEFAULT.iter().map(|n| (*n, "EPERM")).collect();
    // `default` is what no --seccomp means.
    assert_probes(&[], &cases);
    assert_probes(&["--seccomp", "default"], &cases);
    // Kept capabilities do not open them: the default denies them whatever is kept.
    if is_root() {
        assert_probes(&["--cap-add", "ALL"], &cases);
    }
}

/// More of what the default denies beyond Docker's default (see
/// seccomp-profiles/README.md), with the errno it answers.
const DEFAULT_STRICTER_THAN_DOCKER: &[(&str, &str)] = &[
    ("clone_newuser", "EPERM"),
    ("setns", "EPERM"),
    ("umount2", "EPERM"),
    ("pivot_root", "EPERM"),
    ("process_vm_readv", "EPERM"),
    ("process_vm_writev", "EPERM"),
    ("kexec_file_load", "EPERM"),
    ("init_module", "EPERM"),
    ("finit_module", "EPERM"),
    ("delete_module", "EPERM"),
    ("open_by_handle_at", "EPERM"),
    ("name_to_handle_at", "EPERM"),
    ("swapon", "EPERM"),
    ("reboot", "EPERM"),
    ("syslog", "EPERM"),
    ("personality_rie", "EPERM"),
    ("ioctl_tiocsti", "EPERM"),
    ("socket_packet", "EPERM"),
    ("socket_netlink_audit", "EPERM"),
    ("add_key", "EPERM"),
    ("request_key", "EPERM"),
    ("userfaultfd", "EPERM"),
    // ENOSYS so that callers fall back (clone3 -> clone, io_uring -> epoll).
    ("clone3", "ENOSYS"),
    ("io_uring_setup", "ENOSYS"),
    ("io_uring_enter", "ENOSYS"),
    // Still allowed: the query form of personality, other ioctls.
    ("personality", "ok"),
    ("ioctl", "EBADF"),
];

#[test]
fn default_profile_denies_more_than_docker() {
    let names: Vec<&str> = DEFAULT_STRICTER_THAN_DOCKER
        .iter()
        .map(|(n, _)| *n)
        .collect();
    if is_root() {
        // Control, with every capability kept so the kernel's own permission
        // checks cannot produce the errno: without a filter none of the
        // denials happen.
        let (out, free) = probe(&["--seccomp", "unconfined", "--cap-add", "ALL"], &names);
        assert_eq!(out.code, Some(0), "{out:?}");
        for (name, want) in DEFAULT_STRICTER_THAN_DOCKER {
            let r = free.get(*name).map(String::as_str);
            assert!(r.is_some(), "unconfined {name}: {out:?}");
            if !matches!(*want, "ok" | "EBADF") {
                assert_ne!(r, Some(*want), "unconfined {name}: {free:?}");
            }
        }
    } else {
        skip("not root: no control run with all capabilities kept");
    }
    assert_probes(&[], DEFAULT_STRICTER_THAN_DOCKER);
    if is_root() {
        // Kept capabilities do not reopen them.
        assert_probes(&["--cap-add", "ALL"], DEFAULT_STRICTER_THAN_DOCKER);
    }
}

#[test]
fn overlapping_entries_strictest_action_then_earliest_errno_wins() {
    let dir = Scratch::new("overlap");
    // A broad allow and a narrow deny of the same call: the deny wins
    // whatever the order.
    for (name, entries) in [
        (
            "allow-first",
            r#"{"names": ["socket"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}"#,
        ),
        (
            "deny-first",
            r#"{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
               {"names": ["socket"], "action": "SCMP_ACT_ALLOW"}"#,
        ),
    ] {
        let spec = dir.file(
            &format!("{name}.json"),
            &format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{entries}]}}"#),
        );
        assert_probes(
            &["--seccomp", &spec],
            &[("socket_inet", "EACCES"), ("socket_unix", "EINVAL")],
        );
    }
    // Two ERRNO entries matching one call: the earlier entry's errno.
    let narrow = r#"{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                     "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}"#;
    let broad = r#"{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}"#;
    for (name, first, second, inet) in [
        ("narrow-first", narrow, broad, "EACCES"),
        ("broad-first", broad, narrow, "EPERM"),
    ] {
        let spec = dir.file(
            &format!("{name}.json"),
            &format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{first}, {second}]}}"#),
        );
        assert_probes(
            &["--seccomp", &spec],
            &[
                ("socket_inet", inet),
                ("socket_unix", "EPERM"),
                ("read", "EBADF"),
            ],
        );
    }
}

#[test]
fn default_profile_allows_ordinary_calls() {
    assert_probes(&[], ALLOWED_BY_DEFAULT);
    assert_probes(&["--seccomp", "default"], ALLOWED_BY_DEFAULT);
    // The same answers with no filter: the profile does not change them.
    assert_probes(&["--seccomp", "unconfined"], ALLOWED_BY_DEFAULT);
}

#[test]
fn socket_family_rules_compare_32_bits() {
    // Without a filter, AF_INET | 1 << 32 is an AF_INET call (the kernel reads
    // an int): the high bits reach the kernel and are ignored there.
    assert_probes(
        &["--seccomp", "unconfined"],
        &[
            ("socket_inet_highbits", "EINVAL"),
            ("socket_vsock_highbits", "EINVAL"),
        ],
    );

    let dir = Scratch::new("family");
    // Everything allowed except socket(AF_INET), by an EQ deny rule.
    let deny_eq = dir.file(
        "deny-inet.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    // Everything allowed except families <= AF_INET, by an LE deny rule.
    let deny_le = dir.file(
        "deny-le.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_LE"}]}]}"#,
    );
    // The reverse: socket allowed only for AF_UNIX (EQ allow rule), the
    // rest of what the probe fixture needs allowed, default EPERM.
    let allow_unix = dir.file(
        "allow-unix.json",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
            {"names": ["execve", "brk", "mmap", "munmap", "mprotect", "arch_prctl",
                       "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                       "rt_sigaction", "rt_sigprocmask", "sigaltstack", "poll",
                       "read", "write", "close", "openat", "newfstatat", "fstat",
                       "pread64", "readlink", "getrandom", "sched_getaffinity",
                       "exit", "exit_group", "futex", "getpid", "seccomp"],
             "action": "SCMP_ACT_ALLOW"}]}"#,
    );

    assert_probes(
        &["--seccomp", &deny_eq],
        &[
            ("socket_inet", "EACCES"),
            ("socket_inet_highbits", "EACCES"),
            ("socket_unix", "EINVAL"),
        ],
    );
    assert_probes(
        &["--seccomp", &deny_le],
        &[
            ("socket_unix", "EPERM"),
            ("socket_inet", "EPERM"),
            ("socket_inet_highbits", "EPERM"),
            ("socket_vsock", "EINVAL"),
        ],
    );
    assert_probes(
        &["--seccomp", &allow_unix],
        &[
            ("socket_unix", "EINVAL"),
            ("socket_inet", "EPERM"),
            ("socket_inet_highbits", "EPERM"),
            ("socket_vsock_highbits", "EPERM"),
        ],
    );
    // The embedded default allows AF_INET by family and keeps AF_VSOCK out.
    assert_probes(
        &[],
        &[
            ("socket_inet_highbits", "EINVAL"),
            ("socket_vsock", "EPERM"),
            ("socket_vsock_highbits", "EPERM"),
            ("socket_packet", "EPERM"),
            ("socket_netlink_audit", "EPERM"),
        ],
    );
    // Docker's profile allows socket when family != AF_VSOCK: a 64-bit
    // comparison would let AF_VSOCK | 1 << 32 through.
    if let Some(docker) = shared_fixture("seccomp/docker-default.json") {
        let docker = path_str(&docker);
        assert_probes(
            &["--seccomp", &docker],
            &[
                ("socket_inet", "EINVAL"),
                ("socket_vsock", "EPERM"),
                ("socket_vsock_highbits", "EPERM"),
            ],
        );
    }
}

#[test]
fn i386_int80_is_killed_under_every_profile() {
    if !cfg!(target_arch = "x86_64") {
        skip("int 0x80 exists on x86_64 only");
        return;
    }
    // Control: without a filter the 32-bit entry point works.
    assert_probes(&["--seccomp", "unconfined"], &[("int80", "ok")]);

    let dir = Scratch::new("int80");
    let allow_all_but_mount = dir.file(
        "allow.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    let mut profiles = vec!["default".to_string(), allow_all_but_mount];
    for name in ["docker-default.json", "podman-default.json"] {
        if let Some(p) = shared_fixture(&format!("seccomp/{name}")) {
            profiles.push(path_str(&p));
        }
    }
    for spec in &profiles {
        let (out, got) = probe(&["--seccomp", spec], &["getpid", "int80", "read"]);
        // The kernel kills the process (SECCOMP_RET_KILL_PROCESS): SIGSYS,
        // which hardinit reports as 128 + 31.
        assert_eq!(out.code, Some(128 + SIGSYS), "{spec}: {out:?}");
        assert_eq!(
            got.get("getpid").map(String::as_str),
            Some("ok"),
            "{spec}: {out:?}"
        );
        assert!(
            !got.contains_key("int80"),
            "{spec}: int 0x80 returned: {out:?}"
        );
        assert!(
            !got.contains_key("read"),
            "{spec}: survived int 0x80: {out:?}"
        );
    }
}

#[test]
fn x32_syscall_numbers_are_killed_under_every_profile() {
    if !cfg!(target_arch = "x86_64") {
        skip("the x32 ABI exists on x86_64 only");
        return;
    }
    let fixture = path_str(&example("s_x32"));
    // Control: without a filter the kernel answers (ENOSYS without x32 support).
    let out = raw(&["--seccomp", "unconfined"], &[&fixture]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.starts_with("x32 "), "{out:?}");

    let dir = Scratch::new("x32");
    // Default ALLOW: the profile itself would let every x32 call through.
    let allow = dir.file(
        "allow.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    for spec in ["default", allow.as_str()] {
        let out = raw(&["--seccomp", spec], &[&fixture]);
        assert_eq!(out.code, Some(128 + SIGSYS), "{spec}: {out:?}");
        assert_eq!(out.stdout, "", "{spec}: {out:?}");
    }
}

#[test]
fn shell_pipeline_and_subshell_run_under_default() {
    let out = raw(
        &[],
        &[
            "sh",
            "-c",
            "printf 'b\\na\\n' | sort | tr a-z A-Z; (echo sub; exit 3); echo \"status $?\"; \
             x=$(echo captured); echo \"$x\"",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "A\nB\nsub\nstatus 3\ncaptured\n", "{out:?}");
}

#[test]
fn coreutils_run_under_default() {
    let out = raw(&[], &["ls", "-la", "/"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.lines().any(|l| l.ends_with(" proc")), "{out:?}");
    let out = raw(&[], &["date", "+%Y"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let year: u32 = out
        .stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{out:?}"));
    assert!(year >= 2024, "{out:?}");
}

#[test]
fn python_thread_and_subprocess_run_under_default() {
    if !have("python3") {
        return;
    }
    let script = r#"
import subprocess, threading
found = []
def work():
    found.append(subprocess.run(["echo", "from-thread"], capture_output=True, text=True).stdout.strip())
t = threading.Thread(target=work)
t.start()
t.join()
print(found[0])
print(subprocess.check_output(["sh", "-c", "echo a | tr a b"], text=True).strip())
"#;
    let out = raw(&[], &["python3", "-c", script]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "from-thread\nb\n", "{out:?}");
}

#[test]
fn http_server_answers_a_request_under_default() {
    if !have("python3") {
        return;
    }
    // Binds an ephemeral loopback port, says which, serves one request.
    let script = r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the filter\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
s.timeout = 20
print("listening", s.server_address[1], flush=True)
s.handle_request()
print("served", flush=True)
"#;
    let mut server =
        Run::new(&["--log-format", "raw", "--", "python3", "-u", "-c", script]).spawn();
    let line = server.wait_line("listening");
    let port: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.0 200"), "{reply:?}");
    assert!(reply.ends_with("hello from the filter\n"), "{reply:?}");
    server.wait_line("served");
    assert_eq!(server.wait_timeout(TIMEOUT), Some(0));
}

#[test]
fn docker_and_podman_profiles_load_and_run() {
    for name in ["docker-default.json", "podman-default.json"] {
        let Some(p) = shared_fixture(&format!("seccomp/{name}")) else {
            continue;
        };
        let spec = path_str(&p);
        let out = raw(&["--seccomp", &spec], &["sh", "-c", "echo ok"]);
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_eq!(out.stdout, "ok\n", "{name}: {out:?}");

        let (out, f) = check(&spec);
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_eq!(f.get("seccomp_profile"), Some(&spec), "{out:?}");
        let insns: usize = f["seccomp_instructions"].parse().unwrap();
        assert!(insns > 100, "{name}: {insns} instructions");
        eprintln!(
            "{name}: {insns} instructions, {} syscalls allowed, default {}",
            f["seccomp_allowed"], f["seccomp_default_action"]
        );
        // Docker: ERRNO(1) default + the clone3 ENOSYS entry. Podman: ENOSYS
        // default + EPERM and EINVAL entries. Every action in one filter.
        assert_eq!(debug_filters(&spec), 1, "{name}");
    }
}

/// Broken profiles: (name, JSON, what the message must contain).
const BAD_PROFILES: &[(&str, &str, &str)] = &[
    (
        "syntax",
        "{\"defaultAction\": \"SCMP_ACT_ERRNO\",\n \"syscalls\": [",
        "line 2 column",
    ),
    (
        "unknown-action",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["write"], "action": "SCMP_ACT_MAYBE"}]}"#,
        "syscalls[1].action",
    ),
    (
        "unknown-default-action",
        r#"{"defaultAction": "SCMP_ACT_PERHAPS", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
        "defaultAction",
    ),
    (
        "bad-op",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}]}]}"#,
        "syscalls[0].args[0].op",
    ),
    (
        "index-6",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["write"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                      {"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
        "syscalls[1].args[1].index",
    ),
    (
        "empty-allow",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}"#,
        "syscalls",
    ),
    (
        "unknown-key",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "argz": []}]}"#,
        "syscalls[0].argz",
    ),
    (
        "unknown-top-key",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "flagz": [], "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
        "flagz",
    ),
    (
        "unknown-deny-name",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mount", "no_such_call"], "action": "SCMP_ACT_ERRNO"}]}"#,
        "syscalls[0].names[1]",
    ),
];

#[test]
fn bad_profiles_exit_125_with_the_json_path_and_run_nothing() {
    let dir = Scratch::new("bad");
    let marker = dir.path("ran");
    let marker_s = path_str(&marker);
    for (name, json, where_) in BAD_PROFILES {
        let spec = dir.file(&format!("{name}.json"), json);
        let out = raw(&["--seccomp", &spec], &["touch", &marker_s]);
        assert_eq!(out.code, Some(125), "{name}: {out:?}");
        assert!(!marker.exists(), "{name}: the program ran");
        let want = format!("seccomp profile {spec}: {where_}");
        assert!(
            out.stderr.contains(&want),
            "{name}: want {want:?} in {:?}",
            out.stderr
        );
        assert_eq!(out.stdout, "", "{name}");

        let (out, _) = check(&spec);
        assert_eq!(out.code, Some(125), "check {name}: {out:?}");
        assert!(
            out.stderr.contains(&want),
            "check {name}: want {want:?} in {:?}",
            out.stderr
        );
    }
    // A name that is neither embedded nor a file.
    let out = raw(&["--seccomp", "no-such-profile"], &["touch", &marker_s]);
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(out.stderr.contains("no-such-profile"), "{out:?}");
    assert!(!marker.exists());
}

#[test]
fn filter_is_loaded_as_the_kernel_reports_it() {
    let base = own_filters();
    let (out, f) = check("default");
    assert_eq!(out.code, Some(0), "{out:?}");
    // The embedded default (ENOSYS for clone3, EPERM for TIOCSTI and
    // TIOCLINUX, the allowlist) is one filter.
    assert_eq!(debug_filters("default"), 1);

    let status = "grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status";
    let cases: &[(&[&str], String, u32)] = &[
        (&[], "2".into(), base + 1),
        (&["--seccomp", "default"], "2".into(), base + 1),
        (&["--seccomp", "unconfined"], own_seccomp_mode(), base),
    ];
    for (opts, mode, filters) in cases {
        let out = raw(opts, &["sh", "-c", status]);
        assert_eq!(out.code, Some(0), "{opts:?}: {out:?}");
        let f = fields(&out.stdout);
        assert_eq!(f.get("Seccomp:"), Some(mode), "{opts:?}: {out:?}");
        assert_eq!(
            f.get("Seccomp_filters:"),
            Some(&filters.to_string()),
            "{opts:?}: {out:?}"
        );
        assert_eq!(
            f.get("NoNewPrivs:").map(String::as_str),
            Some("1"),
            "{out:?}"
        );
    }
    let insns: usize = f["seccomp_instructions"].parse().unwrap();
    eprintln!(
        "default profile: {insns} instructions in one filter, {} syscalls allowed",
        f["seccomp_allowed"]
    );
}

#[test]
fn allow_new_privs_still_installs_the_filter() {
    if !is_root() {
        skip("not root: --allow-new-privs with a filter needs CAP_SYS_ADMIN");
        return;
    }
    let base = own_filters();
    let status = "grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs|CapEff):' /proc/self/status";
    for opts in [
        &["--allow-new-privs"][..],
        &["--allow-new-privs", "--user", "65534:65534"],
        // Even with CAP_SYS_ADMIN kept, the filter is there.
        &["--allow-new-privs", "--cap-add", "SYS_ADMIN"],
    ] {
        let out = raw(opts, &["sh", "-c", status]);
        assert_eq!(out.code, Some(0), "{opts:?}: {out:?}");
        let f = fields(&out.stdout);
        assert_eq!(
            f.get("NoNewPrivs:").map(String::as_str),
            Some("0"),
            "{out:?}"
        );
        assert_eq!(f.get("Seccomp:").map(String::as_str), Some("2"), "{out:?}");
        assert_eq!(
            f.get("Seccomp_filters:"),
            Some(&(base + 1).to_string()),
            "{opts:?}: {out:?}"
        );
    }
    let cases: Vec<(&str, &str)> = DENIED_BY_DEFAULT.iter().map(|n| (*n, "EPERM")).collect();
    assert_probes(&["--allow-new-privs", "--cap-add", "SYS_ADMIN"], &cases);
    assert_probes(&["--allow-new-privs"], ALLOWED_BY_DEFAULT);

    // With Landlock too: the early filter must let the child's later steps
    // (capability drop, Landlock) through. Landlock without no_new_privs
    // needs CAP_SYS_ADMIN in the child at that point, so it is refused
    // before anything runs unless the program keeps it.
    // The kernel's own answer (securityfs may not be mounted to ask it).
    let inspect = Run::new(&["inspect", "--json"]).output();
    let report: serde_json::Value = serde_json::from_str(inspect.stdout.trim()).unwrap();
    if report["landlock_abi"].as_i64().unwrap_or(0) < 3 {
        skip("Landlock is not enabled in this kernel");
        return;
    }
    let out = raw(
        &["--allow-new-privs", "--read-only", "--cap-add", "SYS_ADMIN"],
        &["sh", "-c", status],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let f = fields(&out.stdout);
    assert_eq!(f.get("Seccomp:").map(String::as_str), Some("2"), "{out:?}");
    let out = raw(
        &["--allow-new-privs", "--read-only"],
        &["sh", "-c", "echo ran"],
    );
    assert_eq!(out.code, Some(125), "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert!(out.stderr.contains("CAP_SYS_ADMIN"), "{out:?}");
}

/// Not a timed test: prints the compiled size and a rough start-up cost.
#[test]
fn measure_default_profile() {
    let (out, f) = check("default");
    assert_eq!(out.code, Some(0), "{out:?}");
    let filters = debug_filters("default");
    eprintln!(
        "MEASURE default profile: {} instructions, {filters} filters, {} syscalls allowed",
        f["seccomp_instructions"], f["seccomp_allowed"]
    );
    for spec in ["default", "unconfined"] {
        let runs = 20;
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let out = raw(&["--seccomp", spec], &["/bin/true"]);
                assert_eq!(out.code, Some(0), "{out:?}");
                started.elapsed()
            })
            .collect();
        times.sort();
        eprintln!(
            "MEASURE hardinit --seccomp {spec} -- /bin/true: median {:?} over {runs} runs (debug build)",
            times[runs / 2]
        );
    }
}

#[test]
fn a_profile_that_would_block_the_start_itself_is_refused() {
    let dir = std::env::temp_dir().join(format!("hardinit-seccomp-min-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("no-read.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    for first in ["check", "--log-format"] {
        let mut args = vec![first];
        if first == "--log-format" {
            args.push("raw");
        }
        args.extend(["--seccomp", profile.to_str().unwrap(), "--", "true"]);
        let out = Run::new(&args).output();
        assert_eq!(out.code, Some(125), "{out:?}");
        assert!(out.stderr.contains("does not allow read"), "{}", out.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
