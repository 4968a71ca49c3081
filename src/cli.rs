//! Command line and `HARDINIT_*` environment -> `Options` (raw but typed).
//!
//! Only syntax is checked here; meaning (users, capabilities, profiles) is
//! checked when `plan` turns `Options` into a `Plan`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// What kind of value an option takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `--debug`: on when given.
    Flag,
    /// `-v`: counts repetitions.
    Count,
    /// `--user X`: last one wins.
    Value,
    /// `--rlimit X`: every one kept; from the environment, comma-separated.
    Repeat,
}

struct Spec {
    long: &'static str,
    short: Option<char>,
    kind: Kind,
    /// Accepted in tini mode on the command line.
    tini: bool,
}

const fn spec(long: &'static str, short: Option<char>, kind: Kind, tini: bool) -> Spec {
    Spec {
        long,
        short,
        kind,
        tini,
    }
}

use Kind::*;

/// Every option, in `--help` order. The environment name is derived:
/// `--cap-add` <- `HARDINIT_CAP_ADD`.
const SPECS: &[Spec] = &[
    spec("user", None, Value, false),
    spec("groups", None, Value, false),
    spec("cap-drop", None, Value, false),
    spec("cap-add", None, Value, false),
    spec("no-new-privs", None, Flag, false),
    spec("allow-new-privs", None, Flag, false),
    spec("seccomp", None, Value, false),
    spec("rlimit", None, Repeat, false),
    spec("read-only", None, Flag, false),
    spec("writable", None, Repeat, false),
    spec("no-exec-writable", None, Flag, false),
    spec("bind-ports", None, Value, false),
    spec("connect-ports", None, Value, false),
    spec("landlock", None, Value, false),
    spec("unconfined", None, Flag, false),
    spec("kill-group", Some('g'), Flag, true),
    spec("rewrite", None, Repeat, false),
    spec("grace", None, Value, false),
    spec("subreaper", Some('s'), Flag, true),
    spec("pdeathsig", Some('p'), Value, true),
    spec("remap-exit", Some('e'), Repeat, true),
    spec("warn-reap", Some('w'), Flag, true),
    spec("verbose", Some('v'), Count, true),
    spec("log-format", None, Value, false),
    spec("logger", None, Value, false),
    spec("max-line", None, Value, false),
    spec("stdout-severity", None, Value, false),
    spec("stderr-severity", None, Value, false),
    spec("debug", None, Flag, false),
    spec("output", Some('o'), Value, false),
    spec("merge", None, Repeat, false),
    spec("duration", None, Value, false),
    spec("help", Some('h'), Flag, true),
    spec("license", Some('l'), Flag, true),
    spec("version", None, Flag, true),
];

/// What the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Run,
    Check,
    Learn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Mozlog,
    Raw,
}

/// Every option, typed, defaults applied. `Default` is plain hardinit's
/// defaults: drop all capabilities, no-new-privs, the default seccomp profile.
#[derive(Debug, Clone)]
pub struct Options {
    pub command: Command,
    /// Invoked as `tini` or `docker-init`.
    pub tini: bool,
    pub user: Option<String>,
    pub groups: Option<String>,
    pub cap_drop: Option<String>,
    pub cap_add: Option<String>,
    pub no_new_privs: bool,
    pub seccomp: String,
    pub rlimits: Vec<String>,
    pub read_only: bool,
    pub writable: Vec<String>,
    pub no_exec_writable: bool,
    pub bind_ports: Option<String>,
    pub connect_ports: Option<String>,
    pub landlock_best_effort: bool,
    pub kill_group: bool,
    pub rewrites: Vec<String>,
    pub grace: Option<Duration>,
    pub subreaper: bool,
    pub pdeathsig: Option<String>,
    pub remap_exit: Vec<u8>,
    pub warn_reap: bool,
    pub verbosity: u32,
    pub log_format: LogFormat,
    pub logger: Option<String>,
    pub max_line: Option<usize>,
    pub stdout_severity: u8,
    pub stderr_severity: u8,
    pub debug: bool,
    pub learn_output: Option<String>,
    pub learn_merge: Vec<String>,
    pub learn_duration: Option<Duration>,
    pub program: Vec<OsString>,
}

