//! `Options` -> `Plan`: every check that can fail for a user reason happens
//! here, before fork. The plan is immutable; the child only executes it.

use crate::caps::{self, Mask};
use crate::cli::{Command, LogFormat, Options};
use crate::learn::LearnPlan;
use crate::rlimit::{self, Limit};
use crate::user::{self, Identity};
use crate::{landlock, seccomp, signals, sys};
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

const CAP_KILL: u8 = 5;
const CAP_SETGID: u8 = 6;
const CAP_SETUID: u8 = 7;
const CAP_SETPCAP: u8 = 8;
const CAP_SYS_RESOURCE: u8 = 24;

/// Why a plan could not be made: exit 125 (or 127 when the program is missing).
#[derive(Debug)]
pub enum PlanError {
    Invalid(String),
    NotFound(String),
}

impl PlanError {
    pub fn message(&self) -> &str {
        match self {
            PlanError::Invalid(m) | PlanError::NotFound(m) => m,
        }
    }
}

fn invalid(m: impl Into<String>) -> PlanError {
    PlanError::Invalid(m.into())
}

/// What the process that runs hardinit holds, read once.
#[derive(Debug, Clone)]
pub struct Current {
    pub uid: u32,
    pub gid: u32,
    pub effective: Mask,
    pub permitted: Mask,
    pub bounding: Mask,
    pub groups: Vec<u32>,
    pub cap_last_cap: u8,
    pub seccomp_filters: u32,
}

impl Current {
    pub fn read() -> Result<Current, PlanError> {
        let (uid, gid) = sys::ids();
        let (effective, permitted, _) =
            sys::capget().map_err(|e| invalid(format!("capget: {e}")))?;
        let status = crate::report::Status::read("self").map_err(invalid)?;
        let cap_last_cap = sys::read_text("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40);
        Ok(Current {
            uid,
            gid,
            effective,
            permitted,
            bounding: status.cap("CapBnd"),
            groups: status.list("Groups"),
            cap_last_cap,
            seccomp_filters: status.number("Seccomp_filters"),
        })
    }

    fn has(&self, cap: u8) -> bool {
        self.effective & (1 << cap) != 0
    }
}

/// The capability steps in the child.
#[derive(Debug, Clone)]
pub struct CapSteps {
    /// Bounding, permitted, effective, inheritable and ambient end up as this.
    pub keep: Mask,
    /// Drop every bounding bit not in `keep`, up to the kernel's last cap.
    /// False when hardinit lacks CAP_SETPCAP (tolerated under no_new_privs).
    pub drop_bounding: bool,
    pub cap_last_cap: u8,
}

/// Everything the child does between fork and exec, in order.
pub struct ChildSteps {
    pub rlimits: Vec<Limit>,
    pub no_new_privs: bool,
    pub caps: Option<CapSteps>,
    pub identity: Option<Identity>,
    /// setgroups/setresgid/setresuid are needed (ids differ from ours).
    pub switch_ids: bool,
    pub landlock: Option<landlock::Prepared>,
    pub seccomp: Option<seccomp::Compiled>,
    /// `learn`: a notification filter instead of a profile.
    pub learn: Option<LearnPlan>,
}

/// What the kernel must report for the child before exec; None = not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub cap_inh: Option<Mask>,
    pub cap_prm: Option<Mask>,
    pub cap_eff: Option<Mask>,
    pub cap_bnd: Option<Mask>,
    pub cap_amb: Option<Mask>,
    pub no_new_privs: Option<bool>,
    pub seccomp_filters: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub groups: Option<Vec<u32>>,
}

