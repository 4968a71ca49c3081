//! The probe: connect, send the request, check the answer, all under one
//! deadline with non-blocking sockets and poll(2).

use super::*;

#[derive(Debug)]
pub(super) enum ProbeError {
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
pub(super) fn run_probe(probe: &Probe, deadline: u64) -> Result<(), ProbeError> {
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

pub(super) fn is_timeout(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut
}

#[inline(never)]
pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Ip {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// The addresses to try for HOST, in order, each with its text for
/// messages; empty for a host name. There is no resolver: a static binary
/// has no NSS, and the loopback addresses are what a probe inside the
/// container means by "localhost".
pub(super) fn addresses(host: &str) -> Vec<(Ip, &str)> {
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
pub(super) struct SockAddr {
    pub(super) storage: libc::sockaddr_storage,
    pub(super) len: libc::socklen_t,
}

impl SockAddr {
    pub(super) fn empty() -> SockAddr {
        SockAddr {
            // SAFETY: all-zero bytes are a valid sockaddr_storage.
            storage: unsafe { mem::zeroed() },
            len: 0,
        }
    }

    pub(super) fn inet(ip: Ip, port: u16) -> SockAddr {
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

    pub(super) fn unix(path: &[u8]) -> io::Result<SockAddr> {
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
pub(super) fn connect(address: &Address, deadline: u64) -> Result<OwnedFd, ProbeError> {
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
pub(super) fn connect_one(addr: &SockAddr, deadline: u64) -> io::Result<OwnedFd> {
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
pub(super) fn now_us() -> u64 {
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
pub(super) fn remaining_ms(deadline: u64) -> io::Result<libc::c_int> {
    match deadline.saturating_sub(now_us()) {
        0 => Err(io::ErrorKind::TimedOut.into()),
        // At most MAX_TIMEOUT, so it fits.
        left => Ok(left.div_ceil(1000) as libc::c_int),
    }
}

/// Waits until `fd` reports one of `events` (or an error or hang-up, which
/// the next call on it reports), at most until the deadline.
pub(super) fn wait(fd: &OwnedFd, events: libc::c_short, deadline: u64) -> io::Result<()> {
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
pub(super) fn build_request(http: &HttpTarget, extra: &[(String, String)]) -> Vec<u8> {
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
pub(super) struct Timed {
    pub(super) fd: OwnedFd,
    /// On the `now_us` clock.
    pub(super) deadline: u64,
}

impl Timed {
    pub(super) fn send_all(&self, mut buf: &[u8]) -> io::Result<()> {
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
pub(super) fn retry_or_fail(e: io::Error) -> io::Result<()> {
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
