//! mozlog output: schema validity, nothing lost, order per stream, edge
//! input, back-pressure that never delays signals, bounded exit drain.
mod common;
use common::*;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mozlog(script: &str) -> Run {
    Run::new(&[
        "--seccomp",
        "unconfined",
        "--log-format",
        "mozlog",
        "--",
        "sh",
        "-c",
        script,
    ])
}

/// Validate every line of `stdout` with a real JSON Schema validator.
fn assert_schema_valid(stdout: &str) -> usize {
    let Some(schema) = shared_fixture("mozlog/mozlog-schema.json") else {
        return 0;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/validate_mozlog.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .arg(schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with jsonschema (installed by .ci/install-deps.sh)");
    let mut stdin = child.stdin.take().unwrap();
    let data = stdout.to_string();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(data.as_bytes());
    });
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "schema validation failed: {out}");
    out.trim().parse().unwrap()
}

#[test]
fn records_are_schema_valid_with_the_envelope() {
    let out = mozlog("echo out; echo err >&2; printf 'last'").output();
    assert_eq!(out.code, Some(0), "{out:?}");
    let n = assert_schema_valid(&out.stdout);
    assert!(n == 0 || n >= 3, "{n}");
    let recs = out.records();
    let line = recs.iter().find(|r| r["Fields"]["msg"] == "out").unwrap();
    assert_eq!(line["Type"], "stdout");
    assert_eq!(line["Severity"], 6);
    assert_eq!(line["Logger"], "sh");
    assert_eq!(line["EnvVersion"], "2.0");
    assert!(line["Timestamp"].is_u64());
    assert!(line["Pid"].as_u64().unwrap() > 0);
    let err = recs.iter().find(|r| r["Fields"]["msg"] == "err").unwrap();
    assert_eq!(err["Type"], "stderr");
    assert_eq!(err["Severity"], 3);
    assert_eq!(out.msgs("stdout"), vec!["out", "last"]);
    // hardinit's own events are records too.
    assert!(recs
        .iter()
        .any(|r| r["Logger"] == "hardinit" && r["Type"] == "hardinit.child_exited"));
}

#[test]
fn options_set_logger_and_severity() {
    let out = Run::new(&[
        "--seccomp",
        "unconfined",
        "--log-format",
        "mozlog",
        "--logger",
        "web",
        "--stdout-severity",
        "5",
        "--stderr-severity",
        "2",
        "--",
        "sh",
        "-c",
        "echo a; echo b >&2",
    ])
    .output();
    let recs = out.records();
    let a = recs.iter().find(|r| r["Fields"]["msg"] == "a").unwrap();
    assert_eq!(
        (a["Logger"].as_str(), a["Severity"].as_u64()),
        (Some("web"), Some(5))
    );
    let b = recs.iter().find(|r| r["Fields"]["msg"] == "b").unwrap();
    assert_eq!(b["Severity"], 2);
}

#[test]
fn nothing_lost_order_kept_per_stream() {
    let out =
        mozlog("seq 1 100000 >&2 & seq 1 1000000; wait").output_within(Duration::from_secs(120));
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    for (kind, n) in [("stdout", 1_000_000u64), ("stderr", 100_000)] {
        let msgs = out.msgs(kind);
        assert_eq!(msgs.len() as u64, n, "{kind}");
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(m.parse::<u64>().ok(), Some(i as u64 + 1), "{kind} line {i}");
        }
    }
}

#[test]
fn edge_input_table() {
    // (name, printf format, expected msgs on stdout)
    let cases: &[(&str, &str, &[&str])] = &[
        ("empty lines", r"\n\n", &["", ""]),
        ("crlf", r"a\r\nb\r\n", &["a", "b"]),
        ("only one cr stripped", r"a\r\r\n", &["a\r"]),
        ("invalid utf-8", r"x\377\376y\n", &["x\u{FFFD}\u{FFFD}y"]),
        ("nul and esc", r"a\000b\033[1mc\n", &["a\u{0}b\u{1b}[1mc"]),
        ("final line without newline", r"one\ntwo", &["one", "two"]),
        (
            "other json stays a string",
            r#"{"a": 1}\n"#,
            &[r#"{"a": 1}"#],
        ),
        ("four-byte utf-8", r"\360\237\230\200\n", &["\u{1F600}"]),
    ];
    for (name, fmt, want) in cases {
        let out = mozlog(&format!("printf '{fmt}'")).output();
        assert_eq!(out.code, Some(0), "{name}: {out:?}");
        assert_schema_valid(&out.stdout);
        assert_eq!(out.msgs("stdout"), *want, "{name}");
    }
}

#[test]
fn mozlog_lines_pass_through_unchanged() {
    let rec = r#"{"Timestamp":1700000000000000000,"Type":"app.request","Logger":"web","Hostname":"h","EnvVersion":"2.0","Severity":6,"Pid":3,"Fields":{"path":"/","status":200}}"#;
    let out = mozlog(&format!("echo '{rec}'")).output();
    assert!(out.stdout.lines().any(|l| l == rec), "{}", out.stdout);
}

#[test]
fn long_lines_split_into_bounded_records() {
    // 10 MiB without a newline, then 4-byte characters across boundaries.
    let out = mozlog("head -c 10485760 /dev/zero | tr '\\000' a; printf '\\n'; i=0; while [ $i -lt 5000 ]; do printf '\\360\\237\\230\\200'; i=$((i+1)); done")
        .output_within(Duration::from_secs(120));
    assert_eq!(out.code, Some(0));
    let mut texts: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in out.stdout.lines() {
        assert!(line.len() < 16384, "record of {} bytes", line.len() + 1);
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        if r["Type"] != "stdout" {
            continue;
        }
        let f = &r["Fields"];
        current.push_str(f["msg"].as_str().unwrap());
        if f.get("partial_id").is_none() || f["partial_last"] == true {
            texts.push(std::mem::take(&mut current));
        }
    }
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[0].len(), 10 * 1024 * 1024);
    assert!(texts[0].bytes().all(|b| b == b'a'));
    assert_eq!(texts[1], "\u{1F600}".repeat(5000));
    assert_schema_valid(&out.stdout);
}

