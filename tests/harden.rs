//! Hardening of the child, checked where the kernel shows it: the child's
//! own /proc/self/status after execve, and what the kernel lets it do
//! (bind a privileged port, regain a capability, gain privileges through a
//! setuid binary). Real binary, real kernel, hardinit as PID 1.
//!
//! seccomp is not the subject here: every run passes `--seccomp unconfined`.
mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

const CHOWN: u8 = 0;
const KILL: u8 = 5;
const NET_BIND_SERVICE: u8 = 10;
const NET_RAW: u8 = 13;
const SYS_RESOURCE: u8 = 24;

fn bit(cap: u8) -> u64 {
    1 << cap
}

/// What the test process (and so hardinit) runs with.
struct Me {
    permitted: u64,
    bounding: u64,
    groups: Vec<u32>,
}

fn me() -> Me {
    let st = Status::parse(&std::fs::read_to_string("/proc/self/status").unwrap());
    Me {
        permitted: st.cap("CapPrm"),
        bounding: st.cap("CapBnd"),
        groups: st.ids("Groups"),
    }
}

/// `Key:\tvalue` lines (h_status output, /proc/PID/status).
struct Status(BTreeMap<String, String>);

impl Status {
    fn parse(text: &str) -> Status {
        Status(
            text.lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> &str {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in {:?}", self.0))
    }

    fn cap(&self, key: &str) -> u64 {
        u64::from_str_radix(self.get(key), 16).unwrap()
    }

    fn ids(&self, key: &str) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .get(key)
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        if key == "Groups" {
            v.sort_unstable();
        }
        v
    }
}

/// The fields of /proc/<child>/status a case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expect {
    inh: u64,
    prm: u64,
    eff: u64,
    bnd: u64,
    amb: u64,
    no_new_privs: u32,
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
}

impl Expect {
    /// Root target, kept capabilities `keep` in every set, no_new_privs on.
    fn root(keep: u64, me: &Me) -> Expect {
        Expect {
            inh: keep,
            prm: keep,
            eff: keep,
            bnd: keep,
            amb: keep,
            no_new_privs: 1,
            uid: 0,
            gid: 0,
            groups: me.groups.clone(),
        }
    }

    fn user(self, uid: u32, gid: u32, groups: &[u32]) -> Expect {
        Expect {
            uid,
            gid,
            groups: groups.to_vec(),
            ..self
        }
    }

    fn new_privs(self) -> Expect {
        Expect {
            no_new_privs: 0,
            ..self
        }
    }

    fn of(st: &Status) -> Expect {
        let one = |key: &str| {
            let ids = st.ids(key);
            assert!(
                ids.len() == 4 && ids.iter().all(|i| *i == ids[0]),
                "{key} real/effective/saved/fs differ: {ids:?}"
            );
            ids[0]
        };
        Expect {
            inh: st.cap("CapInh"),
            prm: st.cap("CapPrm"),
            eff: st.cap("CapEff"),
            bnd: st.cap("CapBnd"),
            amb: st.cap("CapAmb"),
            no_new_privs: st.get("NoNewPrivs").parse().unwrap(),
            uid: one("Uid"),
            gid: one("Gid"),
            groups: st.ids("Groups"),
        }
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// hardinit (raw output) running `fixture args` with `flags`.
fn run_of(flags: &[&str], fixture: &str, args: &[&str]) -> Run {
    let program = example(fixture);
    let mut argv = strings(&["--seccomp", "unconfined", "--log-format", "raw"]);
    argv.extend(strings(flags));
    argv.push("--".into());
    argv.push(program.to_string_lossy().into_owned());
    argv.extend(strings(args));
    let refs: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
    Run::new(&refs)
}

/// Run h_status hardened by `flags` as PID 1 and parse what it printed.
fn child_status(flags: &[&str], args: &[&str]) -> (Output, Status) {
    let out = run_of(flags, "h_status", args).pid1().output();
    assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
    assert!(out.stdout.ends_with("done\n"), "{flags:?}: {out:?}");
    let st = Status::parse(&out.stdout);
    (out, st)
}

fn passwd_entry(name: &str) -> Option<(u32, u32, String)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[0] == name)
            .then(|| (f[2].parse().ok(), f[3].parse().ok(), f[5].to_string()))
            .and_then(|(u, g, h)| Some((u?, g?, h)))
    })
}

