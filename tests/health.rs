//! `hardinit health` against real servers run by each test on loopback
//! ephemeral ports and unix sockets.
//!
//! Every listener is bound before the probe starts, so the probe never races
//! the server. Every server thread has socket timeouts, every probe a kill
//! deadline, and each server is joined (woken by a connect if it is still
//! waiting in accept) before its test returns.
//!
//! The probe is the cargo feature `health` (a default); a build without it
//! is tested by tests/health_left_out.rs.
#![cfg(feature = "health")]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const PROBE_LIMIT: Duration = Duration::from_secs(10);
const SERVER_IO_TIMEOUT: Duration = Duration::from_secs(5);

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `hardinit health ARGS`, killing it if it outlives `PROBE_LIMIT`.
fn probe(args: &[&str]) -> Outcome {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_hardinit"))
        .arg("health")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hardinit");
    let pid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || tx.send(child.wait_with_output()).ok());
    let output = match rx.recv_timeout(PROBE_LIMIT) {
        Ok(output) => output.expect("wait for hardinit"),
        Err(_) => {
            kill(pid, Signal::SIGKILL).expect("kill hung probe");
            waiter.join().expect("join waiter");
            panic!("hardinit health {args:?} still running after {PROBE_LIMIT:?}");
        }
    };
    waiter.join().expect("join waiter");
    Outcome {
        code: output.status.code().expect("probe killed by a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

#[track_caller]
fn assert_healthy(out: &Outcome) {
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stderr, "");
}

/// Exit 1 with exactly one line on stderr that contains `reason`.
#[track_caller]
fn assert_unhealthy(out: &Outcome, reason: &str) {
    assert_eq!(out.code, 1, "stderr: {}", out.stderr);
    assert!(
        out.stderr.starts_with("hardinit health: "),
        "{:?}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{:?}", out.stderr);
    assert!(
        out.stderr.contains(reason),
        "{:?} lacks {reason:?}",
        out.stderr
    );
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

type Respond = Box<dyn FnOnce(&mut dyn Stream) + Send>;

/// One connection's worth of server: reads the request head, runs
/// `respond`, returns the request bytes when joined.
struct Server {
    url: String,
    wake: Box<dyn Fn()>,
    thread: Option<JoinHandle<Vec<u8>>>,
    socket_dir: Option<PathBuf>,
}

impl Server {
    fn tcp(bind: &str, respond: Respond) -> Server {
        let listener = TcpListener::bind(bind).expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let thread = thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            stream
                .set_read_timeout(Some(SERVER_IO_TIMEOUT))
                .expect("timeout");
            stream
                .set_write_timeout(Some(SERVER_IO_TIMEOUT))
                .expect("timeout");
            handle(&mut stream, respond)
        });
        Server {
            url: format!("http://{addr}"),
            wake: Box::new(move || drop(TcpStream::connect(addr))),
            thread: Some(thread),
            socket_dir: None,
        }
    }

    fn unix(respond: Respond) -> Server {
        let dir = socket_dir();
        let path = dir.join("app.sock");
        let listener = UnixListener::bind(&path).expect("bind unix");
        let thread = thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            stream
                .set_read_timeout(Some(SERVER_IO_TIMEOUT))
                .expect("timeout");
            stream
                .set_write_timeout(Some(SERVER_IO_TIMEOUT))
                .expect("timeout");
            handle(&mut stream, respond)
        });
        let wake_path = path.clone();
        Server {
            url: format!("unix:{}", path.display()),
            wake: Box::new(move || drop(UnixStream::connect(&wake_path))),
            thread: Some(thread),
            socket_dir: Some(dir),
        }
    }

    /// Joins the server thread and returns the request it read.
    fn request(mut self) -> String {
        let request = self.join();
        String::from_utf8_lossy(&request).into_owned()
    }

    fn join(&mut self) -> Vec<u8> {
        let Some(thread) = self.thread.take() else {
            return Vec::new();
        };
        if !thread.is_finished() {
            (self.wake)();
        }
        thread.join().unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.join();
        if let Some(dir) = &self.socket_dir {
            std::fs::remove_dir_all(dir).ok();
        }
    }
}

fn handle(stream: &mut dyn Stream, respond: Respond) -> Vec<u8> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return request,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    respond(stream);
    request
}

