//! One filter's BPF: the syscall number picks its result through a binary
//! search over number ranges; seccompiler compiles the argument checks.
//!
//! # Why not seccompiler's whole filter
//!
//! seccompiler tests the syscall numbers one after another, 5 instructions
//! for each number without conditions (JEQ, two JAs, two RETs). The default
//! profile's base filter came to 1572 instructions, and what the kernel does
//! when it loads a filter grows with its length (cBPF -> eBPF conversion,
//! JIT, write-protecting the image): ~0.7 ms for that one seccomp(2) call,
//! the largest part of what a profile adds to start-up, paid again by every
//! call the child makes as it walks the chain. Here instead:
//!
//! * the numbers 0..=u32::MAX are cut into ranges whose calls all get the same
//!   result (runs of consecutive allowed numbers are one range), and a
//!   balanced tree of JGE tests finds the range: one test per inner node and
//!   one RET (or one JA into a chain) per range, about 2 instructions per
//!   range and log2(ranges) tests per call;
//! * a number whose result depends on its arguments jumps to its chain:
//!   seccompiler's code for each rule (`BpfProgram::from(SeccompRule)`: the
//!   comparisons, 32-/64-bit handling and its helper jumps past the 255
//!   limit), each followed by that rule's RET, then the chain's fallback RET.
//!   That is the layout seccompiler itself emits after a syscall's JEQ: a
//!   rule whose condition fails jumps just past its own RET.
//!
//! # Prologue
//!
//! Every program starts as seccompiler's do: a call from another ABI
//! (seccomp_data.arch is not the native AUDIT_ARCH: i386 `int 0x80` on
//! x86_64, arm32 on aarch64) is KILL_PROCESS. x32 calls arrive as
//! AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set in the number, so on x86_64
//! a second test kills those too, whatever the profile says.

use std::collections::BTreeMap;

use seccompiler::{sock_filter, BpfProgram, SeccompRule};

use super::Arch;

/// include/uapi/linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
/// struct seccomp_data (include/uapi/linux/seccomp.h).
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
/// __X32_SYSCALL_BIT (arch/x86/include/uapi/asm/unistd.h).
pub(super) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// What one syscall number gets (results are `SECCOMP_RET_*` values).
#[derive(Clone, Debug)]
pub(super) enum Decision {
    /// The same result whatever the arguments.
    Return(u32),
    /// The result of the first rule whose conditions all hold, else `otherwise`.
    Rules {
        rules: Vec<(SeccompRule, u32)>,
        otherwise: u32,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaf {
    Return(u32),
    /// Index into the chains.
    Chain(usize),
}

/// The program for `arch`: `decisions` per syscall number, `otherwise` for
/// every number not listed.
pub(super) fn program(
    arch: Arch,
    decisions: BTreeMap<u32, Decision>,
    otherwise: u32,
) -> BpfProgram {
    // (first number, leaf), sorted; each range ends where the next begins.
    let mut ranges: Vec<(u32, Leaf)> = vec![(0, Leaf::Return(otherwise))];
    let mut chains: Vec<BpfProgram> = Vec::new();
    for (nr, decision) in decisions {
        let leaf = match decision {
            Decision::Return(ret) => Leaf::Return(ret),
            Decision::Rules { rules, otherwise } => {
                chains.push(chain(rules, otherwise));
                Leaf::Chain(chains.len() - 1)
            }
        };
        push_range(&mut ranges, nr, leaf);
        if let Some(next) = nr.checked_add(1) {
            push_range(&mut ranges, next, Leaf::Return(otherwise));
        }
    }

    let (audit_arch, x32) = match arch {
        Arch::X86_64 => (AUDIT_ARCH_X86_64, true),
        Arch::Aarch64 => (AUDIT_ARCH_AARCH64, false),
    };
    let mut out = vec![
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, DATA_ARCH),
        jump(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            audit_arch,
            1,
            0,
        ),
        ret(libc::SECCOMP_RET_KILL_PROCESS),
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, DATA_NR),
    ];
    if x32 {
        out.push(jump(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            X32_SYSCALL_BIT,
            0,
            1,
        ));
        out.push(ret(libc::SECCOMP_RET_KILL_PROCESS));
    }
    let mut into_chains = Vec::new(); // (index of a JA, chain it jumps to)
    tree(&ranges, &mut out, &mut into_chains);
    let mut starts = Vec::with_capacity(chains.len());
    for c in chains {
        starts.push(out.len());
        out.extend(c);
    }
    for (at, c) in into_chains {
        // JA's k is an unsigned 32-bit forward offset from the next instruction.
        out[at].k = (starts[c] - at - 1) as u32;
    }
    out
}

