//! Docker/OCI seccomp profile JSON -> [`Profile`].
//!
//! The format is the one Docker's and Podman's default profiles use (moby
//! `profiles/seccomp`, containers `pkg/seccomp`). The JSON is walked by hand
//! over `serde_json::Value` so that every unknown key and every bad value is
//! reported with its JSON path, e.g.
//! `syscalls[12].args[0].op: unknown operator "SCMP_CMP_FOO"`.
//!
//! Parsing is architecture- and capability-independent; `compile` evaluates
//! `includes`/`excludes` against a target later.

use serde_json::{Map, Value};

use super::Error;

/// A seccomp return action, as the profile names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Log,
    Errno(u16),
    Trap,
    KillThread,
    KillProcess,
}

impl Action {
    /// The kernel's return value (`SECCOMP_RET_*`).
    pub fn ret(self) -> u32 {
        match self {
            Action::Allow => libc::SECCOMP_RET_ALLOW,
            Action::Log => libc::SECCOMP_RET_LOG,
            Action::Errno(e) => libc::SECCOMP_RET_ERRNO | u32::from(e),
            Action::Trap => libc::SECCOMP_RET_TRAP,
            Action::KillThread => libc::SECCOMP_RET_KILL_THREAD,
            Action::KillProcess => libc::SECCOMP_RET_KILL_PROCESS,
        }
    }

    /// Strictness as the kernel ranks results of stacked filters
    /// (kernel/seccomp.c: the action part compared as s32, lower wins):
    /// KILL_PROCESS < KILL_THREAD < TRAP < ERRNO < ... < LOG < ALLOW.
    pub fn rank(self) -> i32 {
        (self.ret() & libc::SECCOMP_RET_ACTION_FULL) as i32
    }

    /// Whether a call that gets this action reaches the kernel.
    pub fn passes(self) -> bool {
        matches!(self, Action::Allow | Action::Log)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Allow => f.write_str("SCMP_ACT_ALLOW"),
            Action::Log => f.write_str("SCMP_ACT_LOG"),
            Action::Errno(e) => write!(f, "SCMP_ACT_ERRNO({e})"),
            Action::Trap => f.write_str("SCMP_ACT_TRAP"),
            Action::KillThread => f.write_str("SCMP_ACT_KILL_THREAD"),
            Action::KillProcess => f.write_str("SCMP_ACT_KILL_PROCESS"),
        }
    }
}

/// Argument comparison operator (`SCMP_CMP_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `(arg & value) == valueTwo`
    MaskedEq,
}

/// One `args[]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgCmp {
    pub index: u8,
    pub value: u64,
    pub value_two: u64,
    pub op: Op,
}

/// An `includes` or `excludes` object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Capability numbers (`CAP_SYS_ADMIN` -> 21).
    pub caps: Vec<u8>,
    /// Docker architecture names (`amd64`, `arm64`, `x86`, ...).
    pub arches: Vec<String>,
    /// `(major, minor)`
    pub min_kernel: Option<(u32, u32)>,
}

/// One `syscalls[]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// JSON path of the entry, `syscalls[N]`, for later error messages.
    pub path: String,
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<ArgCmp>,
    pub includes: Filter,
    pub excludes: Filter,
    pub comment: Option<String>,
}

/// A parsed profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Embedded name or the path it was read from.
    pub name: String,
    pub default_action: Action,
    /// `SCMP_ARCH_*` names from `architectures` and `archMap`. Informational:
    /// the filter is always built for the native architecture only, and every
    /// other ABI (x86, x32, arm) is denied (see mod.rs).
    pub architectures: Vec<String>,
    pub rules: Vec<Rule>,
}

/// libseccomp architecture tokens accepted in `architectures`/`archMap`.
const SCMP_ARCHES: &[&str] = &[
    "X86",
    "X86_64",
    "X32",
    "ARM",
    "AARCH64",
    "MIPS",
    "MIPS64",
    "MIPS64N32",
    "MIPSEL",
    "MIPSEL64",
    "MIPSEL64N32",
    "PPC",
    "PPC64",
    "PPC64LE",
    "S390",
    "S390X",
    "PARISC",
    "PARISC64",
    "RISCV64",
    "LOONGARCH64",
    "M68K",
    "SH",
    "SHEB",
];