/// The outcome of parsing: something to do, or something to print.
pub enum Parsed {
    Options(Box<Options>),
    Help { tini: bool },
    Version { tini: bool },
    License,
}

#[derive(Debug)]
pub struct UsageError {
    pub message: String,
    pub tini: bool,
}

impl UsageError {
    fn new(message: impl Into<String>, tini: bool) -> UsageError {
        UsageError {
            message: message.into(),
            tini,
        }
    }
}

/// Is this process running as tini (by its name)?
pub fn is_tini_name(argv0: &OsStr) -> bool {
    let base = argv0
        .as_bytes()
        .rsplit(|b| *b == b'/')
        .next()
        .unwrap_or(b"");
    base == b"tini" || base == b"docker-init" || base.starts_with(b"tini-")
}

/// Parse argv (without the subcommand word) and the environment.
pub fn parse(
    command: Command,
    tini: bool,
    args: &[OsString],
    env: &[(OsString, OsString)],
) -> Result<Parsed, UsageError> {
    let err = |m: String| UsageError::new(m, tini);
    let mut given: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();

    // tini compatibility: `tini --version` only as the sole argument.
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_bytes();
        if arg == b"--" {
            i += 1;
            break;
        }
        if arg.len() < 2 || arg[0] != b'-' {
            break;
        }
        let text = String::from_utf8_lossy(arg).into_owned();
        if let Some(long) = text.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let spec = SPECS
                .iter()
                .find(|s| s.long == name && (!tini || s.tini))
                .ok_or_else(|| err(format!("unknown option --{name}")))?;
            let value = match (spec.kind, inline) {
                (Flag | Count, Some(_)) => {
                    return Err(err(format!("option --{name} takes no value")))
                }
                (Flag | Count, None) => String::new(),
                (_, Some(v)) => v,
                (_, None) => {
                    i += 1;
                    arg_value(args, i)
                        .ok_or_else(|| err(format!("option --{name} needs a value")))?
                }
            };
            given.entry(spec.long).or_default().push(value);
        } else {
            // A cluster of short options: -sgv, -p TERM, -pTERM.
            let chars: Vec<char> = text[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                let spec = SPECS
                    .iter()
                    .find(|s| s.short == Some(c) && (!tini || s.tini))
                    .ok_or_else(|| err(format!("unknown option -{c}")))?;
                if matches!(spec.kind, Flag | Count) {
                    given.entry(spec.long).or_default().push(String::new());
                    j += 1;
                    continue;
                }
                let rest: String = chars[j + 1..].iter().collect();
                let value = if !rest.is_empty() {
                    rest
                } else {
                    i += 1;
                    arg_value(args, i).ok_or_else(|| err(format!("option -{c} needs a value")))?
                };
                given.entry(spec.long).or_default().push(value);
                break;
            }
        }
        i += 1;
    }
    let program: Vec<OsString> = args[i.min(args.len())..].to_vec();

    if given.contains_key("help") {
        return Ok(Parsed::Help { tini });
    }
    if given.contains_key("version") {
        return Ok(Parsed::Version { tini });
    }
    if given.contains_key("license") {
        return Ok(Parsed::License);
    }

    let lookup = Lookup { given, env, tini };
    let options = lookup.options(command, program).map_err(err)?;
    Ok(Parsed::Options(Box::new(options)))
}

fn arg_value(args: &[OsString], i: usize) -> Option<String> {
    args.get(i).map(|a| a.to_string_lossy().into_owned())
}

/// Flag values first, then `HARDINIT_*`, then the mode's default.
struct Lookup<'a> {
    given: BTreeMap<&'static str, Vec<String>>,
    env: &'a [(OsString, OsString)],
    tini: bool,
}

