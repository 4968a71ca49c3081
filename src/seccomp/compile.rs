//! `Profile` + `Target` -> one BPF program.
//!
//! # Which rule wins
//!
//! When several entries of a profile match one call, the result is the
//! strictest of their actions, by the kernel's precedence (KILL_PROCESS >
//! KILL_THREAD > TRAP > ERRNO > LOG > ALLOW); among ERRNO entries with
//! different errnos, the entry that comes first in the profile wins. No entry
//! matching gives the default action. This is not "first matching entry
//! wins": libseccomp merges all rules of a syscall into one decision tree and
//! refuses (EEXIST) or silently keeps one of two overlapping rules with
//! different actions, depending on their shape, so runtimes built on it have
//! no single order semantics to copy. Docker's and Podman's profiles never
//! let two entries with different actions match the same call (their
//! `includes`/`excludes` make them disjoint), so for them every reading gives
//! the same filter; precedence is the one that can be built exactly from
//! stacked filters and that never lets a deny entry be shadowed by an allow.
//!
//! # Construction
//!
//! One program (`compile`): per syscall number, the entries that name it,
//! strictest action first (ties between two ERRNOs: the entry that comes
//! first in the profile), each a rule (its argument conditions) with its
//! action; the first rule that holds decides, an entry without conditions
//! ends the list, and a call no entry matches gets D, the default action.
//! One filter means one program for the kernel to check, convert and JIT at
//! start-up, and one program per system call for as long as the program
//! runs, however many distinct actions the profile uses.
//!
//! The same precedence can be built from stacked filters, one match action
//! each, as seccompiler's filters are (`stack`, kept as the reference the
//! single program is tested against, by interpretation over every number
//! and argument value the profile compares, in bpf_equivalence.rs): the
//! kernel runs every installed filter and keeps the strictest result (ties:
//! the most recently installed filter). For a profile with default action D:
//!
//! * one filter per distinct non-ALLOW action A: entries with action A -> A,
//!   anything else -> ALLOW. Installed in reverse order of first appearance,
//!   so that among equally strict actions (two ERRNOs) the earlier entry's
//!   filter is the more recent one and wins the tie;
//! * if D is not ALLOW, a base filter: a call matching ANY entry -> ALLOW,
//!   anything else -> D. It never ties with the others (it returns D only
//!   when they all return ALLOW), so it can go last, and it must: every filter
//!   installed before the last one runs on the remaining seccomp(2) calls of
//!   `install`, and the base filter is the one that denies seccomp(2) when the
//!   profile does not list it.
//!
//! Docker's default: D = ERRNO(1), one ERRNO(38) entry for clone3. clone3 ->
//! base ALLOW, ERRNO(38) filter ERRNO(38): ENOSYS, which makes glibc fall back
//! to clone(2) (EPERM would make posix_spawn and pthread_create fail).
//!
//! # Code
//!
//! Each filter is a binary search over syscall numbers, emitted here, with
//! seccompiler's argument comparisons at the leaves: seccompiler compiles
//! every rule that has `args`, bpf.rs everything else. bpf.rs explains why
//! (load time) and the prologue every program starts with (only the native
//! ABI; x32 numbers on x86_64 killed).

use std::collections::BTreeMap;

use seccompiler::{BpfProgram, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule};

use super::bpf::{self, Decision};
use super::profile::{Action, ArgCmp, Op, Profile, Rule};
use super::{table, Arch, Compiled, Error, Target};

/// Per filter (include/uapi/linux/bpf_common.h).
const BPF_MAXINSNS: usize = 4096;

