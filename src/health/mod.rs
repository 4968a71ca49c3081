//! `hardinit health`: a HEALTHCHECK probe for images without a shell, curl or
//! wget (issue 10).
//!
//! One HTTP/1.1 GET (or a bare TCP connect) to an address inside the
//! container; exit 0 when healthy, 1 with a one-line reason on stderr when
//! not, 2 on bad arguments. Docker reads exactly these codes: 0 healthy,
//! 1 unhealthy, 2 reserved.
//!
//! Order: parse the arguments completely (exit 2), then probe under one
//! deadline. Sockets are non-blocking and every connect, write and read
//! first waits in poll(2) for at most the time left, so the probe never waits
//! past `--timeout`; a unix socket whose listen backlog is full is retried
//! until then. No thread, no process is spawned.
//!
//! No resolver: the host is a numeric IPv4 or IPv6 address, or `localhost`
//! (127.0.0.1, then ::1). The C library's resolver in a static binary has no
//! NSS and would cost far more of the binary than the rest of the probe.
//!
//! Limits, chosen so a broken or hostile peer cannot make the probe grow or
//! hang: response headers (status line, fields, chunk trailers) are capped at
//! 64 KiB; at most 1 MiB of body is read and searched by `--expect-body`.
//! Malformed input is a reason on stderr, never a panic. No TLS.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr;
use std::time::Duration;

const HEAD_CAP: usize = 64 * 1024;
const BODY_CAP: usize = 1024 * 1024;
/// A chunk-size line is a hex number plus optional extensions.
const CHUNK_LINE_CAP: usize = 4096;
/// Interim 1xx responses (103 Early Hints) we skip before the final one.
const MAX_INTERIM: usize = 8;
/// Longest accepted `--timeout`.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

const NO_RESOLVER: &str =
    "only numeric addresses and localhost are supported (no resolver in a static binary)";

const USAGE: &str = "usage: hardinit health [OPTIONS] URL";

const HELP: &str = "\
usage: hardinit health [OPTIONS] URL

Probe a service from inside its container, for a HEALTHCHECK in images
without a shell, curl or wget. Exit status: 0 healthy, 1 unhealthy (one line
on stderr says why), 2 bad arguments.

URL:
  http://HOST[:PORT][/PATH]  HTTP/1.1 GET. HOST is an IPv4 address, an
                             [IPv6] address, or localhost (127.0.0.1, then ::1);
                             no other host names (no resolver)
  unix:SOCKET[:/PATH]        HTTP/1.1 GET over a unix stream socket
                             (SOCKET must not contain ':'; PATH defaults to /)
  tcp://HOST:PORT            connect only, send nothing

Options:
  --timeout DURATION       bound on the whole probe: connect, request and
                           response; e.g. 500ms, 2s, 1m [default: 5s]
  --status LIST            healthy statuses, e.g. 200,204 or 200-399
                           [default: 200-299]
  --header 'NAME: VALUE'   add a request header (repeatable); replaces the
                           default Host, User-Agent or Connection
  --expect-body TEXT       the body must contain TEXT
  -h, --help               print this help

Plain HTTP only, no TLS: probe the application's own port inside the
container, not a TLS terminator. Only numeric addresses and localhost are
supported: a static binary has no resolver, and a probe inside the container
does not need one. Response headers are capped at 64 KiB; at most 1 MiB of
body is read and searched.

Dockerflow endpoints:
  /__heartbeat__     the application and its backends work
                     (HEALTHCHECK, Kubernetes liveness)
  /__lbheartbeat__   the application answers, no backend checks
                     (load balancers)
  /__version__       the deployed version as JSON

Example:
  HEALTHCHECK CMD [\"/hardinit\", \"health\", \"--timeout\", \"2s\", \\
                   \"http://127.0.0.1:8000/__heartbeat__\"]
";

/// Entry point for `hardinit health ARGS...`; returns the exit code.
pub fn run(args: &[OsString]) -> u8 {
    let probe = match parse_args(args) {
        Ok(Command::Help) => {
            return match crate::sys::write_all(libc::STDOUT_FILENO, HELP.as_bytes()) {
                Ok(()) => 0,
                Err(_) => 1,
            };
        }
        Ok(Command::Probe(probe)) => probe,
        Err(msg) => {
            eprintln!("hardinit health: {msg}\n{USAGE}\nTry 'hardinit health --help'.");
            return 2;
        }
    };
    let deadline = now_us() + probe.timeout.as_micros() as u64;
    match run_probe(&probe, deadline) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("hardinit health: {err}");
            1
        }
    }
}

