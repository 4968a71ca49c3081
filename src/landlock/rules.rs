//! Building the ruleset in the parent: opening the rule paths, walking
//! towards the writable paths for the exec allow-list, adding port rules.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use landlock::{
    AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd, PathFdError,
    Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, ABI,
};

use super::plan::{format_ports, Plan};
use super::{sys, Error, Options, PathSpec, DEFAULT_WRITABLE};

/// Creates the ruleset with every rule; returns its fd (O_CLOEXEC) and
/// appends one human line per rule group to `lines`.
pub fn build(
    opts: &Options,
    plan: &Plan,
    abi: i32,
    lines: &mut Vec<String>,
) -> Result<OwnedFd, Error> {
    // Paths first: a missing --writable path is reported before anything
    // else is asked of the kernel.
    let writable = if plan.read_only || plan.no_exec {
        open_writable(opts)?
    } else {
        Vec::new()
    };

    // HardRequirement: the plan already cut the access masks to the ABI, so
    // any further silent degradation by the crate would be a bug: fail.
    let mut ruleset = Ruleset::default().set_compatibility(CompatLevel::HardRequirement);
    if !plan.fs.is_empty() {
        ruleset = ruleset
            .handle_access(plan.fs)
            .map_err(ruleset_error("handle file system access"))?;
    }
    if !plan.net.is_empty() {
        ruleset = ruleset
            .handle_access(plan.net)
            .map_err(ruleset_error("handle network access"))?;
    }
    let mut created = ruleset.create().map_err(ruleset_error("create ruleset"))?;

    // Writable paths get every handled right but EXECUTE; rules on
    // non-directories may carry file rights only (else EINVAL).
    let write = plan.fs & !AccessFs::Execute;
    let mut present = Vec::new();
    for w in writable {
        let Some(fd) = w.fd else {
            lines.push(format!(
                "write: {} (optional, absent: skipped)",
                w.given.display()
            ));
            continue;
        };
        if plan.read_only {
            let access = if w.is_dir {
                write
            } else {
                write & AccessFs::from_file(ABI::from(abi))
            };
            created = add_rule(created, PathBeneath::new(fd, access), &w.canonical)?;
            lines.push(format!("write: {}", w.canonical.display()));
        }
        present.push(w.canonical);
    }
    if plan.read_only {
        lines.push("write: denied everywhere else; read: everywhere".into());
    }
    if plan.no_exec {
        if present.iter().any(|p| p == Path::new("/")) {
            return Err(Error::NothingExecutable);
        }
        let mut count = 0;
        created = exec_rules(created, Path::new("/"), &present, &mut count)?;
        let list: Vec<String> = present.iter().map(|p| p.display().to_string()).collect();
        lines.push(format!(
            "exec: everything except {} ({count} exec rules)",
            list.join(", ")
        ));
    }

    for (access, ports, label) in [
        (AccessNet::BindTcp, &opts.bind_ports, "tcp bind"),
        (AccessNet::ConnectTcp, &opts.connect_ports, "tcp connect"),
    ] {
        if !plan.net.contains(access) {
            continue;
        }
        for &port in ports {
            created = created
                .add_rule(NetPort::new(port, access))
                .map_err(ruleset_error(&format!("add {label} rule for port {port}")))?;
        }
        lines.push(format!(
            "{label}: {} (all other ports denied)",
            format_ports(ports)
        ));
    }

    let fd: Option<OwnedFd> = created.into();
    fd.ok_or_else(|| Error::Ruleset {
        step: "create ruleset".into(),
        detail: "no ruleset fd".into(),
    })
}

struct Writable {
    given: PathBuf,
    canonical: PathBuf,
    /// None: optional and absent.
    fd: Option<PathFd>,
    is_dir: bool,
}

