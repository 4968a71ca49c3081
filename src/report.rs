//! The restrictions as the kernel reports them: `/proc/<pid>/status` read
//! back, compared with the plan (verification), and printed (`--debug`,
//! `inspect`, `check`).
//!
//! The report is a flat map so that the same keys serve `inspect --json`
//! and the mozlog record's Fields (which allow only scalars and non-empty
//! arrays): sets are comma-separated strings, empty when empty.

use crate::caps;
use crate::plan::{Expected, Plan};
use serde_json::{Map, Value};

/// `/proc/<pid>/status` as key/value pairs.
pub struct Status {
    fields: Vec<(String, String)>,
}

impl Status {
    pub fn read(pid: &str) -> Result<Status, String> {
        let path = format!("/proc/{pid}/status");
        let text = crate::sys::read_text(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        Ok(Status::parse(&text))
    }

    pub fn parse(text: &str) -> Status {
        Status {
            fields: text
                .lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A capability set (hex).
    pub fn cap(&self, key: &str) -> u64 {
        self.get(key)
            .and_then(|v| u64::from_str_radix(v, 16).ok())
            .unwrap_or(0)
    }

    /// A whitespace-separated list of numbers (Uid, Gid, Groups).
    pub fn list(&self, key: &str) -> Vec<u32> {
        self.get(key)
            .map(|v| {
                v.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn number(&self, key: &str) -> u32 {
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
}

/// Every field where the kernel disagrees with the plan, as
/// "Field: expected X, kernel reports Y".
pub fn verify(expect: &Expected, st: &Status) -> Vec<String> {
    let mut diffs = Vec::new();
    let counts_filters = counts_filters(st.get("Seccomp"), st.get("Seccomp_filters"));
    // A field the plan sets must be there: a missing or garbled line is a
    // difference, never "0".
    let checked = [
        ("CapInh", expect.cap_inh.is_some()),
        ("CapPrm", expect.cap_prm.is_some()),
        ("CapEff", expect.cap_eff.is_some()),
        ("CapBnd", expect.cap_bnd.is_some()),
        ("CapAmb", expect.cap_amb.is_some()),
        ("NoNewPrivs", expect.no_new_privs.is_some()),
        ("Seccomp", expect.seccomp_filters.is_some()),
        (
            "Seccomp_filters",
            expect.seccomp_filters.is_some() && counts_filters,
        ),
        ("Uid", expect.uid.is_some()),
        ("Gid", expect.gid.is_some()),
        ("Groups", expect.groups.is_some()),
    ];
    for (key, wanted) in checked {
        if wanted && st.get(key).is_none() {
            diffs.push(format!("{key}: missing from /proc/<pid>/status"));
        }
    }
    let hex_ok = |key: &str| {
        st.get(key)
            .is_some_and(|v| u64::from_str_radix(v, 16).is_ok())
    };
    let caps = expect.caps();
    for (key, want) in caps {
        if let Some(want) = want {
            let got = st.cap(key);
            if st.get(key).is_some() && !hex_ok(key) {
                diffs.push(format!(
                    "{key}: unreadable value {:?}",
                    st.get(key).unwrap_or("")
                ));
            } else if got != want {
                diffs.push(format!(
                    "{key}: expected {want:016x}, kernel reports {got:016x}"
                ));
            }
        }
    }
    if let Some(want) = expect.no_new_privs {
        let got = st.number("NoNewPrivs") == 1;
        if got != want {
            diffs.push(format!(
                "NoNewPrivs: expected {}, kernel reports {}",
                want as u8, got as u8
            ));
        }
    }
    if let Some(want) = expect.seccomp_filters {
        let mode = st.number("Seccomp");
        let got = st.number("Seccomp_filters");
        if mode != 2 || (counts_filters && got != want) {
            diffs.push(format!(
                "Seccomp: expected mode 2 with {want} filters, kernel reports mode {mode} with {got}"
            ));
        }
    }
    for (key, want) in [("Uid", expect.uid), ("Gid", expect.gid)] {
        if let Some(want) = want {
            let got = st.list(key);
            if got.len() != 4 || got.iter().any(|id| *id != want) {
                diffs.push(format!(
                    "{key}: expected {want} (real, effective, saved, fs), kernel reports {got:?}"
                ));
            }
        }
    }
    if let Some(want) = &expect.groups {
        let mut got = st.list("Groups");
        let mut want = want.clone();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            diffs.push(format!("Groups: expected {want:?}, kernel reports {got:?}"));
        }
    }
    diffs
}

/// Whether the kernel counts filters: Linux before 5.9 prints `Seccomp:`
/// but no `Seccomp_filters:` line, and there the mode is all it tells (a
/// missing `Seccomp:` is still a difference).
fn counts_filters(mode: Option<&str>, filters: Option<&str>) -> bool {
    filters.is_some() || mode.is_none()
}

/// `verify`'s comparison, without allocating: true when every field the
/// plan sets is in `text` (a /proc/<pid>/status) with the planned value.
/// The child runs it on itself before execve (spawn.rs, where nothing may
/// be allocated); when it says no, PID 1 names the differences with
/// `verify` on the same text. A unit test holds the two to the same answer.
pub fn matches(expect: &Expected, text: &str) -> bool {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(str::trim)
    };
    let hex = |key: &str| field(key).and_then(|v| u64::from_str_radix(v, 16).ok());
    let num = |key: &str| field(key).and_then(|v| v.parse::<u32>().ok());
    let counts_filters = counts_filters(field("Seccomp"), field("Seccomp_filters"));
    let caps = expect.caps();
    let ids_are = |key: &str, want: u32| {
        field(key).is_some_and(|v| {
            v.split_whitespace().count() == 4
                && v.split_whitespace().all(|id| id.parse() == Ok(want))
        })
    };
    // The same multiset of groups, in any order.
    let groups_are = |want: &[u32]| {
        field("Groups").is_some_and(|v| {
            let got = || v.split_whitespace().map(|g| g.parse::<u32>().ok());
            let count = |of: Option<u32>, list: &mut dyn Iterator<Item = Option<u32>>| {
                list.filter(|g| *g == of).count()
            };
            got().count() == want.len()
                && got().all(|g| {
                    g.is_some()
                        && count(g, &mut got()) == count(g, &mut want.iter().map(|w| Some(*w)))
                })
        })
    };
    caps.iter()
        .all(|(key, want)| want.is_none_or(|w| hex(key) == Some(w)))
        && expect
            .no_new_privs
            .is_none_or(|w| num("NoNewPrivs") == Some(u32::from(w)))
        && expect.seccomp_filters.is_none_or(|w| {
            num("Seccomp") == Some(2) && (!counts_filters || num("Seccomp_filters") == Some(w))
        })
        && expect.uid.is_none_or(|w| ids_are("Uid", w))
        && expect.gid.is_none_or(|w| ids_are("Gid", w))
        && expect.groups.as_deref().is_none_or(groups_are)
}

/// `verify_limits`' comparison, without allocating (see `matches`): every
/// planned rlimit is in `text` (a /proc/<pid>/limits) with its values.
pub fn limits_match(want: &[crate::rlimit::Limit], text: &str) -> bool {
    let value = |col: &str| match col {
        "unlimited" => Some(crate::rlimit::INFINITY),
        n => n.parse::<u64>().ok(),
    };
    want.iter().all(|l| {
        let Some(title) = limit_title(l.name) else {
            return false;
        };
        text.lines()
            .find_map(|line| line.strip_prefix(title))
            .is_some_and(|cols| {
                let mut cols = cols.split_whitespace();
                cols.next().and_then(value) == Some(l.soft)
                    && cols.next().and_then(value) == Some(l.hard)
            })
    })
}

fn cap_names(mask: u64) -> Value {
    Value::String(caps::names(mask).join(","))
}

fn ids(st: &Status, prefix: &str, key: &str, map: &mut Map<String, Value>) {
    let v = st.list(key);
    for (i, which) in ["real", "effective", "saved", "fs"].iter().enumerate() {
        if let Some(id) = v.get(i) {
            map.insert(format!("{prefix}_{which}"), (*id).into());
        }
    }
}

/// The rlimits the plan sets, read back from `/proc/<pid>/limits`: every
/// one that differs (or cannot be read), as "rlimit NAME: ...".
pub fn verify_limits(pid: &str, want: &[crate::rlimit::Limit]) -> Vec<String> {
    if want.is_empty() {
        return Vec::new();
    }
    let text = crate::sys::read_text(&format!("/proc/{pid}/limits")).unwrap_or_default();
    verify_limits_text(&text, want)
}

/// `verify_limits` on the text of a /proc/<pid>/limits already read.
pub fn verify_limits_text(text: &str, want: &[crate::rlimit::Limit]) -> Vec<String> {
    let names: Vec<&str> = want.iter().map(|l| l.name).collect();
    let got = limits_in(text, &names);
    want.iter()
        .filter_map(|l| {
            let expected = format!(
                "{}={}:{}",
                l.name,
                crate::rlimit::show(l.soft),
                crate::rlimit::show(l.hard)
            );
            let found = got.iter().find(|g| g.split('=').next() == Some(l.name));
            match found {
                Some(g) if *g == expected => None,
                Some(g) => Some(format!(
                    "rlimit {}: expected {expected}, kernel reports {g}",
                    l.name
                )),
                None => Some(format!(
                    "rlimit {}: missing from /proc/<pid>/limits",
                    l.name
                )),
            }
        })
        .collect()
}

/// `/proc/<pid>/limits` -> "nofile=1024:4096" for the named limits.
fn limits(pid: &str, names: &[&str]) -> Vec<String> {
    let Ok(text) = crate::sys::read_text(&format!("/proc/{pid}/limits")) else {
        return Vec::new();
    };
    limits_in(&text, names)
}

/// The row title /proc/<pid>/limits uses for a limit (by prlimit's short name).
fn limit_title(name: &str) -> Option<&'static str> {
    // Column titles as the kernel prints them, by prlimit's short names.
    const TITLES: &[(&str, &str)] = &[
        ("cpu", "Max cpu time"),
        ("fsize", "Max file size"),
        ("data", "Max data size"),
        ("stack", "Max stack size"),
        ("core", "Max core file size"),
        ("rss", "Max resident set"),
        ("nproc", "Max processes"),
        ("nofile", "Max open files"),
        ("memlock", "Max locked memory"),
        ("as", "Max address space"),
        ("locks", "Max file locks"),
        ("sigpending", "Max pending signals"),
        ("msgqueue", "Max msgqueue size"),
        ("nice", "Max nice priority"),
        ("rtprio", "Max realtime priority"),
        ("rttime", "Max realtime timeout"),
    ];
    TITLES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn limits_in(text: &str, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let Some(title) = limit_title(name) else {
            continue;
        };
        if let Some(line) = text.lines().find(|l| l.starts_with(title)) {
            let cols: Vec<&str> = line[title.len()..].split_whitespace().collect();
            if cols.len() >= 2 {
                out.push(format!("{name}={}:{}", cols[0], cols[1]));
            }
        }
    }
    out
}

/// Is `/` mounted read-only in the process's mount namespace?
fn root_read_only(pid: &str) -> Option<bool> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).ok()?;
    // The last mount on "/" is the visible one.
    let line = text.lines().rfind(|l| l.split(' ').nth(4) == Some("/"))?;
    let opts = line.split(' ').nth(5)?;
    Some(opts.split(',').any(|o| o == "ro"))
}

/// The report of one process, read from /proc.
pub fn of_process(pid: &str, st: &Status) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(p) = st.get("Pid") {
        m.insert(
            "pid".into(),
            p.parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| p.into()),
        );
    }
    ids(st, "uid", "Uid", &mut m);
    ids(st, "gid", "Gid", &mut m);
    m.insert(
        "groups".into(),
        st.list("Groups")
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(",")
            .into(),
    );
    for (key, field) in [
        ("cap_inheritable", "CapInh"),
        ("cap_permitted", "CapPrm"),
        ("cap_effective", "CapEff"),
        ("cap_bounding", "CapBnd"),
        ("cap_ambient", "CapAmb"),
    ] {
        m.insert(key.into(), cap_names(st.cap(field)));
    }
    m.insert("no_new_privs".into(), (st.number("NoNewPrivs") == 1).into());
    let mode = match st.number("Seccomp") {
        0 => "disabled",
        1 => "strict",
        _ => "filter",
    };
    m.insert("seccomp_mode".into(), mode.into());
    m.insert(
        "seccomp_filters".into(),
        st.number("Seccomp_filters").into(),
    );
    if let Some(ro) = root_read_only(pid) {
        m.insert("root_read_only".into(), ro.into());
    }
    m.insert("landlock_abi".into(), crate::landlock::abi().into());
    m
}