impl Expected {
    /// The capability sets by their /proc/PID/status field names, for the
    /// two checks of them (`report::verify`, `report::matches`).
    pub fn caps(&self) -> [(&'static str, Option<Mask>); 5] {
        [
            ("CapInh", self.cap_inh),
            ("CapPrm", self.cap_prm),
            ("CapEff", self.cap_eff),
            ("CapBnd", self.cap_bnd),
            ("CapAmb", self.cap_amb),
        ]
    }
}

pub struct Exec {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

pub struct LogPlan {
    pub logger: String,
    pub hostname: String,
    pub max_line: usize,
    pub stdout_severity: u8,
    pub stderr_severity: u8,
}

pub struct Plan {
    pub command: Command,
    pub tini: bool,
    /// The program as the user named it, for messages.
    pub program: String,
    pub exec: Exec,
    pub child: ChildSteps,
    pub expect: Expected,
    pub kill_group: bool,
    pub rewrites: signals::Rewrites,
    pub grace: Option<Duration>,
    pub subreaper: bool,
    pub pdeathsig: Option<i32>,
    pub remap_exit: Vec<u8>,
    pub warn_reap: bool,
    pub verbosity: u32,
    /// None: raw mode, the child writes straight to our stdout/stderr.
    pub log: Option<LogPlan>,
    pub debug: bool,
    /// Capabilities PID 1 keeps for itself once the child runs; None = leave alone.
    pub own_caps: Option<Mask>,
    /// PID 1 lacks CAP_KILL for a child of another uid: it becomes that uid.
    pub pid1_identity: Option<(u32, u32)>,
    pub current: Current,
    pub notes: Vec<String>,
}

/// How the kernel's view of the child is compared with the plan before the
/// program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// The plan changes nothing (`--unconfined`, tini mode): nothing to compare.
    Nothing,
    /// The child reads its own /proc/self/status (and limits) after its
    /// last step and compares them with `Plan::expect` before execve; on a
    /// difference it sends both texts to PID 1, which names every field.
    InChild,
    /// The child stops before execve while PID 1 reads /proc/<pid>: for the
    /// `--debug` report and for `learn`, which need PID 1 to see it.
    Stop,
}

impl Plan {
    pub fn verify(&self) -> Verify {
        // A long group list makes /proc/<pid>/status longer than the
        // child's stack buffer (spawn::STATUS_MAX) may hold.
        let groups = self
            .current
            .groups
            .len()
            .max(self.expect.groups.as_ref().map_or(0, Vec::len));
        if self.debug || self.child.learn.is_some() || groups > 256 {
            Verify::Stop
        } else if self.expect != Expected::default()
            || !self.child.rlimits.is_empty()
            || self.child.landlock.is_some()
        {
            Verify::InChild
        } else {
            Verify::Nothing
        }
    }
}

/// Validate everything and build the plan.
pub fn build(opts: &Options, env: &[(OsString, OsString)], root: &Path) -> Result<Plan, PlanError> {
    let current = Current::read()?;
    let mut notes = Vec::new();

    let program = opts.program.first().cloned().unwrap_or_default();
    let program_text = program.to_string_lossy().into_owned();

    // Signals and process options.
    let rewrites = signals::Rewrites::parse(&opts.rewrites).map_err(invalid)?;
    let pdeathsig = opts
        .pdeathsig
        .as_deref()
        .map(|s| signals::parse(s).map_err(|e| invalid(format!("--pdeathsig: {e}"))))
        .transpose()?;

    // rlimits: every raise of a hard limit is checked against what we hold.
    let mut rlimits = Vec::new();
    for item in &opts.rlimits {
        let limit = rlimit::parse(item).map_err(invalid)?;
        let (_, hard) = sys::getrlimit(limit.resource)
            .map_err(|e| invalid(format!("getrlimit {}: {e}", limit.name)))?;
        rlimit::check_raise(&limit, hard, current.has(CAP_SYS_RESOURCE)).map_err(invalid)?;
        rlimits.retain(|l: &Limit| l.resource != limit.resource);
        rlimits.push(limit);
    }

    // User and groups.
    let identity = match (&opts.user, &opts.groups) {
        (Some(u), groups) => Some(user::resolve(u, groups.as_deref(), root).map_err(invalid)?),
        (None, Some(g)) => {
            Some(user::resolve_groups_only(g, current.uid, current.gid, root).map_err(invalid)?)
        }
        (None, None) => None,
    };
    let mut switch_ids = false;
    if let Some(id) = &identity {
        let same_ids = id.uid == current.uid && id.gid == current.gid;
        let same_groups = id.groups == current.groups;
        if !(same_ids && same_groups) {
            switch_ids = true;
            if id.uid != current.uid && !current.has(CAP_SETUID) {
                return Err(invalid(format!(
                    "--user: cannot switch from uid {} to uid {}: hardinit does not hold CAP_SETUID (it was started as a non-root user or without that capability)",
                    current.uid, id.uid
                )));
            }
            if !current.has(CAP_SETGID) {
                return Err(invalid(format!(
                    "--user/--groups: cannot set gid {} and groups [{}]: hardinit does not hold CAP_SETGID",
                    id.gid,
                    join(&id.groups)
                )));
            }
        }
        if id.unknown_uid {
            notes.push(format!(
                "uid {} has no entry in /etc/passwd; gid {} used",
                id.uid, id.gid
            ));
        }
    }
    let target_uid = identity.as_ref().map(|i| i.uid).unwrap_or(current.uid);

    // Capabilities.
    let keep = caps::kept_mask(
        opts.cap_drop.as_deref(),
        opts.cap_add.as_deref(),
        current.permitted,
    )
    .map_err(invalid)?;
    let cap_steps = match keep {
        None => None,
        Some(keep) => {
            let extra_bounding = current.bounding & !keep & caps::kernel_mask(current.cap_last_cap);
            let drop_bounding = current.has(CAP_SETPCAP);
            if !drop_bounding && extra_bounding != 0 {
                if !opts.no_new_privs {
                    return Err(invalid(format!(
                        "cannot drop {} from the bounding set without CAP_SETPCAP; keep --no-new-privs on so no program can regain them",
                        caps::names(extra_bounding).join(",")
                    )));
                }
                notes.push(format!(
                    "bounding set keeps {} (no CAP_SETPCAP to drop them); no_new_privs stops exec from regaining them",
                    caps::names(extra_bounding).join(",")
                ));
            }
            Some(CapSteps {
                keep,
                drop_bounding,
                cap_last_cap: current.cap_last_cap,
            })
        }
    };
    let child_bounding = match &cap_steps {
        Some(c) if c.drop_bounding => c.keep,
        _ => current.bounding,
    };

    // PID 1 must be able to signal the child.
    let mut pid1_identity = None;
    if target_uid != current.uid && !current.has(CAP_KILL) {
        match &identity {
            Some(id) if current.has(CAP_SETUID) && current.has(CAP_SETGID) => {
                pid1_identity = Some((id.uid, id.gid));
                notes.push(format!("no CAP_KILL: hardinit itself switches to uid {} to keep signalling the program", id.uid));
            }
            _ => {
                return Err(invalid(format!(
                    "hardinit does not hold CAP_KILL, so it could not signal a program running as uid {target_uid}; give it CAP_KILL or run it as that user"
                )))
            }
        }
    }
    let own_caps = match (&cap_steps, pid1_identity) {
        (Some(_), None) if target_uid != current.uid => Some(1 << CAP_KILL),
        (Some(_), None) => Some(0),
        _ => None,
    };

    // Seccomp, compiled now against the bounding set the child will have.
    // `learn` records instead of filtering.
    let learn = if opts.command == Command::Learn {
        Some(
            LearnPlan::new(
                opts.learn_output.as_deref(),
                &opts.learn_merge,
                opts.learn_duration,
                current.seccomp_filters,
            )
            .map_err(invalid)?,
        )
    } else {
        None
    };
    let seccomp = if opts.seccomp == "unconfined" || learn.is_some() {
        None
    } else {
        let profile = seccomp::load(&opts.seccomp).map_err(|e| invalid(e.to_string()))?;
        let target =
            seccomp::Target::running(child_bounding).map_err(|e| invalid(e.to_string()))?;
        Some(seccomp::compile(&profile, &target).map_err(|e| invalid(e.to_string()))?)
    };
    if let Some(s) = &seccomp {
        // After the filter only the hand-shake's write and read, execve and,
        // on failure, exit_group run in the child: a profile that denies one
        // of them could never start anything (or report why).
        let missing: Vec<&str> = ["read", "write", "execve", "exit_group"]
            .into_iter()
            .filter(|n| !s.allowed.iter().any(|a| a == n))
            .collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "seccomp profile {}: it does not allow {}, which hardinit needs between loading the filter and exec",
                s.name,
                missing.join(", ")
            )));
        }
    }
    if (seccomp.is_some() || learn.is_some())
        && !opts.no_new_privs
        && !current.has(21 /* CAP_SYS_ADMIN */)
    {
        return Err(invalid(
            "--allow-new-privs with a seccomp profile needs CAP_SYS_ADMIN (the kernel only lets a process without no_new_privs install a filter with it); use --seccomp unconfined or keep --no-new-privs",
        ));
    }

    // Landlock.
    let landlock_opts = landlock::Options {
        read_only: opts.read_only,
        writable: opts
            .writable
            .iter()
            .map(|p| landlock::parse_path_spec(p))
            .collect(),
        no_exec_writable: opts.no_exec_writable,
        bind_ports: parse_ports("--bind-ports", opts.bind_ports.as_deref())?,
        connect_ports: parse_ports("--connect-ports", opts.connect_ports.as_deref())?,
        best_effort: opts.landlock_best_effort,
    };
    let landlock = landlock::prepare(&landlock_opts).map_err(|e| invalid(e.to_string()))?;
    // Landlock is enforced after the capability steps (8b): without
    // no_new_privs the child itself must still hold CAP_SYS_ADMIN then.
    let child_sys_admin = match &cap_steps {
        Some(c) => c.keep & (1 << 21) != 0,
        None => current.has(21) && !(switch_ids && target_uid != 0),
    };
    if landlock.is_some() && !opts.no_new_privs && !child_sys_admin {
        return Err(invalid(
            "Landlock without no_new_privs needs CAP_SYS_ADMIN in the program (it is enforced after the capability drop); keep --no-new-privs on or --cap-add SYS_ADMIN",
        ));
    }

    // The program and its environment.
    let child_env = child_environment(env, identity.as_ref());
    let exec = if opts.command == Command::Check && opts.program.is_empty() {
        Exec {
            path: CString::default(),
            argv: Vec::new(),
            envp: Vec::new(),
        }
    } else {
        let path = resolve_program(&program, &child_env).ok_or_else(|| {
            PlanError::NotFound(if opts.tini {
                format!("exec {program_text} failed: No such file or directory")
            } else {
                format!("{program_text}: program not found (searched PATH of the program's environment)")
            })
        })?;
        Exec {
            path: cstring(path.into_os_string())?,
            argv: opts
                .program
                .iter()
                .cloned()
                .map(cstring)
                .collect::<Result<_, _>>()?,
            envp: child_env
                .iter()
                .map(|(k, v)| {
                    let mut kv = k.clone();
                    kv.push("=");
                    kv.push(v);
                    cstring(kv)
                })
                .collect::<Result<_, _>>()?,
        }
    };

    let expect = Expected {
        cap_inh: cap_steps.as_ref().map(|c| c.keep),
        cap_prm: cap_steps.as_ref().map(|c| c.keep),
        cap_eff: cap_steps.as_ref().map(|c| c.keep),
        cap_amb: cap_steps.as_ref().map(|c| c.keep),
        cap_bnd: cap_steps.as_ref().map(|_| child_bounding),
        no_new_privs: opts.no_new_privs.then_some(true),
        seccomp_filters: seccomp
            .as_ref()
            .map(|s| current.seccomp_filters + s.programs.len() as u32),
        uid: identity.as_ref().map(|i| i.uid),
        gid: identity.as_ref().map(|i| i.gid),
        groups: identity.as_ref().map(|i| i.groups.clone()),
    };

    let mozlog = match opts.log_format {
        LogFormat::Mozlog => true,
        LogFormat::Raw => false,
        LogFormat::Auto => !sys::isatty(libc::STDOUT_FILENO),
    };
    let log = mozlog.then(|| LogPlan {
        logger: opts.logger.clone().unwrap_or_else(|| basename(&program)),
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        max_line: opts.max_line.unwrap_or(crate::mozlog::MAX_RECORD),
        stdout_severity: opts.stdout_severity,
        stderr_severity: opts.stderr_severity,
    });

    Ok(Plan {
        command: opts.command,
        tini: opts.tini,
        program: program_text,
        exec,
        child: ChildSteps {
            rlimits,
            no_new_privs: opts.no_new_privs,
            caps: cap_steps,
            identity,
            switch_ids,
            landlock,
            seccomp,
            learn,
        },
        expect,
        kill_group: opts.kill_group,
        rewrites,
        grace: opts.grace,
        subreaper: opts.subreaper,
        pdeathsig,
        remap_exit: opts.remap_exit.clone(),
        warn_reap: opts.warn_reap,
        verbosity: opts.verbosity,
        log,
        debug: opts.debug,
        own_caps,
        pid1_identity,
        current,
        notes,
    })
}