/// Start a range at `lo` (>= the start of the last one), merging neighbours
/// with the same leaf.
fn push_range(ranges: &mut Vec<(u32, Leaf)>, lo: u32, leaf: Leaf) {
    if ranges.last().is_some_and(|(start, _)| *start == lo) {
        ranges.pop();
    }
    if ranges.last().is_none_or(|(_, l)| *l != leaf) {
        ranges.push((lo, leaf));
    }
}

/// seccompiler's rules start with two JAs: the first enters the conditions,
/// the second (and the third of each helper triple) jumps one past the
/// next rule's start, chaining to one past the chain's fallback RET. No
/// condition lands on those, so they never run, but the kernel checks that
/// every jump stays inside the program (bpf_check_classic): in seccompiler's
/// own filters the next syscall's JEQ is there; here a RET KILL_PROCESS is,
/// failing closed should such a path ever run.
fn chain(rules: Vec<(SeccompRule, u32)>, otherwise: u32) -> BpfProgram {
    let mut out = Vec::new();
    for (rule, result) in rules {
        out.extend(BpfProgram::from(rule));
        out.push(ret(result));
    }
    out.push(ret(otherwise));
    out.push(ret(libc::SECCOMP_RET_KILL_PROCESS));
    out
}

/// Emit the search over `ranges` (the accumulator holds the number). Lower
/// half right after the test, upper half after it; a lower half too long
/// for the 8-bit jump offset gets a JA (32-bit offset) in between.
fn tree(ranges: &[(u32, Leaf)], out: &mut BpfProgram, into_chains: &mut Vec<(usize, usize)>) {
    let (lower, upper) = match ranges {
        [] => return,
        [(_, Leaf::Return(r))] => return out.push(ret(*r)),
        [(_, Leaf::Chain(c))] => {
            into_chains.push((out.len(), *c));
            return out.push(stmt(libc::BPF_JMP | libc::BPF_JA, 0));
        }
        _ => ranges.split_at(ranges.len() / 2),
    };
    let skip = tree_len(lower);
    let ge = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;
    match u8::try_from(skip) {
        Ok(jt) => out.push(jump(ge, upper[0].0, jt, 0)),
        Err(_) => {
            out.push(jump(ge, upper[0].0, 0, 1));
            out.push(stmt(libc::BPF_JMP | libc::BPF_JA, skip as u32));
        }
    }
    tree(lower, out, into_chains);
    tree(upper, out, into_chains);
}

/// Instructions `tree` emits for `ranges`.
fn tree_len(ranges: &[(u32, Leaf)]) -> usize {
    if ranges.len() <= 1 {
        return ranges.len();
    }
    let (lower, upper) = ranges.split_at(ranges.len() / 2);
    let skip = tree_len(lower);
    1 + usize::from(skip > usize::from(u8::MAX)) + skip + tree_len(upper)
}

fn ret(result: u32) -> sock_filter {
    stmt(libc::BPF_RET | libc::BPF_K, result)
}

fn stmt(code: u32, k: u32) -> sock_filter {
    jump(code, k, 0, 0)
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}