/// The debug report of a started child: the kernel's view plus what the
/// plan applied (profile, rlimits, Landlock) and PID 1's own capabilities.
pub fn of_child(plan: &Plan, pid: libc::pid_t, st: &Status) -> Map<String, Value> {
    let pid_text = pid.to_string();
    let mut m = Map::new();
    m.insert(
        "msg".into(),
        format!("restrictions of {} (pid {pid}) before exec", plan.program).into(),
    );
    m.insert("program".into(), plan.program.clone().into());
    m.append(&mut of_process(&pid_text, st));
    add_plan(plan, &mut m);
    let names: Vec<&str> = plan.child.rlimits.iter().map(|l| l.name).collect();
    m.insert("rlimits".into(), limits(&pid_text, &names).join(",").into());
    m
}

/// What the plan applies beyond /proc's view: shared by `--debug` and `check`.
pub fn add_plan(plan: &Plan, m: &mut Map<String, Value>) {
    match &plan.child.seccomp {
        Some(s) => {
            m.insert("seccomp_profile".into(), s.name.clone().into());
            m.insert(
                "seccomp_default_action".into(),
                s.default_action.clone().into(),
            );
            m.insert("seccomp_allowed".into(), s.allowed.len().into());
            m.insert("seccomp_instructions".into(), s.instructions.into());
            m.insert("seccomp_skipped".into(), s.skipped.join(",").into());
        }
        None => {
            m.insert("seccomp_profile".into(), "unconfined".into());
        }
    }
    if let Some(l) = &plan.child.landlock {
        m.insert("landlock_abi".into(), l.report.abi.into());
        m.insert("landlock_status".into(), l.report.status.into());
        m.insert("landlock_rules".into(), l.report.rules.join("; ").into());
        if !l.report.warnings.is_empty() {
            m.insert(
                "landlock_warnings".into(),
                l.report.warnings.join("; ").into(),
            );
        }
    } else {
        m.insert("landlock_status".into(), "not enforced".into());
    }
    let own = plan.own_caps.unwrap_or(plan.current.effective);
    m.insert("hardinit_caps".into(), cap_names(own));
    if !plan.notes.is_empty() {
        m.insert("notes".into(), plan.notes.join("; ").into());
    }
}

