//! The binary-search programs (bpf.rs) against the linear programs
//! seccompiler builds from the same filters (hardinit's code before bpf.rs),
//! compared by interpretation, filter by filter: every syscall number
//! 0..=470 and some beyond, x32 numbers, other architectures, and for
//! numbers with argument rules, the values the profile compares with and
//! their neighbours. Plus a measurement of the kernel's load time of both.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use seccompiler::{sock_filter, BpfProgram, SeccompAction, SeccompFilter};

use super::bpf::X32_SYSCALL_BIT;
use super::compile::{self, Filter};
use super::profile::{Action, Op};
use super::tests::{
    fixture, run, target, Call, AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386,
    AUDIT_ARCH_X86_64, DOCKER_CAPS,
};
use super::*;

fn seccompiler_arch(arch: Arch) -> seccompiler::TargetArch {
    match arch {
        Arch::X86_64 => seccompiler::TargetArch::x86_64,
        Arch::Aarch64 => seccompiler::TargetArch::aarch64,
    }
}

/// seccompiler's whole filter plus the x32 guard after its arch check.
fn legacy(f: &Filter, arch: Arch) -> BpfProgram {
    let action = |a: Action| match a {
        Action::Allow => SeccompAction::Allow,
        Action::Log => SeccompAction::Log,
        Action::Errno(e) => SeccompAction::Errno(u32::from(e)),
        Action::Trap => SeccompAction::Trap,
        Action::KillThread => SeccompAction::KillThread,
        Action::KillProcess => SeccompAction::KillProcess,
    };
    let rules = f
        .chains
        .iter()
        .map(|(nr, c)| (*nr, c.clone().unwrap_or_default()))
        .collect();
    let filter = SeccompFilter::new(
        rules,
        action(f.mismatch),
        action(f.on_match),
        seccompiler_arch(arch),
    )
    .unwrap();
    let mut prog: BpfProgram = filter.try_into().unwrap();
    if arch == Arch::X86_64 {
        let insn = |code: u32, k, jt, jf| sock_filter {
            code: code as u16,
            jt,
            jf,
            k,
        };
        let guard = [
            insn(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
            insn(
                libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
                X32_SYSCALL_BIT,
                0,
                1,
            ),
            insn(
                libc::BPF_RET | libc::BPF_K,
                libc::SECCOMP_RET_KILL_PROCESS,
                0,
                0,
            ),
        ];
        prog.splice(3..3, guard);
    }
    prog
}

/// What the kernel refuses at load time (bpf_check_classic in
/// net/core/filter.c, seccomp_check_filter in kernel/seccomp.c), for the
/// opcodes hardinit emits: any jump leaving the program (dead code
/// included), loads outside seccomp_data, a last instruction other than RET.
fn kernel_refuses(prog: &[sock_filter]) -> Option<String> {
    use libc::*;
    if prog.is_empty() || prog.len() > 4096 {
        return Some(format!("{} instructions", prog.len()));
    }
    let len = prog.len();
    for (pc, ins) in prog.iter().enumerate() {
        let (code, k) = (u32::from(ins.code), ins.k);
        let within = |jump: usize| pc + jump + 1 < len;
        let ok = match code {
            c if c == BPF_LD | BPF_W | BPF_ABS => k < 64 && k % 4 == 0,
            c if c == BPF_ALU | BPF_AND | BPF_K => true,
            c if c == BPF_JMP | BPF_JA => within(k as usize),
            c if [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].contains(&(c & !(BPF_JMP | BPF_K))) => {
                within(usize::from(ins.jt)) && within(usize::from(ins.jf))
            }
            c if c == BPF_RET | BPF_K => true,
            _ => false,
        };
        if !ok {
            return Some(format!("instruction {pc} {ins:?}"));
        }
    }
    let last = u32::from(prog[len - 1].code);
    (last != BPF_RET | BPF_K).then(|| "does not end with RET".to_string())
}

/// Profiles to compare on: the embedded one, the fixtures that are present,
/// and synthetic ones with every action, ties and an ALLOW default.
fn profiles() -> Vec<Profile> {
    let mut out = vec![load("default").unwrap()];
    for file in ["docker-default.json", "podman-default.json"] {
        if let Some(json) = fixture(file) {
            out.push(parse(file, &json).unwrap());
        }
    }
    let stacked = r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[
        {"names":["read","write","ioctl","socket"],"action":"SCMP_ACT_ALLOW"},
        {"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
        {"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":1,
         "args":[{"index":1,"value":21522,"op":"SCMP_CMP_EQ"}]},
        {"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":22,
         "args":[{"index":1,"value":21520,"op":"SCMP_CMP_GE"}]},
        {"names":["socket"],"action":"SCMP_ACT_TRAP",
         "args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"},{"index":2,"value":3,"op":"SCMP_CMP_LT"}]},
        {"names":["mmap"],"action":"SCMP_ACT_LOG",
         "args":[{"index":2,"value":4,"valueTwo":4,"op":"SCMP_CMP_MASKED_EQ"}]},
        {"names":["mmap"],"action":"SCMP_ACT_ALLOW",
         "args":[{"index":3,"value":16,"op":"SCMP_CMP_NE"}]},
        {"names":["ptrace"],"action":"SCMP_ACT_TRAP"},
        {"names":["ptrace","mount"],"action":"SCMP_ACT_LOG"},
        {"names":["kill"],"action":"SCMP_ACT_KILL_THREAD",
         "args":[{"index":1,"value":9,"op":"SCMP_CMP_LE"}]},
        {"names":["kill","tgkill"],"action":"SCMP_ACT_ALLOW",
         "args":[{"index":1,"value":15,"op":"SCMP_CMP_GT"}]}
    ]}"#;
    let denylist = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["mount","kexec_load"],"action":"SCMP_ACT_ERRNO"},
        {"names":["personality"],"action":"SCMP_ACT_ERRNO",
         "args":[{"index":0,"value":0,"op":"SCMP_CMP_NE"}]}]}"#;
    out.push(parse("stacked", stacked).unwrap());
    // Every other x86_64 number: ~380 ranges there, so the search tree needs
    // JA trampolines past the 8-bit jump offsets.
    let names: Vec<&str> = table(Arch::X86_64)
        .iter()
        .filter(|(_, nr)| nr % 2 == 0)
        .map(|(name, _)| *name)
        .collect();
    let sparse = format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{{"names":{names:?},"action":"SCMP_ACT_ALLOW"}},
        {{"names":["write","fcntl"],"action":"SCMP_ACT_ALLOW",
          "args":[{{"index":0,"value":2,"op":"SCMP_CMP_LE"}}]}}]}}"#
    );
    out.push(parse("sparse", &sparse).unwrap());
    out.push(parse("denylist", denylist).unwrap());
    out
}