/// Writes `bytes` and closes. Write errors are expected when the probe
/// stops reading early (oversized responses).
fn reply(bytes: impl Into<Vec<u8>>) -> Respond {
    let bytes = bytes.into();
    Box::new(move |s: &mut dyn Stream| drop(s.write_all(&bytes)))
}

/// Never answers; returns when the probe hangs up (or after the timeout).
fn silent() -> Respond {
    Box::new(|s: &mut dyn Stream| drop(s.read_to_end(&mut Vec::new())))
}

fn ok_with(body: &str) -> Respond {
    reply(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// A fresh directory for unix sockets; the caller removes it.
fn socket_dir() -> PathBuf {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hardinit-health-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create socket dir");
    dir
}

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local_addr").port()
}

#[test]
fn status_200_is_healthy() {
    let server = Server::tcp("127.0.0.1:0", ok_with("ok"));
    assert_healthy(&probe(&[&format!("{}/__heartbeat__", server.url)]));
    assert!(server
        .request()
        .starts_with("GET /__heartbeat__ HTTP/1.1\r\n"));
}

#[test]
fn status_503_is_unhealthy() {
    let server = Server::tcp(
        "127.0.0.1:0",
        reply("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"),
    );
    assert_unhealthy(&probe(&[&server.url]), "status 503 (expected 200-299)");
}

#[test]
fn status_ranges() {
    let cases: &[(&str, &str, &[&str], i32)] = &[
        ("302 by default", "302 Found", &[], 1),
        ("302 in 200-399", "302 Found", &["--status", "200-399"], 0),
        (
            "204 in 200,204",
            "204 No Content",
            &["--status", "200,204"],
            0,
        ),
        ("200 not in 204", "200 OK", &["--status", "204"], 1),
        ("503 in 500-599", "503 Busy", &["--status=200,500-599"], 0),
    ];
    for (name, status, options, code) in cases {
        let server = Server::tcp(
            "127.0.0.1:0",
            reply(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n")),
        );
        let mut args = options.to_vec();
        args.push(&server.url);
        let out = probe(&args);
        assert_eq!(out.code, *code, "{name}: {}", out.stderr);
    }
}

#[test]
fn connection_refused() {
    let port = closed_port();
    let out = probe(&[&format!("http://127.0.0.1:{port}/")]);
    let want = format!("connecting to 127.0.0.1:{port}: Connection refused");
    assert_unhealthy(&out, &want);
}

#[test]
fn silent_server_times_out() {
    let server = Server::tcp("127.0.0.1:0", silent());
    let out = probe(&["--timeout", "300ms", &server.url]);
    assert_unhealthy(&out, "timeout after 300ms waiting for the response");
    assert!(
        out.elapsed >= Duration::from_millis(300),
        "{:?}",
        out.elapsed
    );
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);
}

#[test]
fn expect_body_with_content_length() {
    let body = "{\"status\": \"ok\", \"checks\": {}}";
    let server = Server::tcp("127.0.0.1:0", ok_with(body));
    assert_healthy(&probe(&["--expect-body", "\"ok\"", &server.url]));
    let server = Server::tcp("127.0.0.1:0", ok_with(body));
    assert_unhealthy(
        &probe(&["--expect-body", "warning", &server.url]),
        "body does not contain \"warning\"",
    );
}

#[test]
fn expect_body_with_chunked_encoding() {
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                   4\r\n{\"st\r\n9;ext=1\r\natus\": \"o\r\n3\r\nk\"}\r\n0\r\n\r\n";
    let server = Server::tcp("127.0.0.1:0", reply(chunked));
    assert_healthy(&probe(&[
        "--expect-body",
        "\"status\": \"ok\"",
        &server.url,
    ]));
    let server = Server::tcp("127.0.0.1:0", reply(chunked));
    assert_unhealthy(
        &probe(&["--expect-body", "error", &server.url]),
        "body does not contain \"error\"",
    );
}

#[test]
fn body_until_close() {
    let server = Server::tcp("127.0.0.1:0", reply("HTTP/1.0 200 OK\r\n\r\nall good"));
    assert_healthy(&probe(&["--expect-body", "good", &server.url]));
}

#[test]
fn unix_socket() {
    let server = Server::unix(ok_with("ok"));
    assert_healthy(&probe(&[
        "--expect-body",
        "ok",
        &format!("{}:/__lbheartbeat__", server.url),
    ]));
    let request = server.request();
    assert!(
        request.starts_with("GET /__lbheartbeat__ HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(request.contains("\r\nHost: localhost\r\n"), "{request}");

    let server = Server::unix(reply("HTTP/1.1 500 Internal Server Error\r\n\r\n"));
    assert_unhealthy(&probe(&[&server.url]), "status 500");

    let out = probe(&["unix:/nonexistent/hardinit-health.sock:/"]);
    assert_unhealthy(
        &out,
        "connecting to /nonexistent/hardinit-health.sock: No such file or directory",
    );
}

/// connect(2) on a unix socket with a full backlog blocks and has no timeout
/// of its own; the deadline still ends the probe.
#[test]
fn unix_socket_with_full_backlog_times_out() {
    let dir = socket_dir();
    let path = dir.join("full.sock");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/unix_backlog_full.py"
    );
    let Ok(mut server) = Command::new("python3")
        .arg(script)
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        common::skip("python3 is not available");
        return;
    };
    let mut ready = [0u8; 6];
    let read = server.stdout.take().expect("stdout").read_exact(&mut ready);
    if read.is_ok() && &ready == b"ready\n" {
        let out = probe(&["--timeout", "300ms", &format!("unix:{}:/", path.display())]);
        assert_unhealthy(&out, "timeout after 300ms connecting to ");
        assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);
    }
    drop(server.stdin.take()); // EOF: the fixture exits
    let status = server.wait().expect("wait for fixture");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        read.is_ok() && status.success(),
        "fixture failed: {read:?} {status}"
    );
}

