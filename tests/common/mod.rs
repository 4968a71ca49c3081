//! Test harness: run the real hardinit binary, as a normal process or as PID 1
//! of a fresh PID namespace, with a timeout, and leave nothing behind.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hardinit"))
}

/// A fixture program from `examples/` (cargo test builds them next to the binary).
pub fn example(name: &str) -> PathBuf {
    let p = bin().parent().unwrap().join("examples").join(name);
    assert!(
        p.exists(),
        "fixture {} not built; run `cargo test` (it builds examples)",
        p.display()
    );
    p
}

/// The shared fixtures directory (../shared/fixtures), if present.
pub fn shared_fixture(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        skip(&format!(
            "{} is missing (a clone without ../shared)",
            p.display()
        ));
        None
    }
}

/// Print why a test cannot run. Under CI (CI=true) a skip is a failure:
/// CI must run everything.
pub fn skip(reason: &str) {
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("test cannot run under CI: {reason}");
    }
    eprintln!("SKIP: {reason}");
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no arguments.
    unsafe { libc::geteuid() == 0 }
}

/// Root and `unshare --pid` available: hardinit can be PID 1.
pub fn can_be_pid1() -> bool {
    if !is_root() {
        skip("not root: cannot make hardinit PID 1 of a new PID namespace");
        return false;
    }
    true
}

/// How to start hardinit.
pub struct Run {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub pid1: bool,
    pub argv0: Option<String>,
    pub stdin_null: bool,
}

impl Run {
    pub fn new(args: &[&str]) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            pid1: false,
            argv0: None,
            stdin_null: true,
        }
    }

    /// As PID 1 of a new PID namespace (needs root).
    pub fn pid1(mut self) -> Run {
        self.pid1 = true;
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Run {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Invoke under another name (tini mode) through a symlink.
    pub fn argv0(mut self, name: &str) -> Run {
        self.argv0 = Some(name.into());
        self
    }

    pub fn command(&self) -> Command {
        let exe = match &self.argv0 {
            Some(name) => {
                let dir =
                    std::env::temp_dir().join(format!("hardinit-argv0-{}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let link = dir.join(name);
                // Tests run in parallel: another one may create it first.
                match std::os::unix::fs::symlink(bin(), &link) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => panic!("symlink {}: {e}", link.display()),
                }
                link
            }
            None => bin(),
        };
        let mut cmd = if self.pid1 {
            let mut c = Command::new("unshare");
            c.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
                .arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(&self.args);
        // A clean, predictable environment: no HARDINIT_* from the outside.
        cmd.env_clear();
        cmd.env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        );
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if self.stdin_null {
            cmd.stdin(Stdio::null());
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        // Own process group, so cleanup can kill everything we started.
        cmd.process_group(0);
        cmd
    }

    /// Run to completion (or kill at the timeout) and collect the output.
    pub fn output(&self) -> Output {
        self.output_within(TIMEOUT)
    }

    pub fn output_within(&self, timeout: Duration) -> Output {
        let started = Instant::now();
        let child = self.command().spawn().expect("start hardinit");
        let mut s = Spawned::new(child);
        let code = s.wait_timeout(timeout);
        let (stdout, stderr) = s.collect();
        Output {
            code,
            stdout,
            stderr,
            elapsed: started.elapsed(),
        }
    }

    pub fn spawn(&self) -> Spawned {
        Spawned::new(self.command().spawn().expect("start hardinit"))
    }
}

#[derive(Debug)]
pub struct Output {
    /// Exit code; None when killed by the timeout or a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    /// stdout lines parsed as JSON (mozlog records), panicking on any other line.
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The `Fields.msg` of the program's records of one stream.
    pub fn msgs(&self, kind: &str) -> Vec<String> {
        self.records()
            .iter()
            .filter(|r| r["Type"] == kind)
            .map(|r| r["Fields"]["msg"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// A running hardinit whose stdout lines can be awaited. Killed (with its
/// whole process group) when dropped.
pub struct Spawned {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Spawned {
    fn new(mut child: Child) -> Spawned {
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Spawned {
            child,
            lines: rx,
            seen: Vec::new(),
            stderr: Some(stderr),
            reader: Some(reader),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Wait for a stdout line containing `needle`; returns it.
    pub fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "no line containing {needle:?} within {TIMEOUT:?}; saw {:?}",
                    self.seen
                ),
            }
        }
    }

    /// The host pid of hardinit itself (under unshare, the forked child).
    pub fn hardinit_pid(&self, pid1: bool) -> i32 {
        if !pid1 {
            return self.pid();
        }
        let path = format!("/proc/{0}/task/{0}/children", self.pid());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                if let Some(p) = text.split_whitespace().next() {
                    return p.parse().unwrap();
                }
            }
            assert!(Instant::now() < deadline, "unshare never forked");
            std::thread::yield_now();
        }
    }

    pub fn signal(&self, pid: i32, sig: i32) {
        // SAFETY: kill has no memory arguments.
        let r = unsafe { libc::kill(pid, sig) };
        assert_eq!(r, 0, "kill({pid}, {sig}) failed");
    }

    /// Exit code, or None if it had to be killed at the timeout.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            if Instant::now() >= deadline {
                self.kill_all();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn kill_all(&self) {
        // SAFETY: kill has no memory arguments; the group is ours.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
    }

    /// Remaining stdout lines (after exit) and all of stderr.
    pub fn collect(&mut self) -> (String, String) {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let mut out: Vec<String> = std::mem::take(&mut self.seen);
        while let Ok(l) = self.lines.try_recv() {
            out.push(l);
        }
        let mut stdout = out.join("\n");
        if !stdout.is_empty() {
            stdout.push('\n');
        }
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (stdout, stderr)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.kill_all();
            let _ = self.child.wait();
        }
    }
}

/// Read a field of /proc/<pid>/status.
pub fn proc_status(pid: i32, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(&format!("{key}:"))
            .map(|v| v.trim().to_string())
    })
}

/// Start a command made from `Run::command()` (perhaps with a `pre_exec`
/// added), with the same line reader and clean-up as `Run::spawn`.
pub fn spawn_command(mut cmd: Command) -> Spawned {
    Spawned::new(cmd.spawn().expect("start hardinit"))
}

/// Like `Run::output`, for a command made from `Run::command()`.
pub fn output_of(cmd: Command) -> Output {
    let started = Instant::now();
    let mut s = spawn_command(cmd);
    let code = s.wait_timeout(TIMEOUT);
    let (stdout, stderr) = s.collect();
    Output {
        code,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    }
}

impl Spawned {
    /// The next stdout line, whatever it holds (panics at the timeout).
    pub fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(l) => {
                self.seen.push(l.clone());
                l
            }
            Err(_) => panic!("no further line within {TIMEOUT:?}; saw {:?}", self.seen),
        }
    }

    /// Run to the end (killed at the timeout) and collect everything.
    pub fn finish(mut self) -> Output {
        let started = Instant::now();
        let code = self.wait_timeout(TIMEOUT);
        let (stdout, stderr) = self.collect();
        Output {
            code,
            stdout,
            stderr,
            elapsed: started.elapsed(),
        }
    }
}