// ---------------------------------------------------------------------------
// Arguments -> Probe

#[derive(Debug)]
enum Command {
    Help,
    Probe(Probe),
}

#[derive(Debug)]
struct Probe {
    target: Target,
    timeout: Duration,
    /// As typed (`300ms`), so the timeout message quotes the user.
    timeout_text: String,
    statuses: Vec<(u16, u16)>,
    headers: Vec<(String, String)>,
    expect_body: Option<String>,
}

#[derive(Debug, PartialEq)]
enum Address {
    Inet { host: String, port: u16 },
    Unix(PathBuf),
}

#[derive(Debug, PartialEq)]
struct Target {
    address: Address,
    /// `None` for `tcp://`: connect only.
    http: Option<HttpTarget>,
}

#[derive(Debug, PartialEq)]
struct HttpTarget {
    host_header: String,
    path: String,
}

#[inline(never)]
fn parse_args(args: &[OsString]) -> Result<Command, String> {
    let mut timeout_text = "5s".to_owned();
    let mut statuses = "200-299".to_owned();
    let mut headers = Vec::new();
    let mut expect_body = None;
    let mut urls = Vec::new();
    let mut only_positional = false;
    let mut it = args.iter();
    while let Some(raw) = it.next() {
        let arg = raw.to_str().ok_or_else(|| {
            [
                "argument ",
                &debug(&raw.to_string_lossy()),
                " is not valid UTF-8",
            ]
            .concat()
        })?;
        if only_positional || arg == "-" || !arg.starts_with('-') {
            urls.push(arg.to_owned());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg, None),
        };
        if !matches!(
            name,
            "--timeout" | "--status" | "--header" | "--expect-body"
        ) {
            return Err(["unknown option ", name].concat());
        }
        let value = match inline {
            Some(value) => value,
            None => it
                .next()
                .and_then(|v| v.to_str())
                .ok_or_else(|| [name, " needs a UTF-8 value"].concat())?
                .to_owned(),
        };
        match name {
            "--timeout" => timeout_text = value,
            "--status" => statuses = value,
            "--header" => headers.push(parse_header(&value)?),
            _ if value.is_empty() => return Err("--expect-body must not be empty".into()),
            _ => expect_body = Some(value),
        }
    }
    let url = match urls.as_slice() {
        [url] => url,
        [] => return Err("missing URL".into()),
        [_, extra, ..] => {
            return Err(["unexpected argument ", &debug(extra), ": give one URL"].concat())
        }
    };
    Ok(Command::Probe(Probe {
        target: parse_target(url)?,
        timeout: parse_duration(&timeout_text)?,
        timeout_text,
        statuses: parse_statuses(&statuses)?,
        headers,
        expect_body,
    }))
}

/// `500ms`, `2s`, `1m`; a unit is required so `5` cannot mean 5 ms by mistake.
#[inline(never)]
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        let hint = ": use e.g. 500ms, 2s or 1m, at most 60m";
        ["invalid --timeout ", &debug(text), hint].concat()
    };
    let (digits, unit_ms) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1000)
    } else if let Some(d) = text.strip_suffix('m') {
        (d, 60_000)
    } else {
        return Err(bad());
    };
    let n = number(digits, 10, u64::MAX).ok_or_else(bad)?;
    let timeout = Duration::from_millis(n.checked_mul(unit_ms).ok_or_else(bad)?);
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return Err(bad());
    }
    Ok(timeout)
}

/// `200,204` or `200-399`, or a mix; each status in 100-599.
#[inline(never)]
fn parse_statuses(text: &str) -> Result<Vec<(u16, u16)>, String> {
    let bad = || {
        [
            "invalid --status ",
            &debug(text),
            ": use e.g. 200,204 or 200-399",
        ]
        .concat()
    };
    let status = |s: &str| match number(s.trim(), 10, 599) {
        Some(n) if n >= 100 => Ok(n as u16),
        _ => Err(bad()),
    };
    text.split(',')
        .map(|item| {
            let (lo, hi) = match item.split_once('-') {
                Some((lo, hi)) => (status(lo)?, status(hi)?),
                None => (status(item)?, status(item)?),
            };
            if lo <= hi {
                Ok((lo, hi))
            } else {
                Err(bad())
            }
        })
        .collect()
}