/// Argument values worth trying for one (syscall, index): what the profile
/// compares with, its neighbours, the same with high bits, and generic edges.
fn candidates(p: &Profile, name: &str, index: u8) -> Vec<u64> {
    let mut v: BTreeSet<u64> = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 1 << 32]
        .into_iter()
        .chain([u64::MAX])
        .collect();
    let args = p.rules.iter().filter(|r| r.names.iter().any(|n| n == name));
    for a in args.flat_map(|r| &r.args).filter(|a| a.index == index) {
        let mut seeds = vec![a.value, a.value_two];
        if a.op == Op::MaskedEq {
            // Bits outside the mask set; one bit inside the mask flipped.
            seeds.push(a.value_two | !a.value);
            seeds.push(a.value_two ^ (a.value & a.value.wrapping_neg()));
        }
        for x in seeds {
            v.extend([x, x.wrapping_sub(1), x.wrapping_add(1), !x]);
            v.extend([x | 1 << 32, x & 0xffff_ffff, x | 0xffff_ffff_0000_0000]);
        }
    }
    v.into_iter().collect()
}

/// Calls for syscall `nr` (named `name` when known): fixed argument sets, and
/// when some filter looks at its arguments, every candidate at every
/// index, the candidates of all indexes at once and pseudo-random mixes.
fn calls_for(p: &Profile, arch: Arch, nr: u32, conditional: bool) -> Vec<[u64; 6]> {
    let mut out = vec![[0; 6], [u64::MAX; 6], [1 << 32 | 40; 6]];
    if !conditional {
        return out;
    }
    let name = syscall_name(arch, i64::from(nr)).unwrap_or("");
    let per_index: Vec<Vec<u64>> = (0..6).map(|i| candidates(p, name, i)).collect();
    for (i, values) in per_index.iter().enumerate() {
        for &v in values {
            let mut a = [0; 6];
            a[i] = v;
            out.push(a);
            out.push([v; 6]);
        }
    }
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(nr);
    for _ in 0..2000 {
        let mut a = [0; 6];
        for (i, slot) in a.iter_mut().enumerate() {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let values = &per_index[i];
            *slot = values[(seed >> 33) as usize % values.len()];
        }
        out.push(a);
    }
    out
}