fn parse_ports(option: &str, list: Option<&str>) -> Result<Vec<u16>, PlanError> {
    match list {
        None => Ok(Vec::new()),
        Some(l) => landlock::parse_ports(l).map_err(|e| invalid(format!("{option}: {e}"))),
    }
}

fn join(ids: &[u32]) -> String {
    ids.iter()
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn cstring(s: OsString) -> Result<CString, PlanError> {
    CString::new(s.into_vec())
        .map_err(|_| invalid("an argument or environment entry contains a NUL byte"))
}

fn basename(program: &OsStr) -> String {
    Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app".into())
}

/// Our environment without HARDINIT_* (they configure us, not the app),
/// plus HOME from passwd when it was unset.
fn child_environment(
    env: &[(OsString, OsString)],
    identity: Option<&Identity>,
) -> Vec<(OsString, OsString)> {
    let mut out: Vec<(OsString, OsString)> = env
        .iter()
        .filter(|(k, _)| !k.as_bytes().starts_with(b"HARDINIT_"))
        .cloned()
        .collect();
    if let Some(home) = identity.and_then(|i| i.home.as_ref()) {
        if !out.iter().any(|(k, _)| k == "HOME") {
            out.push(("HOME".into(), home.into()));
        }
    }
    out
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// execvp's search, done before fork so a missing program is reported
/// without starting anything. A name with a slash is used as is.
fn resolve_program(program: &OsStr, env: &[(OsString, OsString)]) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| DEFAULT_PATH.into());
    let mut first_existing = None;
    for dir in path.as_bytes().split(|b| *b == b':') {
        let dir = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(OsStr::from_bytes(dir))
        };
        let candidate = dir.join(program);
        if let Ok(meta) = std::fs::metadata(&candidate) {
            use std::os::unix::fs::PermissionsExt;
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Some(candidate);
            }
            // Found but not executable: keep looking, like execvp, and
            // report EACCES (126) if nothing better turns up.
            first_existing.get_or_insert(candidate);
        }
    }
    first_existing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_search_follows_path() {
        let env = vec![(
            OsString::from("PATH"),
            OsString::from("/nonexistent:/bin:/usr/bin"),
        )];
        let sh = resolve_program(OsStr::new("sh"), &env).unwrap();
        assert!(sh.ends_with("sh"));
        assert_eq!(resolve_program(OsStr::new("no-such-program-x"), &env), None);
        assert_eq!(
            resolve_program(OsStr::new("./rel"), &env),
            Some(PathBuf::from("./rel"))
        );
        assert_eq!(resolve_program(OsStr::new(""), &env), None);
    }

    #[test]
    fn environment_drops_hardinit_variables() {
        let env = vec![
            (OsString::from("HARDINIT_USER"), OsString::from("x")),
            (OsString::from("PATH"), OsString::from("/bin")),
            (OsString::from("TINI_SUBREAPER"), OsString::from("1")),
        ];
        let id = Identity {
            uid: 1,
            gid: 1,
            groups: vec![],
            home: Some("/home/a".into()),
            unknown_uid: false,
        };
        let out = child_environment(&env, Some(&id));
        let keys: Vec<_> = out
            .iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert_eq!(keys, vec!["PATH", "TINI_SUBREAPER", "HOME"]);
    }
}