/// `Name: value`. The name must be an HTTP token and the value free of
/// control characters, so an argument cannot smuggle extra request lines.
#[inline(never)]
fn parse_header(text: &str) -> Result<(String, String), String> {
    let bad = |why: &str| ["invalid --header ", &debug(text), ": ", why].concat();
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| bad("expected 'Name: value'"))?;
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(bad("the name must be a token such as X-Probe"));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(bad("control characters in the value"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

#[inline(never)]
fn parse_target(url: &str) -> Result<Target, String> {
    if let Some(rest) = url.strip_prefix("http://") {
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let (host, port) = parse_authority(authority, Some(80))?;
        let path = path.split('#').next().unwrap_or_default();
        let path = match path.strip_prefix('?') {
            Some(_) => ["/", path].concat(),
            None if path.is_empty() => "/".to_owned(),
            None => path.to_owned(),
        };
        check_request_path(&path)?;
        Ok(Target {
            address: Address::Inet { host, port },
            http: Some(HttpTarget {
                host_header: authority.to_owned(),
                path,
            }),
        })
    } else if let Some(rest) = url.strip_prefix("tcp://") {
        let (host, port) = parse_authority(rest.strip_suffix('/').unwrap_or(rest), None)?;
        Ok(Target {
            address: Address::Inet { host, port },
            http: None,
        })
    } else if let Some(rest) = url.strip_prefix("unix:") {
        let (socket, path) = rest.split_once(':').unwrap_or((rest, "/"));
        if socket.is_empty() {
            let hint = ": use unix:/run/app.sock:/PATH";
            return Err(["missing socket path in ", &debug(url), hint].concat());
        }
        if !path.starts_with('/') {
            let (path, url) = (debug(path), debug(url));
            return Err(["request path ", &path, " in ", &url, " must start with '/'"].concat());
        }
        check_request_path(path)?;
        Ok(Target {
            address: Address::Unix(PathBuf::from(socket)),
            http: Some(HttpTarget {
                host_header: "localhost".into(),
                path: path.into(),
            }),
        })
    } else if url.starts_with("https://") {
        Err(
            "https is not supported (no TLS): probe the plain HTTP port inside the container"
                .into(),
        )
    } else {
        let hint = ": use http://, unix: or tcp://";
        Err(["unsupported URL ", &debug(url), hint].concat())
    }
}

/// `HOST[:PORT]` with HOST an IPv4 address, `[IPv6]` or localhost.
#[inline(never)]
fn parse_authority(authority: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
    let bad = |why: &str| ["invalid address ", &debug(authority), ": ", why].concat();
    if authority.contains('@') {
        return Err(bad(
            "credentials in the URL are not supported; use --header",
        ));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        v6.parse::<Ipv6Addr>()
            .map_err(|_| bad("not an IPv6 address"))?;
        match after {
            "" => (v6, None),
            _ => (
                v6,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| bad("expected ':PORT'"))?,
                ),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.contains(':') => return Err(bad("put IPv6 addresses in [ ]")),
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("missing host"));
    }
    let port = match (port, default_port) {
        (Some(p), _) => match number(p, 10, 65535) {
            Some(n) if n != 0 => n as u16,
            _ => return Err(bad("the port must be 1-65535")),
        },
        (None, Some(p)) => p,
        (None, None) => return Err(bad("missing ':PORT'")),
    };
    if addresses(host).is_empty() {
        return Err([NO_RESOLVER, ": ", &debug(host)].concat());
    }
    Ok((host.to_owned(), port))
}

/// The path goes verbatim into the request line: printable ASCII only.
fn check_request_path(path: &str) -> Result<(), String> {
    if path.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        let hint = " has spaces or non-ASCII characters; percent-encode them";
        Err(["request path ", &debug(path), hint].concat())
    }
}

// ---------------------------------------------------------------------------
// Probe: connect, send, check