#[test]
fn capability_and_identity_table() {
    if !can_be_pid1() {
        return;
    }
    let me = me();
    let bind = bit(NET_BIND_SERVICE);
    let all = me.permitted;
    let no_chown = me.permitted & !bit(CHOWN);
    let mut cases: Vec<(&str, Vec<&str>, Expect)> = vec![
        ("root, defaults", vec![], Expect::root(0, &me)),
        (
            "root, keep NET_BIND_SERVICE",
            vec!["--cap-add", "NET_BIND_SERVICE"],
            Expect::root(bind, &me),
        ),
        (
            "root, drop CHOWN only",
            vec!["--cap-drop", "CHOWN"],
            Expect::root(no_chown, &me),
        ),
        (
            "root, keep ALL",
            vec!["--cap-add", "ALL"],
            Expect::root(all, &me),
        ),
        (
            "root, any spelling",
            vec!["--cap-drop", "all", "--cap-add", "cap_net_bind_service"],
            Expect::root(bind, &me),
        ),
        (
            "root, allow new privileges",
            vec!["--allow-new-privs"],
            Expect::root(0, &me).new_privs(),
        ),
        (
            "root, supplementary groups without --user",
            vec!["--groups", "100,200"],
            Expect::root(0, &me).user(0, 0, &[100, 200]),
        ),
        (
            "root target by number",
            vec!["--user", "0"],
            Expect::root(0, &me).user(0, 0, &[]),
        ),
        (
            // No hardening: root keeps what execve gives root (the
            // bounding set), nothing is ambient, no_new_privs stays off.
            "root, unconfined",
            vec!["--unconfined"],
            Expect {
                inh: 0,
                prm: me.bounding,
                eff: me.bounding,
                bnd: me.bounding,
                amb: 0,
                no_new_privs: 0,
                uid: 0,
                gid: 0,
                groups: me.groups.clone(),
            },
        ),
        (
            "uid 10001, defaults",
            vec!["--user", "10001"],
            Expect::root(0, &me).user(10001, 10001, &[]),
        ),
        (
            "uid 10001 keeps NET_BIND_SERVICE as ambient",
            vec!["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
            Expect::root(bind, &me).user(10001, 10001, &[]),
        ),
        (
            "uid 10001 keeps ALL",
            vec!["--user", "10001", "--cap-add", "ALL"],
            Expect::root(all, &me).user(10001, 10001, &[]),
        ),
        (
            "65534:65534 drops CHOWN only",
            vec!["--user", "65534:65534", "--cap-drop", "CHOWN"],
            Expect::root(no_chown, &me).user(65534, 65534, &[]),
        ),
        (
            "uid 10001 with groups",
            vec!["--user", "10001:10002", "--groups", "100,200,100"],
            Expect::root(0, &me).user(10001, 10002, &[100, 200]),
        ),
        (
            "uid 10001, new privileges allowed, NET_BIND_SERVICE kept",
            vec![
                "--user",
                "10001",
                "--allow-new-privs",
                "--cap-add",
                "NET_BIND_SERVICE",
            ],
            Expect::root(bind, &me).user(10001, 10001, &[]).new_privs(),
        ),
        (
            // setresuid away from root without KEEPCAPS empties the
            // permitted set; the bounding set is left alone.
            "uid 10001, unconfined",
            vec!["--unconfined", "--user", "10001"],
            Expect {
                bnd: me.bounding,
                ..Expect::root(0, &me).user(10001, 10001, &[]).new_privs()
            },
        ),
    ];
    if let Some((uid, gid, _)) = passwd_entry("nobody") {
        cases.push((
            "nobody by name",
            vec!["--user", "nobody"],
            Expect::root(0, &me).user(uid, gid, &[]),
        ));
        cases.push((
            "nobody by name keeps NET_BIND_SERVICE",
            vec!["--user", "nobody", "--cap-add", "NET_BIND_SERVICE"],
            Expect::root(bind, &me).user(uid, gid, &[]),
        ));
    } else {
        skip("no nobody in /etc/passwd: the by-name cases do not run");
    }
    let mut failures = Vec::new();
    for (name, flags, want) in &cases {
        let (_, st) = child_status(flags, &[]);
        let got = Expect::of(&st);
        if &got != want {
            failures.push(format!(
                "{name} {flags:?}:\n  want {want:x?}\n  got  {got:x?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn flags_also_come_from_the_environment() {
    if !can_be_pid1() {
        return;
    }
    let run = run_of(
        &["--user", "10001"],
        "h_status",
        &["--env", "HARDINIT_CAP_ADD"],
    )
    .env("HARDINIT_CAP_ADD", "NET_BIND_SERVICE")
    .pid1();
    let out = run.output();
    assert_eq!(out.code, Some(0), "{out:?}");
    let st = Status::parse(&out.stdout);
    assert_eq!(st.cap("CapAmb"), bit(NET_BIND_SERVICE), "{out:?}");
    assert!(out.stdout.contains("env HARDINIT_CAP_ADD unset"), "{out:?}");
}

/// h_bind run in a fresh network namespace, so port 80 is free and
/// ip_unprivileged_port_start is the kernel default (1024).
fn bind_80(flags: &[&str]) -> String {
    let out = output_wrapped(
        &run_of(flags, "h_bind", &["80"]).pid1(),
        &["unshare", "--net"],
        &[],
    );
    assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
    out.stdout.trim().to_string()
}

#[test]
fn kernel_refuses_port_80_without_net_bind_service() {
    if !can_be_pid1() {
        return;
    }
    let cases: &[(&[&str], &str)] = &[
        (&["--user", "10001"], "bind 80: errno 13"),
        (
            &["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
            "bind 80: ok",
        ),
        (&[], "bind 80: errno 13"),
        (&["--cap-drop", "NET_BIND_SERVICE"], "bind 80: errno 13"),
        (&["--cap-add", "NET_BIND_SERVICE"], "bind 80: ok"),
        (
            &["--user", "65534:65534", "--cap-drop", "CHOWN"],
            "bind 80: ok",
        ),
    ];
    for (flags, want) in cases {
        assert_eq!(bind_80(flags), *want, "{flags:?}");
    }
}

#[test]
fn a_dropped_capability_cannot_be_regained() {
    if !can_be_pid1() {
        return;
    }
    let cases: &[(&[&str], u8, &str)] = &[
        (&["--cap-drop", "CHOWN"], CHOWN, "errno 1"),
        (&[], KILL, "errno 1"),
        (&["--user", "10001"], NET_BIND_SERVICE, "errno 1"),
        (
            &["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
            NET_RAW,
            "errno 1",
        ),
        (&["--user", "10001", "--allow-new-privs"], CHOWN, "errno 1"),
        // Control: a kept capability can be set again (it is already there).
        (
            &["--user", "10001", "--cap-add", "NET_BIND_SERVICE"],
            NET_BIND_SERVICE,
            "ok",
        ),
    ];
    for (flags, cap, want) in cases {
        let out = run_of(flags, "h_capset", &[&cap.to_string()])
            .pid1()
            .output();
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        assert_eq!(
            out.stdout.trim(),
            format!("capset {cap}: {want}"),
            "{flags:?}"
        );
    }
}

/// A setuid-root copy of h_status in a directory uid 10001 can enter.
struct SetuidCopy {
    dir: std::path::PathBuf,
    program: std::path::PathBuf,
}

impl SetuidCopy {
    fn new() -> SetuidCopy {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_path("setuid");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let program = dir.join("h_status");
        std::fs::copy(example("h_status"), &program).unwrap();
        std::os::unix::fs::chown(&program, Some(0), Some(0)).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o4755)).unwrap();
        SetuidCopy { dir, program }
    }
}

impl Drop for SetuidCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn no_new_privs_stops_a_setuid_root_program() {
    if !can_be_pid1() {
        return;
    }
    let copy = SetuidCopy::new();
    let program = copy.program.to_string_lossy().into_owned();
    let run = |flags: &[&str]| {
        let mut argv = strings(&["--seccomp", "unconfined", "--log-format", "raw"]);
        argv.extend(strings(flags));
        argv.extend(["--".to_string(), program.clone()]);
        let refs: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
        let out = Run::new(&refs).pid1().output();
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        Status::parse(&out.stdout)
    };

    // no_new_privs (the default): the setuid bit is ignored.
    let st = run(&["--user", "10001"]);
    assert_eq!(st.get("Uid"), "10001\t10001\t10001\t10001");
    assert_eq!((st.cap("CapPrm"), st.cap("CapEff")), (0, 0));
    assert_eq!(st.get("NoNewPrivs"), "1");

    // Observed with no_new_privs off: execve makes the effective and saved
    // uid 0, but the bounding set is empty, so root gains no capability.
    // (It still owns root's files: that is why no_new_privs is the default.)
    let st = run(&["--user", "10001", "--allow-new-privs"]);
    assert_eq!(st.get("Uid"), "10001\t0\t0\t0");
    assert_eq!(
        (st.cap("CapPrm"), st.cap("CapEff"), st.cap("CapBnd")),
        (0, 0, 0)
    );

    // Observed with no_new_privs off and every capability kept: euid 0 and
    // the whole bounding set, i.e. full root. `--allow-new-privs --cap-add
    // ALL` hands the program root; verification cannot see it, because it
    // happens before execve.
    let me = me();
    let st = run(&["--user", "10001", "--allow-new-privs", "--cap-add", "ALL"]);
    assert_eq!(st.get("Uid"), "10001\t0\t0\t0");
    assert_eq!(st.cap("CapEff"), me.permitted);

    // The same with no_new_privs on: nothing gained, the kept set only.
    let st = run(&["--user", "10001", "--cap-add", "NET_BIND_SERVICE"]);
    assert_eq!(st.get("Uid"), "10001\t10001\t10001\t10001");
    assert_eq!(st.cap("CapEff"), bit(NET_BIND_SERVICE));
}

fn marker_run(flags: &[String], marker: &Path) -> Run {
    let mut argv = strings(&["--seccomp", "unconfined", "--log-format", "raw"]);
    argv.extend(flags.iter().cloned());
    argv.push("--".into());
    argv.push(example("h_marker").to_string_lossy().into_owned());
    argv.push(marker.to_string_lossy().into_owned());
    let refs: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
    Run::new(&refs)
}

fn assert_refused(name: &str, out: &Output, marker: &Path, words: &[&str]) {
    assert_eq!(out.code, Some(125), "{name}: {out:?}");
    let msg = fatal_message(&out.stderr).unwrap_or_else(|| panic!("{name}: no message: {out:?}"));
    for w in words {
        assert!(msg.contains(w), "{name}: {w:?} not in {msg:?}");
    }
    assert!(!marker.exists(), "{name}: the program ran");
    assert!(
        !out.stdout.contains("marker"),
        "{name}: the program ran: {out:?}"
    );
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    let sys_resource = holds_cap(SYS_RESOURCE);
    if sys_resource {
        skip("this process holds CAP_SYS_RESOURCE: the cases that need it missing do not run");
    }
    // Control: the fixture does create its marker when nothing is wrong.
    let marker = temp_path("marker");
    let out = marker_run(&[], &marker).output();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(marker.exists());
    std::fs::remove_file(&marker).unwrap();

    for (name, flags, words) in bad_inputs() {
        if sys_resource && name.contains("CAP_SYS_RESOURCE") {
            continue;
        }
        let marker = temp_path("marker");
        let out = marker_run(&flags, &marker).output();
        assert_refused(name, &out, &marker, &words);
    }
}

/// Steps the plan cannot foresee and the kernel refuses in the child, found
/// in a user namespace (`unshare --user --map-root-user`): hardinit is root
/// there and holds every capability of that namespace, but
/// - setgroups is denied (/proc/self/setgroups is "deny" for an
///   unprivileged mapping), so switching to any --user fails at setgroups;
/// - setrlimit checks CAP_SYS_RESOURCE in the initial namespace, and
///   RLIMIT_NOFILE above fs.nr_open is refused even with it.
#[test]
fn a_step_the_kernel_refuses_stops_the_child() {
    let nr_open: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let above = format!("nofile={0}:{0}", nr_open + 1);
    let cases: Vec<(&str, Vec<String>, Vec<&str>)> = vec![
        (
            "setgroups denied in the user namespace",
            strings(&["--user", "10001"]),
            vec!["setgroups([]) failed", "EPERM", "was not started"],
        ),
        (
            "nofile above fs.nr_open",
            strings(&["--rlimit", &above]),
            vec!["setrlimit", "failed", "EPERM", "was not started"],
        ),
    ];
    let userns = ["unshare", "--user", "--map-root-user"];
    // Control: the namespace itself runs programs.
    let marker = temp_path("marker");
    let out = output_wrapped(&marker_run(&[], &marker), &userns, &[]);
    if out.code != Some(0) {
        skip(&format!("cannot run in a user namespace here: {out:?}"));
        return;
    }
    assert!(marker.exists(), "{out:?}");
    std::fs::remove_file(&marker).unwrap();
    for (name, flags, words) in cases {
        let marker = temp_path("marker");
        let run = marker_run(&flags, &marker);
        let out = output_wrapped(&run, &userns, &[]);
        assert_refused(name, &out, &marker, &words);
        let msg = fatal_message(&out.stderr).unwrap();
        assert_eq!(
            msg.matches("Operation not permitted").count(),
            1,
            "{name}: errno text once: {msg}"
        );
        // `check` cannot know: the plan is valid, the kernel says no later.
        let mut argv = vec!["check".to_string()];
        argv.extend(run.args.iter().cloned());
        let refs: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
        let out = output_wrapped(&Run::new(&refs), &userns, &[]);
        assert_eq!(out.code, Some(0), "{name}: check: {out:?}");
        assert!(!marker.exists());
    }
}

#[test]
fn sigterm_reaches_a_child_of_another_uid() {
    if !can_be_pid1() {
        return;
    }
    // With CAP_KILL (root), and without it: then hardinit itself becomes
    // the child's uid to keep signalling it.
    let cases: &[(&str, &[&str], u64)] = &[
        ("root hardinit keeps CAP_KILL", &[], bit(KILL)),
        (
            "hardinit without CAP_KILL switches uid",
            &["setpriv", "--bounding-set=-kill", "--inh-caps=-kill"],
            0,
        ),
    ];
    for (name, inner, pid1_caps) in cases {
        let run = run_of(&["--user", "10001"], "h_signal", &[]).pid1();
        let mut cmd_run = spawn_wrapped(&run, inner);
        cmd_run.wait_line("ready");
        let hardinit = cmd_run.hardinit_pid(true);
        let child = first_child(hardinit);
        assert_eq!(
            proc_status(child, "Uid").unwrap(),
            "10001\t10001\t10001\t10001",
            "{name}"
        );
        // SIGUSR1 first: once it arrived, hardinit is in its loop and has
        // dropped its own privileges, and the child is still running.
        cmd_run.signal(hardinit, libc::SIGUSR1);
        cmd_run.wait_line(&format!("signal {}", libc::SIGUSR1));
        let own = u64::from_str_radix(&proc_status(hardinit, "CapEff").unwrap(), 16).unwrap();
        assert_eq!(own, *pid1_caps, "{name}: hardinit's own CapEff");
        cmd_run.signal(hardinit, libc::SIGTERM);
        cmd_run.wait_line(&format!("signal {}", libc::SIGTERM));
        assert_eq!(cmd_run.wait_timeout(TIMEOUT), Some(0), "{name}");
    }
}

/// `spawn` with programs between unshare and hardinit (see output_wrapped).
fn spawn_wrapped(run: &Run, inner: &[&str]) -> Spawned {
    if inner.is_empty() {
        return run.spawn();
    }
    // Rebuild the command: unshare ... INNER hardinit ARGS.
    let base = run.command();
    let mut cmd = std::process::Command::new(base.get_program());
    let args: Vec<_> = base.get_args().collect();
    let at = args.iter().position(|a| *a == bin().as_os_str()).unwrap();
    cmd.args(&args[..at]).args(inner).args(&args[at..]);
    cmd.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    spawned(cmd.spawn().unwrap())
}

fn first_child(pid: i32) -> i32 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

const NON_ROOT: &[&str] = &[
    "setpriv",
    "--reuid",
    "10001",
    "--regid",
    "10001",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
];

#[test]
fn started_as_non_root_without_capabilities() {
    if !can_be_pid1() {
        return;
    }
    let out = output_wrapped(&run_of(&[], "h_status", &[]).pid1(), &[], NON_ROOT);
    assert_eq!(out.code, Some(0), "{out:?}");
    let got = Expect::of(&Status::parse(&out.stdout));
    let me = me();
    assert_eq!(got, Expect::root(0, &me).user(10001, 10001, &[]));

    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--user", "0"],
            &["--user", "uid 10001 to uid 0", "CAP_SETUID"],
        ),
        (&["--user", "10002"], &["CAP_SETUID"]),
        (
            &["--cap-add", "NET_BIND_SERVICE"],
            &["CAP_NET_BIND_SERVICE", "does not hold"],
        ),
    ];
    for (flags, words) in cases {
        let marker = temp_path("marker");
        let flags = strings(flags);
        let out = output_wrapped(&marker_run(&flags, &marker).pid1(), &[], NON_ROOT);
        assert_refused(&format!("{flags:?}"), &out, &marker, words);
    }
}

#[test]
fn non_root_with_a_full_bounding_set_keeps_no_new_privs_on() {
    if !can_be_pid1() {
        return;
    }
    // No CAP_SETPCAP: the bounding set cannot be dropped; no_new_privs
    // makes that harmless, so turning it off is refused.
    let inner = &NON_ROOT[..NON_ROOT.len() - 1];
    let out = output_wrapped(&run_of(&[], "h_status", &[]).pid1(), &[], inner);
    assert_eq!(out.code, Some(0), "{out:?}");
    let st = Status::parse(&out.stdout);
    assert_eq!(st.get("NoNewPrivs"), "1");
    assert_eq!(
        (st.cap("CapPrm"), st.cap("CapEff"), st.cap("CapAmb")),
        (0, 0, 0)
    );
    assert_eq!(st.cap("CapBnd"), me().bounding);

    let marker = temp_path("marker");
    let out = output_wrapped(
        &marker_run(&strings(&["--allow-new-privs"]), &marker).pid1(),
        &[],
        inner,
    );
    assert_refused(
        "allow-new-privs without CAP_SETPCAP",
        &out,
        &marker,
        &["without CAP_SETPCAP", "--no-new-privs"],
    );
}

#[test]
fn rlimit_shows_in_the_childs_limits() {
    if !can_be_pid1() {
        return;
    }
    let (_, hard) = nofile_limits();
    assert!(hard >= 200, "the test needs a nofile hard limit of 200");
    for flags in [
        &["--rlimit", "nofile=100:200"][..],
        &["--user", "10001", "--rlimit", "NOFILE=100:200"],
        &["--rlimit", "nofile=5000", "--rlimit", "nofile=100:200"],
    ] {
        let (out, _) = child_status(flags, &["--limits"]);
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap_or_else(|| panic!("{out:?}"));
        let cols: Vec<&str> = line["Max open files".len()..].split_whitespace().collect();
        assert_eq!(cols, ["100", "200", "files"], "{flags:?}");
    }
}

#[test]
fn home_comes_from_passwd_when_unset() {
    if !can_be_pid1() {
        return;
    }
    let Some((_, _, nobody_home)) = passwd_entry("nobody") else {
        skip("no nobody in /etc/passwd");
        return;
    };
    let root_home = passwd_entry("root").map(|e| e.2).unwrap();
    let cases: Vec<(Vec<&str>, Option<&str>, String)> = vec![
        (
            vec!["--user", "nobody"],
            None,
            format!("env HOME={nobody_home}"),
        ),
        (
            vec!["--user", "65534"],
            None,
            format!("env HOME={nobody_home}"),
        ),
        (vec!["--user", "0"], None, format!("env HOME={root_home}")),
        (
            vec!["--user", "nobody"],
            Some("/srv/app"),
            "env HOME=/srv/app".into(),
        ),
        // No passwd entry: nothing to take HOME from.
        (vec!["--user", "10001"], None, "env HOME unset".into()),
        // No --user: the environment is the caller's.
        (vec![], None, "env HOME unset".into()),
    ];
    for (flags, home, want) in cases {
        let mut run = run_of(&flags, "h_status", &["--env", "HOME"]).pid1();
        if let Some(h) = home {
            run = run.env("HOME", h);
        }
        let out = run.output();
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        assert!(
            out.stdout.lines().any(|l| l == want),
            "{flags:?} HOME={home:?}: want {want:?}: {out:?}"
        );
    }
}

#[test]
fn supplementary_groups_of_root_never_reach_a_user() {
    if !can_be_pid1() {
        return;
    }
    // hardinit starts with supplementary groups 4 and 27.
    let inner = ["setpriv", "--groups", "4,27"];
    let cases: &[(&[&str], &[u32])] = &[
        // Control: without --user the caller's groups stay (by design).
        (&[], &[4, 27]),
        (&["--user", "10001"], &[]),
        (&["--user", "0"], &[]),
        (
            &["--user", "65534:65534", "--cap-add", "NET_BIND_SERVICE"],
            &[],
        ),
        (&["--user", "10001", "--groups", "100"], &[100]),
        (&["--unconfined", "--user", "10001"], &[]),
    ];
    for (flags, want) in cases {
        let out = output_wrapped(&run_of(flags, "h_status", &[]).pid1(), &[], &inner);
        assert_eq!(out.code, Some(0), "{flags:?}: {out:?}");
        let st = Status::parse(&out.stdout);
        assert_eq!(st.ids("Groups"), *want, "{flags:?}");
    }
}

/// A group list too long for the child's own check (its status text would
/// not fit the buffer it reads into) is verified by PID 1 instead: the
/// program runs with every group, and a wrong plan would still be caught.
#[test]
fn a_long_group_list_is_verified_too() {
    if !can_be_pid1() {
        return;
    }
    let groups: Vec<String> = (1000..1600).map(|g| g.to_string()).collect();
    let list = groups.join(",");
    let (out, st) = child_status(&["--user", "10001", "--groups", &list], &[]);
    let mut got: Vec<String> = st
        .get("Groups")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    got.sort();
    assert_eq!(got, groups, "{out:?}");
}
