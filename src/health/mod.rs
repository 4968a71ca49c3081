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
    "only numeric addresses and localhost are supported (no resolver in a static binary)";

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
    let (code, message) = match parse_args(args) {
        Ok(Command::Help) => match sys::write_all(libc::STDOUT_FILENO, HELP.as_bytes()) {
            Ok(()) => return 0,
            Err(_) => return 1,
        },
        Err(why) => (2, why),
        Ok(Command::Probe(probe)) => {
            let deadline = sys::monotonic_ns() + probe.timeout_ms * 1_000_000;
            match run_probe(&probe, deadline) {
                Ok(()) => return 0,
                Err(fail) => (1, explain(&fail, &probe)),
            }
        }
    };
    // Unhealthy or bad arguments: one message on stderr. If even that
    // cannot be written, the exit code still tells.
    let usage = if code == 2 { USAGE } else { "" };
    let line = text(&[
        b"hardinit health: ",
        message.as_bytes(),
        b"\n",
        usage.as_bytes(),
    ]);
    let _ = sys::write_all(libc::STDERR_FILENO, line.as_bytes());
    code
}

// Small helpers shared by the parsers and messages, each kept out of line:
// the release profile optimises for speed, and inlined, every use of a
// search or comparison would become a loop of its own, often vectorised.

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
        let digit = u64::from(char::from(b).to_digit(radix)?);
        n = n.checked_mul(u64::from(radix))?.checked_add(digit)?;
    }
    (n <= max).then_some(n)
}

/// Appends the pieces to `bytes` (the request, messages).
#[inline(never)]
pub(super) fn append(bytes: &mut Vec<u8>, parts: &[&[u8]]) {
    for part in parts {
        bytes.extend_from_slice(part);
    }
}

/// A message from pieces, some of them bytes from the command line or the
/// peer (shown lossily). Every message is assembled here: one copy loop
/// rather than a `format!` per message.
#[inline(never)]
pub(super) fn text(parts: &[&[u8]]) -> String {
    let mut bytes = Vec::new();
    append(&mut bytes, parts);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `bytes` quoted and escaped as Rust's `{:?}` does, for a one-line message.
#[inline(never)]
pub(super) fn quote(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

pub(super) fn decimal(n: u64) -> String {
    format!("{n}")
}

mod args;
mod http;
mod net;

use args::*;
use http::*;
use net::*;

#[cfg(test)]
mod tests;