#[derive(Debug)]
enum ProbeError {
    Connect { addrs: String, source: io::Error },
    Timeout { after: String, during: &'static str },
    Write(io::Error),
    Read(io::Error),
    Malformed(String),
    Status { status: u16, expected: String },
    Body { expected: String, capped: bool },
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { addrs, source }
                if source.kind() == io::ErrorKind::ConnectionRefused =>
            {
                write!(f, "connection refused: {addrs}")
            }
            Self::Connect { addrs, source } => write!(f, "connect to {addrs}: {source}"),
            Self::Timeout { after, during } => write!(f, "timeout after {after} {during}"),
            Self::Write(e) => write!(f, "sending the request: {e}"),
            Self::Read(e) => write!(f, "reading the response: {e}"),
            Self::Malformed(why) => write!(f, "malformed response: {why}"),
            Self::Status { status, expected } => write!(f, "status {status} (expected {expected})"),
            Self::Body {
                expected,
                capped: false,
            } => write!(f, "body does not contain {expected:?}"),
            Self::Body {
                expected,
                capped: true,
            } => {
                write!(f, "body does not contain {expected:?} in its first 1 MiB")
            }
        }
    }
}

#[inline(never)]
fn run_probe(probe: &Probe, deadline: u64) -> Result<(), ProbeError> {
    let timed_out = |during| ProbeError::Timeout {
        after: probe.timeout_text.clone(),
        during,
    };
    let fd = connect(&probe.target.address, deadline).map_err(|e| match e {
        ProbeError::Connect { source, .. } if is_timeout(&source) => timed_out("connecting"),
        e => e,
    })?;
    let Some(http) = &probe.target.http else {
        return Ok(());
    };
    let stream = Timed { fd, deadline };
    let request = build_request(http, &probe.headers);
    stream.send_all(&request).map_err(|e| match e {
        e if is_timeout(&e) => timed_out("sending the request"),
        e => ProbeError::Write(e),
    })?;
    let mut wire = Wire::new(stream);
    let on_read_timeout = |during| {
        move |e| match e {
            ProbeError::Read(e) if is_timeout(&e) => timed_out(during),
            e => e,
        }
    };
    let head = read_head(&mut wire).map_err(on_read_timeout("waiting for the response"))?;
    if !probe
        .statuses
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&head.status))
    {
        let mut expected = String::new();
        for &(lo, hi) in &probe.statuses {
            if !expected.is_empty() {
                expected.push(',');
            }
            expected += &lo.to_string();
            if lo != hi {
                expected = [&expected, "-", &hi.to_string()].concat();
            }
        }
        return Err(ProbeError::Status {
            status: head.status,
            expected,
        });
    }
    let body = read_body(&mut wire, head.framing).map_err(on_read_timeout("reading the body"))?;
    match &probe.expect_body {
        Some(text) if !contains(&body.bytes, text.as_bytes()) => Err(ProbeError::Body {
            expected: text.clone(),
            capped: body.capped,
        }),
        _ => Ok(()),
    }
}

fn is_timeout(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut
}

