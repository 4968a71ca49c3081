//! Landlock confinement of the child: `--read-only`, `--writable`,
//! `--no-exec-writable`, `--bind-ports`, `--connect-ports` (step 8b).
//!
//! Everything that can fail for a user reason happens in [`prepare`], in the
//! parent before fork: ABI detection, opening every rule path, creating the
//! ruleset and adding all rules. The forked child only calls
//! [`Prepared::enforce`], one `landlock_restrict_self(2)` on the prepared
//! ruleset fd, which allocates nothing. The ruleset fd is O_CLOEXEC (the
//! kernel always sets it), so the program never inherits it.
//!
//! What the rules mean:
//! - `--read-only`: every write-type right of the ABI is handled (write_file,
//!   remove_*, make_*, refer from ABI 2, truncate from ABI 3, ioctl_dev from
//!   ABI 5) and granted only beneath the writable paths. Reads are never
//!   handled. ABI 9's resolve_unix is deliberately not handled: connecting to
//!   /dev/log or a database socket is not a write to the file system.
//! - Writable paths: the `--writable` ones plus [`DEFAULT_WRITABLE`] (those
//!   present). /dev/pts, /dev/ptmx, /dev/tty and /dev/console keep terminal
//!   use working, ioctls included. Devices the program opens for writing
//!   (a GPU, /dev/kvm) must be listed with `--writable`.
//! - Standard streams: Landlock checks rights when a file is opened, so fds
//!   the child inherits (the log pipes on 1 and 2) stay writable. Opening
//!   /dev/stdout re-opens /proc/self/fd/1: for a pipe or socket that open is
//!   not path-checked (pipefs and sockfs are internal file systems Landlock
//!   skips), for a pty it is covered by /dev/pts; only when fd 1 is a regular
//!   file outside the writable paths is the re-open denied (EACCES).
//! - `--no-exec-writable`: EXECUTE is handled and granted on everything
//!   except the writable paths. Landlock can only allow-list, so
//!   [`prepare`] walks from `/` towards each writable path and grants
//!   EXECUTE beneath every entry that neither is a writable path nor
//!   contains one (see `rules::exec_rules` for the limits). Without
//!   `--read-only` the writable paths only mark where exec is denied.
//! - `--bind-ports` / `--connect-ports`: TCP bind / connect are handled only
//!   when the respective list is given; only the listed ports are allowed.
//!   An empty list means "not restricted" (there is no deny-all spelling);
//!   port 0 allows binding to an ephemeral port. UDP is never restricted.
//! - ABI requirements: `--read-only` 3 (truncate; best effort on 1-2
//!   confines writes but not truncation), `--no-exec-writable` 1, ports 4.
//!   Without `--landlock best-effort` a lower ABI is an error naming the
//!   option and the ABI found.
//!
//! The `landlock` crate builds the ruleset; its `restrict_self` consumes the
//! ruleset and also sets no-new-privs itself, so enforcement is one raw
//! syscall here instead (see [`sys`]).

mod plan;
mod rules;
mod sys;
#[cfg(test)]
mod tests;

use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use plan::linux_version;

/// Always writable under `--read-only` when present; never executable under
/// `--no-exec-writable`. All of them are optional.
pub const DEFAULT_WRITABLE: &[&str] = &[
    "/tmp",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/console",
    "/dev/pts",
    "/dev/ptmx",
    "/dev/shm",
];

/// Landlock options as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `--read-only`
    pub read_only: bool,
    /// `--writable PATH`, repeatable
    pub writable: Vec<PathSpec>,
    /// `--no-exec-writable`
    pub no_exec_writable: bool,
    /// `--bind-ports LIST`; empty = TCP bind not restricted
    pub bind_ports: Vec<u16>,
    /// `--connect-ports LIST`; empty = TCP connect not restricted
    pub connect_ports: Vec<u16>,
    /// `--landlock best-effort`
    pub best_effort: bool,
}

impl Options {
    fn any_set(&self) -> bool {
        self.read_only
            || self.no_exec_writable
            || !self.writable.is_empty()
            || !self.bind_ports.is_empty()
            || !self.connect_ports.is_empty()
    }
}

/// One `--writable` argument. `?/path` marks the path optional: skipped
/// when it does not exist instead of failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSpec {
    pub path: PathBuf,
    pub optional: bool,
}

/// What [`prepare`] found and set up, for `--debug` and `inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Landlock ABI of the running kernel (0 = none).
    pub abi: i32,
    /// Human lines such as "write: /tmp", "exec: everything except /tmp".
    pub rules: Vec<String>,
    /// "enforced" | "partially enforced" | "not enforced"
    pub status: &'static str,
    /// Restrictions dropped under `--landlock best-effort`.
    pub warnings: Vec<String>,
}

/// A ruleset ready to be enforced in the forked child.
#[derive(Debug)]
pub struct Prepared {
    /// None when best-effort left nothing to enforce.
    ruleset: Option<OwnedFd>,
    pub report: Report,
}