#[test]
fn tcp_connect_only() {
    // The kernel completes the handshake from the listen backlog; no accept needed.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    assert_healthy(&probe(&[&format!("tcp://{addr}")]));
    drop(listener);
    let port = closed_port();
    assert_unhealthy(
        &probe(&[&format!("tcp://127.0.0.1:{port}")]),
        &format!("connecting to 127.0.0.1:{port}: Connection refused"),
    );
}

#[test]
fn request_headers_reach_the_server() {
    let server = Server::tcp("127.0.0.1:0", ok_with("ok"));
    let url = format!("{}/__version__?x=1", server.url);
    assert_healthy(&probe(&[
        "--header",
        "X-Probe: yes",
        "--header=Authorization: Bearer t",
        &url,
    ]));
    let host = server.url.trim_start_matches("http://").to_owned();
    let request = server.request();
    assert!(
        request.starts_with("GET /__version__?x=1 HTTP/1.1\r\n"),
        "{request}"
    );
    for line in [
        format!("Host: {host}"),
        format!("User-Agent: hardinit-health/{}", env!("CARGO_PKG_VERSION")),
        "Connection: close".into(),
        "X-Probe: yes".into(),
        "Authorization: Bearer t".into(),
    ] {
        assert!(
            request.contains(&format!("\r\n{line}\r\n")),
            "{line:?} missing in {request:?}"
        );
    }
}

/// A server bound to `bind`, probed as `http://HOST:PORT/`: healthy, and
/// the request names HOST:PORT in its Host header.
fn probe_as_host(bind: &str, host: &str) {
    let server = Server::tcp(bind, ok_with("ok"));
    let port = server.url.rsplit(':').next().expect("port").to_owned();
    assert_healthy(&probe(&[&format!("http://{host}:{port}/")]));
    assert!(server
        .request()
        .contains(&format!("\r\nHost: {host}:{port}\r\n")));
}

#[test]
fn localhost_means_loopback() {
    probe_as_host("127.0.0.1:0", "localhost");
}

#[test]
fn ipv6_loopback() {
    if TcpListener::bind("[::1]:0").is_err() {
        common::skip("no IPv6 loopback in this environment");
        return;
    }
    let server = Server::tcp("[::1]:0", ok_with("ok"));
    assert!(server.url.starts_with("http://[::1]:"), "{}", server.url);
    assert_healthy(&probe(&[&format!("{}/x", server.url)]));
    assert!(server.request().starts_with("GET /x HTTP/1.1\r\n"));
    // The same address written out in full.
    probe_as_host("[::1]:0", "[0:0:0:0:0:0:0:1]");
}