#[inline(never)]
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ip {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// The addresses to try for HOST, in order, each with its text for
/// messages; empty for a host name. There is no resolver: a static binary
/// has no NSS, and the loopback addresses are what a probe inside the
/// container means by "localhost".
fn addresses(host: &str) -> Vec<(Ip, &str)> {
    if eq_ic(host, "localhost") {
        let mut v6 = [0; 16];
        v6[15] = 1;
        return vec![(Ip::V4([127, 0, 0, 1]), "127.0.0.1"), (Ip::V6(v6), "::1")];
    }
    let ip = match (host.parse::<Ipv4Addr>(), host.parse::<Ipv6Addr>()) {
        (Ok(v4), _) => Ip::V4(v4.octets()),
        (_, Ok(v6)) => Ip::V6(v6.octets()),
        _ => return Vec::new(),
    };
    vec![(ip, host)]
}

/// A socket address for connect(2).
struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl SockAddr {
    fn empty() -> SockAddr {
        SockAddr {
            // SAFETY: all-zero bytes are a valid sockaddr_storage.
            storage: unsafe { mem::zeroed() },
            len: 0,
        }
    }

    fn inet(ip: Ip, port: u16) -> SockAddr {
        let mut addr = SockAddr::empty();
        let raw = ptr::addr_of_mut!(addr.storage);
        // SAFETY: sockaddr_storage is large and aligned enough for either
        // address type, and it is zeroed, so unset fields are zero.
        unsafe {
            match ip {
                Ip::V4(octets) => {
                    let sin = &mut *raw.cast::<libc::sockaddr_in>();
                    sin.sin_family = libc::AF_INET as libc::sa_family_t;
                    sin.sin_port = port.to_be();
                    sin.sin_addr.s_addr = u32::from_ne_bytes(octets);
                    addr.len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
                }
                Ip::V6(octets) => {
                    let sin6 = &mut *raw.cast::<libc::sockaddr_in6>();
                    sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sin6.sin6_port = port.to_be();
                    sin6.sin6_addr.s6_addr = octets;
                    addr.len = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
                }
            }
        }
        addr
    }

    fn unix(path: &[u8]) -> io::Result<SockAddr> {
        let mut addr = SockAddr::empty();
        // SAFETY: as in `inet`; sockaddr_un fits in sockaddr_storage.
        let sun = unsafe { &mut *ptr::addr_of_mut!(addr.storage).cast::<libc::sockaddr_un>() };
        // Room for the terminating NUL, which the zeroed storage provides.
        if path.len() >= sun.sun_path.len() || path.contains(&0) {
            return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
        }
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (dst, &src) in sun.sun_path.iter_mut().zip(path) {
            *dst = src as libc::c_char;
        }
        addr.len = mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        Ok(addr)
    }
}

#[inline(never)]
fn connect(address: &Address, deadline: u64) -> Result<OwnedFd, ProbeError> {
    match address {
        Address::Unix(path) => SockAddr::unix(path.as_os_str().as_bytes())
            .and_then(|addr| connect_one(&addr, deadline))
            .map_err(|source| ProbeError::Connect {
                addrs: path.display().to_string(),
                source,
            }),
        Address::Inet { host, port } => {
            let addrs = addresses(host);
            let mut last = io::Error::from(io::ErrorKind::TimedOut);
            let port_text = port.to_string();
            let mut shown = Vec::new();
            for &(ip, text) in &addrs {
                let (open, close) = match ip {
                    Ip::V4(_) => ("", ""),
                    Ip::V6(_) => ("[", "]"),
                };
                shown.push([open, text, close, ":", &port_text].concat());
            }
            let shown = shown.join(", ");
            for &(ip, _) in &addrs {
                match connect_one(&SockAddr::inet(ip, *port), deadline) {
                    Ok(fd) => return Ok(fd),
                    Err(e) if is_timeout(&e) => {
                        last = e;
                        break;
                    }
                    // No IPv6 here says less than why 127.0.0.1 failed.
                    Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => {}
                    Err(e) => last = e,
                }
            }
            Err(ProbeError::Connect {
                addrs: shown,
                source: last,
            })
        }
    }
}

/// connect(2) on a non-blocking socket, bounded by the deadline.
fn connect_one(addr: &SockAddr, deadline: u64) -> io::Result<OwnedFd> {
    let family = libc::c_int::from(addr.storage.ss_family);
    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain syscall; a non-negative result is a new descriptor we own.
    let fd = match unsafe { libc::socket(family, flags, 0) } {
        -1 => return Err(io::Error::last_os_error()),
        fd => unsafe { OwnedFd::from_raw_fd(fd) },
    };
    loop {
        let sa = ptr::addr_of!(addr.storage).cast::<libc::sockaddr>();
        // SAFETY: `sa` points to `addr.len` initialised bytes.
        if unsafe { libc::connect(fd.as_raw_fd(), sa, addr.len) } == 0 {
            return Ok(fd);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            // In progress (an interrupted connect carries on too): wait for
            // writability, then read the outcome.
            Some(libc::EINPROGRESS | libc::EINTR) => {
                wait(&fd, libc::POLLOUT, deadline)?;
                let mut code: libc::c_int = 0;
                let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
                // SAFETY: `code` and `len` are valid for the kernel to write.
                let rc = unsafe {
                    libc::getsockopt(
                        fd.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_ERROR,
                        ptr::addr_of_mut!(code).cast(),
                        &mut len,
                    )
                };
                return match (rc, code) {
                    (-1, _) => Err(io::Error::last_os_error()),
                    (_, 0) => Ok(fd),
                    (_, code) => Err(io::Error::from_raw_os_error(code)),
                };
            }
            // A unix socket whose listen backlog is full: the kernel offers
            // nothing to wait on, so retry until the deadline.
            Some(libc::EAGAIN) if family == libc::AF_UNIX => {
                let nap = remaining_ms(deadline)?.min(10);
                // SAFETY: poll with no descriptors just sleeps.
                unsafe { libc::poll(ptr::null_mut(), 0, nap) };
            }
            _ => return Err(err),
        }
    }
}

/// The monotonic clock in microseconds; deadlines are on this clock.
fn now_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writes; CLOCK_MONOTONIC cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// Milliseconds left before the deadline, rounded up so a poll(2) never
/// ends early; none left is a `TimedOut` error.
fn remaining_ms(deadline: u64) -> io::Result<libc::c_int> {
    match deadline.saturating_sub(now_us()) {
        0 => Err(io::ErrorKind::TimedOut.into()),
        // At most MAX_TIMEOUT, so it fits.
        left => Ok(left.div_ceil(1000) as libc::c_int),
    }
}

/// Waits until `fd` reports one of `events` (or an error or hang-up, which
/// the next call on it reports), at most until the deadline.
fn wait(fd: &OwnedFd, events: libc::c_short, deadline: u64) -> io::Result<()> {
    loop {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut pfd, 1, remaining_ms(deadline)?) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            _ => return Ok(()),
        }
    }
}