/// `SCMP_ARCH_*` -> the Go/Docker name `includes.arches` compares against.
const DOCKER_ARCHES: &[(&str, &str)] = &[
    ("X86_64", "amd64"),
    ("AARCH64", "arm64"),
    ("X86", "x86"),
    ("X32", "x32"),
    ("ARM", "arm"),
    ("MIPS", "mips"),
    ("MIPSEL", "mipsle"),
    ("MIPS64", "mips64"),
    ("MIPSEL64", "mips64le"),
    ("MIPS64N32", "mips64n32"),
    ("MIPSEL64N32", "mips64len32"),
    ("PPC", "ppc"),
    ("PPC64", "ppc64"),
    ("PPC64LE", "ppc64le"),
    ("S390", "s390"),
    ("S390X", "s390x"),
    ("RISCV64", "riscv64"),
    ("LOONGARCH64", "loong64"),
];

/// Errno names Podman writes in `errno`/`defaultErrno` (asm-generic numbering,
/// shared by x86_64 and aarch64).
#[rustfmt::skip]
const ERRNO_NAMES: &[(&str, u16)] = &[
    ("EPERM", 1), ("ENOENT", 2), ("ESRCH", 3), ("EINTR", 4), ("EIO", 5), ("ENXIO", 6),
    ("E2BIG", 7), ("ENOEXEC", 8), ("EBADF", 9), ("ECHILD", 10), ("EAGAIN", 11),
    ("EWOULDBLOCK", 11), ("ENOMEM", 12), ("EACCES", 13), ("EFAULT", 14), ("ENOTBLK", 15),
    ("EBUSY", 16), ("EEXIST", 17), ("EXDEV", 18), ("ENODEV", 19), ("ENOTDIR", 20), ("EISDIR", 21),
    ("EINVAL", 22), ("ENFILE", 23), ("EMFILE", 24), ("ENOTTY", 25), ("ETXTBSY", 26),
    ("EFBIG", 27), ("ENOSPC", 28), ("ESPIPE", 29), ("EROFS", 30), ("EMLINK", 31), ("EPIPE", 32),
    ("EDOM", 33), ("ERANGE", 34), ("EDEADLK", 35), ("EDEADLOCK", 35), ("ENAMETOOLONG", 36),
    ("ENOLCK", 37), ("ENOSYS", 38), ("ENOTEMPTY", 39), ("ELOOP", 40), ("ENOMSG", 42),
    ("EIDRM", 43), ("ECHRNG", 44), ("EL2NSYNC", 45), ("EL3HLT", 46), ("EL3RST", 47),
    ("ELNRNG", 48), ("EUNATCH", 49), ("ENOCSI", 50), ("EL2HLT", 51), ("EBADE", 52), ("EBADR", 53),
    ("EXFULL", 54), ("ENOANO", 55), ("EBADRQC", 56), ("EBADSLT", 57), ("EBFONT", 59),
    ("ENOSTR", 60), ("ENODATA", 61), ("ETIME", 62), ("ENOSR", 63), ("ENONET", 64), ("ENOPKG", 65),
    ("EREMOTE", 66), ("ENOLINK", 67), ("EADV", 68), ("ESRMNT", 69), ("ECOMM", 70), ("EPROTO", 71),
    ("EMULTIHOP", 72), ("EDOTDOT", 73), ("EBADMSG", 74), ("EOVERFLOW", 75), ("ENOTUNIQ", 76),
    ("EBADFD", 77), ("EREMCHG", 78), ("ELIBACC", 79), ("ELIBBAD", 80), ("ELIBSCN", 81),
    ("ELIBMAX", 82), ("ELIBEXEC", 83), ("EILSEQ", 84), ("ERESTART", 85), ("ESTRPIPE", 86),
    ("EUSERS", 87), ("ENOTSOCK", 88), ("EDESTADDRREQ", 89), ("EMSGSIZE", 90), ("EPROTOTYPE", 91),
    ("ENOPROTOOPT", 92), ("EPROTONOSUPPORT", 93), ("ESOCKTNOSUPPORT", 94), ("EOPNOTSUPP", 95),
    ("EPFNOSUPPORT", 96), ("EAFNOSUPPORT", 97), ("EADDRINUSE", 98), ("EADDRNOTAVAIL", 99),
    ("ENETDOWN", 100), ("ENETUNREACH", 101), ("ENETRESET", 102), ("ECONNABORTED", 103),
    ("ECONNRESET", 104), ("ENOBUFS", 105), ("EISCONN", 106), ("ENOTCONN", 107),
    ("ESHUTDOWN", 108), ("ETOOMANYREFS", 109), ("ETIMEDOUT", 110), ("ECONNREFUSED", 111),
    ("EHOSTDOWN", 112), ("EHOSTUNREACH", 113), ("EALREADY", 114), ("EINPROGRESS", 115),
    ("ESTALE", 116), ("EUCLEAN", 117), ("ENOTNAM", 118), ("ENAVAIL", 119), ("EISNAM", 120),
    ("EREMOTEIO", 121), ("EDQUOT", 122), ("ENOMEDIUM", 123), ("EMEDIUMTYPE", 124),
    ("ECANCELED", 125), ("ENOKEY", 126), ("EKEYEXPIRED", 127), ("EKEYREVOKED", 128),
    ("EKEYREJECTED", 129), ("EOWNERDEAD", 130), ("ENOTRECOVERABLE", 131), ("ERFKILL", 132),
    ("EHWPOISON", 133),
];