/// `check`: what a real start would apply, from the plan alone.
pub fn of_plan(plan: &Plan) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "msg".into(),
        format!("plan for {} is valid; nothing was run", plan.program).into(),
    );
    m.insert(
        "program".into(),
        plan.exec.path.to_string_lossy().into_owned().into(),
    );
    add_expected(plan, &mut m);
    if let Some(s) = &plan.child.seccomp {
        m.insert("seccomp_filters_planned".into(), s.programs.len().into());
    }
    m.insert(
        "log_format".into(),
        if plan.log.is_some() { "mozlog" } else { "raw" }.into(),
    );
    add_plan(plan, &mut m);
    m
}

/// What the child is planned to run with, for `check` (no child exists
/// there, so this is the plan, not the kernel's view): the same keys as
/// the kernel report, "unchanged" where hardinit leaves a field alone.
pub fn add_expected(plan: &Plan, m: &mut Map<String, Value>) {
    let e = &plan.expect;
    let unchanged = || Value::from("unchanged");
    for (key, id) in [("uid", e.uid), ("gid", e.gid)] {
        m.insert(key.into(), id.map(Value::from).unwrap_or_else(unchanged));
    }
    let groups = e.groups.as_ref().map(|g| {
        g.iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",")
            .into()
    });
    m.insert("groups".into(), groups.unwrap_or_else(unchanged));
    for (key, mask) in [
        ("cap_inheritable", e.cap_inh),
        ("cap_permitted", e.cap_prm),
        ("cap_effective", e.cap_eff),
        ("cap_bounding", e.cap_bnd),
        ("cap_ambient", e.cap_amb),
    ] {
        m.insert(key.into(), mask.map(cap_names).unwrap_or_else(unchanged));
    }
    m.insert("no_new_privs".into(), plan.child.no_new_privs.into());
    let rlimits: Vec<String> = plan
        .child
        .rlimits
        .iter()
        .map(|l| {
            format!(
                "{}={}:{}",
                l.name,
                crate::rlimit::show(l.soft),
                crate::rlimit::show(l.hard)
            )
        })
        .collect();
    m.insert("rlimits".into(), rlimits.join(",").into());
}

