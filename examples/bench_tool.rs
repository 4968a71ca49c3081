//! Helper for `bench/run.sh`: input generator, SIGTERM fixture and the two
//! measuring drivers. Linux only; run as root for the PID 1 cases.
//!
//!   bench_tool gen LINES
//!       LINES deterministic lines of 99 printable ASCII bytes plus '\n'.
//!   bench_tool term-child
//!       print "ready", wait for SIGTERM, exit 0 at once.
//!   bench_tool latency N [--pid1] [--samples] -- CMD...
//!       N times: start CMD, wait for its "ready" line, send SIGTERM to the
//!       init (CMD itself, or with --pid1 the single child of CMD, i.e. the
//!       PID 1 that `unshare --fork` started) and time until that init has
//!       exited (pidfd readable). Prints median/p90/p99/max in microseconds,
//!       or with --samples each sample on its own line.
//!   bench_tool stats
//!       the same summary for samples (microseconds, one a line) on stdin.
//!   bench_tool measure --out null|pipe -- CMD...
//!       run CMD once with stdout on /dev/null or on a pipe this tool reads
//!       (counting bytes and lines); prints wall time, CMD's own CPU time
//!       (not its children's), its peak RSS and the output size.
//!
//! Output is one line of `key=value` pairs for the script to parse.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen") => gen(&args[1..]),
        Some("term-child") => term_child(),
        Some("latency") => latency(&args[1..]),
        Some("stats") => stats(),
        Some("measure") => measure(&args[1..]),
        _ => Err("usage: bench_tool gen|term-child|latency|measure ...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_tool: {e}");
            ExitCode::from(2)
        }
    }
}

/// Split `[OPTS...] -- CMD...`.
fn split_cmd(args: &[String]) -> Result<(&[String], &[String]), String> {
    let at = args
        .iter()
        .position(|a| a == "--")
        .ok_or("missing -- before the command")?;
    let cmd = &args[at + 1..];
    if cmd.is_empty() {
        return Err("missing command after --".into());
    }
    Ok((&args[..at], cmd))
}

fn gen(args: &[String]) -> Result<(), String> {
    let n: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .ok_or("gen needs a line count")?;
    const WORDS: &[&str] = &[
        "GET",
        "/api/v1/items",
        "200",
        "user=42",
        "latency_ms=17",
        "worker",
        "request",
        "completed",
        "cache",
        "miss",
        "db.query",
        "rows=3",
        "POST",
        "/login",
        "session",
        "token",
        "refreshed",
        "in",
        "the",
        "background",
    ];
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut line = String::with_capacity(128);
    for i in 0..n {
        line.clear();
        line.push_str(&format!("{i:09} INFO "));
        while line.len() < 99 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            line.push_str(WORDS[(seed >> 33) as usize % WORDS.len()]);
            line.push(' ');
        }
        line.truncate(99);
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn term_child() -> Result<(), String> {
    // SAFETY: plain sigset manipulation on a local set, then sigwait on it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        println!("ready");
        let _ = std::io::stdout().flush();
        let mut sig = 0;
        libc::sigwait(&set, &mut sig);
    }
    Ok(())
}

fn pidfd_open(pid: i32) -> Result<OwnedFd, String> {
    // SAFETY: pidfd_open takes a pid and flags; it returns a new fd we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(format!(
            "pidfd_open({pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: fd is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Wait until the process behind `pidfd` has exited (or `timeout_ms`).
fn poll_exit(pidfd: &OwnedFd, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, timeout_ms) > 0 }
}

