//! `--rlimit NAME=SOFT[:HARD]`, names as `ulimit`/prlimit spell them.

/// Resources by name, as prlimit(1) names them.
const RESOURCES: &[(&str, crate::sys::Resource)] = &[
    ("as", libc::RLIMIT_AS),
    ("core", libc::RLIMIT_CORE),
    ("cpu", libc::RLIMIT_CPU),
    ("data", libc::RLIMIT_DATA),
    ("fsize", libc::RLIMIT_FSIZE),
    ("locks", libc::RLIMIT_LOCKS),
    ("memlock", libc::RLIMIT_MEMLOCK),
    ("msgqueue", libc::RLIMIT_MSGQUEUE),
    ("nice", libc::RLIMIT_NICE),
    ("nofile", libc::RLIMIT_NOFILE),
    ("nproc", libc::RLIMIT_NPROC),
    ("rss", libc::RLIMIT_RSS),
    ("rtprio", libc::RLIMIT_RTPRIO),
    ("rttime", libc::RLIMIT_RTTIME),
    ("sigpending", libc::RLIMIT_SIGPENDING),
    ("stack", libc::RLIMIT_STACK),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub resource: crate::sys::Resource,
    pub soft: u64,
    pub hard: u64,
}

pub const INFINITY: u64 = libc::RLIM_INFINITY;

fn parse_value(text: &str) -> Option<u64> {
    match text.trim() {
        "unlimited" | "infinity" | "-1" => Some(INFINITY),
        t => t.parse::<u64>().ok().filter(|n| *n != INFINITY),
    }
}

/// Parse one `NAME=SOFT[:HARD]`; a single value sets both, as Docker's
/// `--ulimit` and prlimit do.
pub fn parse(item: &str) -> Result<Limit, String> {
    let (name, value) = item.split_once('=').ok_or_else(|| {
        format!("--rlimit {item:?}: expected NAME=SOFT[:HARD], e.g. nofile=1024:4096")
    })?;
    let lname = name.trim().to_ascii_lowercase();
    let lname = lname.strip_prefix("rlimit_").unwrap_or(&lname);
    let (name, resource) = RESOURCES
        .iter()
        .find(|(n, _)| *n == lname)
        .copied()
        .ok_or_else(|| {
            let known: Vec<&str> = RESOURCES.iter().map(|(n, _)| *n).collect();
            format!(
                "--rlimit {item:?}: unknown limit {name:?} (known: {})",
                known.join(", ")
            )
        })?;
    let (soft, hard) = match value.split_once(':') {
        Some((s, h)) => (s, h),
        None => (value, value),
    };
    let bad = |v: &str| format!("--rlimit {item:?}: {v:?} is not a number or \"unlimited\"");
    let soft = parse_value(soft).ok_or_else(|| bad(soft))?;
    let hard = parse_value(hard).ok_or_else(|| bad(hard))?;
    if soft > hard {
        return Err(format!(
            "--rlimit {item:?}: the soft limit exceeds the hard limit"
        ));
    }
    Ok(Limit {
        name,
        resource,
        soft,
        hard,
    })
}

/// Check a limit against the current one: raising a hard limit needs
/// CAP_SYS_RESOURCE, and the kernel would refuse it in the child otherwise.
pub fn check_raise(limit: &Limit, current_hard: u64, has_sys_resource: bool) -> Result<(), String> {
    if limit.hard > current_hard && !has_sys_resource {
        return Err(format!(
            "--rlimit {}: raising the hard limit from {} to {} needs CAP_SYS_RESOURCE, which hardinit does not hold",
            limit.name,
            show(current_hard),
            show(limit.hard)
        ));
    }
    Ok(())
}

pub fn show(v: u64) -> String {
    if v == INFINITY {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case<'a> = (&'a str, Result<(&'a str, u64, u64), &'a str>);

    #[test]
    fn parse_table() {
        let cases: &[Case] = &[
            ("nofile=1024:4096", Ok(("nofile", 1024, 4096))),
            ("NOFILE=1024", Ok(("nofile", 1024, 1024))),
            ("RLIMIT_CORE=0", Ok(("core", 0, 0))),
            ("stack=8388608:unlimited", Ok(("stack", 8388608, INFINITY))),
            ("nproc=infinity", Ok(("nproc", INFINITY, INFINITY))),
            ("nofile", Err("expected NAME=SOFT")),
            ("files=10", Err("unknown limit")),
            ("nofile=ten", Err("not a number")),
            ("nofile=10:5", Err("exceeds")),
            ("nofile=:5", Err("not a number")),
        ];
        for (item, want) in cases {
            match (parse(item), want) {
                (Ok(l), Ok((n, s, h))) => {
                    assert_eq!((l.name, l.soft, l.hard), (*n, *s, *h), "{item}")
                }
                (Err(e), Err(text)) => assert!(e.contains(text), "{item}: {e}"),
                (got, _) => panic!("{item}: {got:?}"),
            }
        }
    }

    #[test]
    fn raising_hard_needs_capability() {
        let l = parse("nofile=10:100").unwrap();
        assert!(check_raise(&l, 50, false)
            .unwrap_err()
            .contains("CAP_SYS_RESOURCE"));
        assert!(check_raise(&l, 50, true).is_ok());
        assert!(check_raise(&l, 100, false).is_ok());
    }
}