#[test]
fn blocked_stdout_never_delays_signals_or_reaping() {
    if !can_be_pid1() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hardinit-mozlog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("ready");
    let _ = std::fs::remove_file(&fifo);
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: c is a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

    // hardinit's stdout: a pipe nobody reads.
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let run = Run::new(&[
        "--seccomp",
        "unconfined",
        "--log-format",
        "mozlog",
        "--",
        example("flood_until_term").to_str().unwrap(),
        fifo.to_str().unwrap(),
    ])
    .pid1();
    let mut cmd = run.command();
    // SAFETY: fds[1] is a valid descriptor we own; the child gets a dup.
    cmd.stdout(unsafe { <Stdio as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) });
    let mut child = cmd.spawn().unwrap();
    let _guard = KillOnDrop(child.id() as i32);
    // The FIFO is read in a thread so every wait has a timeout.
    let (tx, rx) = std::sync::mpsc::channel();
    let fifo_path = fifo.clone();
    std::thread::spawn(move || {
        let Ok(f) = std::fs::File::open(&fifo_path) else {
            return;
        };
        for line in BufReader::new(f).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let line = rx
        .recv_timeout(TIMEOUT)
        .expect("fixture never reported ready");
    assert!(line.starts_with("ready"), "{line}");

    let hardinit = pid1_child_of(child.id() as i32);
    let app = pid1_child_of(hardinit);
    let sent = Instant::now();
    // SAFETY: kill has no memory arguments.
    assert_eq!(unsafe { libc::kill(hardinit, libc::SIGTERM) }, 0);
    let line = rx
        .recv_timeout(TIMEOUT)
        .expect("SIGTERM never reached the app");
    let latency = sent.elapsed();
    assert_eq!(line.trim(), "TERM");
    assert!(
        latency < Duration::from_millis(100),
        "SIGTERM took {latency:?} with stdout blocked"
    );
    // The app exits; PID 1 must reap it although stdout is still blocked.
    let deadline = Instant::now() + Duration::from_secs(3);
    while std::path::Path::new(&format!("/proc/{app}")).exists() {
        assert!(
            Instant::now() < deadline,
            "app {app} not reaped while stdout is blocked"
        );
        std::thread::yield_now();
    }
    // Closing our read end makes hardinit's writes fail; it then exits with
    // the app's status.
    // SAFETY: fds[0] is ours and not used again.
    unsafe { libc::close(fds[0]) };
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "hardinit did not exit after its stdout closed"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grandchild_holding_the_pipe_does_not_keep_hardinit_alive() {
    let out = mozlog("sleep 30 & echo started").output_within(Duration::from_secs(20));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.elapsed < Duration::from_secs(5),
        "took {:?}",
        out.elapsed
    );
    assert_eq!(out.msgs("stdout"), vec!["started"]);
}

struct KillOnDrop(i32);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SAFETY: kill has no memory arguments; the group is ours.
        unsafe { libc::kill(-self.0, libc::SIGKILL) };
    }
}

fn pid1_child_of(pid: i32) -> i32 {
    let path = format!("/proc/{pid}/task/{pid}/children");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(p) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.split_whitespace().next().map(str::to_string))
        {
            return p.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "no child of {pid}");
        std::thread::yield_now();
    }
}

#[test]
fn a_grandchild_that_keeps_writing_does_not_keep_hardinit_alive() {
    let out = mozlog("(while :; do echo tick; sleep 0.1; done) & echo started")
        .output_within(Duration::from_secs(20));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        out.elapsed < Duration::from_secs(6),
        "took {:?}",
        out.elapsed
    );
}