#[inline(never)]
fn build_request(http: &HttpTarget, extra: &[(String, String)]) -> Vec<u8> {
    let mut req = vec!["GET ", &http.path, " HTTP/1.1\r\n"];
    let defaults = [
        ("Host", http.host_header.as_str()),
        (
            "User-Agent",
            concat!("hardinit-health/", env!("CARGO_PKG_VERSION")),
        ),
        ("Accept", "*/*"),
        ("Connection", "close"),
    ];
    for (name, value) in defaults {
        if !extra.iter().any(|(n, _)| eq_ic(n, name)) {
            req.extend([name, ": ", value, "\r\n"]);
        }
    }
    for (name, value) in extra {
        req.extend([name.as_str(), ": ", value, "\r\n"]);
    }
    req.push("\r\n");
    req.concat().into_bytes()
}

/// A connected non-blocking socket whose every read and write ends at the
/// probe's deadline.
struct Timed {
    fd: OwnedFd,
    /// On the `now_us` clock.
    deadline: u64,
}

impl Timed {
    fn send_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            wait(&self.fd, libc::POLLOUT, self.deadline)?;
            // SAFETY: `buf` is valid for `buf.len()` bytes. MSG_NOSIGNAL: a
            // closed peer is an EPIPE error, not a SIGPIPE.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            match usize::try_from(n) {
                Ok(n) => buf = &buf[n..],
                Err(_) => retry_or_fail(io::Error::last_os_error())?,
            }
        }
        Ok(())
    }
}

/// `Ok` for the errors after which a non-blocking call is simply retried.
fn retry_or_fail(e: io::Error) -> io::Result<()> {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(()),
        _ => Err(e),
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            wait(&self.fd, libc::POLLIN, self.deadline)?;
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            match usize::try_from(n) {
                Ok(n) => return Ok(n),
                Err(_) => retry_or_fail(io::Error::last_os_error())?,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Response parsing (pure over any `Read`, unit-tested on byte slices)

#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    /// 1xx, 204 and 304 carry no body.
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug, PartialEq)]
struct Head {
    status: u16,
    framing: Framing,
}

#[derive(Debug, PartialEq)]
struct Body {
    bytes: Vec<u8>,
    /// More body followed that was not read (over `BODY_CAP`).
    capped: bool,
}

/// A read buffer over the connection: lines for the head and chunk sizes,
/// exact byte counts for the body.
struct Wire<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
}