impl Lookup<'_> {
    fn env(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(k, _)| k.as_bytes() == name.as_bytes())
            .map(|(_, v)| v.to_string_lossy().into_owned())
    }

    fn env_var(&self, long: &str) -> Option<String> {
        self.env(&env_name(long))
    }

    fn values(&self, long: &str) -> Option<Vec<String>> {
        if let Some(v) = self.given.get(long) {
            return Some(v.clone());
        }
        let raw = self.env_var(long)?;
        Some(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    fn value(&self, long: &str) -> Option<String> {
        if let Some(v) = self.given.get(long) {
            return v.last().cloned();
        }
        self.env_var(long)
    }

    fn flag(&self, long: &str) -> Result<Option<bool>, String> {
        if self.given.contains_key(long) {
            return Ok(Some(true));
        }
        match self.env_var(long) {
            None => Ok(None),
            Some(v) => parse_bool(&v).map(Some).ok_or_else(|| {
                format!(
                    "{}={v:?}: expected 1/0, true/false, yes/no or on/off",
                    env_name(long)
                )
            }),
        }
    }

    fn count(&self, long: &str) -> Result<u32, String> {
        if let Some(v) = self.given.get(long) {
            return Ok(v.len() as u32);
        }
        match self
            .env_var(long)
            .or_else(|| self.env("HARDINIT_VERBOSITY"))
        {
            None => Ok(0),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{}={v:?}: expected a number", env_name(long))),
        }
    }

    /// TINI_* variables count when set at all, as tini does.
    fn tini_env(&self, name: &str) -> bool {
        self.env(name).is_some()
    }

    fn options(&self, command: Command, program: Vec<OsString>) -> Result<Options, String> {
        let tini = self.tini;
        let unconfined = self.flag("unconfined")?.unwrap_or(false);
        let allow_new_privs = self.flag("allow-new-privs")?.unwrap_or(false);
        let no_new_privs_flag = self.flag("no-new-privs")?;
        if allow_new_privs && no_new_privs_flag == Some(true) {
            return Err("--no-new-privs and --allow-new-privs contradict each other".into());
        }
        // tini mode and --unconfined change the defaults only: an explicit
        // option still applies.
        let harden_by_default = !tini && !unconfined;
        let no_new_privs = !allow_new_privs && no_new_privs_flag.unwrap_or(harden_by_default);
        let seccomp = self.value("seccomp").unwrap_or_else(|| {
            if harden_by_default {
                "default"
            } else {
                "unconfined"
            }
            .to_string()
        });
        let cap_drop = self
            .value("cap-drop")
            .or_else(|| harden_by_default.then(|| "ALL".to_string()));

        let verbosity = self.count("verbose")? + if tini { self.tini_verbosity()? } else { 0 };

        let log_format = match self.value("log-format").as_deref() {
            None if tini => LogFormat::Raw,
            None | Some("auto") => LogFormat::Auto,
            Some("mozlog") | Some("json") => LogFormat::Mozlog,
            Some("raw") => LogFormat::Raw,
            Some(other) => {
                return Err(format!(
                    "--log-format {other:?}: expected mozlog, raw or auto"
                ))
            }
        };

        let grace = self
            .value("grace")
            .map(|v| parse_duration(&v).map_err(|e| format!("--grace {v:?}: {e}")))
            .transpose()?;
        let learn_duration = self
            .value("duration")
            .map(|v| parse_duration(&v).map_err(|e| format!("--duration {v:?}: {e}")))
            .transpose()?;
        let max_line = self
            .value("max-line")
            .map(|v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|n| (256..=16384).contains(n))
                    .ok_or_else(|| {
                        format!("--max-line {v:?}: expected a byte count from 256 to 16384")
                    })
            })
            .transpose()?;
        let severity = |name: &str, default: u8| -> Result<u8, String> {
            match self.value(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u8>()
                    .ok()
                    .filter(|n| *n <= 7)
                    .ok_or_else(|| format!("--{name} {v:?}: expected a syslog severity 0-7")),
            }
        };
        let remap_exit = self
            .values("remap-exit")
            .unwrap_or_default()
            .iter()
            .map(|v| {
                v.parse::<u8>()
                    .map_err(|_| format!("--remap-exit {v:?}: expected an exit code 0-255"))
            })
            .collect::<Result<Vec<u8>, String>>()?;
        let landlock_best_effort = match self.value("landlock").as_deref() {
            None | Some("enforce") | Some("strict") => false,
            Some("best-effort") => true,
            Some(other) => {
                return Err(format!(
                    "--landlock {other:?}: expected enforce or best-effort"
                ))
            }
        };

        if command != Command::Check && program.is_empty() {
            return Err(
                "no program given: usage is hardinit [OPTIONS] [--] PROGRAM [ARG...]".into(),
            );
        }

        Ok(Options {
            command,
            tini,
            user: self.value("user"),
            groups: self.value("groups"),
            cap_drop,
            cap_add: self.value("cap-add"),
            no_new_privs,
            seccomp,
            rlimits: self.values("rlimit").unwrap_or_default(),
            read_only: self.flag("read-only")?.unwrap_or(false),
            writable: self.values("writable").unwrap_or_default(),
            no_exec_writable: self.flag("no-exec-writable")?.unwrap_or(false),
            bind_ports: self.value("bind-ports"),
            connect_ports: self.value("connect-ports"),
            landlock_best_effort,
            kill_group: self.flag("kill-group")?.unwrap_or(false)
                || (tini && self.tini_env("TINI_KILL_PROCESS_GROUP")),
            rewrites: self.values("rewrite").unwrap_or_default(),
            grace,
            subreaper: self.flag("subreaper")?.unwrap_or(false) || self.tini_env("TINI_SUBREAPER"),
            pdeathsig: self.value("pdeathsig"),
            remap_exit,
            warn_reap: self.flag("warn-reap")?.unwrap_or(false),
            verbosity,
            log_format,
            logger: self.value("logger"),
            max_line,
            stdout_severity: severity("stdout-severity", 6)?,
            stderr_severity: severity("stderr-severity", 3)?,
            debug: self.flag("debug")?.unwrap_or(false),
            learn_output: self.value("output"),
            learn_merge: self.values("merge").unwrap_or_default(),
            learn_duration,
            program,
        })
    }

    fn tini_verbosity(&self) -> Result<u32, String> {
        match self.env("TINI_VERBOSITY") {
            None => Ok(0),
            Some(v) => v
                .trim()
                .parse::<u32>()
                .map(|n| n.saturating_sub(1))
                .map_err(|_| format!("TINI_VERBOSITY={v:?}: expected a number")),
        }
    }
}

