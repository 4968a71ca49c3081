//! Unit tests of the parent module.

use super::*;

fn error_of(json: &str) -> (String, String) {
    let e = parse("t", json).expect_err("profile should be rejected");
    (e.path, e.message)
}

#[test]
fn bad_profiles_name_their_json_path() {
    let allow_read = r#"{"names":["read"],"action":"SCMP_ACT_ALLOW"}"#;
    let deny = r#""defaultAction":"SCMP_ACT_ERRNO""#;
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "syntax",
            "{\n  \"defaultAction\": }".into(),
            "line 2 column 20",
            "invalid JSON",
        ),
        ("not an object", "[]".into(), "", "expected an object"),
        (
            "no default",
            r#"{"syscalls":[]}"#.into(),
            "defaultAction",
            "missing",
        ),
        (
            "unknown default action",
            r#"{"defaultAction":"SCMP_ACT_MAYBE"}"#.into(),
            "defaultAction",
            "unknown action \"SCMP_ACT_MAYBE\"",
        ),
        (
            "unknown action",
            format!(r#"{{{deny},"syscalls":[{allow_read},{{"names":["x"],"action":"ALLOW"}}]}}"#),
            "syscalls[1].action",
            "unknown action \"ALLOW\"",
        ),
        (
            "trace",
            format!(r#"{{{deny},"syscalls":[{{"names":["ptrace"],"action":"SCMP_ACT_TRACE"}}]}}"#),
            "syscalls[0].action",
            "SCMP_ACT_TRACE is not supported",
        ),
        (
            "notify",
            format!(r#"{{{deny},"syscalls":[{{"names":["ptrace"],"action":"SCMP_ACT_NOTIFY"}}]}}"#),
            "syscalls[0].action",
            "SCMP_ACT_NOTIFY is not supported",
        ),
        (
            "bad op",
            format!(
                r#"{{{deny},"syscalls":[{allow_read},{allow_read},{{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{{"index":0,"value":1,"op":"SCMP_CMP_FOO"}}]}}]}}"#
            ),
            "syscalls[2].args[0].op",
            "unknown operator \"SCMP_CMP_FOO\"",
        ),
        (
            "index > 5",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{{"index":6,"value":1,"op":"SCMP_CMP_EQ"}}]}}]}}"#
            ),
            "syscalls[0].args[0].index",
            "out of range 0..=5",
        ),
        (
            "same argument twice",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{{"index":0,"value":1,"op":"SCMP_CMP_GE"}},{{"index":0,"value":9,"op":"SCMP_CMP_LE"}}]}}]}}"#
            ),
            "syscalls[0].args[1].index",
            "compared twice",
        ),
        (
            "negative value",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}}]}}]}}"#
            ),
            "syscalls[0].args[0].value",
            "expected an unsigned integer",
        ),
        (
            "masked value outside mask",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{{"index":0,"value":240,"valueTwo":256,"op":"SCMP_CMP_MASKED_EQ"}}]}}]}}"#
            ),
            "syscalls[0].args[0].valueTwo",
            "outside the mask",
        ),
        (
            "empty syscalls with allow default",
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#.into(),
            "syscalls",
            "restricts nothing",
        ),
        (
            "unknown top-level key",
            format!(r#"{{{deny},"defaultActions":"SCMP_ACT_ALLOW"}}"#),
            "defaultActions",
            "unknown key",
        ),
        (
            "unknown rule key",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_ALLOW","arg":[]}}]}}"#
            ),
            "syscalls[0].arg",
            "unknown key",
        ),
        (
            "unknown includes key",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{{"capabilities":[]}}}}]}}"#
            ),
            "syscalls[0].includes.capabilities",
            "unknown key",
        ),
        (
            "unknown capability",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_ALLOW","excludes":{{"caps":["CAP_SYS_ADMN"]}}}}]}}"#
            ),
            "syscalls[0].excludes.caps[0]",
            "unknown capability",
        ),
        (
            "bad minKernel",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{{"minKernel":"five"}}}}]}}"#
            ),
            "syscalls[0].includes.minKernel",
            "invalid kernel version",
        ),
        (
            "unknown arch",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{{"arches":["vax"]}}}}]}}"#
            ),
            "syscalls[0].includes.arches[0]",
            "unknown architecture",
        ),
        (
            "errno on allow",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["read"],"action":"SCMP_ACT_ALLOW","errnoRet":1}}]}}"#
            ),
            "syscalls[0].errnoRet",
            "only applies to SCMP_ACT_ERRNO",
        ),
        (
            "errno too large",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}"#.into(),
            "defaultErrnoRet",
            "out of range",
        ),
        (
            "unknown errno name",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrno":"EWHAT"}"#.into(),
            "defaultErrno",
            "unknown errno name",
        ),
        (
            "errno name and number disagree",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrno":"EPERM","defaultErrnoRet":38}"#
                .into(),
            "defaultErrno",
            "says 1 but defaultErrnoRet says 38",
        ),
        (
            "name and names",
            format!(
                r#"{{{deny},"syscalls":[{{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}}]}}"#
            ),
            "syscalls[0].name",
            "either 'name' or 'names'",
        ),
        (
            "no names",
            format!(r#"{{{deny},"syscalls":[{{"names":[],"action":"SCMP_ACT_ALLOW"}}]}}"#),
            "syscalls[0].names",
            "no syscall names",
        ),
        (
            "bad name",
            format!(
                r#"{{{deny},"syscalls":[{{"names":["read","Write!"],"action":"SCMP_ACT_ALLOW"}}]}}"#
            ),
            "syscalls[0].names[1]",
            "is not a syscall name",
        ),
        (
            "flags",
            format!(r#"{{{deny},"flags":["SECCOMP_FILTER_FLAG_LOG"]}}"#),
            "flags",
            "not supported",
        ),
        (
            "listener",
            format!(r#"{{{deny},"listenerPath":"/run/x.sock"}}"#),
            "listenerPath",
            "not supported",
        ),
        (
            "architectures and archMap",
            format!(
                r#"{{{deny},"architectures":["SCMP_ARCH_X86_64"],"archMap":[{{"architecture":"SCMP_ARCH_X86_64"}}]}}"#
            ),
            "archMap",
            "either 'architectures' or 'archMap'",
        ),
        (
            "bad subarchitecture",
            format!(
                r#"{{{deny},"archMap":[{{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_Z80"]}}]}}"#
            ),
            "archMap[0].subArchitectures[0]",
            "unknown architecture",
        ),
        (
            "wrong type",
            format!(r#"{{{deny},"syscalls":{{}}}}"#),
            "syscalls",
            "expected an array, found an object",
        ),
    ];
    for (case, json, path, message) in cases {
        let (p, m) = error_of(&json);
        assert_eq!(p, path, "{case}: path (message {m:?})");
        assert!(
            m.contains(message),
            "{case}: message {m:?} lacks {message:?}"
        );
    }
}

#[test]
fn error_display_names_profile_and_path() {
    let e = parse("my.json", r#"{"defaultAction":"SCMP_ACT_NOPE"}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "seccomp profile my.json: defaultAction: unknown action \"SCMP_ACT_NOPE\""
    );
}

#[test]
fn parses_fields() {
    let p = parse(
        "t",
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrno":"ENOSYS",
            "flags":[],"listenerPath":"",
            "syscalls":[
              {"name":"clone","action":"SCMP_ACT_ALLOW","comment":"threads",
               "args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}],
               "includes":{"arches":["SCMP_ARCH_AARCH64","amd64"],"minKernel":"4.8"},
               "excludes":{"caps":["sys_admin","CAP_BPF"]}},
              {"names":["kexec_load"],"action":"SCMP_ACT_ERRNO","errno":"EPERM"},
              {"names":["reboot"],"action":"SCMP_ACT_KILL"}]}"#,
    )
    .unwrap();
    assert_eq!(p.default_action, Action::Errno(38));
    let r = &p.rules[0];
    assert_eq!(r.names, vec!["clone"]);
    assert_eq!(r.comment.as_deref(), Some("threads"));
    assert_eq!(
        r.args,
        vec![ArgCmp {
            index: 0,
            value: 0x7E02_0000,
            value_two: 0,
            op: Op::MaskedEq
        }]
    );
    assert_eq!(r.includes.arches, vec!["arm64", "amd64"]);
    assert_eq!(r.includes.min_kernel, Some((4, 8)));
    assert_eq!(r.excludes.caps, vec![21, 39]);
    assert_eq!(p.rules[1].action, Action::Errno(1));
    assert_eq!(p.rules[2].action, Action::KillThread);
    assert_eq!(Action::Errno(38).to_string(), "SCMP_ACT_ERRNO(38)");
}

#[test]
fn kernel_versions() {
    assert_eq!(kernel_version("5.8"), Some((5, 8)));
    assert_eq!(kernel_version("6.1.0-18-amd64"), Some((6, 1)));
    assert_eq!(kernel_version("6.10+"), Some((6, 10)));
    assert_eq!(kernel_version("6"), None);
    assert_eq!(kernel_version("x.1"), None);
}

#[test]
fn precedence_matches_the_kernel() {
    let order = [
        Action::KillProcess,
        Action::KillThread,
        Action::Trap,
        Action::Errno(1),
        Action::Log,
        Action::Allow,
    ];
    for w in order.windows(2) {
        assert!(w[0].rank() < w[1].rank(), "{} before {}", w[0], w[1]);
    }
    assert_eq!(Action::Errno(1).rank(), Action::Errno(38).rank());
}