/// Arguments the kernel declares `int`/`unsigned int` (or a 32-bit typedef).
/// The kernel uses only their low 32 bits, so a 64-bit comparison could be
/// bypassed by setting the high bits: socket(AF_VSOCK | 1 << 32) passes a
/// 64-bit "family > 40" test yet opens an AF_VSOCK socket. Compared as 32-bit.
/// Every other argument is compared in 64 bits, as libseccomp does.
const INT_ARGS: &[(&str, &[u8])] = &[
    ("socket", &[0, 1, 2]),          // int family, int type, int protocol
    ("socketpair", &[0, 1, 2]),      // int family, int type, int protocol
    ("personality", &[0]),           // unsigned int personality
    ("setns", &[0, 1]),              // int fd, int nstype
    ("ioctl", &[0, 1]),              // unsigned int fd, unsigned int cmd
    ("fcntl", &[0, 1]),              // unsigned int fd, unsigned int cmd
    ("prctl", &[0]),                 // int option
    ("kill", &[0, 1]),               // pid_t pid, int sig
    ("tgkill", &[0, 1, 2]),          // pid_t tgid, pid_t pid, int sig
    ("openat", &[0, 2]),             // int dfd, int flags
    ("setsockopt", &[0, 1, 2]),      // int fd, int level, int optname
    ("getsockopt", &[0, 1, 2]),      // int fd, int level, int optname
    ("bpf", &[0]),                   // int cmd
    ("keyctl", &[0]),                // int option
    ("seccomp", &[0, 1]),            // unsigned int op, unsigned int flags
    ("madvise", &[2]),               // int behavior
    ("memfd_create", &[1]),          // unsigned int flags
    ("getrandom", &[2]),             // unsigned int flags
    ("setuid", &[0]),                // uid_t
    ("setgid", &[0]),                // gid_t
    ("setresuid", &[0, 1, 2]),       // uid_t x3
    ("setresgid", &[0, 1, 2]),       // gid_t x3
    ("perf_event_open", &[1, 2, 3]), // pid_t pid, int cpu, int group_fd
];

/// Per syscall number: `None` = unconditional, `Some(rules)` = any of the rules.
#[cfg(test)]
type Chains = BTreeMap<i64, Option<Vec<SeccompRule>>>;

struct Entry {
    nr: i64,
    action: Action,
    rule: Option<SeccompRule>,
}

/// One filter of the stack: calls that match `chains` get `on_match`, the
/// others `mismatch`.
#[cfg(test)]
pub(super) struct Filter {
    pub on_match: Action,
    pub mismatch: Action,
    pub chains: Chains,
}

/// The entries of a profile that apply to one target, and the filters they
/// make, in installation order.
#[cfg(test)]
pub(super) struct Stack {
    pub filters: Vec<Filter>,
}

/// Which entries apply to `target`, and the stacked filters they make.
#[cfg(test)]
pub(super) fn stack(profile: &Profile, target: &Target) -> Result<Stack, Error> {
    let (entries, _) = entries(profile, target)?;
    let default = profile.default_action;
    let arch = target.arch;
    let err = |path: &str, message: String| Error::new(&profile.name, path, message);

    let actions = actions(&entries);
    let mut filters = Vec::new();
    for &a in actions.iter().rev() {
        filters.push(Filter {
            on_match: a,
            mismatch: Action::Allow,
            chains: chains(entries.iter().filter(|e| e.action == a)),
        });
    }
    if default != Action::Allow {
        filters.push(Filter {
            on_match: Action::Allow,
            mismatch: default,
            chains: chains(entries.iter()),
        });
    }

    // seccomp(2) itself must pass every filter but the last one.
    if let Some(nr) = super::syscall_number(arch, "seccomp") {
        let early = &filters[..filters.len() - 1];
        if let Some(f) = early.iter().find(|f| f.chains.contains_key(&nr)) {
            return Err(err(
                "syscalls",
                format!(
                    "an entry gives seccomp {}, but this profile needs {} stacked filters and \
                     the later ones are installed with seccomp(2); leave seccomp to the default \
                     action instead",
                    f.on_match,
                    filters.len()
                ),
            ));
        }
    }

    Ok(Stack { filters })
}

/// The non-ALLOW actions of `entries` in order of first appearance.
fn actions(entries: &[Entry]) -> Vec<Action> {
    let mut actions: Vec<Action> = Vec::new();
    for e in entries {
        if e.action != Action::Allow && !actions.contains(&e.action) {
            actions.push(e.action);
        }
    }
    actions
}

