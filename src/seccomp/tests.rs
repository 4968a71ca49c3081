//! Compilation tests: the real fixtures, the embedded profiles, and the
//! programs run through a small cBPF interpreter on synthetic seccomp_data.

use std::collections::BTreeSet;

use seccompiler::sock_filter;
use serde_json::Value;

use super::*;

pub(super) const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
pub(super) const AUDIT_ARCH_I386: u32 = 0x4000_0003;
pub(super) const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
pub(super) const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
const fn errno(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | e as u32
}

/// Docker's default capability set (moby oci/caps/defaults.go).
pub(super) const DOCKER_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

pub(super) fn bits(names: &[&str]) -> u64 {
    names
        .iter()
        .map(|n| 1u64 << n.parse::<caps::Capability>().unwrap().index())
        .sum()
}

pub(super) fn target(arch: Arch, caps: &[&str]) -> Target {
    Target {
        arch,
        kernel: (6, 1),
        bounding: bits(caps),
    }
}

/// Read a shared fixture, or None (with the reason printed) when it is absent.
pub(super) fn fixture(file: &str) -> Option<String> {
    let path = format!(
        "{}/../shared/fixtures/seccomp/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => {
            println!("SKIP: fixture {path} unavailable: {e}");
            None
        }
    }
}

fn nr(arch: Arch, name: &str) -> i32 {
    syscall_number(arch, name).unwrap_or_else(|| panic!("{name} unknown")) as i32
}

// ---- a tiny cBPF interpreter, enough for what seccompiler emits ----

#[derive(Debug)]
pub(super) struct Call {
    pub arch: u32,
    pub nr: i32,
    pub args: [u64; 6],
}

fn call(arch: Arch, name: &str, args: &[u64]) -> Call {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    let audit = match arch {
        Arch::X86_64 => AUDIT_ARCH_X86_64,
        Arch::Aarch64 => AUDIT_ARCH_AARCH64,
    };
    Call {
        arch: audit,
        nr: nr(arch, name),
        args: a,
    }
}

pub(super) fn run(prog: &[sock_filter], c: &Call) -> u32 {
    // struct seccomp_data, little-endian: nr, arch, instruction_pointer, args[6].
    let mut data = [0u8; 64];
    data[0..4].copy_from_slice(&c.nr.to_le_bytes());
    data[4..8].copy_from_slice(&c.arch.to_le_bytes());
    for (i, a) in c.args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let (mut acc, mut pc) = (0u32, 0usize);
    loop {
        let ins = &prog[pc];
        pc += 1;
        let k = ins.k;
        let cond = |taken: bool| usize::from(if taken { ins.jt } else { ins.jf });
        match u32::from(ins.code) {
            x if x == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                let o = k as usize;
                acc = u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
            }
            x if x == libc::BPF_ALU | libc::BPF_AND | libc::BPF_K => acc &= k,
            x if x == libc::BPF_JMP | libc::BPF_JA => pc += k as usize,
            x if x == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K => pc += cond(acc == k),
            x if x == libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K => pc += cond(acc > k),
            x if x == libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K => pc += cond(acc >= k),
            x if x == libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K => pc += cond(acc & k != 0),
            x if x == libc::BPF_RET | libc::BPF_K => return k,
            other => panic!("unexpected BPF opcode {other:#x} at {}", pc - 1),
        }
    }
}

/// kernel/seccomp.c seccomp_run_filters: newest filter first, a result
/// replaces the current one only if its action is strictly stricter.
fn run_all(c: &Compiled, call: &Call) -> u32 {
    let rank = |r: u32| (r & libc::SECCOMP_RET_ACTION_FULL) as i32;
    let mut ret = ALLOW;
    for prog in c.programs.iter().rev() {
        let r = run(prog, call);
        if rank(r) < rank(ret) {
            ret = r;
        }
    }
    ret
}

fn compile_json(json: &str, t: &Target) -> Result<Compiled, Error> {
    compile(&parse("test", json)?, t)
}

// ---- fixtures ----