/// Every call worth trying on `arch`: syscall numbers 0..=470 and some
/// beyond, each also as an x32 number and from foreign architectures, and
/// for numbers some filter looks at the arguments of, the argument values
/// of `calls_for`.
fn all_calls(p: &Profile, arch: Arch, filters: &[Filter]) -> Vec<Call> {
    let conditional: BTreeSet<u32> = filters
        .iter()
        .flat_map(|f| f.chains.iter())
        .filter(|(_, c)| c.is_some())
        .map(|(nr, _)| *nr as u32)
        .collect();
    let (audit, foreign) = match arch {
        Arch::X86_64 => (AUDIT_ARCH_X86_64, [AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64]),
        Arch::Aarch64 => (AUDIT_ARCH_AARCH64, [AUDIT_ARCH_ARM, AUDIT_ARCH_X86_64]),
    };
    let call = |arch, nr: u32, args| Call {
        arch,
        nr: nr as i32,
        args,
    };
    let numbers = (0..=470u32).chain([471, 511, 512, 547, 999, 0x3fff_ffff, u32::MAX]);
    let mut calls = Vec::new();
    for nr in numbers {
        for args in calls_for(p, arch, nr, conditional.contains(&nr)) {
            calls.push(call(audit, nr, args));
        }
        calls.push(call(audit, nr | X32_SYSCALL_BIT, [0; 6]));
        for f in foreign {
            calls.push(call(f, nr, [0; 6]));
        }
    }
    calls
}

/// kernel/seccomp.c seccomp_run_filters over programs in installation
/// order: newest first, a result replaces the current one only if its
/// action is strictly stricter.
fn run_stacked(programs: &[BpfProgram], c: &Call) -> u32 {
    let rank = |r: u32| (r & libc::SECCOMP_RET_ACTION_FULL) as i32;
    let mut ret = libc::SECCOMP_RET_ALLOW;
    for prog in programs.iter().rev() {
        let r = run(prog, c);
        if rank(r) < rank(ret) {
            ret = r;
        }
    }
    ret
}