#[test]
fn oversized_headers() {
    let mut response = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..100_000 {
        response.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "y".repeat(40)).as_bytes());
    }
    response.extend_from_slice(b"\r\n");
    assert!(response.len() > 4 << 20);
    let server = Server::tcp("127.0.0.1:0", reply(response));
    assert_unhealthy(
        &probe(&[&server.url]),
        "response headers longer than 64 KiB",
    );
}

#[test]
fn oversized_body_is_read_up_to_1_mib() {
    let body = format!("ok{}", "x".repeat(3 << 20));
    let server = Server::tcp(
        "127.0.0.1:0",
        reply(format!("HTTP/1.1 200 OK\r\n\r\n{body}")),
    );
    assert_healthy(&probe(&["--expect-body", "ok", &server.url]));
    let server = Server::tcp(
        "127.0.0.1:0",
        reply(format!("HTTP/1.1 200 OK\r\n\r\n{body}")),
    );
    assert_unhealthy(
        &probe(&["--expect-body", "zz", &server.url]),
        "in its first 1 MiB",
    );
}

#[test]
fn malformed_responses() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "garbage status line",
            "SSH-2.0-OpenSSH\r\n\r\n",
            "bad status line \"SSH-2.0-OpenSSH\"\n",
        ),
        (
            "binary junk",
            "\u{0}\u{1}\u{2}\r\n",
            "bad status line \"\\x00\\x01\\x02\"",
        ),
        (
            "empty reply",
            "",
            "empty reply (connection closed before the status line)",
        ),
        (
            "header without colon",
            "HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
            "bad response header line \"broken\"",
        ),
        (
            "invalid chunk size",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n0\r\n\r\n",
            "invalid chunk size \"xyz\"",
        ),
        (
            "chunk longer than its size",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n",
            "chunk data longer than its chunk size",
        ),
        (
            "truncated body",
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
            "body truncated",
        ),
        (
            "truncated chunked body",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nok\r\n",
            "body truncated",
        ),
        (
            "truncated headers",
            "HTTP/1.1 200 OK\r\nContent-Le",
            "connection closed in the response headers",
        ),
    ];
    for (name, response, reason) in cases {
        let server = Server::tcp("127.0.0.1:0", reply(*response));
        let out = probe(&[&server.url]);
        assert_eq!(out.code, 1, "{name}: {}", out.stderr);
        assert_unhealthy(&out, reason);
    }
}

#[test]
fn help_is_on_stdout() {
    let out = probe(&["--help"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "");
    for needle in [
        "usage: hardinit health",
        "no TLS",
        "__heartbeat__",
        "__lbheartbeat__",
        "__version__",
        "--timeout",
        "no resolver",
    ] {
        assert!(out.stdout.contains(needle), "{needle:?} missing in help");
    }
}

#[test]
fn bad_arguments_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["https://127.0.0.1/"],
        &["--timeout", "5", "http://127.0.0.1/"],
        &["--status", "abc", "http://127.0.0.1/"],
        &["--header", "no colon", "http://127.0.0.1/"],
        &["--bogus", "http://127.0.0.1/"],
        &["http://127.0.0.1/", "extra"],
        &["tcp://127.0.0.1"],
        &["http://[::1/"],
        &["http://[fe80::1%lo]:80/"],
        &["http://[1::2::3]/"],
        &["http://256.1.1.1/"],
        &["http://127.0.0.1:65536/"],
    ];
    for args in cases {
        let out = probe(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("usage: hardinit health"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
    let out = probe(&["http://[1::2::3]:80/"]);
    assert!(
        out.stderr.starts_with(
            "hardinit health: invalid URL \"http://[1::2::3]:80/\": not an IPv6 address\n"
        ),
        "{}",
        out.stderr
    );
}

/// No resolver in a static binary: a host name other than localhost is a
/// bad argument, refused before any connection is tried.
#[test]
fn host_names_are_refused() {
    for url in ["http://app:8000/__heartbeat__", "tcp://db:5432"] {
        let out = probe(&[url]);
        assert_eq!(out.code, 2, "{url}: {}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!(
                "hardinit health: invalid URL {url:?}: only numeric addresses and \
                     localhost are supported (no resolver in a static binary)\n"
            )),
            "{url}: {}",
            out.stderr
        );
    }
}