/// Docker's semantics written out directly over the JSON: the names an
/// ALLOW entry applies to, minus those an unconditional non-ALLOW entry denies.
fn docker_expected_allowed(
    json: &str,
    arch: Arch,
    docker_arch: &str,
    caps: &[&str],
) -> BTreeSet<String> {
    let v: Value = serde_json::from_str(json).unwrap();
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let (mut allow, mut deny) = (BTreeSet::new(), BTreeSet::new());
    for r in v["syscalls"].as_array().unwrap() {
        let (inc, exc) = (&r["includes"], &r["excludes"]);
        if !list(&inc["caps"])
            .iter()
            .all(|c| caps.contains(&c.as_str()))
        {
            continue;
        }
        if list(&exc["caps"])
            .iter()
            .any(|c| caps.contains(&c.as_str()))
        {
            continue;
        }
        let arches = list(&inc["arches"]);
        if !arches.is_empty() && !arches.iter().any(|a| a == docker_arch) {
            continue;
        }
        if list(&exc["arches"]).iter().any(|a| a == docker_arch) {
            continue;
        }
        if let Some(k) = inc["minKernel"].as_str() {
            let (maj, min) = k.split_once('.').unwrap();
            if (6, 1) < (maj.parse::<u32>().unwrap(), min.parse::<u32>().unwrap()) {
                continue;
            }
        }
        let names = list(&r["names"]);
        let known = names
            .into_iter()
            .filter(|n| syscall_number(arch, n).is_some());
        if r["action"] == "SCMP_ACT_ALLOW" {
            allow.extend(known);
        } else if list(&r["args"]).is_empty() {
            deny.extend(known);
        }
    }
    allow.difference(&deny).cloned().collect()
}

#[test]
fn docker_default_allowed_set_matches_docker_semantics() {
    let Some(json) = fixture("docker-default.json") else {
        return;
    };
    for (arch, docker_arch) in [(Arch::X86_64, "amd64"), (Arch::Aarch64, "arm64")] {
        let c = compile_json(&json, &target(arch, DOCKER_CAPS)).unwrap();
        let expected = docker_expected_allowed(&json, arch, docker_arch, DOCKER_CAPS);
        let got: BTreeSet<String> = c.allowed.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            got.difference(&expected).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{arch}: allowed but not expected"
        );
        assert_eq!(
            expected.difference(&got).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{arch}: expected but not allowed"
        );
        assert_eq!(c.default_action, "SCMP_ACT_ERRNO(1)");
        assert!(!c.allowed.contains(&"clone3"));
        println!(
            "docker-default {arch}: {} programs, {} instructions, {} allowed, {} skipped",
            c.programs.len(),
            c.instructions,
            c.allowed.len(),
            c.skipped.len()
        );
    }
}

#[test]
fn fixtures_compile_for_both_arches() {
    for file in ["docker-default.json", "podman-default.json"] {
        let Some(json) = fixture(file) else { continue };
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for caps in [&[][..], DOCKER_CAPS] {
                let c = compile_json(&json, &target(arch, caps))
                    .unwrap_or_else(|e| panic!("{file} {arch}: {e}"));
                assert!(c.programs.iter().all(|p| !p.is_empty() && p.len() <= 4096));
                assert_eq!(
                    c.instructions,
                    c.programs.iter().map(Vec::len).sum::<usize>()
                );
                print_summary(file, arch, caps.len(), &c);
            }
        }
    }
}