fn only_child(pid: u32) -> Result<i32, String> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let kids: Vec<i32> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match kids.as_slice() {
        [one] => Ok(*one),
        _ => Err(format!("{path}: expected one child, found {kids:?}")),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn latency(args: &[String]) -> Result<(), String> {
    let (opts, cmd) = split_cmd(args)?;
    let n: usize = opts
        .first()
        .and_then(|a| a.parse().ok())
        .ok_or("latency needs an iteration count")?;
    let pid1 = opts.iter().any(|o| o == "--pid1");
    let raw = opts.iter().any(|o| o == "--samples");
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let mut child = Command::new(&cmd[0])
            .args(&cmd[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", cmd[0]))?;
        let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                let _ = child.wait();
                return Err(format!("iteration {i}: no ready line from {cmd:?}"));
            }
            if line.trim_end() == "ready" || line.contains("\"msg\":\"ready\"") {
                break;
            }
        }
        let init = if pid1 {
            only_child(child.id())?
        } else {
            child.id() as i32
        };
        let pidfd = pidfd_open(init)?;
        let t0 = Instant::now();
        // SAFETY: kill with a pid we just looked up and a valid signal.
        if unsafe { libc::kill(init, libc::SIGTERM) } != 0 {
            return Err(format!("kill: {}", std::io::Error::last_os_error()));
        }
        if !poll_exit(&pidfd, 5000) {
            let _ = child.kill();
            return Err(format!("iteration {i}: init did not exit within 5s"));
        }
        samples.push(t0.elapsed().as_secs_f64() * 1e6);
        let mut rest = Vec::new();
        let _ = out.read_to_end(&mut rest);
        child.wait().map_err(|e| e.to_string())?;
    }
    if raw {
        for s in &samples {
            println!("{s:.1}");
        }
        return Ok(());
    }
    summary(samples)
}

fn stats() -> Result<(), String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let samples: Vec<f64> = text
        .split_whitespace()
        .map(|w| w.parse().map_err(|_| format!("not a number: {w:?}")))
        .collect::<Result<_, _>>()?;
    summary(samples)
}

fn summary(mut samples: Vec<f64>) -> Result<(), String> {
    if samples.is_empty() {
        return Err("no samples".into());
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    println!(
        "n={} median_us={:.0} p90_us={:.0} p99_us={:.0} max_us={:.0}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.9),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
    Ok(())
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn measure(args: &[String]) -> Result<(), String> {
    let (opts, cmd) = split_cmd(args)?;
    let to_pipe = match opts {
        [o, v] if o == "--out" && v == "pipe" => true,
        [o, v] if o == "--out" && v == "null" => false,
        _ => return Err("measure needs --out null|pipe".into()),
    };
    let stdout = if to_pipe {
        Stdio::piped()
    } else {
        Stdio::from(std::fs::File::create("/dev/null").map_err(|e| e.to_string())?)
    };
    let t0 = Instant::now();
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(stdout)
        .spawn()
        .map_err(|e| format!("{}: {e}", cmd[0]))?;
    let pid = child.id();
    let pidfd = pidfd_open(pid as i32)?;
    // A reader like a container runtime's log driver: read big chunks,
    // count bytes and records.
    let reader = child.stdout.take().map(|mut r| {
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 20];
            let (mut bytes, mut lines) = (0u64, 0u64);
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        bytes += n as u64;
                        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                    }
                }
            }
            (bytes, lines)
        })
    });
    // VmHWM only grows; sample it until the process exits (its mm is gone
    // once it is a zombie).
    let mut hwm = 0;
    while !poll_exit(&pidfd, 2) {
        if let Some(v) = status_kb(pid, "VmHWM:") {
            hwm = hwm.max(v);
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    // Still a zombie (WNOWAIT): its own CPU time is in /proc, apart from
    // the children it reaped.
    // SAFETY: waitid on our own child with a zeroed siginfo out-parameter.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT);
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / hz
    };
    // Fields after "(comm)": state is index 0, utime 11, stime 12.
    let (user, sys) = (tick(11), tick(12));
    // schedstat: on-CPU nanoseconds of the (single) thread, exact.
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns / 1e9)
        .unwrap_or(user + sys);
    let status = child.wait().map_err(|e| e.to_string())?;
    let (bytes, lines) = match reader {
        Some(t) => t.join().map_err(|_| "reader thread failed")?,
        None => (0, 0),
    };
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}"));
    }
    println!(
        "wall_s={wall:.4} cpu_s={cpu:.4} user_s={user:.2} sys_s={sys:.2} hwm_kb={hwm} out_bytes={bytes} out_lines={lines}"
    );
    Ok(())
}
