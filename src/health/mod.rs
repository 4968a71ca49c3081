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

use nix::errno::Errno;
use std::ffi::OsString;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

use crate::sys;

const HEAD_CAP: usize = 64 * 1024;
const BODY_CAP: usize = 1024 * 1024;
/// A chunk-size line is a hex number plus optional extensions.
const CHUNK_LINE_CAP: usize = 4096;
/// Interim 1xx responses (103 Early Hints) we skip before the final one.
const MAX_INTERIM: usize = 8;
/// Longest accepted `--timeout`, in milliseconds (an hour).
const MAX_TIMEOUT_MS: u64 = 3_600_000;

const NO_RESOLVER: &str =
    ": only numeric addresses and localhost are supported (no resolver in a static binary)";

const USAGE: &str = "usage: hardinit health [OPTIONS] URL\nTry 'hardinit health --help'.\n";

const HELP: &str = "\
usage: hardinit health [OPTIONS] URL

HEALTHCHECK probe for images without a shell, curl or wget.
Exit status: 0 healthy, 1 unhealthy (reason on stderr), 2 bad arguments.

URL (HOST: IPv4, [IPv6] or localhost; no resolver, no TLS):
  http://HOST[:PORT][/PATH]  HTTP/1.1 GET
  unix:SOCKET[:/PATH]        HTTP/1.1 GET over a unix socket
  tcp://HOST:PORT            connect only

Options:
  --timeout DURATION      for the whole probe, e.g. 500ms, 2s [5s]
  --status LIST           healthy statuses, e.g. 200,204 or 200-399 [200-299]
  --header 'NAME: VALUE'  add or replace a request header (repeatable)
  --expect-body TEXT      the body (first 1 MiB) must contain TEXT
  -h, --help              print this help

Dockerflow endpoints: /__heartbeat__ (HEALTHCHECK, liveness),
/__lbheartbeat__ (load balancers, no backend checks), /__version__.

Example:
  HEALTHCHECK CMD [\"/hardinit\", \"health\", \"http://127.0.0.1:8000/__heartbeat__\"]
";

/// Entry point for `hardinit health ARGS...`; returns the exit code.
pub fn run(args: &[OsString]) -> u8 {
    let probe = match parse_args(args) {
        Ok(Command::Probe(probe)) => probe,
        Ok(Command::Help) => {
            return match sys::write_all(libc::STDOUT_FILENO, HELP.as_bytes()) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        }
        Err(fail) => return complain(&fail, b"", 2),
    };
    let deadline = sys::monotonic_ns() + probe.timeout_ms * 1_000_000;
    // The response is read into this, and a message may quote from it.
    let mut buf = Vec::new();
    match run_probe(&probe, deadline, &mut buf) {
        Ok(()) => 0,
        Err(fail) => complain(&fail, probe.timeout_text, 1),
    }
}

/// Why the probe failed or the arguments are wrong. Built where the failure
/// is found, without allocating, from static text and borrowed bytes;
/// `message` is the one place that writes it out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fail<'a> {
    /// What failed (`invalid --timeout `, `bad status line `), or what the
    /// probe was doing when a system call failed (`connecting to `).
    pub(super) what: &'static str,
    pub(super) detail: Detail<'a>,
    /// After the detail: why, or what to do instead (`: give one URL`).
    pub(super) note: &'static str,
    /// The failed system call's error. ETIMEDOUT is the deadline passing,
    /// worded as `timeout after --timeout` followed by `what`.
    pub(super) errno: Option<Errno>,
}