#[test]
fn docker_default_under_the_interpreter() {
    let Some(json) = fixture("docker-default.json") else {
        return;
    };
    let x = Arch::X86_64;
    let c = compile_json(&json, &target(x, DOCKER_CAPS)).unwrap();
    let cases: &[(&str, Call, u32)] = &[
        ("read", call(x, "read", &[]), ALLOW),
        (
            "clone3 gets ENOSYS, not EPERM",
            call(x, "clone3", &[]),
            errno(libc::ENOSYS),
        ),
        ("kexec_load", call(x, "kexec_load", &[]), errno(libc::EPERM)),
        ("socket AF_INET", call(x, "socket", &[2, 1, 0]), ALLOW),
        (
            "socket AF_VSOCK",
            call(x, "socket", &[40, 1, 0]),
            errno(libc::EPERM),
        ),
        (
            "socket AF_VSOCK with high bits set",
            call(x, "socket", &[40 | 1 << 32, 1, 0]),
            errno(libc::EPERM),
        ),
        ("socket AF_NETLINK", call(x, "socket", &[16, 3, 0]), ALLOW),
        ("clone thread flags", call(x, "clone", &[0x3d0f00]), ALLOW),
        (
            "clone CLONE_NEWUSER",
            call(x, "clone", &[libc::CLONE_NEWUSER as u64 | 0x11]),
            errno(libc::EPERM),
        ),
        ("personality(0)", call(x, "personality", &[0]), ALLOW),
        (
            "personality query",
            call(x, "personality", &[0xffff_ffff]),
            ALLOW,
        ),
        (
            "personality READ_IMPLIES_EXEC",
            call(x, "personality", &[0x0040_0000]),
            errno(libc::EPERM),
        ),
        (
            "x32 read",
            Call {
                nr: 0x4000_0000,
                ..call(x, "read", &[])
            },
            KILL,
        ),
        (
            "x32 number of an x86_64-only syscall",
            Call {
                nr: 0x4000_0000 | 512,
                ..call(x, "read", &[])
            },
            KILL,
        ),
        (
            "i386 int 0x80 getpid",
            Call {
                arch: AUDIT_ARCH_I386,
                nr: 20,
                args: [0; 6],
            },
            KILL,
        ),
        (
            "unknown number",
            Call {
                nr: 999,
                ..call(x, "read", &[])
            },
            errno(libc::EPERM),
        ),
    ];
    for (what, c_, want) in cases {
        assert_eq!(run_all(&c, c_), *want, "{what}");
    }

    let a = Arch::Aarch64;
    let c = compile_json(&json, &target(a, DOCKER_CAPS)).unwrap();
    assert_eq!(run_all(&c, &call(a, "read", &[])), ALLOW);
    assert_eq!(run_all(&c, &call(a, "clone3", &[])), errno(libc::ENOSYS));
    let arm32 = Call {
        arch: AUDIT_ARCH_ARM,
        nr: 20,
        args: [0; 6],
    };
    assert_eq!(run_all(&c, &arm32), KILL, "arm32 compat call");
}

#[test]
fn podman_default_under_the_interpreter() {
    let Some(json) = fixture("podman-default.json") else {
        return;
    };
    let x = Arch::X86_64;
    let c = compile_json(&json, &target(x, DOCKER_CAPS)).unwrap();
    assert_eq!(c.default_action, "SCMP_ACT_ERRNO(38)");
    assert_eq!(run_all(&c, &call(x, "read", &[])), ALLOW);
    assert_eq!(run_all(&c, &call(x, "kexec_load", &[])), errno(libc::EPERM));
    // Denied (EPERM entry) and allowed (family != 16 entry) at once: the deny wins.
    assert_eq!(
        run_all(&c, &call(x, "socket", &[40, 1, 0])),
        errno(libc::EPERM)
    );
    assert_eq!(run_all(&c, &call(x, "socket", &[2, 1, 0])), ALLOW);
    assert_eq!(run_all(&c, &call(x, "setns", &[])), errno(libc::EPERM));
    assert_eq!(
        run_all(
            &c,
            &Call {
                nr: 999,
                ..call(x, "read", &[])
            }
        ),
        errno(libc::ENOSYS)
    );
}

// ---- construction and semantics on synthetic profiles ----

#[test]
fn one_program_follows_action_precedence() {
    let json = r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[
        {"names":["read","write","ioctl"],"action":"SCMP_ACT_ALLOW"},
        {"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
        {"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":1,
         "args":[{"index":1,"value":21522,"op":"SCMP_CMP_EQ"}]},
        {"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":22,
         "args":[{"index":1,"value":21520,"op":"SCMP_CMP_GE"}]},
        {"names":["ptrace"],"action":"SCMP_ACT_TRAP"},
        {"names":["ptrace","mount"],"action":"SCMP_ACT_LOG"}
    ]}"#;
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let c = compile_json(json, &target(arch, &[])).unwrap();
        // ERRNO(38), ERRNO(1), ERRNO(22), TRAP, LOG and the default: one program.
        assert_eq!(c.programs.len(), 1, "{arch}");
        let run = |name: &str, args: &[u64]| run_all(&c, &call(arch, name, args));
        assert_eq!(run("read", &[]), ALLOW);
        // A default of KILL must not beat an ERRNO entry.
        assert_eq!(run("clone3", &[]), errno(libc::ENOSYS));
        assert_eq!(run("ioctl", &[0, 0x5401]), ALLOW);
        // TIOCSTI (0x5412) matches both ERRNO entries: the first in the profile wins.
        assert_eq!(run("ioctl", &[0, 0x5412]), errno(1));
        assert_eq!(run("ioctl", &[0, 0x5413]), errno(22));
        // ioctl's cmd is 32-bit: high bits do not dodge the entry.
        assert_eq!(run("ioctl", &[0, 1 << 40 | 0x5412]), errno(1));
        assert_eq!(run("ptrace", &[]), libc::SECCOMP_RET_TRAP);
        assert_eq!(run("mount", &[]), libc::SECCOMP_RET_LOG);
        assert_eq!(run("openat", &[]), KILL);
        assert_eq!(c.allowed, vec!["ioctl", "mount", "read", "write"]);
    }
}