/// The entries of `profile` that apply to `target`, one per syscall name,
/// in profile order; and the names this architecture does not have.
fn entries(profile: &Profile, target: &Target) -> Result<(Vec<Entry>, Vec<String>), Error> {
    let err = |path: &str, message: String| Error::new(&profile.name, path, message);
    let arch = target.arch;
    let default = profile.default_action;

    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for rule in profile.rules.iter().filter(|r| applies(r, target)) {
        for (j, name) in rule.names.iter().enumerate() {
            let Some(nr) = super::syscall_number(arch, name) else {
                // A name this table lacks is harmless to drop when the default
                // is at least as strict (moby skips unknown names the same
                // way); dropping a stricter entry would weaken the profile.
                if rule.action.rank() < default.rank() {
                    return Err(err(
                        &format!("{}.names[{j}]", rule.path),
                        format!(
                            "syscall {name:?} is unknown on {arch}; dropping this {} entry \
                             would leave the call to the default {default}",
                            rule.action
                        ),
                    ));
                }
                skipped.push(name.clone());
                continue;
            };
            let chain = match rule.args.is_empty() {
                true => None,
                false => {
                    let mut conds = Vec::new();
                    for (k, cmp) in rule.args.iter().enumerate() {
                        let path = format!("{}.args[{k}]", rule.path);
                        conds.push(condition(name, cmp).map_err(|m| err(&path, m))?);
                    }
                    let r = SeccompRule::new(conds).map_err(|e| err(&rule.path, e.to_string()))?;
                    Some(r)
                }
            };
            entries.push(Entry {
                nr,
                action: rule.action,
                rule: chain,
            });
        }
    }
    skipped.sort();
    skipped.dedup();
    // Entries that repeat the default ALLOW change nothing.
    if default == Action::Allow {
        entries.retain(|e| e.action != Action::Allow);
    }
    if entries.is_empty() {
        return Err(err(
            "syscalls",
            format!(
                "no entry applies on {arch} with these capabilities: the filter would be \
                 the default {default} for every call"
            ),
        ));
    }

    Ok((entries, skipped))
}

pub(super) fn compile(profile: &Profile, target: &Target) -> Result<Compiled, Error> {
    let err = |path: &str, message: String| Error::new(&profile.name, path, message);
    let (entries, skipped) = entries(profile, target)?;
    let arch = target.arch;
    let program = single(&entries, profile.default_action, arch).map_err(|m| err("", m))?;
    let instructions = program.len();
    let programs = vec![program];

    Ok(Compiled {
        name: profile.name.clone(),
        default_action: profile.default_action.to_string(),
        allowed: allowed(&entries, profile.default_action, arch),
        skipped,
        instructions,
        programs,
    })
}

/// Docker's evaluation of `includes`/`excludes` (moby profiles/seccomp):
/// included caps must ALL be kept, any kept excluded cap drops the entry;
/// arches compare with the Docker name of the running architecture; the
/// entry applies from `includes.minKernel` on and stops at `excludes.minKernel`.
fn applies(rule: &Rule, t: &Target) -> bool {
    let kept = |c: &u8| t.bounding & (1u64 << c) != 0;
    let arch = t.arch.docker_name();
    let (inc, exc) = (&rule.includes, &rule.excludes);
    inc.caps.iter().all(kept)
        && !exc.caps.iter().any(kept)
        && (inc.arches.is_empty() || inc.arches.iter().any(|a| a == arch))
        && !exc.arches.iter().any(|a| a == arch)
        && inc.min_kernel.is_none_or(|k| t.kernel >= k)
        && exc.min_kernel.is_none_or(|k| t.kernel < k)
}

fn condition(name: &str, cmp: &ArgCmp) -> Result<SeccompCondition, String> {
    let dword = INT_ARGS
        .iter()
        .any(|(n, idx)| *n == name && idx.contains(&cmp.index));
    let narrow = |v: u64| -> Result<u64, String> {
        match v {
            0..=0xffff_ffff => Ok(v),
            // A negative int written sign-extended.
            0xffff_ffff_8000_0000.. => Ok(v & 0xffff_ffff),
            _ => Err(format!(
                "{v:#x} does not fit argument {} of {name}, which the kernel reads as 32 bits",
                cmp.index
            )),
        }
    };
    let (len, value, value_two) = match dword {
        true => (
            SeccompCmpArgLen::Dword,
            narrow(cmp.value)?,
            narrow(cmp.value_two)?,
        ),
        false => (SeccompCmpArgLen::Qword, cmp.value, cmp.value_two),
    };
    let (op, datum) = match cmp.op {
        Op::Ne => (SeccompCmpOp::Ne, value),
        Op::Lt => (SeccompCmpOp::Lt, value),
        Op::Le => (SeccompCmpOp::Le, value),
        Op::Eq => (SeccompCmpOp::Eq, value),
        Op::Ge => (SeccompCmpOp::Ge, value),
        Op::Gt => (SeccompCmpOp::Gt, value),
        Op::MaskedEq => (SeccompCmpOp::MaskedEq(value), value_two),
    };
    SeccompCondition::new(cmp.index, len, op, datum).map_err(|e| e.to_string())
}