/// An aligned two-column table for humans.
pub fn table(m: &Map<String, Value>) -> String {
    let width = m.keys().map(|k| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in m {
        let text = match v {
            Value::String(s) if s.is_empty() => "-".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!("{k:<width$}  {text}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Name:\tsh\nPid:\t42\nUid:\t10001\t10001\t10001\t10001\nGid:\t10001\t10001\t10001\t10001\nGroups:\t50 \nCapInh:\t0000000000000400\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t0000000000000400\nCapAmb:\t0000000000000400\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";

    /// The plan SAMPLE fulfils in every field.
    fn sample_plan() -> Expected {
        Expected {
            cap_inh: Some(1 << 10),
            cap_prm: Some(1 << 10),
            cap_eff: Some(1 << 10),
            cap_bnd: Some(1 << 10),
            cap_amb: Some(1 << 10),
            no_new_privs: Some(true),
            seccomp_filters: Some(1),
            uid: Some(10001),
            gid: Some(10001),
            groups: Some(vec![50]),
        }
    }

    #[test]
    fn verify_agrees_and_names_each_difference() {
        let st = Status::parse(SAMPLE);
        let mut want = sample_plan();
        assert_eq!(verify(&want, &st), Vec::<String>::new());
        want.cap_eff = Some(0);
        want.uid = Some(0);
        want.seccomp_filters = Some(2);
        want.groups = Some(vec![]);
        let diffs = verify(&want, &st);
        assert_eq!(diffs.len(), 4, "{diffs:?}");
        for key in ["CapEff", "Uid", "Seccomp", "Groups"] {
            assert!(diffs.iter().any(|d| d.starts_with(key)), "{key}: {diffs:?}");
        }
    }

    /// The child's allocation-free check and PID 1's `verify` give the same
    /// answer on every mix of planned fields and kernel reports.
    #[test]
    fn the_child_check_agrees_with_verify() {
        let mut texts = vec![SAMPLE.to_string()];
        let lines: Vec<&str> = SAMPLE.lines().collect();
        for i in 0..lines.len() {
            // Each line missing, and each line with another value.
            let without: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, l)| *l)
                .collect();
            texts.push(without.join("\n"));
            for other in [
                "0",
                "0000000000000000",
                "2",
                "0\t0\t0\t0",
                "10001\t10001\t10001",
                "50 50",
                "7 50",
                "",
            ] {
                let (key, _) = lines[i].split_once(':').unwrap();
                let mut changed = lines.clone();
                let line = format!("{key}:\t{other}");
                changed[i] = &line;
                texts.push(changed.join("\n"));
            }
        }
        texts.push(SAMPLE.replace("Groups:\t50 ", "Groups:\t50 60"));
        texts.push(SAMPLE.replace("Groups:\t50 ", "Groups:\t60 50"));
        let full = sample_plan();
        let mut expects = vec![full.clone(), Expected::default()];
        let other = Expected {
            cap_eff: Some(0),
            cap_bnd: Some(u64::MAX >> 23),
            seccomp_filters: Some(2),
            uid: Some(0),
            groups: Some(vec![50, 60]),
            ..full.clone()
        };
        expects.push(other.clone());
        expects.push(Expected {
            groups: Some(vec![60, 50]),
            ..full.clone()
        });
        expects.push(Expected {
            groups: Some(vec![]),
            ..Expected::default()
        });
        let (mut agreed, mut differences) = (0, 0);
        for text in &texts {
            for e in &expects {
                let diffs = verify(e, &Status::parse(text));
                assert_eq!(
                    matches(e, text),
                    diffs.is_empty(),
                    "{e:?} on {text:?}: {diffs:?}"
                );
                agreed += 1;
                differences += usize::from(!diffs.is_empty());
            }
        }
        assert!(
            differences > 0 && differences < agreed,
            "{differences} of {agreed}"
        );

        let limits = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 4096                 files     \nMax core file size        0                    unlimited            bytes     \n";
        let limit = |name, soft, hard| crate::rlimit::Limit {
            name,
            resource: 0,
            soft,
            hard,
        };
        let inf = crate::rlimit::INFINITY;
        for want in [
            vec![],
            vec![limit("nofile", 1024, 4096)],
            vec![limit("nofile", 1024, 4096), limit("core", 0, inf)],
            vec![limit("nofile", 1024, 4095)],
            vec![limit("core", 0, 0)],
            vec![limit("nproc", 10, 10)],
        ] {
            assert_eq!(
                limits_match(&want, limits),
                verify_limits_text(limits, &want).is_empty(),
                "{:?}",
                want.iter()
                    .map(|l| (l.name, l.soft, l.hard))
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_kernel_without_a_filter_count_is_checked_on_the_mode() {
        let want = Expected {
            seccomp_filters: Some(1),
            ..Expected::default()
        };
        let old = SAMPLE.replace("Seccomp_filters:\t1\n", "");
        assert_eq!(verify(&want, &Status::parse(&old)), Vec::<String>::new());
        assert!(matches(&want, &old));
        let unfiltered = old.replace("Seccomp:\t2", "Seccomp:\t0");
        assert_eq!(verify(&want, &Status::parse(&unfiltered)).len(), 1);
        assert!(!matches(&want, &unfiltered));
    }

    #[test]
    fn a_missing_field_is_a_difference() {
        let st = Status::parse("Uid:\t0\t0\t0\t0\nCapEff:\tzz\n");
        let want = Expected {
            cap_eff: Some(0),
            cap_amb: Some(0),
            no_new_privs: Some(true),
            ..Expected::default()
        };
        let diffs = verify(&want, &st);
        assert!(
            diffs.iter().any(|d| d.starts_with("CapAmb: missing")),
            "{diffs:?}"
        );
        assert!(
            diffs.iter().any(|d| d.starts_with("NoNewPrivs: missing")),
            "{diffs:?}"
        );
        assert!(
            diffs.iter().any(|d| d.starts_with("CapEff: unreadable")),
            "{diffs:?}"
        );
    }

    #[test]
    fn report_keys_are_flat_and_mozlog_valid() {
        let st = Status::parse(SAMPLE);
        let m = of_process("self", &st);
        assert_eq!(m["uid_effective"], 10001);
        assert_eq!(m["cap_ambient"], "CAP_NET_BIND_SERVICE");
        assert_eq!(m["groups"], "50");
        assert_eq!(m["no_new_privs"], true);
        assert_eq!(m["seccomp_mode"], "filter");
        for v in m.values() {
            assert!(
                matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)),
                "{v}"
            );
        }
    }
}