#[test]
fn allow_default_profiles_are_denylists() {
    let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["mount","kexec_load","no_such_call_anywhere"],"action":"SCMP_ACT_ERRNO"}]}"#;
    let err = compile_json(json, &target(Arch::X86_64, &[])).unwrap_err();
    assert_eq!(err.path, "syscalls[0].names[2]");
    assert!(err.message.contains("unknown on x86_64"), "{}", err.message);

    let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["mount","kexec_load"],"action":"SCMP_ACT_ERRNO"},
        {"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let x = Arch::X86_64;
    let c = compile_json(json, &target(x, &[])).unwrap();
    assert_eq!(c.programs.len(), 1);
    assert_eq!(run_all(&c, &call(x, "read", &[])), ALLOW);
    assert_eq!(run_all(&c, &call(x, "openat", &[])), ALLOW);
    assert_eq!(run_all(&c, &call(x, "mount", &[])), errno(libc::EPERM));
    assert_eq!(
        run_all(
            &c,
            &Call {
                nr: 0x4000_0000 | 165,
                ..call(x, "read", &[])
            }
        ),
        KILL
    );
    assert!(!c.allowed.contains(&"mount"));
    assert!(c.allowed.contains(&"openat"));
}

#[test]
fn includes_and_excludes() {
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["read"],"action":"SCMP_ACT_ALLOW"},
        {"names":["chroot"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_CHROOT","CAP_SYS_ADMIN"]}},
        {"names":["setns"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_SYS_ADMIN","CAP_BPF"]}},
        {"names":["arch_prctl"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["amd64","x32"]}},
        {"names":["sync_file_range"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["arm64"]}},
        {"names":["mseal"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6.10"}},
        {"names":["uselib"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"6.1"}},
        {"names":["iopl","kexec_load"],"action":"SCMP_ACT_ALLOW"}
    ]}"#;
    let p = parse("t", json).unwrap();
    let allowed = |arch, caps: &[&str], kernel| {
        let t = Target {
            arch,
            kernel,
            bounding: bits(caps),
        };
        compile(&p, &t).unwrap().allowed
    };
    let x = Arch::X86_64;
    let base = ["kexec_load", "read", "setns"];
    let mut want: Vec<&str> = base
        .iter()
        .copied()
        .chain(["arch_prctl", "iopl", "sync_file_range"])
        .collect();
    want.sort();
    assert_eq!(allowed(x, &[], (6, 1)), want);
    assert_eq!(
        allowed(x, &["CAP_SYS_CHROOT"], (6, 1)),
        want,
        "needs both caps"
    );
    let mut w2 = want.clone();
    w2.push("chroot");
    w2.sort();
    w2.retain(|n| *n != "setns");
    assert_eq!(allowed(x, &["CAP_SYS_CHROOT", "CAP_SYS_ADMIN"], (6, 1)), w2);
    assert!(allowed(x, &[], (6, 10)).contains(&"mseal"));
    assert!(allowed(x, &[], (6, 0)).contains(&"uselib"));
    assert!(!allowed(x, &[], (6, 1)).contains(&"uselib"));
    assert_eq!(allowed(Arch::Aarch64, &[], (6, 1)), base);
    let c = compile(&p, &target(x, &[])).unwrap();
    assert_eq!(c.skipped, Vec::<String>::new());
    let c = compile(&p, &target(Arch::Aarch64, &[])).unwrap();
    assert_eq!(
        c.skipped,
        vec!["iopl"],
        "unknown on aarch64, allow entry: skipped"
    );
}

#[test]
fn compile_errors() {
    let t = target(Arch::X86_64, &[]);
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "nothing applies",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
               {"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}"#,
            "syscalls",
            "no entry applies",
        ),
        (
            "only allow entries on an allow default",
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
            "syscalls",
            "no entry applies",
        ),
        (
            "unknown name in a stricter entry",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
               {"names":["read"],"action":"SCMP_ACT_ALLOW"},
               {"names":["mount","mount_everything"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#,
            "syscalls[1].names[1]",
            "\"mount_everything\" is unknown on x86_64",
        ),
        (
            "64-bit value on a 32-bit argument",
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW",
               "args":[{"index":0,"value":8589934592,"op":"SCMP_CMP_EQ"}]}]}"#,
            "syscalls[0].args[0]",
            "does not fit argument 0 of socket",
        ),
    ];
    for (what, json, path, message) in cases {
        let e = compile_json(json, &t).expect_err(what);
        assert_eq!(e.path, *path, "{what}: {e}");
        assert!(e.message.contains(message), "{what}: {e}");
    }

    // An entry for seccomp itself: one program, installed by the one
    // seccomp(2) call, so any action is fine (stacked filters could not
    // install the later ones past an earlier filter that denies it).
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["read"],"action":"SCMP_ACT_ALLOW"},
        {"names":["seccomp"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#;
    let c = compile_json(json, &t).unwrap();
    assert_eq!(run_all(&c, &call(t.arch, "seccomp", &[])), KILL);
    assert_eq!(run_all(&c, &call(t.arch, "read", &[])), ALLOW);

    // Same-errno deny of an unknown name under an equally strict default: skipped.
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["read"],"action":"SCMP_ACT_ALLOW"},
        {"names":["bdflush"],"action":"SCMP_ACT_ERRNO"}]}"#;
    assert_eq!(compile_json(json, &t).unwrap().skipped, vec!["bdflush"]);

    // Over BPF_MAXINSNS: 800 conditional entries on a 64-bit argument.
    let entries: Vec<String> = (0..800)
        .map(|i| {
            format!(
                r#"{{"names":["write"],"action":"SCMP_ACT_ALLOW","args":[{{"index":2,"value":{i},"op":"SCMP_CMP_EQ"}}]}}"#
            )
        })
        .collect();
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{}]}}"#,
        entries.join(",")
    );
    let e = compile_json(&json, &t).unwrap_err();
    assert!(e.message.contains("at most 4096"), "{e}");
}