impl<R: Read> Wire<R> {
    fn new(inner: R) -> Self {
        Wire {
            inner,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    fn fill(&mut self) -> Result<bool, ProbeError> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.inner.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ProbeError::Read(e)),
            }
        }
    }

    /// The next line without its LF or CRLF, at most `max` bytes. `what`
    /// names it in errors, `cap` is the limit those errors quote (the head
    /// budget shrinks line by line, the limit does not).
    fn take_line(&mut self, max: usize, cap: usize, what: &str) -> Result<Vec<u8>, ProbeError> {
        let mut scanned = 0;
        loop {
            let pending = &self.buf[self.pos..];
            if let Some(i) = pending[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + i;
                if end > max {
                    break;
                }
                let line = pending[..end]
                    .strip_suffix(b"\r")
                    .unwrap_or(&pending[..end])
                    .to_vec();
                self.pos += end + 1;
                return Ok(line);
            }
            scanned = pending.len();
            if scanned > max {
                break;
            }
            if !self.fill()? {
                let why = if self.buf[self.pos..].is_empty() && what == "status line" {
                    "empty reply (connection closed before the status line)".to_owned()
                } else {
                    ["connection closed in the ", what].concat()
                };
                return Err(ProbeError::Malformed(why));
            }
        }
        let kib = (cap / 1024).to_string();
        Err(ProbeError::Malformed(
            [what, " longer than ", &kib, " KiB"].concat(),
        ))
    }

    /// Appends up to `n` body bytes to `body`, stopping at `BODY_CAP`.
    fn take_exact(&mut self, n: u64, body: &mut Body) -> Result<(), ProbeError> {
        let mut left = n;
        while left > 0 {
            let room = BODY_CAP - body.bytes.len();
            if room == 0 {
                body.capped = true;
                return Ok(());
            }
            if self.pos == self.buf.len() && !self.fill()? {
                let left = left.to_string();
                let why = ["body truncated: connection closed ", &left, " bytes short"];
                return Err(ProbeError::Malformed(why.concat()));
            }
            let take = (self.buf.len() - self.pos)
                .min(room)
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            body.bytes
                .extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            left -= take as u64;
        }
        Ok(())
    }
}

/// Reads the status line and header fields of the final response.
#[inline(never)]
fn read_head<R: Read>(wire: &mut Wire<R>) -> Result<Head, ProbeError> {
    for _ in 0..=MAX_INTERIM {
        let line = wire.take_line(HEAD_CAP, HEAD_CAP, "status line")?;
        let status = parse_status_line(&line)?;
        let mut budget = HEAD_CAP - line.len();
        let (mut length, mut chunked, mut encoded) = (None, false, false);
        loop {
            let field = wire.take_line(budget, HEAD_CAP, "response headers")?;
            if field.is_empty() {
                break;
            }
            budget = budget.saturating_sub(field.len() + 2);
            let (name, value) = parse_field(&field)?;
            if eq_ic(name, "content-length") {
                let n = parse_content_length(value)?;
                if length.is_some_and(|old| old != n) {
                    return Err(ProbeError::Malformed("conflicting Content-Length".into()));
                }
                length = Some(n);
            } else if eq_ic(name, "transfer-encoding") {
                // RFC 9112 6.3: chunked must be the last coding; any other
                // final coding means the body runs until the connection closes.
                encoded = true;
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|c| eq_ic(c.trim(), "chunked"));
            }
        }
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let framing = match (status, encoded, chunked, length) {
            (100..=199 | 204 | 304, ..) => Framing::Empty,
            (_, true, true, _) => Framing::Chunked,
            (_, true, false, _) => Framing::UntilClose,
            (_, false, _, Some(n)) => Framing::Length(n),
            _ => Framing::UntilClose,
        };
        return Ok(Head { status, framing });
    }
    const _: () = assert!(MAX_INTERIM == 8, "update the message");
    Err(ProbeError::Malformed(
        "more than 8 interim 1xx responses".into(),
    ))
}

/// `HTTP/1.x NNN reason`.
fn parse_status_line(line: &[u8]) -> Result<u16, ProbeError> {
    let status = match line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', v, b' ', d @ ..]
            if v.is_ascii_digit() && d.len() >= 3 =>
        {
            let (code, rest) = d.split_at(3);
            let digits = code.iter().all(u8::is_ascii_digit);
            (digits && (rest.is_empty() || rest[0] == b' '))
                .then(|| code.iter().fold(0u16, |n, &b| n * 10 + u16::from(b - b'0')))
        }
        _ => None,
    };
    match status {
        Some(n) if n >= 100 => Ok(n),
        _ => Err(ProbeError::Malformed(
            ["bad status line ", &quote(line)].concat(),
        )),
    }
}

fn parse_field(field: &[u8]) -> Result<(&str, &str), ProbeError> {
    let bad = || ProbeError::Malformed(["bad header line ", &quote(field)].concat());
    let colon = field.iter().position(|&b| b == b':').ok_or_else(bad)?;
    let (name, value) = (&field[..colon], &field[colon + 1..]);
    if name.is_empty()
        || name
            .iter()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(bad());
    }
    // Values of fields we do not read may hold any bytes; only the framing
    // fields need to be text.
    let name = std::str::from_utf8(name).map_err(|_| bad())?;
    let value = std::str::from_utf8(value)
        .unwrap_or("")
        .trim_matches([' ', '\t']);
    Ok((name, value))
}

