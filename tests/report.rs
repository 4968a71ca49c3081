//! Verification and the restriction reports (issue 6): a child whose
//! kernel view differs from the plan never runs; `--debug`, `check` and
//! `inspect` report what /proc says. Real binary, real kernel.
//!
//! seccomp is not the subject here: every run passes `--seccomp unconfined`.
mod common;
use common::*;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Capability names in kernel order (bit N = name N), as Docker spells them.
const CAP_NAMES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// "CAP_CHOWN,CAP_KILL" (or "-"/"" for none; bare numbers for bits
/// without a name) -> mask.
fn mask_of(names: &str) -> u64 {
    names
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "-")
        .map(|n| {
            let bare = n.strip_prefix("CAP_").unwrap_or(n);
            let bitno = CAP_NAMES
                .iter()
                .position(|c| *c == bare)
                .or_else(|| bare.parse().ok())
                .unwrap_or_else(|| panic!("unknown capability name {n:?}"));
            1u64 << bitno
        })
        .fold(0, |a, b| a | b)
}

/// `Key:\tvalue` lines of /proc/PID/status (or the h_status fixture).
fn status_map(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// What a report (table or JSON) should say, from a status map; every
/// value as the table prints it ("-" for an empty set).
fn expected_report(st: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (prefix, key) in [("uid", "Uid"), ("gid", "Gid")] {
        let ids: Vec<&str> = st[key].split_whitespace().collect();
        for (i, which) in ["real", "effective", "saved", "fs"].iter().enumerate() {
            m.insert(format!("{prefix}_{which}"), ids[i].to_string());
        }
    }
    let groups = st["Groups"]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(",");
    m.insert(
        "groups".into(),
        if groups.is_empty() {
            "-".into()
        } else {
            groups
        },
    );
    for (key, field) in [
        ("cap_inheritable", "CapInh"),
        ("cap_permitted", "CapPrm"),
        ("cap_effective", "CapEff"),
        ("cap_bounding", "CapBnd"),
        ("cap_ambient", "CapAmb"),
    ] {
        m.insert(
            key.into(),
            format!("{:x}", u64::from_str_radix(&st[field], 16).unwrap()),
        );
    }
    m.insert("no_new_privs".into(), (st["NoNewPrivs"] == "1").to_string());
    m
}

/// The same keys from a report; capability lists as hex masks.
fn reported(report: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    expected_report_keys()
        .iter()
        .map(|k| {
            let v = report
                .get(*k)
                .unwrap_or_else(|| panic!("report lacks {k}: {report:?}"));
            let v = if k.starts_with("cap_") {
                format!("{:x}", mask_of(v))
            } else if v.is_empty() {
                "-".to_string()
            } else {
                v.clone()
            };
            (k.to_string(), v)
        })
        .collect()
}

fn expected_report_keys() -> Vec<&'static str> {
    // The kernel's view: the slice of ALWAYS between "pid" and "seccomp_mode".
    let start = ALWAYS.iter().position(|k| *k == "uid_real").unwrap();
    let end = ALWAYS.iter().position(|k| *k == "seccomp_mode").unwrap();
    ALWAYS[start..end].to_vec()
}