#[test]
fn embedded_profiles_compile_and_explain_every_entry() {
    for name in embedded_names() {
        let (_, source) = SOURCES.iter().find(|(n, _)| n == name).unwrap();
        let p = parse(name, source).unwrap();
        // What the binary embeds (build.rs drops the comments) is the same
        // profile: the same entries, compiling to the same filter.
        let embedded = load(name).unwrap();
        assert_eq!(embedded.rules.len(), p.rules.len(), "{name}");
        assert!(embedded.rules.iter().all(|r| r.comment.is_none()), "{name}");
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for caps in [&[][..], DOCKER_CAPS] {
                let t = target(arch, caps);
                let (a, b) = (compile(&p, &t).unwrap(), compile(&embedded, &t).unwrap());
                assert_eq!(a.programs, b.programs, "{name} {arch}");
                assert_eq!(a.allowed, b.allowed, "{name} {arch}");
            }
        }
        for r in &p.rules {
            let c = r.comment.as_deref().unwrap_or("").trim();
            assert!(
                c.len() >= 10,
                "{name} {}: comment {c:?} says too little",
                r.path
            );
        }
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for caps in [&[][..], DOCKER_CAPS] {
                let c = compile(&p, &target(arch, caps)).unwrap();
                print_summary(name, arch, caps.len(), &c);
            }
        }
    }
}

#[test]
fn load_errors() {
    let e = load("no-such-profile").unwrap_err();
    assert_eq!(
        e.to_string(),
        "seccomp profile no-such-profile: no embedded profile of that name (default, or \
         unconfined) and no such file"
    );
    let e = load("/nonexistent/p.json").unwrap_err();
    assert!(e.message.starts_with("cannot read the file"), "{e}");
}