/// The variable part of a message, shown after `Fail::what`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Detail<'a> {
    None,
    /// Bytes shown as they are, escaped: the address as written in the
    /// URL, an option name.
    Plain(&'a [u8]),
    /// An argument, quoted and escaped.
    Quoted(&'a [u8]),
    /// The last response line read, which the error is about: the parsers
    /// see it in a buffer that is reused, so `Wire::quote_line` replaces
    /// this with `Peer` once reading has stopped.
    Line,
    /// A bad response line; its start is shown, quoted and escaped.
    Peer(&'a [u8]),
    Number(u64),
    /// A status and the `--status` list it is not in.
    Status(u16, &'a [u8]),
}

/// How much of a bad response line a message quotes.
const PEER_SHOWN: usize = 40;

/// A failure that is not a system call's: no errno.
pub(super) const fn fail<'a>(
    what: &'static str,
    detail: Detail<'a>,
    note: &'static str,
) -> Fail<'a> {
    Fail {
        what,
        detail,
        note,
        errno: None,
    }
}

/// Writes `hardinit health: REASON` (and, for exit 2, the usage) to stderr
/// and returns `code`. If even that cannot be written, the code still tells.
#[inline(never)]
fn complain(fail: &Fail, timeout: &[u8], code: u8) -> u8 {
    let mut line = message(fail, timeout);
    if code == 2 {
        line.extend_from_slice(USAGE.as_bytes());
    }
    let _ = sys::write_all(libc::STDERR_FILENO, &line);
    code
}

/// The line for `fail`: `what`, the detail, `note`, then the errno's
/// description; a timeout names `--timeout` (as typed) first.
pub(super) fn message(fail: &Fail, timeout: &[u8]) -> Vec<u8> {
    let mut line = b"hardinit health: ".to_vec();
    let timed_out = fail.errno == Some(Errno::ETIMEDOUT);
    if timed_out {
        line.extend_from_slice(b"timeout after ");
        escape(&mut line, timeout, false);
        line.push(b' ');
    }
    line.extend_from_slice(fail.what.as_bytes());
    match fail.detail {
        Detail::None => {}
        Detail::Plain(bytes) => escape(&mut line, bytes, false),
        Detail::Quoted(bytes) => escape(&mut line, bytes, true),
        Detail::Line => {}
        Detail::Peer(bytes) => {
            escape(&mut line, bytes.get(..PEER_SHOWN).unwrap_or(bytes), true);
            if bytes.len() > PEER_SHOWN {
                line.extend_from_slice(b"...");
            }
        }
        Detail::Number(n) => decimal(&mut line, n),
        Detail::Status(status, list) => {
            decimal(&mut line, status.into());
            line.extend_from_slice(b" (expected ");
            escape(&mut line, list, false);
            line.push(b')');
        }
    }
    line.extend_from_slice(fail.note.as_bytes());
    match fail.errno {
        Some(errno) if !timed_out => {
            line.extend_from_slice(b": ");
            line.extend_from_slice(errno.desc().as_bytes());
        }
        _ => {}
    }
    line.push(b'\n');
    line
}

/// Appends `bytes`, `quoted` or not, with control characters, `"` and `\`
/// escaped so that the message stays one line and unambiguous. Bytes from
/// 0x80 up pass as they are: a UTF-8 path stays readable.
#[inline(never)]
fn escape(line: &mut Vec<u8>, bytes: &[u8], quoted: bool) {
    if quoted {
        line.push(b'"');
    }
    for &b in bytes {
        if b < b' ' || b == 0x7f {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let hex = [
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ];
            line.extend_from_slice(&hex);
        } else {
            if b == b'"' || b == b'\\' {
                line.push(b'\\');
            }
            line.push(b);
        }
    }
    if quoted {
        line.push(b'"');
    }
}

/// Appends `n` in decimal.
fn decimal(line: &mut Vec<u8>, mut n: u64) {
    // Digits from the last; u64::MAX has 20.
    let mut digits = [0; 20];
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        start -= 1;
        if n == 0 {
            break;
        }
    }
    line.extend_from_slice(digits.get(start..).unwrap_or_default());
}

// Small helpers shared by the parsers, each kept out of line: inlined,
// every use of a search or comparison would become a loop of its own.

/// `bytes` up to the first `sep` and, if there is one, after it.
#[inline(never)]
pub(super) fn cut(bytes: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match bytes.iter().position(|&b| b == sep) {
        Some(i) => {
            // Checked, though `i` is in range: no panic path.
            let (head, tail) = bytes.split_at_checked(i).unwrap_or_default();
            (head, tail.get(1..))
        }
        None => (bytes, None),
    }
}

/// `bytes` after `prefix`, if it starts with it. One function for all
/// prefixes: `strip_prefix` is generic over the pattern's type, so each
/// length of prefix would be a function of its own.
#[inline(never)]
pub(super) fn after<'a>(bytes: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    bytes
        .get(prefix.len()..)
        .filter(|_| bytes.starts_with(prefix))
}

/// Whether `bytes` holds `b`.
pub(super) fn has(bytes: &[u8], b: u8) -> bool {
    cut(bytes, b).1.is_some()
}

/// ASCII case-insensitive equality (header names, `localhost`).
#[inline(never)]
pub(super) fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// `bytes` without leading and trailing blanks.
#[inline(never)]
pub(super) fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// `text` as a number in `radix` (10 or 16), at most `max`: digits only,
/// no sign or spaces.
#[inline(never)]
pub(super) fn number(text: &[u8], radix: u32, max: u64) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in text {
        // Not `char::to_digit`, whose check of `radix` is a panic path.
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        if u32::from(digit) >= radix {
            return None;
        }
        let digit = u64::from(digit);
        n = n.checked_mul(u64::from(radix))?.checked_add(digit)?;
    }
    (n <= max).then_some(n)
}

/// Appends the pieces to `bytes` (the request).
#[inline(never)]
pub(super) fn append(bytes: &mut Vec<u8>, parts: &[&[u8]]) {
    for part in parts {
        bytes.extend_from_slice(part);
    }
}

mod args;
mod http;
mod net;

use args::*;
use http::*;
use net::*;

#[cfg(test)]
mod tests;