/// Opens the default and the `--writable` paths, de-duplicated by their
/// canonical path (rules follow symlinks: /dev/ptmx may be /dev/pts/ptmx).
fn open_writable(opts: &Options) -> Result<Vec<Writable>, Error> {
    let defaults = DEFAULT_WRITABLE.iter().map(|p| PathSpec {
        path: p.into(),
        optional: true,
    });
    let mut out: Vec<Writable> = Vec::new();
    for spec in defaults.chain(opts.writable.iter().cloned()) {
        let open_error = |errno: i32| Error::OpenPath {
            option: "--writable",
            path: spec.path.clone(),
            errno,
        };
        let canonical = match std::fs::canonicalize(&spec.path) {
            Ok(p) => p,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && spec.optional => {
                // Defaults that are absent are not worth a report line.
                if !DEFAULT_WRITABLE.iter().any(|d| Path::new(d) == spec.path) {
                    out.push(Writable {
                        given: spec.path,
                        canonical: PathBuf::new(),
                        fd: None,
                        is_dir: false,
                    });
                }
                continue;
            }
            Err(e) => return Err(open_error(e.raw_os_error().unwrap_or(libc::EIO))),
        };
        if out
            .iter()
            .any(|w| w.fd.is_some() && w.canonical == canonical)
        {
            continue;
        }
        let fd = PathFd::new(&canonical).map_err(|e| open_error(path_fd_errno(&e)))?;
        let is_dir = sys::is_dir(fd.as_fd()).map_err(open_error)?;
        out.push(Writable {
            given: spec.path,
            canonical,
            fd: Some(fd),
            is_dir,
        });
    }
    Ok(out)
}

/// Grants EXECUTE beneath every entry of `dir` that is not a writable path
/// and contains none, and recurses into those that contain one.
///
/// Limits, by construction:
/// - symlinks in these directories are skipped (a rule on a symlink's target
///   could reach a writable path); what they point to is covered where it
///   really lives;
/// - an entry created later directly in `dir` or another walked ancestor is
///   not executable (fail closed); a writable path created later beneath an
///   exec-allowed directory would be executable, which under --read-only
///   cannot happen since only writable paths accept new files;
/// - the same inode reachable by a bind mount at another place inherits
///   that place's rules;
/// - EXECUTE covers execve(2) only: `sh /tmp/script`, `python /tmp/x.py`,
///   ld.so or dlopen + mmap(PROT_EXEC) of a file in a writable path still work.
fn exec_rules(
    mut created: RulesetCreated,
    dir: &Path,
    writable: &[PathBuf],
    count: &mut usize,
) -> Result<RulesetCreated, Error> {
    let list_error = |e: std::io::Error| Error::ListDir {
        path: dir.to_path_buf(),
        errno: e.raw_os_error().unwrap_or(libc::EIO),
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(list_error)?
        .collect::<Result<_, _>>()
        .map_err(list_error)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if writable.contains(&path) {
            continue;
        }
        // Tolerated: ENOENT, the entry vanished since readdir.
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(list_error(e)),
        };
        if file_type.is_symlink() {
            continue;
        }
        if writable.iter().any(|w| w.starts_with(&path)) {
            created = exec_rules(created, &path, writable, count)?;
            continue;
        }
        let fd = match PathFd::new(&path) {
            Ok(fd) => fd,
            Err(e) if path_fd_errno(&e) == libc::ENOENT => continue,
            Err(e) => {
                return Err(Error::OpenPath {
                    option: "--no-exec-writable",
                    path,
                    errno: path_fd_errno(&e),
                })
            }
        };
        created = add_rule(created, PathBeneath::new(fd, AccessFs::Execute), &path)?;
        *count += 1;
    }
    Ok(created)
}

fn add_rule(
    created: RulesetCreated,
    rule: PathBeneath<PathFd>,
    path: &Path,
) -> Result<RulesetCreated, Error> {
    created
        .add_rule(rule)
        .map_err(ruleset_error(&format!("add rule for {}", path.display())))
}

fn ruleset_error(step: &str) -> impl FnOnce(landlock::RulesetError) -> Error + '_ {
    move |e| Error::Ruleset {
        step: step.to_string(),
        detail: e.to_string(),
    }
}

fn path_fd_errno(e: &PathFdError) -> i32 {
    match e {
        PathFdError::OpenCall { source, .. } => source.raw_os_error().unwrap_or(libc::EIO),
        _ => libc::EINVAL,
    }
}