#[test]
fn syscall_tables() {
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let t = table(arch);
        assert!(
            t.windows(2).all(|w| w[0].0 < w[1].0),
            "{arch}: sorted by name, no duplicates"
        );
        for (name, n) in t {
            assert_eq!(syscall_number(arch, name), Some(*n));
            // Aliases aside, number -> name -> number round-trips.
            assert_eq!(
                syscall_number(arch, syscall_name(arch, *n).unwrap()),
                Some(*n)
            );
        }
    }
    let native = [
        ("read", libc::SYS_read),
        ("openat", libc::SYS_openat),
        ("clone3", libc::SYS_clone3),
        ("io_uring_setup", libc::SYS_io_uring_setup),
        ("seccomp", libc::SYS_seccomp),
        ("fchmodat2", libc::SYS_fchmodat2),
        ("mseal", libc::SYS_mseal),
    ];
    for (name, n) in native {
        assert_eq!(syscall_number(Arch::native(), name), Some(n), "{name}");
    }
    assert_eq!(syscall_name(Arch::X86_64, 0), Some("read"));
    assert_eq!(syscall_name(Arch::Aarch64, 63), Some("read"));
    assert_eq!(syscall_number(Arch::Aarch64, "open"), None);
    assert_eq!(syscall_name(Arch::X86_64, 100_000), None);
}

#[test]
fn running_target() {
    let t = Target::running(0).unwrap();
    assert_eq!(t.arch, Arch::native());
    assert!(
        t.kernel >= (3, 17),
        "seccomp(2) needs 3.17, got {:?}",
        t.kernel
    );
}

/// Install `c` for real in a forked child and check the errno of each probe
/// (nr, args, expected errno); the child exits with the failing probe's index.
fn probe_in_child(c: &Compiled, probes: &[(libc::c_long, [usize; 3], i32)]) {
    // SAFETY: the child only makes raw syscalls (no allocation, no locks)
    // before _exit, which is what is allowed after fork in a threaded process.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: plain syscalls on our own process; _exit never returns.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(90);
            }
            if let Err(e) = c.install() {
                // EINVAL is also what a malformed program gets: skip only
                // when the kernel has no seccomp at all.
                let no_seccomp = libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) == -1;
                libc::_exit(match e {
                    libc::EINVAL if no_seccomp => 91,
                    libc::EINVAL => 93,
                    _ => 92,
                });
            }
            for (i, (nr, a, want)) in probes.iter().enumerate() {
                let rc = libc::syscall(*nr, a[0], a[1], a[2]);
                if rc != -1 || *libc::__errno_location() != *want {
                    libc::_exit(10 + i as i32);
                }
            }
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: waiting for the child we just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: status {status:#x}");
    match libc::WEXITSTATUS(status) {
        0 => {}
        91 => println!("SKIP: seccomp filters unavailable here (EINVAL)"),
        93 => panic!("{}: the kernel refused a program (EINVAL)", c.name),
        code @ 10.. => panic!("{}: probe {} failed", c.name, code - 10),
        code => panic!("{}: child setup failed ({code})", c.name),
    }
}

#[test]
fn install_in_a_child() {
    use libc::*;
    const NO_FD: usize = usize::MAX;
    let sock40 = (40usize | 1 << 32, NO_FD);
    let t = Target::running(bits(DOCKER_CAPS)).unwrap();
    if let Some(json) = fixture("docker-default.json") {
        let c = compile_json(&json, &t).unwrap();
        probe_in_child(
            &c,
            &[
                (SYS_clone3, [0, 0, 0], ENOSYS),
                (SYS_kexec_load, [0, 0, 0], EPERM),
                (SYS_close, [NO_FD, 0, 0], EBADF),
                (SYS_socket, [sock40.0, sock40.1, 0], EPERM),
            ],
        );
    }
    let c = compile(&load("default").unwrap(), &Target { bounding: 0, ..t }).unwrap();
    probe_in_child(
        &c,
        &[
            (SYS_clone3, [0, 0, 0], ENOSYS),
            (SYS_close, [NO_FD, 0, 0], EBADF),
            (SYS_ptrace, [PTRACE_PEEKDATA as usize, 0, 0], EPERM),
            (SYS_socket, [sock40.0, sock40.1, 0], EPERM),
            (SYS_socket, [AF_INET as usize | 1 << 32, NO_FD, 0], EINVAL),
            (SYS_ioctl, [NO_FD, TIOCSTI as usize, 0], EPERM),
            (SYS_ioctl, [NO_FD, TCGETS as usize, 0], EBADF),
            (SYS_io_uring_setup, [0, 0, 0], ENOSYS),
        ],
    );
}