/// A signal mask as /proc/<pid>/status prints it (bit N-1 for signal N).
pub fn sig_mask(sigs: &[i32]) -> u64 {
    sigs.iter().fold(0, |m, s| m | 1 << (s - 1))
}

/// Wait until `pid` sleeps in poll(2) (or ppoll): an idle event loop.
pub fn wait_blocked_in_poll(pid: i32) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        let nr = syscall.split_whitespace().next().unwrap_or("");
        if nr == libc::SYS_poll.to_string() || nr == libc::SYS_ppoll.to_string() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} never blocked in poll ({syscall:?})"
        );
        std::thread::yield_now();
    }
}

/// Wait until `pid` (not our child) has gone, at most the timeout.
pub fn wait_gone(pid: i32) {
    let deadline = Instant::now() + TIMEOUT;
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false);
        if zombie {
            return;
        }
        if Instant::now() >= deadline {
            // SAFETY: kill has no memory arguments.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("pid {pid} still running after {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Like `Run::output`, with programs around hardinit: `outer` first (e.g.
/// `unshare --net`), then unshare for PID 1 when `run.pid1`, then `inner`
/// (e.g. `setpriv ...`; it execs hardinit, which is then still PID 1).
pub fn output_wrapped(run: &Run, outer: &[&str], inner: &[&str]) -> Output {
    let started = Instant::now();
    let mut words: Vec<String> = outer.iter().map(|s| s.to_string()).collect();
    if run.pid1 {
        words.extend(
            ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
                .iter()
                .map(|s| s.to_string()),
        );
    }
    words.extend(inner.iter().map(|s| s.to_string()));
    let mut cmd = Command::new(&words[0]);
    cmd.args(&words[1..]).arg(bin()).args(&run.args);
    cmd.env_clear();
    cmd.env(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
    for (k, v) in &run.env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.process_group(0);
    let mut s = Spawned::new(cmd.spawn().expect("start hardinit"));
    let code = s.wait_timeout(TIMEOUT);
    let (stdout, stderr) = s.collect();
    Output {
        code,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    }
}

/// A fresh path in the temp directory for one test (not created).
pub fn temp_path(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "hardinit-{}-{}-{}",
        std::process::id(),
        tag,
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Options hardinit must refuse before anything runs: (name, options,
/// words the message must contain). Shared by the run and `check` tests.
pub fn bad_inputs() -> Vec<(&'static str, Vec<String>, Vec<&'static str>)> {
    let (_, hard) = nofile_limits();
    let raise = format!("nofile={0}:{0}", hard.saturating_add(1));
    let s = |v: &[&str]| v.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    vec![
        (
            "unknown capability to add",
            s(&["--cap-add", "NET_BIND"]),
            vec!["--cap-add", "unknown capability \"NET_BIND\""],
        ),
        (
            "unknown capability to drop",
            s(&["--cap-drop", "CHOWN,FOO"]),
            vec!["--cap-drop", "unknown capability \"FOO\""],
        ),
        (
            "capability hardinit does not hold (CAP_SYS_RESOURCE)",
            s(&["--cap-add", "SYS_RESOURCE"]),
            vec!["CAP_SYS_RESOURCE", "does not hold"],
        ),
        (
            "unknown user",
            s(&["--user", "no-such-user-h"]),
            vec!["--user", "unknown user \"no-such-user-h\""],
        ),
        (
            "unknown group of --user",
            s(&["--user", "10001:no-such-group-h"]),
            vec!["--user", "unknown group \"no-such-group-h\""],
        ),
        (
            "unknown group of --groups",
            s(&["--user", "10001", "--groups", "no-such-group-h"]),
            vec!["--groups", "unknown group \"no-such-group-h\""],
        ),
        (
            "malformed --user, three parts",
            s(&["--user", "a:b:c"]),
            vec!["--user \"a:b:c\"", "expected USER or USER:GROUP"],
        ),
        (
            "malformed --user, empty group",
            s(&["--user", "10001:"]),
            vec!["--user \"10001:\"", "expected USER"],
        ),
        (
            "uid out of range",
            s(&["--user", "4294967295"]),
            vec!["uid", "out of range"],
        ),
        (
            "bad rlimit name",
            s(&["--rlimit", "files=10"]),
            vec!["--rlimit", "unknown limit \"files\""],
        ),
        (
            "bad rlimit value",
            s(&["--rlimit", "nofile=ten"]),
            vec!["--rlimit", "\"ten\" is not a number"],
        ),
        (
            "rlimit soft above hard",
            s(&["--rlimit", "nofile=10:5"]),
            vec!["--rlimit", "soft limit exceeds the hard limit"],
        ),
        (
            "raising a hard rlimit without CAP_SYS_RESOURCE",
            s(&["--rlimit", &raise]),
            vec![
                "--rlimit nofile",
                "raising the hard limit",
                "needs CAP_SYS_RESOURCE",
            ],
        ),
        (
            "contradicting no-new-privs flags",
            s(&["--no-new-privs", "--allow-new-privs"]),
            vec!["contradict"],
        ),
    ]
}

/// The (soft, hard) RLIMIT_NOFILE of this process, which hardinit inherits.
pub fn nofile_limits() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid out pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    (lim.rlim_cur, lim.rlim_max)
}

/// Does this process hold capability `cap` in its effective set?
pub fn holds_cap(cap: u8) -> bool {
    let eff = proc_status(std::process::id() as i32, "CapEff")
        .and_then(|v| u64::from_str_radix(&v, 16).ok())
        .unwrap_or(0);
    eff & (1 << cap) != 0
}

/// The message of hardinit's fatal error on stderr (text mode), without the
/// `[FATAL hardinit (PID)] ` prefix.
pub fn fatal_message(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find(|l| l.starts_with("[FATAL"))
        .and_then(|l| l.split_once("] "))
        .map(|(_, m)| m.to_string())
}

/// A `Spawned` for a command built by the test itself.
pub fn spawned(child: Child) -> Spawned {
    Spawned::new(child)
}

/// Send SIGUSR1 to hardinit (`init`) running `signal_printer --group`;
/// wait until the child, and when `group` also its group member, report it
/// (in either order); then stop everything with SIGTERM.
pub fn usr1_reaches_group(mut s: Spawned, init: i32, group: bool) -> Output {
    s.signal(init, libc::SIGUSR1);
    let mut want = vec!["signal 10"];
    if group {
        want.push("child signal 10");
    }
    while !want.is_empty() {
        let line = s.next_line();
        want.retain(|w| *w != line);
    }
    s.signal(init, libc::SIGTERM);
    s.finish()
}