/// JSON values as the table prints them.
fn flat(obj: &Map<String, Value>) -> BTreeMap<String, String> {
    obj.iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// hardinit with `pre` options, then `--seccomp unconfined`, `flags`, and
/// `fixture args` as the program.
fn run_with(pre: &[&str], flags: &[String], fixture: &str, args: &[String]) -> Run {
    let mut argv = strings(pre);
    argv.extend(strings(&["--seccomp", "unconfined"]));
    argv.extend(flags.iter().cloned());
    argv.push("--".into());
    argv.push(example(fixture).to_string_lossy().into_owned());
    argv.extend(args.iter().cloned());
    let refs: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
    Run::new(&refs)
}

/// Flag combinations whose report is compared with the child's /proc view.
fn combinations() -> Vec<Vec<&'static str>> {
    vec![
        vec![],
        vec!["--user", "10001"],
        vec!["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
        vec!["--user", "65534:65534", "--groups", "100,200"],
        vec!["--cap-drop", "CHOWN", "--allow-new-privs"],
        vec!["--unconfined", "--user", "10001"],
    ]
}

#[test]
fn forced_mismatch_stops_the_program() {
    if !cfg!(debug_assertions) {
        skip("HARDINIT_TEST_FORCE_MISMATCH exists in debug builds only");
        return;
    }
    if !can_be_pid1() {
        return;
    }
    for (format, flags) in [
        ("raw", vec![]),
        (
            "raw",
            vec!["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
        ),
        ("mozlog", vec!["--user", "10001"]),
        // The child checks itself above; with --debug (and with an rlimit
        // to read back) PID 1 reads the stopped child's /proc instead.
        ("raw", vec!["--debug", "--rlimit", "nofile=512:1024"]),
        ("raw", vec!["--rlimit", "nofile=512:1024"]),
    ] {
        let marker = temp_path("marker");
        let out = run_with(
            &["--log-format", format],
            &strings(&flags),
            "h_marker",
            &[marker.to_string_lossy().into_owned()],
        )
        .env("HARDINIT_TEST_FORCE_MISMATCH", "1")
        .pid1()
        .output();
        assert_eq!(out.code, Some(125), "{flags:?}: {out:?}");
        let msg = if format == "raw" {
            fatal_message(&out.stderr).unwrap_or_else(|| panic!("{out:?}"))
        } else {
            let records = out.records();
            assert!(records.iter().all(|r| r["Type"] != "stdout"), "{out:?}");
            records
                .iter()
                .filter(|r| r["Logger"] == "hardinit" && r["Severity"].as_u64() <= Some(3))
                .map(|r| r["Fields"]["msg"].as_str().unwrap().to_string())
                .next()
                .unwrap_or_else(|| panic!("no error record: {out:?}"))
        };
        for w in ["verification failed", "was not started", "CapEff"] {
            assert!(msg.contains(w), "{flags:?}: {w:?} not in {msg:?}");
        }
        assert!(!marker.exists(), "{flags:?}: the program ran");
        // Without the hook the same plan runs.
        let out = run_with(
            &["--log-format", format],
            &strings(&flags),
            "h_marker",
            &[marker.to_string_lossy().into_owned()],
        )
        .pid1()
        .output();
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        assert!(marker.exists());
        std::fs::remove_file(&marker).unwrap();
    }
}

/// The `--debug` table on stderr (raw mode) as key -> value.
fn debug_table(stderr: &str) -> BTreeMap<String, String> {
    let mut lines = stderr
        .lines()
        .skip_while(|l| !l.starts_with("hardinit: restrictions of"));
    assert!(lines.next().is_some(), "no --debug header: {stderr}");
    lines
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn debug_table_equals_the_childs_status() {
    if !can_be_pid1() {
        return;
    }
    for flags in combinations() {
        let out = run_with(
            &["--log-format", "raw", "--debug"],
            &strings(&flags),
            "h_status",
            &[],
        )
        .pid1()
        .output();
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        let table = debug_table(&out.stderr);
        let child = status_map(&out.stdout);
        assert_eq!(
            reported(&table),
            expected_report(&child),
            "{flags:?}: {}",
            out.stderr
        );
        assert_eq!(table["program"], example("h_status").to_string_lossy());
        assert_eq!(table["seccomp_profile"], "unconfined");
    }
}

/// Keys of the `hardinit.restrictions` record (src/report.rs: of_process,
/// of_child, add_plan): always present, and present only sometimes.
const ALWAYS: &[&str] = &[
    "msg",
    "program",
    "pid",
    "uid_real",
    "uid_effective",
    "uid_saved",
    "uid_fs",
    "gid_real",
    "gid_effective",
    "gid_saved",
    "gid_fs",
    "groups",
    "cap_inheritable",
    "cap_permitted",
    "cap_effective",
    "cap_bounding",
    "cap_ambient",
    "no_new_privs",
    "seccomp_mode",
    "seccomp_filters",
    "landlock_abi",
    "seccomp_profile",
    "landlock_status",
    "hardinit_caps",
    "rlimits",
];
const SOMETIMES: &[&str] = &[
    "root_read_only",
    "notes",
    "seccomp_default_action",
    "seccomp_allowed",
    "seccomp_instructions",
    "seccomp_skipped",
    "landlock_rules",
    "landlock_warnings",
];

#[test]
fn debug_record_in_mozlog_mode() {
    if !can_be_pid1() {
        return;
    }
    for flags in combinations() {
        let mut flags = strings(&flags);
        flags.extend(strings(&["--rlimit", "nofile=100:200"]));
        let out = run_with(
            &["--log-format", "mozlog", "--debug"],
            &flags,
            "h_status",
            &[],
        )
        .pid1()
        .output();
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        let records = out.records();
        let reports: Vec<&Value> = records
            .iter()
            .filter(|r| r["Type"] == "hardinit.restrictions")
            .collect();
        assert_eq!(reports.len(), 1, "{flags:?}: {out:?}");
        let fields = reports[0]["Fields"].as_object().unwrap();
        for k in ALWAYS {
            assert!(fields.contains_key(*k), "{flags:?}: no {k}: {fields:?}");
        }
        for k in fields.keys() {
            assert!(
                ALWAYS.contains(&k.as_str()) || SOMETIMES.contains(&k.as_str()),
                "{flags:?}: undocumented key {k}"
            );
        }
        for (k, v) in fields {
            assert!(
                matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)),
                "{flags:?}: {k} is not a scalar: {v}"
            );
        }
        // Values: the child's own view after exec.
        let child = status_map(&out.msgs("stdout").join("\n"));
        assert_eq!(
            reported(&flat(fields)),
            expected_report(&child),
            "{flags:?}"
        );
        assert!(fields["uid_effective"].is_number() && fields["no_new_privs"].is_boolean());
        let child_pid = records
            .iter()
            .find(|r| r["Type"] == "stdout")
            .map(|r| r["Pid"].clone())
            .unwrap();
        assert_eq!(fields["pid"], child_pid, "{flags:?}");
        assert_eq!(fields["rlimits"], "nofile=100:200", "{flags:?}");
        assert_eq!(fields["seccomp_profile"], "unconfined");
        assert_eq!(fields["seccomp_mode"], "disabled");
    }
}

#[test]
fn check_refuses_bad_input_with_the_same_message() {
    for (name, flags, words) in bad_inputs() {
        if name.contains("CAP_SYS_RESOURCE") && holds_cap(24) {
            continue;
        }
        let marker = temp_path("marker");
        let args = [marker.to_string_lossy().into_owned()];
        let run = run_with(&["--log-format", "raw"], &flags, "h_marker", &args).output();
        let check = run_with(&["check", "--log-format", "raw"], &flags, "h_marker", &args).output();
        assert_eq!(check.code, Some(125), "{name}: {check:?}");
        assert_eq!(run.code, Some(125), "{name}: {run:?}");
        let msg = fatal_message(&check.stderr).unwrap_or_else(|| panic!("{name}: {check:?}"));
        assert_eq!(Some(&msg), fatal_message(&run.stderr).as_ref(), "{name}");
        for w in words {
            assert!(msg.contains(w), "{name}: {w:?} not in {msg:?}");
        }
        assert!(!marker.exists(), "{name}: something ran");
        assert_eq!(check.stdout, "", "{name}");
    }
}

/// The `check` table (stdout) as key -> value.
fn check_table(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(char::is_whitespace))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// Expected (key, value) lines of a table.
type Pairs<'a> = &'a [(&'a str, &'a str)];

#[test]
fn check_prints_the_plan_and_runs_nothing() {
    let bind = "CAP_NET_BIND_SERVICE";
    let cases: &[(&[&str], Pairs)] = &[
        (
            &[],
            &[
                ("uid", "unchanged"),
                ("cap_effective", "-"),
                ("cap_bounding", "-"),
                ("no_new_privs", "true"),
            ],
        ),
        (
            &["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
            &[
                ("uid", "10001"),
                ("gid", "10001"),
                ("groups", "-"),
                ("cap_effective", bind),
                ("cap_ambient", bind),
                ("cap_bounding", bind),
            ],
        ),
        (
            &[
                "--user",
                "65534:65534",
                "--groups",
                "100,200",
                "--allow-new-privs",
            ],
            &[
                ("uid", "65534"),
                ("groups", "100,200"),
                ("no_new_privs", "false"),
            ],
        ),
        (
            &["--rlimit", "nofile=100:200"],
            &[("rlimits", "nofile=100:200")],
        ),
        (
            &["--unconfined"],
            &[
                ("uid", "unchanged"),
                ("cap_effective", "unchanged"),
                ("no_new_privs", "false"),
            ],
        ),
    ];
    for (flags, want) in cases {
        let marker = temp_path("marker");
        let out = run_with(
            &["check"],
            &strings(flags),
            "h_marker",
            &[marker.to_string_lossy().into_owned()],
        )
        .output();
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        assert!(!marker.exists(), "{flags:?}: check ran the program");
        let table = check_table(&out.stdout);
        let program = example("h_marker");
        assert_eq!(
            table.get("msg").map(String::as_str),
            Some(format!("plan for {} is valid; nothing was run", program.display()).as_str()),
            "{out:?}"
        );
        for (k, v) in *want {
            assert_eq!(
                table.get(*k).map(String::as_str),
                Some(*v),
                "{flags:?} {k}: {out:?}"
            );
        }
    }
    // No program at all: options only.
    let out = Run::new(&["check", "--seccomp", "unconfined", "--user", "10001"]).output();
    assert_eq!(out.code, Some(0), "{out:?}");
}

#[test]
fn inspect_json_equals_proc_status() {
    if !can_be_pid1() {
        return;
    }
    let cases: &[&[&str]] = &[
        &["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
        &["--user", "65534:65534", "--groups", "100"],
        &["--allow-new-privs", "--cap-drop", "CHOWN"],
    ];
    for flags in cases {
        let run = run_with(&["--log-format", "raw"], &strings(flags), "h_signal", &[]).pid1();
        let mut s = run.spawn();
        s.wait_line("ready");
        let hardinit = s.hardinit_pid(true);
        let child = first_child(hardinit);
        // SIGUSR1 answered: hardinit is in its loop, its own privileges dropped.
        s.signal(hardinit, libc::SIGUSR1);
        s.wait_line("signal 10");
        for pid in [child, hardinit] {
            let out = Run::new(&["inspect", "--json", "--pid", &pid.to_string()]).output();
            assert_eq!(out.code, Some(0), "{out:?}");
            let json: Value = serde_json::from_str(out.stdout.trim()).unwrap();
            let obj = json.as_object().unwrap();
            let st = status_map(&std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap());
            assert_eq!(
                reported(&flat(obj)),
                expected_report(&st),
                "{flags:?} pid {pid}"
            );
            assert_eq!(obj["pid"], pid, "{flags:?}");
            let mode = match st["Seccomp"].as_str() {
                "0" => "disabled",
                "1" => "strict",
                _ => "filter",
            };
            assert_eq!(obj["seccomp_mode"], mode);
            assert_eq!(obj["seccomp_filters"].to_string(), st["Seccomp_filters"]);
            // The table says the same.
            let out = Run::new(&["inspect", "--pid", &pid.to_string()]).output();
            assert_eq!(out.code, Some(0), "{out:?}");
            assert_eq!(reported(&check_table(&out.stdout)), expected_report(&st));
        }
        s.signal(hardinit, libc::SIGTERM);
        s.wait_line("signal 15");
        assert_eq!(s.wait_timeout(TIMEOUT), Some(0));
    }
    let out = Run::new(&["inspect", "--pid", "x"]).output();
    assert_eq!(out.code, Some(2), "{out:?}");
    let out = Run::new(&["inspect", "--pid", "4000000000"]).output();
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("/proc/4000000000/status"), "{out:?}");
}

fn first_child(pid: i32) -> i32 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}