/// The one program hardinit installs against the stacked filters (one per
/// action, seccompiler's model) run with the kernel's precedence: the same
/// result for every call, on every profile, arch and capability set.
#[test]
fn one_program_matches_the_stacked_filters() {
    for p in profiles() {
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for caps in [&[][..], DOCKER_CAPS] {
                let t = target(arch, caps);
                let filters = compile::stack(&p, &t).unwrap().filters;
                let stacked: Vec<BpfProgram> = filters
                    .iter()
                    .map(|f| compile::build(f, arch).unwrap())
                    .collect();
                let one = compile(&p, &t).unwrap();
                assert_eq!(one.programs.len(), 1, "{} {arch}", p.name);
                let prog = &one.programs[0];
                if let Some(why) = kernel_refuses(prog) {
                    panic!("{} {arch}: the kernel would refuse it: {why}", p.name);
                }
                let calls = all_calls(&p, arch, &filters);
                let mut results: BTreeMap<u32, usize> = BTreeMap::new();
                for c in &calls {
                    let want = run_stacked(&stacked, c);
                    assert_eq!(
                        run(prog, c),
                        want,
                        "{} {arch} caps={}: {c:x?}",
                        p.name,
                        caps.len()
                    );
                    *results.entry(want).or_default() += 1;
                }
                println!(
                    "{} {arch} caps={}: {} calls, {} filters of {:?} instructions -> one of {}, \
                     results {results:x?}",
                    p.name,
                    caps.len(),
                    calls.len(),
                    stacked.len(),
                    stacked.iter().map(Vec::len).collect::<Vec<_>>(),
                    prog.len(),
                );
            }
        }
    }
}

#[test]
fn binary_search_programs_match_the_linear_ones() {
    for p in profiles() {
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for caps in [&[][..], DOCKER_CAPS] {
                let t = target(arch, caps);
                let filters = compile::stack(&p, &t).unwrap().filters;
                let old: Vec<BpfProgram> = filters.iter().map(|f| legacy(f, arch)).collect();
                let new: Vec<BpfProgram> = filters
                    .iter()
                    .map(|f| compile::build(f, arch).unwrap())
                    .collect();
                for (i, prog) in new.iter().enumerate() {
                    if let Some(why) = kernel_refuses(prog) {
                        panic!(
                            "{} {arch} filter {i}: the kernel would refuse it: {why}",
                            p.name
                        );
                    }
                }
                if p.name == "sparse" && arch == Arch::X86_64 {
                    let ja = (libc::BPF_JMP | libc::BPF_JA) as u16;
                    let trampolines = new[0]
                        .windows(2)
                        .filter(|w| w[0].jt == 0 && w[0].jf == 1 && w[1].code == ja)
                        .count();
                    assert!(trampolines > 0, "sparse: no trampoline exercised");
                }
                let calls = all_calls(&p, arch, &filters);
                let mut results: BTreeMap<u32, usize> = BTreeMap::new();
                for c in &calls {
                    for (i, (o, n)) in old.iter().zip(&new).enumerate() {
                        let want = run(o, c);
                        assert_eq!(
                            run(n, c),
                            want,
                            "{} {arch} caps={} filter {i}: {c:x?}",
                            p.name,
                            caps.len()
                        );
                        *results.entry(want).or_default() += 1;
                    }
                }
                println!(
                    "{} {arch} caps={}: {} calls, instructions per filter {:?} -> {:?}, \
                     results {results:x?}",
                    p.name,
                    caps.len(),
                    calls.len(),
                    old.iter().map(Vec::len).collect::<Vec<_>>(),
                    new.iter().map(Vec::len).collect::<Vec<_>>(),
                );
            }
        }
    }
}

#[test]
fn pid1_program_matches_the_linear_one() {
    let arch = Arch::native();
    let rules = own::NEEDED
        .iter()
        .filter_map(|n| syscall_number(arch, n))
        .map(|nr| (nr, vec![]))
        .collect();
    let old: BpfProgram = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        seccompiler_arch(arch),
    )
    .unwrap()
    .try_into()
    .unwrap();
    let new = own::program().unwrap();
    assert_eq!(kernel_refuses(&new), None);
    let (audit, foreign) = match arch {
        Arch::X86_64 => (AUDIT_ARCH_X86_64, AUDIT_ARCH_I386),
        Arch::Aarch64 => (AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM),
    };
    for nr in (0..=470u32).chain([999, 0x3fff_ffff]) {
        for (a, n) in [(audit, nr), (foreign, nr)] {
            let c = Call {
                arch: a,
                nr: n as i32,
                args: [0; 6],
            };
            assert_eq!(run(&new, &c), run(&old, &c), "nr {n:#x} arch {a:#x}");
        }
    }
    // The one difference: on x86_64, x32 numbers (and any number with that
    // bit) are killed, as in the child's filters, instead of EPERM.
    for nr in [X32_SYSCALL_BIT, X32_SYSCALL_BIT | 1, u32::MAX] {
        let c = Call {
            arch: audit,
            nr: nr as i32,
            args: [0; 6],
        };
        let want = match arch {
            Arch::X86_64 => libc::SECCOMP_RET_KILL_PROCESS,
            Arch::Aarch64 => run(&old, &c),
        };
        assert_eq!(run(&new, &c), want, "nr {nr:#x}");
    }
    println!("PID 1 filter: {} -> {} instructions", old.len(), new.len());
}

