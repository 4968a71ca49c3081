//! Arguments -> `Probe`: everything that can be wrong with the command
//! line is found here, before any connection (exit 2). Values stay byte
//! slices of argv: nothing is copied or required to be UTF-8 (a socket path
//! need not be), and only what goes on the wire is checked byte by byte.

use super::*;

#[derive(Debug)]
pub(super) enum Command<'a> {
    Help,
    Probe(Probe<'a>),
}

#[derive(Debug)]
pub(super) struct Probe<'a> {
    pub(super) target: Target<'a>,
    pub(super) timeout_ms: u64,
    /// As typed (`300ms`), so the timeout message quotes the user.
    pub(super) timeout_text: &'a [u8],
    /// As typed (`200,204`); checked here, matched by `status_listed`.
    pub(super) statuses: &'a [u8],
    /// `(name, value)` of each `--header`.
    pub(super) headers: Vec<(&'a [u8], &'a [u8])>,
    pub(super) expect_body: Option<&'a [u8]>,
}

#[derive(Debug, PartialEq)]
pub(super) enum Address<'a> {
    /// HOST is numeric or localhost (see `addresses`).
    Inet {
        host: &'a [u8],
        port: u16,
    },
    Unix(&'a [u8]),
}

#[derive(Debug, PartialEq)]
pub(super) struct Target<'a> {
    pub(super) address: Address<'a>,
    /// The address as written in the URL (`127.0.0.1:8000`, a socket
    /// path), for messages.
    pub(super) shown: &'a [u8],
    /// `None` for `tcp://`: connect only.
    pub(super) http: Option<HttpTarget<'a>>,
}

#[derive(Debug, PartialEq)]
pub(super) struct HttpTarget<'a> {
    pub(super) host_header: &'a [u8],
    /// As in the URL: empty or `?query` when the URL has no path, which
    /// `build_request` sends as `/` and `/?query`.
    pub(super) path: &'a [u8],
}

/// The options that take a value. `--header` may be repeated; of the
/// others, the last one counts.
const OPTIONS: [&str; 4] = ["--timeout", "--status", "--expect-body", "--header"];

pub(super) fn parse_args(args: &[OsString]) -> Result<Command<'_>, Fail<'_>> {
    let mut values: [Option<&[u8]>; 3] = [None; 3];
    let mut headers = Vec::new();
    let (mut url, mut extra) = (None, None);
    let mut only_positional = false;
    let mut it = args.iter().map(|arg| arg.as_bytes());
    while let Some(arg) = it.next() {
        if only_positional || arg == b"-" || !arg.starts_with(b"-") {
            match url {
                None => url = Some(arg),
                Some(_) => extra = extra.or(Some(arg)),
            }
        } else if arg == b"--" {
            only_positional = true;
        } else if arg == b"-h" || arg == b"--help" {
            return Ok(Command::Help);
        } else {
            let (name, inline) = match cut(arg, b'=') {
                (name, Some(value)) if arg.starts_with(b"--") => (name, Some(value)),
                _ => (arg, None),
            };
            let Some(option) = OPTIONS.iter().position(|o| o.as_bytes() == name) else {
                return Err(fail("unknown option ", Detail::Plain(name), ""));
            };
            let Some(value) = inline.or_else(|| it.next()) else {
                return Err(fail("", Detail::Plain(name), " needs a value"));
            };
            match values.get_mut(option) {
                Some(slot) => *slot = Some(value),
                None => {
                    let header = parse_header(value);
                    headers
                        .push(header.map_err(|why| {
                            fail("invalid --header ", Detail::Quoted(value), why)
                        })?);
                }
            }
        }
    }
    let [timeout_text, statuses, expect_body] = values;
    let timeout_text = timeout_text.unwrap_or(b"5s");
    let statuses = statuses.unwrap_or(b"200-299");
    // `-h` anywhere wins, so the URL count is checked only now.
    let Some(url) = url else {
        return Err(fail("missing URL", Detail::None, ""));
    };
    if let Some(extra) = extra {
        let extra = Detail::Quoted(extra);
        return Err(fail("unexpected argument ", extra, ": give one URL"));
    }
    if expect_body == Some(b"") {
        return Err(fail("--expect-body must not be empty", Detail::None, ""));
    }
    let Some(timeout_ms) = parse_duration(timeout_text) else {
        let why = ": use e.g. 500ms, 2s or 1m, at most 60m";
        return Err(fail(
            "invalid --timeout ",
            Detail::Quoted(timeout_text),
            why,
        ));
    };
    // Status 0 is in no list, so this reads the whole list, checking it.
    if status_listed(statuses, 0).is_none() {
        return Err(fail(
            "invalid --status ",
            Detail::Quoted(statuses),
            ": use e.g. 200,204 or 200-399",
        ));
    }
    let target = parse_target(url).map_err(|why| fail("invalid URL ", Detail::Quoted(url), why))?;
    Ok(Command::Probe(Probe {
        target,
        timeout_ms,
        timeout_text,
        statuses,
        headers,
        expect_body,
    }))
}

