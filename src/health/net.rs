//! The probe: connect, send the request, check the answer, all under one
//! deadline with non-blocking sockets and poll(2).

use super::*;

pub(super) fn run_probe<'a>(
    probe: &Probe<'a>,
    deadline: u64,
    buf: &'a mut Vec<u8>,
) -> Result<(), Fail<'a>> {
    let target = &probe.target;
    let fd = connect(&target.address, deadline).map_err(|errno| Fail {
        errno: Some(errno),
        ..fail("connecting to ", Detail::Plain(target.shown), "")
    })?;
    let Some(http) = &target.http else {
        return Ok(());
    };
    let request = build_request(http, &probe.headers);
    let stream = Timed { fd, deadline };
    stream.send_all(&request).map_err(|errno| Fail {
        errno: Some(errno),
        ..fail("sending the request", Detail::None, "")
    })?;
    let mut wire = Wire::new(stream, buf);
    check_response(&mut wire, probe).map_err(|fail| wire.quote_line(fail))
}

/// Reads the response and checks it against `--status` and
/// `--expect-body`.
pub(super) fn check_response<'a>(
    wire: &mut Wire<Timed>,
    probe: &Probe<'a>,
) -> Result<(), Fail<'a>> {
    let head = read_head(wire)?;
    if status_listed(probe.statuses, head.status) != Some(true) {
        let status = Detail::Status(head.status, probe.statuses);
        return Err(fail("status ", status, ""));
    }
    wire.during = "reading the body";
    let body = read_body(wire, head.framing)?;
    match probe.expect_body {
        Some(text) if !contains(&body.bytes, text) => {
            let more = if body.capped {
                " in its first 1 MiB"
            } else {
                ""
            };
            Err(fail("body does not contain ", Detail::Quoted(text), more))
        }
        _ => Ok(()),
    }
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Ip {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// The addresses to try for HOST, in order; none for a host name. There
/// is no resolver: a static binary has no NSS, and the loopback addresses
/// are what a probe inside the container means by "localhost".
pub(super) fn addresses(host: &[u8]) -> [Option<Ip>; 2] {
    if eq_ic(host, b"localhost") {
        let mut v6 = [0; 16];
        v6[15] = 1;
        return [Some(Ip::V4([127, 0, 0, 1])), Some(Ip::V6(v6))];
    }
    let ip = parse_ipv4(host).map(Ip::V4);
    [ip.or_else(|| parse_ipv6(host).map(Ip::V6)), None]
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

    pub(super) fn unix(path: &[u8]) -> Result<SockAddr, Errno> {
        let mut addr = SockAddr::empty();
        // SAFETY: as in `inet`; sockaddr_un fits in sockaddr_storage.
        let sun = unsafe { &mut *ptr::addr_of_mut!(addr.storage).cast::<libc::sockaddr_un>() };
        // Room for the terminating NUL, which the zeroed storage provides.
        if path.len() >= sun.sun_path.len() || has(path, 0) {
            return Err(Errno::ENAMETOOLONG);
        }
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        // SAFETY: `path` fits, as checked above; c_char and u8 have one size.
        unsafe {
            ptr::copy_nonoverlapping(path.as_ptr(), sun.sun_path.as_mut_ptr().cast(), path.len())
        };
        addr.len = mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        Ok(addr)
    }
}

pub(super) fn connect(address: &Address, deadline: u64) -> Result<OwnedFd, Errno> {
    let (host, port) = match *address {
        Address::Unix(path) => return connect_one(&SockAddr::unix(path)?, deadline),
        Address::Inet { host, port } => (host, port),
    };
    let mut last = Errno::ETIMEDOUT;
    for ip in addresses(host).into_iter().flatten() {
        match connect_one(&SockAddr::inet(ip, port), deadline) {
            Ok(fd) => return Ok(fd),
            Err(Errno::ETIMEDOUT) => return Err(Errno::ETIMEDOUT),
            // No IPv6 here says less than why 127.0.0.1 failed.
            Err(Errno::EAFNOSUPPORT) => {}
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// connect(2) on a non-blocking socket, bounded by the deadline.
pub(super) fn connect_one(addr: &SockAddr, deadline: u64) -> Result<OwnedFd, Errno> {
    let family = libc::c_int::from(addr.storage.ss_family);
    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain syscall; a non-negative result is a new descriptor we own.
    let fd = match unsafe { libc::socket(family, flags, 0) } {
        -1 => return Err(Errno::last()),
        fd => unsafe { OwnedFd::from_raw_fd(fd) },
    };
    loop {
        let sa = ptr::addr_of!(addr.storage).cast::<libc::sockaddr>();
        // SAFETY: `sa` points to `addr.len` initialised bytes.
        if unsafe { libc::connect(fd.as_raw_fd(), sa, addr.len) } == 0 {
            return Ok(fd);
        }
        match Errno::last() {
            // In progress (an interrupted connect carries on too): wait for
            // writability, then read the outcome.
            Errno::EINPROGRESS | Errno::EINTR => {
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
                    (-1, _) => Err(Errno::last()),
                    (_, 0) => Ok(fd),
                    (_, code) => Err(Errno::from_raw(code)),
                };
            }
            // A unix socket whose listen backlog is full: the kernel offers
            // nothing to wait on, so retry until the deadline.
            Errno::EAGAIN if family == libc::AF_UNIX => {
                let nap = remaining_ms(deadline)?.min(10);
                // Sleeps only; an EINTR just ends the nap early.
                let _ = sys::poll(&mut [], nap);
            }
            e => return Err(e),
        }
    }
}

/// Milliseconds left before the deadline (on the `sys::monotonic_ns`
/// clock), rounded up so a poll(2) never ends early; none left is
/// ETIMEDOUT.
pub(super) fn remaining_ms(deadline: u64) -> Result<libc::c_int, Errno> {
    match deadline.saturating_sub(sys::monotonic_ns()) {
        0 => Err(Errno::ETIMEDOUT),
        // At most MAX_TIMEOUT_MS, so it fits.
        left => Ok(left.div_ceil(1_000_000) as libc::c_int),
    }
}

/// Waits until `fd` reports one of `events` (or an error or hang-up, which
/// the next call on it reports), at most until the deadline.
#[inline(never)]
pub(super) fn wait(fd: &OwnedFd, events: libc::c_short, deadline: u64) -> Result<(), Errno> {
    loop {
        match sys::poll_one(fd.as_raw_fd(), events, remaining_ms(deadline)?) {
            // Nothing yet (poll timed out) or a signal: `remaining_ms` decides.
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// `GET` with the default headers (Host, User-Agent, Accept, Connection:
/// close, so the server ends the body of an unframed response), each
/// unless a `--header` of the same name replaces it.
pub(super) fn build_request(http: &HttpTarget, extra: &[(&[u8], &[u8])]) -> Vec<u8> {
    let slash: &[u8] = if http.path.starts_with(b"/") {
        b""
    } else {
        b"/"
    };
    let mut req = Vec::new();
    append(&mut req, &[b"GET ", slash, http.path, b" HTTP/1.1\r\n"]);
    let user_agent = concat!("hardinit-health/", env!("CARGO_PKG_VERSION"));
    let defaults: [(&[u8], &[u8]); 4] = [
        (b"Host", http.host_header),
        (b"User-Agent", user_agent.as_bytes()),
        (b"Accept", b"*/*"),
        (b"Connection", b"close"),
    ];
    // One loop over both lists, defaults first: its length is not known
    // in advance, so it is not unrolled once per default header.
    for i in 0..defaults.len() + extra.len() {
        let (name, value) = match i.checked_sub(defaults.len()) {
            Some(j) => extra[j],
            None if extra.iter().any(|&(n, _)| eq_ic(n, defaults[i].0)) => continue,
            None => defaults[i],
        };
        append(&mut req, &[name, b": ", value, b"\r\n"]);
    }
    req.extend_from_slice(b"\r\n");
    req
}

/// A connected non-blocking socket whose every read and write ends at the
/// probe's deadline.
pub(super) struct Timed {
    pub(super) fd: OwnedFd,
    /// On the `sys::monotonic_ns` clock.
    pub(super) deadline: u64,
}

impl Timed {
    pub(super) fn send_all(&self, mut buf: &[u8]) -> Result<(), Errno> {
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
                Ok(n) => buf = buf.get(n..).unwrap_or_default(),
                Err(_) => retry_or_fail(Errno::last())?,
            }
        }
        Ok(())
    }
}

/// `Ok` for the errors after which a non-blocking call is simply retried.
pub(super) fn retry_or_fail(e: Errno) -> Result<(), Errno> {
    match e {
        Errno::EAGAIN | Errno::EINTR => Ok(()),
        e => Err(e),
    }
}

impl Source for Timed {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            wait(&self.fd, libc::POLLIN, self.deadline)?;
            match sys::read(self.fd.as_raw_fd(), buf) {
                Ok(n) => return Ok(n),
                Err(e) => retry_or_fail(e)?,
            }
        }
    }
}