#[cfg(test)]
fn chains<'a>(entries: impl Iterator<Item = &'a Entry>) -> Chains {
    let mut out = Chains::new();
    for e in entries {
        let slot = out.entry(e.nr).or_insert_with(|| Some(Vec::new()));
        match (slot, &e.rule) {
            (slot, None) => *slot = None,
            (Some(rules), Some(r)) => rules.push(r.clone()),
            (None, Some(_)) => {} // already unconditional
        }
    }
    out
}

/// The whole profile as one program (see "Construction" above).
fn single(entries: &[Entry], default: Action, arch: Arch) -> Result<BpfProgram, String> {
    let actions = actions(entries);
    // Strictest first; among equally strict actions (two ERRNOs) the one
    // that appears first in the profile, as the stacked filters rank them.
    let order = |a: Action| (a.rank(), actions.iter().position(|x| *x == a));
    let mut by_nr: BTreeMap<i64, Vec<&Entry>> = BTreeMap::new();
    for e in entries {
        by_nr.entry(e.nr).or_default().push(e);
    }
    let mut decisions = BTreeMap::new();
    for (nr, mut list) in by_nr {
        let nr = u32::try_from(nr).map_err(|_| format!("syscall number {nr} out of range"))?;
        list.sort_by_key(|e| order(e.action));
        let mut rules = Vec::new();
        let mut otherwise = default.ret();
        for e in list {
            match &e.rule {
                Some(r) => rules.push((r.clone(), e.action.ret())),
                // Unconditional: decides every call the rules before it let
                // through; the ones after it never run.
                None => {
                    otherwise = e.action.ret();
                    break;
                }
            }
        }
        let decision = match rules.is_empty() {
            true => Decision::Return(otherwise),
            false => Decision::Rules { rules, otherwise },
        };
        decisions.insert(nr, decision);
    }
    let prog = bpf::program(arch, decisions, default.ret());
    if prog.len() > BPF_MAXINSNS {
        return Err(format!(
            "the filter has {} instructions, the kernel accepts at most {BPF_MAXINSNS}",
            prog.len()
        ));
    }
    Ok(prog)
}

/// A stacked filter's program (bpf.rs), checked against the kernel's size limit.
#[cfg(test)]
pub(super) fn build(filter: &Filter, arch: Arch) -> Result<BpfProgram, String> {
    let mut decisions = BTreeMap::new();
    for (nr, chain) in &filter.chains {
        let nr = u32::try_from(*nr).map_err(|_| format!("syscall number {nr} out of range"))?;
        let decision = match chain {
            None => Decision::Return(filter.on_match.ret()),
            Some(rules) => Decision::Rules {
                rules: rules
                    .iter()
                    .map(|r| (r.clone(), filter.on_match.ret()))
                    .collect(),
                otherwise: filter.mismatch.ret(),
            },
        };
        decisions.insert(nr, decision);
    }
    let prog = bpf::program(arch, decisions, filter.mismatch.ret());
    if prog.len() > BPF_MAXINSNS {
        return Err(format!(
            "the {} filter has {} instructions, the kernel accepts at most {BPF_MAXINSNS} per \
             filter",
            filter.on_match,
            prog.len()
        ));
    }
    Ok(prog)
}

/// Names a call can get through with, sorted: some passing entry (or a
/// passing default) and no unconditional stricter entry.
fn allowed(entries: &[Entry], default: Action, arch: Arch) -> Vec<&'static str> {
    // Per number: (some entry passes, some unconditional entry blocks).
    let mut by_nr: BTreeMap<i64, (bool, bool)> = BTreeMap::new();
    for e in entries {
        let (passes, blocked) = by_nr.entry(e.nr).or_default();
        *passes |= e.action.passes();
        *blocked |= e.rule.is_none() && !e.action.passes();
    }
    // The table is sorted by name already.
    table(arch)
        .iter()
        .filter(|(_, nr)| {
            let (passes, blocked) = by_nr.get(nr).copied().unwrap_or_default();
            (default.passes() || passes) && !blocked
        })
        .map(|(name, _)| *name)
        .collect()
}