/// `500ms`, `2s`, `1m` in milliseconds; a unit is required so `5` cannot
/// mean 5 ms by mistake.
pub(super) fn parse_duration(arg: &[u8]) -> Option<u64> {
    let (digits, unit_ms) = match arg {
        [d @ .., b'm', b's'] => (d, 1),
        [d @ .., b's'] => (d, 1000),
        [d @ .., b'm'] => (d, 60_000),
        _ => (arg, 0),
    };
    let ms = number(digits, 10, MAX_TIMEOUT_MS)? * unit_ms;
    (1..=MAX_TIMEOUT_MS).contains(&ms).then_some(ms)
}

/// Whether `status` is in `list` (`200,204`, `200-399` or a mix, each
/// status 100-599, spaces allowed around numbers); `None` if the list is
/// malformed. Every item is checked, also after a match.
#[inline(never)]
pub(super) fn status_listed(list: &[u8], status: u16) -> Option<bool> {
    let code = |text| number(trim(text), 10, 599).filter(|&n| n >= 100);
    let mut listed = false;
    let mut rest = Some(list);
    while let Some(list) = rest {
        let item;
        (item, rest) = cut(list, b',');
        let (lo, hi) = cut(item, b'-');
        let lo = code(lo)?;
        let hi = match hi {
            Some(hi) => code(hi)?,
            None => lo,
        };
        if lo > hi {
            return None;
        }
        listed |= (lo..=hi).contains(&u64::from(status));
    }
    Some(listed)
}

/// HTTP token characters (RFC 9110 5.6.2), a bit for each ASCII byte.
const TCHAR: u128 = {
    let chars = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let (mut set, mut i) = (0, 0);
    while i < chars.len() {
        set |= 1 << chars[i];
        i += 1;
    }
    set
};

/// `Name: value`. The name must be an HTTP token and the value free of
/// control characters, so an argument cannot smuggle extra request lines.
/// The error is why it is wrong, as `: why`.
pub(super) fn parse_header(arg: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
    let (name, value) = cut(arg, b':');
    let value = value.ok_or(": expected 'Name: value'")?;
    if name.is_empty() || !name.iter().all(|&b| b < 128 && TCHAR >> b & 1 == 1) {
        return Err(": the name must be a token such as X-Probe");
    }
    // Bytes from 0x80 up are allowed (obs-text); CR and LF are not.
    if value.iter().any(|&b| b < b' ' && b != b'\t' || b == 0x7f) {
        return Err(": control characters in the value");
    }
    // Now only spaces and tabs can be trimmed.
    Ok((name, trim(value)))
}

/// The URL's parts; the error is why it is wrong, as `: why`.
pub(super) fn parse_target(url: &[u8]) -> Result<Target<'_>, &'static str> {
    let (address, shown, http) = if let Some(rest) = after(url, b"http://") {
        let end = rest.iter().position(|b| b"/?#".contains(b));
        let (authority, path) = rest
            .split_at_checked(end.unwrap_or(rest.len()))
            .unwrap_or_default();
        let http = HttpTarget {
            host_header: authority,
            path: cut(path, b'#').0,
        };
        (parse_authority(authority, Some(80))?, authority, Some(http))
    } else if let Some(rest) = after(url, b"tcp://") {
        let authority = match rest {
            [authority @ .., b'/'] => authority,
            _ => rest,
        };
        (parse_authority(authority, None)?, authority, None)
    } else if let Some(rest) = after(url, b"unix:") {
        let (socket, path) = cut(rest, b':');
        let path = path.unwrap_or(b"/");
        if socket.is_empty() {
            return Err(": missing socket path; use unix:/run/app.sock:/PATH");
        }
        if !path.starts_with(b"/") {
            return Err(": the request path must start with '/'");
        }
        let http = HttpTarget {
            host_header: b"localhost",
            path,
        };
        (Address::Unix(socket), socket, Some(http))
    } else if url.starts_with(b"https://") {
        return Err(
            ": https is not supported (no TLS); probe the plain HTTP port inside the container",
        );
    } else {
        return Err(": use http://, unix: or tcp://");
    };
    // The path goes verbatim into the request line: printable ASCII only.
    if let Some(http) = &http {
        if !http.path.iter().all(u8::is_ascii_graphic) {
            return Err(": the path has spaces or non-ASCII characters; percent-encode them");
        }
    }
    Ok(Target {
        address,
        shown,
        http,
    })
}

