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

mod args;
mod http;
mod net;

use args::*;
use http::*;
use net::*;

#[cfg(test)]
mod tests;