/// The kernel clamps a filter's errno to MAX_ERRNO (include/linux/err.h).
const MAX_ERRNO: u64 = 4095;

/// Parse a profile. `name` is only used in error messages and `Profile::name`.
pub fn parse(name: &str, json: &str) -> Result<Profile, Error> {
    let err = |path: &str, message: String| Error::new(name, path, message);
    let root: Value = serde_json::from_str(json).map_err(|e| {
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(cut) => full[..cut].to_string(),
            None => full,
        };
        err(
            &format!("line {} column {}", e.line(), e.column()),
            format!("invalid JSON: {message}"),
        )
    })?;
    let obj = object(&root, "").map_err(|(p, m)| err(&p, m))?;
    parse_root(name, obj).map_err(|(p, m)| err(&p, m))
}

/// (JSON path, message); turned into an `Error` by `parse`.
type Fail = (String, String);

fn fail<T>(path: &str, message: impl Into<String>) -> Result<T, Fail> {
    Err((path.to_string(), message.into()))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Fail> {
    match v {
        Value::Object(m) => Ok(m),
        other => fail(path, format!("expected an object, found {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reject keys outside `known`; the first unknown key (in file order) is reported.
fn check_keys(obj: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), Fail> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => fail(
            &join(path, k),
            format!("unknown key (known here: {})", known.join(", ")),
        ),
        None => Ok(()),
    }
}

/// A present, non-null value.
fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, Fail> {
    v.as_str().ok_or_else(|| {
        (
            path.to_string(),
            format!("expected a string, found {}", kind(v)),
        )
    })
}

fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, Fail> {
    v.as_array().ok_or_else(|| {
        (
            path.to_string(),
            format!("expected an array, found {}", kind(v)),
        )
    })
}

fn strings(v: &Value, path: &str) -> Result<Vec<String>, Fail> {
    let items = array(v, path)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        // The item's path is formatted only for an error: the default
        // profile has ~400 names, and formatting them all was a third of
        // its parse time.
        match item.as_str() {
            Some(s) => out.push(s.to_string()),
            None => {
                let found = kind(item);
                return fail(
                    &format!("{path}[{i}]"),
                    format!("expected a string, found {found}"),
                );
            }
        }
    }
    Ok(out)
}

fn unsigned(v: &Value, path: &str) -> Result<u64, Fail> {
    v.as_u64().ok_or_else(|| {
        (
            path.to_string(),
            format!("expected an unsigned integer, found {v}"),
        )
    })
}

fn parse_root(name: &str, obj: &Map<String, Value>) -> Result<Profile, Fail> {
    check_keys(
        obj,
        "",
        &[
            "defaultAction",
            "defaultErrnoRet",
            "defaultErrno",
            "architectures",
            "archMap",
            "syscalls",
            "flags",
            "listenerPath",
            "listenerMetadata",
        ],
    )?;
    for key in ["flags"] {
        if let Some(v) = get(obj, key) {
            if !array(v, key)?.is_empty() {
                return fail(
                    key,
                    "seccomp filter flags are not supported; remove them or leave the list empty",
                );
            }
        }
    }
    for key in ["listenerPath", "listenerMetadata"] {
        if let Some(v) = get(obj, key) {
            if !string(v, key)?.is_empty() {
                return fail(
                    key,
                    "user notification (SCMP_ACT_NOTIFY) is not supported, so a listener is not either",
                );
            }
        }
    }
    let default_action = action(obj, "", "defaultAction", "defaultErrnoRet", "defaultErrno")?;

    let mut architectures = Vec::new();
    if let Some(v) = get(obj, "architectures") {
        for (i, a) in strings(v, "architectures")?.into_iter().enumerate() {
            architectures.push(scmp_arch(&a, &format!("architectures[{i}]"))?);
        }
    }
    if let Some(v) = get(obj, "archMap") {
        if !architectures.is_empty() {
            return fail(
                "archMap",
                "use either 'architectures' or 'archMap', not both",
            );
        }
        for (i, entry) in array(v, "archMap")?.iter().enumerate() {
            let path = format!("archMap[{i}]");
            let m = object(entry, &path)?;
            check_keys(m, &path, &["architecture", "subArchitectures"])?;
            let key = join(&path, "architecture");
            let a = get(m, "architecture").ok_or_else(|| (key.clone(), "missing".to_string()))?;
            architectures.push(scmp_arch(string(a, &key)?, &key)?);
            if let Some(subs) = get(m, "subArchitectures") {
                let key = join(&path, "subArchitectures");
                for (j, s) in strings(subs, &key)?.into_iter().enumerate() {
                    architectures.push(scmp_arch(&s, &format!("{key}[{j}]"))?);
                }
            }
        }
    }

    let mut rules = Vec::new();
    if let Some(v) = get(obj, "syscalls") {
        for (i, entry) in array(v, "syscalls")?.iter().enumerate() {
            rules.push(parse_rule(entry, &format!("syscalls[{i}]"))?);
        }
    }
    if rules.is_empty() && default_action.passes() {
        return fail(
            "syscalls",
            format!(
                "no rules and defaultAction {default_action}: the profile restricts nothing \
                 (say --seccomp unconfined if that is meant)"
            ),
        );
    }
    Ok(Profile {
        name: name.to_string(),
        default_action,
        architectures,
        rules,
    })
}

fn parse_rule(v: &Value, path: &str) -> Result<Rule, Fail> {
    let obj = object(v, path)?;
    check_keys(
        obj,
        path,
        &[
            "names", "name", "action", "errnoRet", "errno", "args", "includes", "excludes",
            "comment",
        ],
    )?;
    let mut names = Vec::new();
    if let Some(v) = get(obj, "name") {
        if get(obj, "names").is_some() {
            return fail(
                &join(path, "name"),
                "use either 'name' or 'names', not both",
            );
        }
        names.push(string(v, &join(path, "name"))?.to_string());
    } else if let Some(v) = get(obj, "names") {
        names = strings(v, &join(path, "names"))?;
    }
    if names.is_empty() {
        return fail(&join(path, "names"), "no syscall names");
    }
    for (i, n) in names.iter().enumerate() {
        let ok = !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return fail(
                &format!("{path}.names[{i}]"),
                format!("{n:?} is not a syscall name"),
            );
        }
    }
    let action = action(obj, path, "action", "errnoRet", "errno")?;
    let mut args = Vec::new();
    if let Some(v) = get(obj, "args") {
        let key = join(path, "args");
        for (i, a) in array(v, &key)?.iter().enumerate() {
            let cmp = parse_arg(a, &format!("{key}[{i}]"))?;
            if args.iter().any(|c: &ArgCmp| c.index == cmp.index) {
                // runc turns such a rule into one rule per comparison (OR),
                // libseccomp cannot AND them; either reading surprises someone.
                return fail(
                    &format!("{key}[{i}].index"),
                    format!(
                        "argument {} is compared twice in one rule; runtimes disagree on \
                         whether that means AND or OR: split it into separate entries",
                        cmp.index
                    ),
                );
            }
            args.push(cmp);
        }
    }
    let includes = match get(obj, "includes") {
        Some(v) => parse_filter(v, &join(path, "includes"))?,
        None => Filter::default(),
    };
    let excludes = match get(obj, "excludes") {
        Some(v) => parse_filter(v, &join(path, "excludes"))?,
        None => Filter::default(),
    };
    let comment = match get(obj, "comment") {
        Some(v) => Some(string(v, &join(path, "comment"))?.to_string()),
        None => None,
    };
    Ok(Rule {
        path: path.to_string(),
        names,
        action,
        args,
        includes,
        excludes,
        comment,
    })
}

/// The action at `key`, with its errno from `ret_key` (a number) or
/// `name_key` (Podman's errno name).
fn action(
    obj: &Map<String, Value>,
    path: &str,
    key: &str,
    ret_key: &str,
    name_key: &str,
) -> Result<Action, Fail> {
    let at = join(path, key);
    let text = match get(obj, key) {
        Some(v) => string(v, &at)?,
        None => return fail(&at, "missing"),
    };
    let errno = errno(obj, path, ret_key, name_key)?;
    let act =
        match text {
            "SCMP_ACT_ALLOW" => Action::Allow,
            "SCMP_ACT_LOG" => Action::Log,
            // runc's default when errnoRet is not given.
            "SCMP_ACT_ERRNO" => Action::Errno(errno.unwrap_or(libc::EPERM as u16)),
            "SCMP_ACT_TRAP" => Action::Trap,
            // libseccomp: SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD.
            "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
            "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
            "SCMP_ACT_TRACE" => {
                return fail(
                    &at,
                    "SCMP_ACT_TRACE is not supported: it hands the call to a ptrace tracer, and \
                 hardinit attaches none (without a tracer the kernel fails the call with ENOSYS); \
                 use SCMP_ACT_ERRNO with errnoRet 38 for that effect",
                )
            }
            "SCMP_ACT_NOTIFY" => return fail(
                &at,
                "SCMP_ACT_NOTIFY is not supported: it needs a user-space listener, and hardinit \
                 has none",
            ),
            other => return fail(&at, format!("unknown action {other:?}")),
        };
    if errno.is_some() && !matches!(act, Action::Errno(_)) {
        let which = if get(obj, ret_key).is_some() {
            ret_key
        } else {
            name_key
        };
        return fail(
            &join(path, which),
            format!("an errno only applies to SCMP_ACT_ERRNO, not {text}"),
        );
    }
    Ok(act)
}

fn errno(
    obj: &Map<String, Value>,
    path: &str,
    ret_key: &str,
    name_key: &str,
) -> Result<Option<u16>, Fail> {
    let by_number = match get(obj, ret_key) {
        Some(v) => {
            let at = join(path, ret_key);
            let n = unsigned(v, &at)?;
            if n > MAX_ERRNO {
                return fail(&at, format!("errno {n} is out of range 0..={MAX_ERRNO}"));
            }
            Some(n as u16)
        }
        None => None,
    };
    let by_name = match get(obj, name_key) {
        Some(v) => {
            let at = join(path, name_key);
            let s = string(v, &at)?;
            match ERRNO_NAMES.iter().find(|(n, _)| *n == s) {
                Some(&(_, n)) => Some(n),
                None => return fail(&at, format!("unknown errno name {s:?}")),
            }
        }
        None => None,
    };
    match (by_number, by_name) {
        (Some(a), Some(b)) if a != b => fail(
            &join(path, name_key),
            format!("{name_key} says {b} but {ret_key} says {a}"),
        ),
        (a, b) => Ok(a.or(b)),
    }
}

fn parse_arg(v: &Value, path: &str) -> Result<ArgCmp, Fail> {
    let obj = object(v, path)?;
    check_keys(obj, path, &["index", "value", "valueTwo", "op"])?;
    let field = |key: &str| -> Result<u64, Fail> {
        match get(obj, key) {
            Some(v) => unsigned(v, &join(path, key)),
            None if key == "valueTwo" => Ok(0),
            None => fail(&join(path, key), "missing"),
        }
    };
    let index = field("index")?;
    if index > 5 {
        return fail(
            &join(path, "index"),
            format!("argument index {index} is out of range 0..=5"),
        );
    }
    let (value, value_two) = (field("value")?, field("valueTwo")?);
    let at = join(path, "op");
    let op = match get(obj, "op") {
        Some(v) => match string(v, &at)? {
            "SCMP_CMP_NE" => Op::Ne,
            "SCMP_CMP_LT" => Op::Lt,
            "SCMP_CMP_LE" => Op::Le,
            "SCMP_CMP_EQ" => Op::Eq,
            "SCMP_CMP_GE" => Op::Ge,
            "SCMP_CMP_GT" => Op::Gt,
            "SCMP_CMP_MASKED_EQ" => Op::MaskedEq,
            other => return fail(&at, format!("unknown operator {other:?}")),
        },
        None => return fail(&at, "missing"),
    };
    if op == Op::MaskedEq && value_two & !value != 0 {
        return fail(
            &join(path, "valueTwo"),
            format!(
                "{value_two:#x} has bits outside the mask {value:#x}, so the comparison could \
                 never match"
            ),
        );
    }
    Ok(ArgCmp {
        index: index as u8,
        value,
        value_two,
        op,
    })
}

fn parse_filter(v: &Value, path: &str) -> Result<Filter, Fail> {
    let obj = object(v, path)?;
    check_keys(obj, path, &["caps", "arches", "minKernel"])?;
    let mut f = Filter::default();
    if let Some(v) = get(obj, "caps") {
        let key = join(path, "caps");
        for (i, c) in strings(v, &key)?.into_iter().enumerate() {
            let upper = c.to_ascii_uppercase();
            let full = match upper.starts_with("CAP_") {
                true => upper,
                false => format!("CAP_{upper}"),
            };
            let cap: caps::Capability = full
                .parse()
                .map_err(|_| (format!("{key}[{i}]"), format!("unknown capability {c:?}")))?;
            f.caps.push(cap.index());
        }
    }
    if let Some(v) = get(obj, "arches") {
        let key = join(path, "arches");
        for (i, a) in strings(v, &key)?.into_iter().enumerate() {
            f.arches.push(docker_arch(&a, &format!("{key}[{i}]"))?);
        }
    }
    if let Some(v) = get(obj, "minKernel") {
        let key = join(path, "minKernel");
        let s = string(v, &key)?;
        f.min_kernel = Some(kernel_version(s).ok_or_else(|| {
            (
                key,
                format!("invalid kernel version {s:?} (want MAJOR.MINOR, e.g. \"5.8\")"),
            )
        })?);
    }
    Ok(f)
}

/// "5.8" -> (5, 8). Also used for `uname -r` ("6.1.0-18-amd64").
pub fn kernel_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

fn scmp_arch(s: &str, path: &str) -> Result<String, Fail> {
    match s.strip_prefix("SCMP_ARCH_") {
        Some(a) if SCMP_ARCHES.contains(&a) => Ok(s.to_string()),
        _ => fail(path, format!("unknown architecture {s:?}")),
    }
}

/// Docker compares `includes.arches` with Go's GOARCH names; accept those and
/// the `SCMP_ARCH_*` spelling, stored as the Docker name.
fn docker_arch(s: &str, path: &str) -> Result<String, Fail> {
    if let Some(a) = s.strip_prefix("SCMP_ARCH_") {
        if let Some((_, d)) = DOCKER_ARCHES.iter().find(|(scmp, _)| *scmp == a) {
            return Ok(d.to_string());
        }
    } else if s == "386" {
        return Ok("x86".to_string());
    } else if DOCKER_ARCHES.iter().any(|(_, d)| *d == s) {
        return Ok(s.to_string());
    }
    fail(path, format!("unknown architecture {s:?}"))
}

#[cfg(test)]
mod tests;