/// Digits only; a comma list of equal values is allowed (RFC 9110 8.6).
fn parse_content_length(value: &str) -> Result<u64, ProbeError> {
    let bad = || ProbeError::Malformed(["bad Content-Length ", &quote(value.as_bytes())].concat());
    let mut result = None;
    for part in value.split(',') {
        let part = part.trim();
        let n = number(part, 10, u64::MAX).ok_or_else(bad)?;
        if result.is_some_and(|r| r != n) {
            return Err(bad());
        }
        result = Some(n);
    }
    result.ok_or_else(bad)
}

#[inline(never)]
fn read_body<R: Read>(wire: &mut Wire<R>, framing: Framing) -> Result<Body, ProbeError> {
    let mut body = Body {
        bytes: Vec::new(),
        capped: false,
    };
    match framing {
        Framing::Empty => {}
        Framing::Length(n) => wire.take_exact(n, &mut body)?,
        Framing::UntilClose => {
            while wire.pos < wire.buf.len() || wire.fill()? {
                if body.bytes.len() == BODY_CAP {
                    body.capped = true;
                    break;
                }
                wire.take_exact((wire.buf.len() - wire.pos) as u64, &mut body)?;
            }
        }
        Framing::Chunked => loop {
            let line = wire.take_line(CHUNK_LINE_CAP, CHUNK_LINE_CAP, "chunk size line")?;
            let size = parse_chunk_size(&line)?;
            if size == 0 {
                // Trailer fields until the blank line; contents unused.
                let mut budget = HEAD_CAP;
                loop {
                    let trailer = wire.take_line(budget, HEAD_CAP, "chunked trailer")?;
                    if trailer.is_empty() {
                        break;
                    }
                    budget = budget.saturating_sub(trailer.len() + 2);
                }
                break;
            }
            wire.take_exact(size, &mut body)?;
            if body.capped {
                break;
            }
            // The CRLF that ends the chunk data; anything else there means
            // the size line lied.
            match wire.take_line(2, 2, "chunk data") {
                Ok(end) if end.is_empty() => {}
                Err(e @ ProbeError::Read(_)) => return Err(e),
                Err(ProbeError::Malformed(why)) if why.starts_with("connection closed") => {
                    return Err(ProbeError::Malformed(why));
                }
                _ => {
                    return Err(ProbeError::Malformed(
                        "chunk data longer than its chunk size".into(),
                    ))
                }
            }
        },
    }
    Ok(body)
}

/// Hex digits, then optional `;extensions`.
fn parse_chunk_size(line: &[u8]) -> Result<u64, ProbeError> {
    let bad = || ProbeError::Malformed(["invalid chunk size ", &quote(line)].concat());
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let digits = line[..end].trim_ascii();
    if digits.len() > 15 {
        return Err(bad());
    }
    let text = std::str::from_utf8(digits).map_err(|_| bad())?;
    number(text, 16, u64::MAX).ok_or_else(bad)
}

/// `text` as a number in `radix` (10 or 16), at most `max`: digits only,
/// no sign or spaces. One small parser instead of a generic one per type.
#[inline(never)]
fn number(text: &str, radix: u32, max: u64) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for c in text.chars() {
        let digit = u64::from(c.to_digit(radix)?);
        n = n.checked_mul(u64::from(radix))?.checked_add(digit)?;
    }
    (n <= max).then_some(n)
}

/// ASCII case-insensitive equality, kept out of line: inlined, each use
/// becomes its own vectorised loop.
#[inline(never)]
fn eq_ic(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Peer bytes for a one-line message: at most 40, escaped.
#[inline(never)]
fn quote(bytes: &[u8]) -> String {
    let shown = debug(&String::from_utf8_lossy(&bytes[..bytes.len().min(40)]));
    let more = if bytes.len() > 40 { "..." } else { "" };
    shown + more
}

/// `text` quoted and escaped as Rust's `{:?}` does; one formatting call
/// shared by every message (`concat` builds the rest, which is far smaller
/// than a `format!` per message).
#[inline(never)]
fn debug(text: &str) -> String {
    format!("{text:?}")
}

#[cfg(test)]
mod tests;
