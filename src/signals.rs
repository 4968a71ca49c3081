//! Signal names, the set hardinit blocks and forwards, and `--rewrite` maps.
//!
//! Pure data and parsing; the syscalls that use these sets live in `sys`.

use std::fmt;

/// Signals with their conventional names. Real-time signals are handled by
/// number (`RTMIN+N`), since glibc reserves the first two for itself.
const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// Highest signal number on Linux (`SIGRTMAX` of the kernel, not of glibc).
pub const MAX: i32 = 64;
/// First real-time signal usable by applications under glibc and musl.
pub const RTMIN: i32 = 34;

/// Signals raised synchronously by a fault in the receiving thread. Blocking
/// them would make a crash in hardinit hang instead of dying, and forwarding
/// them makes no sense (tini leaves them alone too).
const SYNCHRONOUS: &[i32] = &[
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGABRT,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGSEGV,
    libc::SIGSYS,
];

/// Signals hardinit catches (through signalfd) and forwards to the child.
///
/// Everything catchable except SIGCHLD (ours, for reaping), the synchronous
/// fault signals, and SIGTTIN/SIGTTOU, which PID 1 ignores as tini does so a
/// background init touching the terminal is not stopped.
pub fn is_forwarded(sig: i32) -> bool {
    (1..=MAX).contains(&sig)
        && sig != libc::SIGKILL
        && sig != libc::SIGSTOP
        && sig != libc::SIGCHLD
        && sig != libc::SIGTTIN
        && sig != libc::SIGTTOU
        && sig != 32
        && sig != 33
        && !SYNCHRONOUS.contains(&sig)
}

/// Signals whose default action ends the process: forwarding one of these
/// arms the `--grace` deadline.
pub fn is_terminating(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGHUP | libc::SIGINT | libc::SIGQUIT | libc::SIGTERM | libc::SIGPWR
    )
}

/// "TERM" for 15, "RTMIN+3" for 37, the number otherwise.
pub fn name(sig: i32) -> String {
    if let Some((n, _)) = NAMES.iter().find(|(_, s)| *s == sig) {
        return format!("SIG{n}");
    }
    if (RTMIN..=MAX).contains(&sig) {
        return format!("SIGRTMIN+{}", sig - RTMIN);
    }
    sig.to_string()
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadSignal(pub String);

impl fmt::Display for BadSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown signal {:?} (use a name like TERM or SIGTERM, RTMIN+N, or a number 1-{MAX})",
            self.0
        )
    }
}

/// Parse `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+2`, `RTMAX-1`.
pub fn parse(text: &str) -> Result<i32, BadSignal> {
    let bad = || BadSignal(text.to_string());
    let upper = text.trim().to_ascii_uppercase();
    if let Ok(n) = upper.parse::<i32>() {
        return if (1..=MAX).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, n)) = NAMES.iter().find(|(name, _)| *name == bare) {
        return Ok(*n);
    }
    let offset = |rest: &str| -> Option<i32> {
        if rest.is_empty() {
            Some(0)
        } else {
            rest.parse::<i32>().ok()
        }
    };
    if let Some(rest) = bare.strip_prefix("RTMIN") {
        let n = offset(rest.strip_prefix('+').unwrap_or(rest)).ok_or_else(bad)?;
        let sig = RTMIN + n;
        return if (RTMIN..=MAX).contains(&sig) && n >= 0 {
            Ok(sig)
        } else {
            Err(bad())
        };
    }
    if let Some(rest) = bare.strip_prefix("RTMAX") {
        let n = offset(rest.strip_prefix('-').unwrap_or(rest)).ok_or_else(bad)?;
        let sig = MAX - n;
        return if (RTMIN..=MAX).contains(&sig) && n >= 0 {
            Ok(sig)
        } else {
            Err(bad())
        };
    }
    Err(bad())
}

/// `--rewrite FROM:TO` pairs; TO = 0 drops the signal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrites(Vec<(i32, i32)>);

impl Rewrites {
    pub fn parse(items: &[String]) -> Result<Rewrites, String> {
        let mut map = Vec::new();
        for item in items {
            let (from, to) = item
                .split_once(':')
                .ok_or_else(|| format!("--rewrite {item:?}: expected FROM:TO, e.g. TERM:QUIT"))?;
            let from = parse(from).map_err(|e| format!("--rewrite {item:?}: {e}"))?;
            let to = if to.trim() == "0" {
                0
            } else {
                parse(to).map_err(|e| format!("--rewrite {item:?}: {e}"))?
            };
            if !is_forwarded(from) {
                return Err(format!(
                    "--rewrite {item:?}: {} is never forwarded, so it cannot be rewritten",
                    name(from)
                ));
            }
            map.retain(|(f, _)| *f != from);
            map.push((from, to));
        }
        Ok(Rewrites(map))
    }

    /// The signal to send for a received one; None when it is dropped.
    pub fn apply(&self, sig: i32) -> Option<i32> {
        match self.0.iter().find(|(from, _)| *from == sig) {
            Some((_, 0)) => None,
            Some((_, to)) => Some(*to),
            None => Some(sig),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_numbers_and_realtime() {
        let cases = [
            ("TERM", Some(15)),
            ("sigterm", Some(15)),
            ("SIGKILL", Some(9)),
            ("15", Some(15)),
            ("RTMIN", Some(34)),
            ("RTMIN+3", Some(37)),
            ("SIGRTMAX", Some(64)),
            ("RTMAX-1", Some(63)),
            ("RTMIN+31", None),
            ("0", None),
            ("65", None),
            ("FOO", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).ok(), want, "{text}");
        }
    }

    #[test]
    fn forwarded_set_matches_design() {
        for sig in [1, 2, 3, 10, 12, 13, 14, 15, 18, 20, 23, 28, 34, 64] {
            assert!(is_forwarded(sig), "{}", name(sig));
        }
        for sig in [4, 5, 6, 7, 8, 9, 11, 17, 19, 21, 22, 31, 32, 33] {
            assert!(!is_forwarded(sig), "{}", name(sig));
        }
    }

    #[test]
    fn rewrites_map_and_drop() {
        let r = Rewrites::parse(&["TERM:QUIT".into(), "USR1:0".into(), "2:HUP".into()]).unwrap();
        assert_eq!(r.apply(15), Some(3));
        assert_eq!(r.apply(10), None);
        assert_eq!(r.apply(2), Some(1));
        assert_eq!(r.apply(12), Some(12));
        assert!(Rewrites::parse(&["TERM".into()]).is_err());
        assert!(Rewrites::parse(&["CHLD:TERM".into()]).is_err());
        assert!(Rewrites::parse(&["TERM:BOGUS".into()]).is_err());
    }

    #[test]
    fn names_round_trip() {
        for sig in 1..=MAX {
            if sig == 32 || sig == 33 {
                continue;
            }
            assert_eq!(parse(&name(sig)), Ok(sig), "{sig}");
        }
    }
}