#[test]
fn embedded_default_under_the_interpreter() {
    let p = load("default").unwrap();
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let c = compile(&p, &target(arch, &[])).unwrap();
        assert_eq!(c.default_action, "SCMP_ACT_ERRNO(1)");
        let run = |name: &str, args: &[u64]| run_all(&c, &call(arch, name, args));
        let eperm = errno(libc::EPERM);
        let enosys = errno(libc::ENOSYS);
        let cases: &[(&str, &[u64], u32)] = &[
            ("read", &[], ALLOW),
            ("openat", &[], ALLOW),
            ("execve", &[], ALLOW),
            ("clone", &[libc::SIGCHLD as u64], ALLOW),
            (
                "clone",
                &[libc::CLONE_NEWUSER as u64 | libc::SIGCHLD as u64],
                eperm,
            ),
            ("clone", &[libc::CLONE_NEWNET as u64], eperm),
            ("clone3", &[], enosys),
            ("io_uring_setup", &[], enosys),
            ("socket", &[2, 1, 0], ALLOW),
            ("socket", &[10, 2, 0], ALLOW),
            ("socket", &[1, 1, 0], ALLOW),
            ("socket", &[16, 3, 0], ALLOW),
            ("socket", &[16, 3, 9], eperm), // NETLINK_AUDIT
            ("socket", &[17, 3, 0], eperm), // AF_PACKET
            ("socket", &[40, 1, 0], eperm), // AF_VSOCK
            ("socket", &[40 | 2 << 32, 1, 0], eperm),
            ("socket", &[38, 5, 0], eperm), // AF_ALG
            ("ioctl", &[0, 0x5401], ALLOW), // TCGETS
            ("ioctl", &[0, 0x5412], eperm), // TIOCSTI
            ("ioctl", &[0, 0xffff_ffff_0000_5412], eperm),
            ("ioctl", &[0, 0x541C], eperm), // TIOCLINUX
            ("personality", &[0], ALLOW),
            ("personality", &[0xffff_ffff], ALLOW),
            ("personality", &[0x0040_0000], eperm),
            ("personality", &[8], eperm),
            ("ptrace", &[], eperm),
            ("process_vm_readv", &[], eperm),
            ("keyctl", &[], eperm),
            ("add_key", &[], eperm),
            ("bpf", &[], eperm),
            ("perf_event_open", &[], eperm),
            ("userfaultfd", &[], eperm),
            ("mount", &[], eperm),
            ("unshare", &[], eperm),
            ("setns", &[], eperm),
            ("kexec_load", &[], eperm),
            ("finit_module", &[], eperm),
            ("open_by_handle_at", &[], eperm),
            ("chroot", &[], eperm),
        ];
        for (name, args, want) in cases {
            assert_eq!(run(name, args), *want, "{arch} {name}({args:x?})");
        }
        let with_chroot = compile(&p, &target(arch, &["CAP_SYS_CHROOT"])).unwrap();
        assert_eq!(run_all(&with_chroot, &call(arch, "chroot", &[])), ALLOW);
    }
    let c = compile(&p, &target(Arch::X86_64, &[])).unwrap();
    assert_eq!(run_all(&c, &call(Arch::X86_64, "arch_prctl", &[])), ALLOW);
    assert_eq!(run_all(&c, &call(Arch::X86_64, "fork", &[])), ALLOW);
    assert_eq!(
        run_all(&c, &call(Arch::X86_64, "modify_ldt", &[])),
        errno(libc::EPERM)
    );
}

/// The numbers the README quotes, printed with --nocapture.
fn print_summary(name: &str, arch: Arch, caps: usize, c: &Compiled) {
    println!(
        "{name} {arch} caps={caps}: {} programs, {} instructions, {} allowed, skipped {:?}",
        c.programs.len(),
        c.instructions,
        c.allowed.len(),
        c.skipped
    );
}