/// `HOST[:PORT]` with HOST an IPv4 address, `[IPv6]` or localhost; a
/// missing port is `default_port`.
#[inline(never)]
pub(super) fn parse_authority(
    authority: &[u8],
    default_port: Option<u16>,
) -> Result<Address<'_>, &'static str> {
    if has(authority, b'@') {
        return Err(": credentials in the URL are not supported; use --header");
    }
    let (host, port) = if let Some(rest) = after(authority, b"[") {
        let (v6, after) = cut(rest, b']');
        let after = after.ok_or(": missing ']'")?;
        if parse_ipv6(v6).is_none() {
            return Err(": not an IPv6 address");
        }
        match cut(after, b':') {
            (b"", port) => (v6, port),
            _ => return Err(": expected ':PORT' after ']'"),
        }
    } else {
        match cut(authority, b':') {
            (_, Some(port)) if has(port, b':') => return Err(": put IPv6 addresses in [ ]"),
            parts => parts,
        }
    };
    if host.is_empty() {
        return Err(": missing host");
    }
    let port = match port {
        Some(port) => match number(port, 10, 65535) {
            Some(n @ 1..) => n as u16,
            _ => return Err(": the port must be 1-65535"),
        },
        None => default_port.ok_or(": missing ':PORT'")?,
    };
    if addresses(host)[0].is_none() {
        return Err(NO_RESOLVER);
    }
    Ok(Address::Inet { host, port })
}

/// Dotted-quad IPv4, four decimal octets without leading zeros (which
/// some parsers read as octal).
#[inline(never)]
pub(super) fn parse_ipv4(text: &[u8]) -> Option<[u8; 4]> {
    // The octets as they come, shifted into one number: no indexing, so
    // no bounds checks.
    let (mut bits, mut count) = (0u32, 0);
    let mut rest = Some(text);
    while let Some(list) = rest {
        let octet;
        (octet, rest) = cut(list, b'.');
        if octet.len() > 1 && octet.starts_with(b"0") || count == 4 {
            return None;
        }
        bits = bits << 8 | number(octet, 10, 255)? as u32;
        count += 1;
    }
    (count == 4).then_some(bits.to_be_bytes())
}

/// IPv6 text form (RFC 4291 2.2): eight groups of 1-4 hex digits, or fewer
/// with one `::` standing for at least one zero group, the last 32 bits
/// optionally as an IPv4 address. No zone index (`%eth0`).
#[inline(never)]
pub(super) fn parse_ipv6(text: &[u8]) -> Option<[u8; 16]> {
    // The groups as they come, shifted into one 128-bit number: no
    // indexing, so no bounds checks. At `::` the groups so far move to
    // `head`, with their count, to be shifted into place at the end.
    let (mut bits, mut groups) = (0u128, 0);
    let mut head = None;
    let mut rest = text;
    if let Some(tail) = after(rest, b"::") {
        (head, rest) = (Some((0, 0)), tail);
    }
    while !rest.is_empty() {
        let (group, after) = cut(rest, b':');
        let (value, width) = if after.is_none() && has(group, b'.') {
            (u32::from_be_bytes(parse_ipv4(group)?).into(), 2)
        } else if group.len() <= 4 {
            (u128::from(number(group, 16, 0xffff)?), 1)
        } else {
            return None;
        };
        bits = bits << (16 * width) | value;
        groups += width;
        if groups > 8 {
            return None;
        }
        rest = match after {
            None => b"",
            // A `:` must be followed by a group, or by a second `:` once.
            Some([]) => return None,
            Some([b':', after @ ..]) if head.is_none() => {
                (head, bits) = (Some((bits, groups)), 0);
                after
            }
            Some(after) => after,
        };
    }
    match head {
        // `::` stands for at least one zero group. The head moves up past
        // the zeros; with no head (`::` first) it is 0, and the shift by
        // 128 that wraps to 0 leaves it 0.
        Some((head, at)) if groups < 8 => {
            Some((head.wrapping_shl(16 * (8 - at)) | bits).to_be_bytes())
        }
        None if groups == 8 => Some(bits.to_be_bytes()),
        _ => None,
    }
}