impl Prepared {
    /// In the forked child, after `PR_SET_NO_NEW_PRIVS` and before seccomp.
    /// Allocates nothing; returns the errno of `landlock_restrict_self(2)`.
    pub fn enforce(&self) -> Result<(), i32> {
        match &self.ruleset {
            Some(fd) => sys::restrict_self(fd.as_fd()),
            None => Ok(()),
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// A port list did not parse.
    ParsePorts { input: String, reason: String },
    /// The kernel's ABI lacks what an option needs (and no best-effort).
    Unsupported {
        option: &'static str,
        needs: i32,
        found: i32,
    },
    /// `--writable` with nothing that uses it.
    WritableUnused,
    /// `--writable` paths must be absolute.
    RelativePath { path: PathBuf },
    /// `--no-exec-writable` with `/` writable would forbid every exec.
    NothingExecutable,
    /// A rule path could not be opened.
    OpenPath {
        option: &'static str,
        path: PathBuf,
        errno: i32,
    },
    /// A directory on the way to a writable path could not be listed.
    ListDir { path: PathBuf, errno: i32 },
    /// The kernel refused to create the ruleset or one of its rules.
    Ruleset { step: String, detail: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ParsePorts { input, reason } => {
                write!(
                    f,
                    "invalid port list {input:?}: {reason} (expected e.g. 80,443,8000-8010)"
                )
            }
            Error::Unsupported {
                option,
                needs,
                found,
            } => write!(
                f,
                "{option} needs Landlock ABI {needs} (Linux {}+), this kernel has ABI {found}{}; \
                 add --landlock best-effort to run without it",
                linux_version(*needs),
                if *found == 0 { " (no Landlock)" } else { "" }
            ),
            Error::WritableUnused => write!(
                f,
                "--writable has no effect without --read-only or --no-exec-writable"
            ),
            Error::RelativePath { path } => write!(
                f,
                "--writable {}: the path must be absolute (prefix ? to make it optional: ?/path)",
                path.display()
            ),
            Error::NothingExecutable => write!(
                f,
                "--no-exec-writable with --writable / would forbid running any program"
            ),
            Error::OpenPath {
                option,
                path,
                errno,
            } => write!(
                f,
                "{option} {}: cannot open: {}{}",
                path.display(),
                nix::errno::Errno::from_raw(*errno).desc(),
                if *errno == libc::ENOENT {
                    " (prefix ? to make it optional: ?/path)"
                } else {
                    ""
                }
            ),
            Error::ListDir { path, errno } => write!(
                f,
                "--no-exec-writable: cannot list {}: {}",
                path.display(),
                nix::errno::Errno::from_raw(*errno).desc()
            ),
            Error::Ruleset { step, detail } => write!(f, "landlock {step}: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

/// Parses "80,443,8000-8010" into sorted, de-duplicated ports.
pub fn parse_ports(list: &str) -> Result<Vec<u16>, Error> {
    let bad = |reason: String| Error::ParsePorts {
        input: list.to_string(),
        reason,
    };
    let port = |s: &str| {
        s.trim()
            .parse::<u16>()
            .map_err(|_| bad(format!("{:?} is not a port (0-65535)", s.trim())))
    };
    let mut ports = Vec::new();
    for item in list.split(',') {
        if item.trim().is_empty() {
            return Err(bad("empty entry".into()));
        }
        match item.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (port(lo)?, port(hi)?);
                if lo > hi {
                    return Err(bad(format!("range {lo}-{hi} is reversed")));
                }
                ports.extend(lo..=hi);
            }
            None => ports.push(port(item)?),
        }
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

/// "?/path" is an optional path, anything else a required one.
pub fn parse_path_spec(s: &str) -> PathSpec {
    match s.strip_prefix('?') {
        Some(rest) => PathSpec {
            path: rest.into(),
            optional: true,
        },
        None => PathSpec {
            path: s.into(),
            optional: false,
        },
    }
}

/// The running kernel's Landlock ABI, 0 when Landlock is unavailable.
///
/// Debug builds honour `HARDINIT_TEST_LANDLOCK_ABI=N` to simulate an older
/// kernel (it can only lower the ABI); release builds compile it out.
pub fn abi() -> i32 {
    let kernel = sys::kernel_abi();
    #[cfg(debug_assertions)]
    if let Some(n) = simulated_abi(std::env::var("HARDINIT_TEST_LANDLOCK_ABI").ok().as_deref()) {
        return kernel.min(n);
    }
    kernel
}

#[cfg(debug_assertions)]
fn simulated_abi(var: Option<&str>) -> Option<i32> {
    var.and_then(|s| s.trim().parse::<i32>().ok())
        .map(|n| n.max(0))
}

/// Before fork: check the options against the kernel and build the ruleset.
/// None when no Landlock option is set.
pub fn prepare(opts: &Options) -> Result<Option<Prepared>, Error> {
    if !opts.any_set() {
        return Ok(None);
    }
    prepare_for_abi(opts, abi())
}

fn prepare_for_abi(opts: &Options, abi: i32) -> Result<Option<Prepared>, Error> {
    if !opts.any_set() {
        return Ok(None);
    }
    let plan = plan::plan(opts, abi)?;
    let mut report = Report {
        abi,
        rules: Vec::new(),
        status: plan.status(),
        warnings: plan.warnings.clone(),
    };
    let ruleset = match plan.status() {
        "not enforced" => None,
        _ => Some(rules::build(opts, &plan, abi, &mut report.rules)?),
    };
    Ok(Some(Prepared { ruleset, report }))
}