/// Load `programs` in a forked child (no_new_privs first) and return the
/// time each seccomp(2) call took.
fn time_install(programs: &[BpfProgram]) -> Vec<Duration> {
    const MAX: usize = 8;
    assert!(programs.len() <= MAX);
    let mut fds = [0; 2];
    // SAFETY: pipe writes two fds into the array we own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child makes raw syscalls, reads the vDSO clock and writes
    // to a stack array only, then _exits: nothing that needs other threads.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut nanos = [u64::MAX; MAX];
        // SAFETY: prctl with integer arguments; seccomp reads `fprog`, which
        // points to a live program; write reads `nanos`; _exit never returns.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(1);
            }
            for (slot, prog) in nanos.iter_mut().zip(programs) {
                let fprog = libc::sock_fprog {
                    len: prog.len() as u16,
                    filter: prog.as_ptr() as *mut libc::sock_filter,
                };
                let start = std::time::Instant::now();
                let rc = libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &fprog as *const libc::sock_fprog,
                );
                *slot = start.elapsed().as_nanos() as u64;
                if rc != 0 {
                    libc::_exit(100 + *libc::__errno_location());
                }
            }
            let n = std::mem::size_of_val(&nanos);
            let ok = libc::write(fds[1], nanos.as_ptr().cast(), n) == n as isize;
            libc::_exit(if ok { 0 } else { 3 });
        }
    }
    // SAFETY: closing our copy of the write end, reading into an array we own.
    unsafe { libc::close(fds[1]) };
    let mut nanos = [0u64; MAX];
    let n = std::mem::size_of_val(&nanos);
    // SAFETY: read writes at most `n` bytes into `nanos`.
    let got = unsafe { libc::read(fds[0], nanos.as_mut_ptr().cast(), n) };
    // SAFETY: closing the read end we own; waiting for our own child.
    unsafe { libc::close(fds[0]) };
    let mut status = 0;
    // SAFETY: see above.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(status, 0, "child failed: {status:#x}");
    assert_eq!(got, n as isize);
    nanos[..programs.len()]
        .iter()
        .map(|n| Duration::from_nanos(*n))
        .collect()
}

/// A measurement, not a check: `cargo test --release --bin hardinit
/// kernel_load_time -- --ignored --nocapture`.
#[test]
#[ignore]
fn kernel_load_time_of_the_default_profile() {
    let t = Target::running(0).unwrap();
    let filters = compile::stack(&load("default").unwrap(), &t)
        .unwrap()
        .filters;
    let old: Vec<BpfProgram> = filters.iter().map(|f| legacy(f, t.arch)).collect();
    let new: Vec<BpfProgram> = filters
        .iter()
        .map(|f| compile::build(f, t.arch).unwrap())
        .collect();
    for (what, programs) in [("seccompiler", &old), ("binary search", &new)] {
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); programs.len()];
        for _ in 0..200 {
            for (s, d) in samples.iter_mut().zip(time_install(programs)) {
                s.push(d);
            }
        }
        let medians: Vec<String> = samples
            .iter_mut()
            .zip(programs.iter())
            .map(|(s, p)| {
                s.sort();
                format!("{} insns {:?}", p.len(), s[s.len() / 2])
            })
            .collect();
        println!("{what}: median per filter: {}", medians.join(", "));
    }
}