/// `cap-add` -> `HARDINIT_CAP_ADD`.
pub fn env_name(long: &str) -> String {
    format!("HARDINIT_{}", long.to_ascii_uppercase().replace('-', "_"))
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `10s`, `500ms`, `2m`, `1.5s`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| "expected a duration like 10s, 500ms or 2m".to_string())?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit {unit:?}: use ms, s, m or h")),
    };
    if !secs.is_finite() || !(0.0..=86400.0 * 365.0).contains(&secs) {
        return Err("duration out of range".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

pub const HELP: &str = "\
hardinit: a small PID 1 for containers. It runs PROGRAM hardened (capabilities,
user, no-new-privileges, seccomp, rlimits, Landlock), forwards signals, reaps
zombies, writes each line PROGRAM prints as a mozlog JSON record, and exits
with PROGRAM's status.

Usage:
  hardinit [OPTIONS] [--] PROGRAM [ARG...]       run PROGRAM hardened, as init
  hardinit check [OPTIONS] [-- PROGRAM...]       validate, print the plan, run nothing
  hardinit inspect [--json] [--pid N]            report the restrictions of a process
  hardinit learn -o FILE [OPTIONS] -- PROGRAM... record syscalls, write a seccomp profile
  hardinit health [OPTIONS] URL                  HTTP/TCP health probe (no TLS)
  hardinit --version | --help

Hardening (defaults in brackets):
  --user USER[:GROUP]      run as USER (name or number, from /etc/passwd) [unchanged]
  --groups LIST            supplementary groups [none]
  --cap-drop LIST          capabilities to drop, Docker names, ALL allowed [ALL]
  --cap-add LIST           capabilities to keep, e.g. NET_BIND_SERVICE [none]
  --no-new-privs           set no_new_privs [on]
  --allow-new-privs        do not set no_new_privs
  --seccomp PROFILE        default | NAME | PATH to a Docker/OCI profile | unconfined [default]
  --rlimit NAME=SOFT[:HARD]  e.g. nofile=1024:4096 (repeatable)
  --read-only              Landlock: no writes except --writable paths and /tmp
  --writable PATH          writable exception (repeatable; ?PATH when optional)
  --no-exec-writable       Landlock: nothing in a writable path can be executed
  --bind-ports LIST        Landlock: TCP ports the program may bind (Linux 6.7+)
  --connect-ports LIST     Landlock: TCP ports the program may connect to (Linux 6.7+)
  --landlock best-effort   a missing Landlock feature is a warning, not exit 125
  --unconfined             no hardening by default (explicit options still apply);
                           still init and logging

Signals and processes:
  -g, --kill-group         send signals to PROGRAM's process group
  --rewrite FROM:TO        send TO instead of FROM (TO=0 drops it), e.g. TERM:QUIT
  --grace DURATION         SIGKILL the group this long after a terminating signal,
                           and give leftover processes this long when PROGRAM exits
  -s, --subreaper          register as child subreaper when not PID 1
  -p, --pdeathsig SIG      signal hardinit gets when its parent dies
  -e, --remap-exit CODE    exit 0 when PROGRAM exits with CODE (repeatable)
  -w, --warn-reap          warn when an adopted zombie is reaped
  -v, --verbose            more messages (repeatable)

Logging:
  --log-format FORMAT      mozlog | raw | auto (mozlog unless stdout is a TTY) [auto]
  --logger NAME            mozlog Logger [PROGRAM's basename]
  --max-line BYTES         largest record, 256-16384 [16384]
  --stdout-severity N      Severity of stdout lines [6]
  --stderr-severity N      Severity of stderr lines [3]
  --debug                  print the restrictions as the kernel reports them

learn:
  -o, --output FILE        where to write the learned Docker/OCI profile
  --merge FILE             union with an earlier profile (repeatable)
  --duration DURATION      write the profile and stop PROGRAM after this long

Every option can also be set as HARDINIT_<NAME> (e.g. HARDINIT_CAP_ADD=NET_BIND_SERVICE,
lists comma-separated); a flag wins. HARDINIT_* variables are not passed to PROGRAM.

Exit status: PROGRAM's status, 128+N if it died of signal N; 125 hardinit failed
before PROGRAM ran; 126 PROGRAM cannot be executed; 127 PROGRAM not found.
";

pub const TINI_HELP: &str = "\
Usage: tini [OPTIONS] PROGRAM -- [ARGS] | --version

Execute a program under the supervision of a valid init process (hardinit in tini mode)

Command line options:

  --version: Show version and exit.
  -h: Show this help message and exit.
  -s: Register as a process subreaper (requires Linux >= 3.4).
  -p SIGNAL: Trigger SIGNAL when parent dies, e.g. \"-p SIGKILL\".
  -v: Generate more verbose output. Repeat up to 3 times.
  -w: Print a warning when processes are getting reaped.
  -g: Send signals to the child's process group.
  -e EXIT_CODE: Remap EXIT_CODE (from 0 to 255) to 0.
  -l: Show license and exit.

Environment variables:

  TINI_SUBREAPER: Register as a process subreaper (requires Linux >= 3.4).
  TINI_VERBOSITY: Set the verbosity level (default: 1).
  TINI_KILL_PROCESS_GROUP: Send signals to the child's process group.
  HARDINIT_*: switch on hardening and mozlog output (see hardinit --help).
";

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn run(args: &[&str], env: &[(&str, &str)], tini: bool) -> Result<Options, String> {
        let env: Vec<(OsString, OsString)> =
            env.iter().map(|(k, v)| (k.into(), v.into())).collect();
        match parse(Command::Run, tini, &os(args), &env) {
            Ok(Parsed::Options(o)) => Ok(*o),
            Ok(_) => Err("not options".into()),
            Err(e) => Err(e.message),
        }
    }

    #[test]
    fn defaults_harden() {
        let o = run(&["app"], &[], false).unwrap();
        assert_eq!(o.cap_drop.as_deref(), Some("ALL"));
        assert!(o.no_new_privs);
        assert_eq!(o.seccomp, "default");
        assert_eq!(o.program, os(&["app"]));
        assert_eq!(o.log_format, LogFormat::Auto);
    }

    #[test]
    fn tini_mode_hardens_nothing_unless_asked() {
        let o = run(&["-s", "-g", "--", "app"], &[], true).unwrap();
        assert!(o.subreaper && o.kill_group);
        assert_eq!(o.cap_drop, None);
        assert!(!o.no_new_privs);
        assert_eq!(o.seccomp, "unconfined");
        assert_eq!(o.log_format, LogFormat::Raw);
        let o = run(
            &["app"],
            &[("HARDINIT_SECCOMP", "default"), ("TINI_SUBREAPER", "")],
            true,
        )
        .unwrap();
        assert_eq!(o.seccomp, "default");
        assert!(o.subreaper);
        assert!(run(&["--user", "x", "app"], &[], true).is_err());
    }

    #[test]
    fn flags_win_over_environment() {
        let env = [
            ("HARDINIT_USER", "nobody"),
            ("HARDINIT_RLIMIT", "nofile=10, core=0"),
        ];
        let o = run(&["--user=app", "app"], &env, false).unwrap();
        assert_eq!(o.user.as_deref(), Some("app"));
        assert_eq!(o.rlimits, vec!["nofile=10", "core=0"]);
        let o = run(&["--rlimit", "nproc=5", "app"], &env, false).unwrap();
        assert_eq!(o.rlimits, vec!["nproc=5"]);
    }

    #[test]
    fn short_clusters_and_values() {
        let o = run(
            &["-sgvv", "-pTERM", "-e", "143", "-e3", "app", "-x"],
            &[],
            false,
        )
        .unwrap();
        assert!(o.subreaper && o.kill_group);
        assert_eq!(o.verbosity, 2);
        assert_eq!(o.pdeathsig.as_deref(), Some("TERM"));
        assert_eq!(o.remap_exit, vec![143, 3]);
        assert_eq!(o.program, os(&["app", "-x"]));
    }

    #[test]
    fn bad_input_is_named() {
        let cases = [
            (vec!["--bogus", "app"], "--bogus"),
            (vec!["--user"], "needs a value"),
            (vec!["--grace", "10x", "app"], "--grace"),
            (vec!["-e", "300", "app"], "--remap-exit"),
            (vec!["--log-format", "xml", "app"], "--log-format"),
            (vec!["--debug=1", "app"], "takes no value"),
            (vec![], "no program"),
            (
                vec!["--no-new-privs", "--allow-new-privs", "x"],
                "contradict",
            ),
        ];
        for (args, want) in cases {
            let e = run(&args, &[], false).unwrap_err();
            assert!(e.contains(want), "{args:?}: {e}");
        }
        let e = run(&["app"], &[("HARDINIT_DEBUG", "maybe")], false).unwrap_err();
        assert!(e.contains("HARDINIT_DEBUG"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn tini_names() {
        for (name, want) in [
            ("tini", true),
            ("/sbin/docker-init", true),
            ("hardinit", false),
            ("/tini-static", true),
        ] {
            assert_eq!(is_tini_name(OsStr::new(name)), want, "{name}");
        }
    }
}
