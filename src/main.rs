//! hardinit: a small PID 1 for containers.
//!
//! The pipeline: argv + environment -> `cli::Options` -> validated,
//! immutable `plan::Plan` -> `spawn` (fork, harden, verify, exec) ->
//! `supervisor` (signals, reaping, logs) -> exit code. Only `main` decides
//! the exit code.

#![cfg_attr(not(test), no_main)]

mod caps;
mod cli;
mod events;
#[cfg(feature = "health")]
mod health;
mod landlock;
mod learn;
mod mozlog;
mod plan;
mod report;
mod rlimit;
mod seccomp;
mod signals;
mod spawn;
mod supervisor;
mod sys;
mod user;

use cli::{Command, Parsed};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// hardinit's own failure before the program ran.
const EXIT_FAILED: u8 = 125;
/// tini's code for its own failures, kept in tini mode.
const EXIT_TINI_FAILED: u8 = 1;

/// The C entry point, called by the C library's start-up with nothing of
/// Rust's runtime start-up before it: that would set SIGPIPE to ignored
/// (inherited by every program we start), read /proc/self/maps and install
/// a signal stack for its stack-overflow message, about 20 system calls on
/// every container start. What of it hardinit needs it does itself: the
/// signal set-up below and `ensure_std_fds`. Without that handler a stack
/// overflow ends hardinit with SIGSEGV and no message; its recursion is
/// bounded (the seccomp search tree: log2 of a few hundred ranges).
/// The arguments come from `argv` here: `std::env::args_os` is filled by
/// that start-up on musl (only glibc also hands them to an `.init_array`
/// hook).
#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    use std::os::unix::ffi::OsStringExt;
    let args = (0..usize::try_from(argc).unwrap_or(0))
        // SAFETY: the C runtime passes argc valid, NUL-terminated strings.
        .map(|i| unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) })
        .map(|arg| OsString::from_vec(arg.to_bytes().to_vec()))
        .collect();
    libc::c_int::from(run(args))
}

#[cfg_attr(test, allow(dead_code))]
fn run(args: Vec<OsString>) -> u8 {
    // First of all, before any descriptor of ours exists: a closed 0, 1 or
    // 2 gets /dev/null, or the signalfd or a pipe would take its number and
    // the program would inherit it as stdin or stdout.
    if let Err(e) = sys::ensure_std_fds() {
        eprintln!("hardinit: cannot open /dev/null for a closed standard descriptor: {e}");
        return EXIT_FAILED;
    }
    let argv0 = args.first().cloned().unwrap_or_default();
    let tini = cli::is_tini_name(&argv0);
    let word = args.get(1).map(|a| a.as_bytes()).unwrap_or(b"");

    // Subcommands that start no program and need no signal set-up.
    if !tini {
        match word {
            #[cfg(feature = "health")]
            b"health" => return health::run(&args[2..]),
            #[cfg(not(feature = "health"))]
            b"health" => {
                // 2, as for bad arguments: Docker counts it as unhealthy,
                // and the reason says what to change.
                eprintln!("hardinit health: this binary was built without the probe (cargo feature \"health\")");
                return 2;
            }
            b"inspect" => return inspect(&args[2..]),
            _ => {}
        }
    }
    let (command, rest) = match word {
        b"check" if !tini => (Command::Check, &args[2..]),
        b"learn" if !tini => (Command::Learn, &args[2..]),
        // argv may even be empty (execve allows it): then there is no program.
        _ => (Command::Run, args.get(1..).unwrap_or_default()),
    };

    // Block signals before anything else, so none is lost or acts on us
    // while we set up: they wait in the signalfd.
    let signals = match init_signals() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hardinit: {e}");
            return EXIT_FAILED;
        }
    };
    events::install();

    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let failed = if tini { EXIT_TINI_FAILED } else { EXIT_FAILED };
    let options = match cli::parse(command, tini, rest, &env) {
        Ok(Parsed::Options(o)) => o,
        Ok(Parsed::Help { tini: true }) => return print_out(cli::TINI_HELP),
        Ok(Parsed::Help { tini: false }) => return print_out(cli::HELP),
        Ok(Parsed::Version { tini: true }) => {
            return print_out(&format!(
                "tini version 0.19.0 - git.{}\n",
                version::REVISION
            ))
        }
        Ok(Parsed::Version { tini: false }) => {
            return print_out(&format!(
                "hardinit {} (git {})\n",
                env!("CARGO_PKG_VERSION"),
                version::REVISION
            ))
        }
        Ok(Parsed::License) => return print_out(LICENSE),
        Err(e) => {
            tracing::error!("{}", e.message);
            if !e.tini {
                eprintln!("Try 'hardinit --help'.");
            }
            return failed;
        }
    };

    let plan = match plan::build(&options, &env, std::path::Path::new("/")) {
        Ok(p) => p,
        Err(e) => {
            configure_events(options.tini, options.verbosity, false, String::new());
            tracing::error!("{}", e.message());
            return match e {
                plan::PlanError::NotFound(_) => 127,
                plan::PlanError::Invalid(_) => failed,
            };
        }
    };
    configure_events(
        plan.tini,
        plan.verbosity,
        plan.log.is_some(),
        plan.log
            .as_ref()
            .map(|l| l.hostname.clone())
            .unwrap_or_default(),
    );

    match plan.command {
        Command::Check => {
            let m = report::of_plan(&plan);
            let _ = sys::write_all(libc::STDOUT_FILENO, report::table(&m).as_bytes());
            0
        }
        Command::Run | Command::Learn => init(&plan, signals),
    }
}

/// hardinit's signal set-up, done first.
struct SignalSetup {
    fd: i32,
    inherited: spawn::Inherited,
}

fn init_signals() -> Result<SignalSetup, String> {
    let set = sys::sigset_of(
        (1..=signals::MAX).filter(|s| signals::is_forwarded(*s) || *s == libc::SIGCHLD),
    );
    let mask = sys::block_signals(&set).map_err(|e| format!("sigprocmask: {e}"))?;
    // PID 1 ignores SIGTTIN/SIGTTOU (as tini does) so touching the terminal
    // from the background never stops it; the child gets them back.
    let ttin = sys::set_disposition(libc::SIGTTIN, libc::SIG_IGN)
        .map_err(|e| format!("sigaction: {e}"))?;
    let ttou = sys::set_disposition(libc::SIGTTOU, libc::SIG_IGN)
        .map_err(|e| format!("sigaction: {e}"))?;
    // An inherited SIG_IGN on SIGCHLD would make the kernel reap our
    // children itself and send no SIGCHLD: we would never see the program
    // exit. Take the default; the child gets the inherited one back.
    let chld = sys::set_disposition(libc::SIGCHLD, libc::SIG_DFL)
        .map_err(|e| format!("sigaction: {e}"))?;
    // Nothing before us touched SIGPIPE (no Rust runtime start-up, see
    // `main`): this is what execve gave us and what the child gets back.
    let pipe = sys::disposition(libc::SIGPIPE).map_err(|e| format!("sigaction: {e}"))?;
    let fd = sys::signalfd(&set).map_err(|e| format!("signalfd: {e}"))?;
    Ok(SignalSetup {
        fd,
        inherited: spawn::Inherited {
            mask,
            ttin,
            ttou,
            pipe,
            chld,
        },
    })
}

fn configure_events(tini: bool, verbosity: u32, mozlog: bool, hostname: String) {
    // mozlog mode shows lifecycle events (info); raw mode is as quiet as tini.
    let base = if mozlog { 2 } else { 1 };
    events::configure(
        mozlog,
        base + verbosity,
        if tini { "tini" } else { "hardinit" },
        hostname,
    );
}

/// Run the program as init: spawn, verify, supervise; the exit code.
fn init(plan: &plan::Plan, signals: SignalSetup) -> u8 {
    let failed = if plan.tini {
        EXIT_TINI_FAILED
    } else {
        EXIT_FAILED
    };
    let fail = |msg: String| -> u8 {
        tracing::error!("{msg}");
        events::flush_blocking();
        failed
    };
    if let Some(sig) = plan.pdeathsig {
        if let Err(e) = sys::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong) {
            return fail(format!("prctl(PR_SET_PDEATHSIG): {e}"));
        }
    }
    let is_pid1 = sys::getpid() == 1;
    if plan.subreaper {
        if let Err(e) = sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) {
            return fail(format!("prctl(PR_SET_CHILD_SUBREAPER): {e}"));
        }
    } else if !is_pid1 {
        let name = if plan.tini { "Tini" } else { "hardinit" };
        tracing::warn!(
            "{name} is not running as PID 1 and isn't registered as a child subreaper.\n\
             Zombie processes will not be re-parented to {name}, so zombie reaping won't work.\n\
             To fix the problem, use the -s option or set the environment variable {} to register {name} as a child subreaper, or run {name} as PID 1.",
            if plan.tini { "TINI_SUBREAPER" } else { "HARDINIT_SUBREAPER" }
        );
    }

    // What the plan could not do as asked but tolerates (and why).
    for note in &plan.notes {
        tracing::info!(event = "note", "{note}");
    }

    let pipes = match &plan.log {
        Some(_) => match spawn::log_pipes() {
            Ok(p) => Some(p),
            Err(e) => return fail(spawn_message(plan, &e)),
        },
        None => None,
    };
    let expected = test_hooks::expected(&plan.expect);
    let started = match spawn::start(plan, &signals.inherited, pipes.as_ref(), &expected) {
        Ok(s) => s,
        Err(e) => return spawn_failed(plan, &e),
    };
    let pid = started.pid;

    // Verification: the kernel's view of the child must match the plan
    // before any of the program's code runs.
    if plan.verify() == plan::Verify::Stop {
        if let Err(msg) = verify(plan, &expected, pid) {
            started.abort();
            return fail(msg);
        }
    }
    let learner = match started.release() {
        Ok((_, learner)) => learner,
        Err(e) => return spawn_failed(plan, &e),
    };
    tracing::info!(
        event = "child_started",
        pid = pid,
        program = plan.program.as_str(),
        "Spawned child process '{}' with pid '{pid}'",
        plan.program
    );

    // The program runs: PID 1 keeps only what it needs to signal and reap it.
    for e in drop_own_privileges(plan) {
        tracing::warn!("could not drop hardinit's own privileges: {e}");
    }
    // Start-up's garbage (the parsed profile, /proc texts, argument
    // copies) is freed but still resident: give those pages back, PID 1
    // lives as long as the container.
    sys::release_free_memory();

    // Our copies of the write ends must go, or the pipes never reach EOF.
    let read_ends = pipes.map(|p| {
        sys::close(p.stdout.1);
        sys::close(p.stderr.1);
        (p.stdout.0, p.stderr.0)
    });
    let stdout_flags = if read_ends.is_some() {
        sys::private_stdout();
        sys::set_nonblocking(libc::STDOUT_FILENO, true).ok()
    } else {
        None
    };
    let status = supervisor::Supervisor::new(plan, pid, signals.fd, read_ends, learner).run();
    // Flush while stdout is still non-blocking, so a stalled reader cannot
    // hold hardinit forever; then give stdout its flags back.
    events::flush_blocking();
    if let Some(flags) = stdout_flags {
        let _ = sys::set_flags(libc::STDOUT_FILENO, flags);
    }
    // Everything is said and the program is gone: end here. Freeing the
    // plan and running the C library's exit handlers would only run code
    // that has not run since start-up (cold pages to fault in) while
    // `docker stop` waits for us; the kernel frees it all anyway.
    sys::exit_now(i32::from(exit_code(status, &plan.remap_exit)))
}

/// Compare the stopped child's /proc with the plan (and print the report
/// `--debug` asks for); the message naming every difference otherwise.
fn verify(plan: &plan::Plan, expected: &plan::Expected, pid: libc::pid_t) -> Result<(), String> {
    let status =
        report::Status::read(&pid.to_string()).map_err(|e| format!("verification failed: {e}"))?;
    let mut diffs = report::verify(expected, &status);
    diffs.extend(report::verify_limits(&pid.to_string(), &plan.child.rlimits));
    if !diffs.is_empty() {
        return Err(mismatch_message(plan, &diffs));
    }
    if plan.debug {
        let m = report::of_child(plan, pid, &status);
        if plan.log.is_some() {
            events::queue_record("hardinit.restrictions", 6, &m);
        } else {
            let text = format!(
                "hardinit: restrictions of {} (pid {pid}), as the kernel reports them:\n{}",
                plan.program,
                report::table(&m)
            );
            let _ = sys::write_all(libc::STDERR_FILENO, text.as_bytes());
        }
    }
    Ok(())
}

/// After the child runs, PID 1 sheds what it no longer needs: everything
/// but CAP_KILL (when the child runs as another uid), or its uid itself
/// when it had no CAP_KILL to keep.
/// Each step is tried on its own: one failing must not leave PID 1 with
/// more than the others could take away. Returns what failed.
fn drop_own_privileges(plan: &plan::Plan) -> Vec<String> {
    let mut failed = Vec::new();
    if let Some((uid, gid)) = plan.pid1_identity {
        if let Err(e) = sys::setgroups(&[]) {
            failed.push(format!("setgroups: {e}"));
        }
        if let Err(e) = sys::setresgid(gid) {
            failed.push(format!("setresgid({gid}): {e}"));
        }
        if let Err(e) = sys::setresuid(uid) {
            failed.push(format!("setresuid({uid}): {e}"));
        }
        // A uid change clears the parent-death signal: set it again.
        if let Some(sig) = plan.pdeathsig {
            if let Err(e) = sys::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong) {
                failed.push(format!("prctl(PR_SET_PDEATHSIG): {e}"));
            }
        }
    }
    if let Some(keep) = plan.own_caps {
        let keep = keep & plan.current.permitted;
        if let Err(e) = sys::capset(keep, keep, 0) {
            failed.push(format!("capset: {e}"));
        }
        // Hardening is on: PID 1 confines itself too.
        if let Err(e) = seccomp::own::install() {
            failed.push(e);
        }
    }
    failed
}

fn mismatch_message(plan: &plan::Plan, diffs: &[String]) -> String {
    format!(
        "verification failed, {} was not started: the kernel reports restrictions other than planned: {}",
        plan.program,
        diffs.join("; ")
    )
}

fn spawn_message(plan: &plan::Plan, e: &spawn::SpawnError) -> String {
    match e {
        spawn::SpawnError::Mismatch { status, limits } => {
            let expected = test_hooks::expected(&plan.expect);
            let mut diffs = report::verify(&expected, &report::Status::parse(status));
            diffs.extend(report::verify_limits_text(limits, &plan.child.rlimits));
            if diffs.is_empty() {
                // The two comparisons are tested to agree; should they
                // not, still say why the program did not start.
                diffs.push("the child's own check failed".into());
            }
            mismatch_message(plan, &diffs)
        }
        spawn::SpawnError::Setup(m) => m.clone(),
        spawn::SpawnError::Vanished(how) => {
            format!("{} never reached exec: the child {how}", plan.program)
        }
        spawn::SpawnError::Step(spawn::Step::Exec, errno) if plan.tini => {
            format!("exec {} failed: {}", plan.program, errno.desc())
        }
        // nix's Errno displays as "EPERM: Operation not permitted" already.
        spawn::SpawnError::Step(spawn::Step::Learn, nix::errno::Errno::EBUSY) => format!(
            "learn: the kernel refused a seccomp listener (EBUSY): a filter with a listener is already installed above this process (another hardinit learn, or a runtime's notifier), and there can be only one; {} was not started",
            plan.program
        ),
        spawn::SpawnError::Step(spawn::Step::Learn, nix::errno::Errno::EINVAL) => format!(
            "learn: the kernel refused the recording filter (EINVAL): seccomp user notification is not supported here; {} was not started",
            plan.program
        ),
        spawn::SpawnError::Step(step, errno) => format!(
            "{} failed: {errno}; {} was not started",
            step.describe(plan),
            plan.program
        ),
    }
}

fn spawn_failed(plan: &plan::Plan, e: &spawn::SpawnError) -> u8 {
    tracing::error!("{}", spawn_message(plan, e));
    events::flush_blocking();
    match e {
        spawn::SpawnError::Step(spawn::Step::Exec, nix::errno::Errno::ENOENT) => 127,
        spawn::SpawnError::Step(spawn::Step::Exec, nix::errno::Errno::EACCES) => 126,
        spawn::SpawnError::Step(spawn::Step::Exec, _) if plan.tini => EXIT_TINI_FAILED,
        spawn::SpawnError::Step(spawn::Step::Exec, _) => 126,
        _ if plan.tini => EXIT_TINI_FAILED,
        _ => EXIT_FAILED,
    }
}

/// The child's status as an exit code: its code, or 128+N for signal N;
/// then `-e` maps listed codes to 0.
pub fn exit_code(status: libc::c_int, remap: &[u8]) -> u8 {
    let code = if libc::WIFSIGNALED(status) {
        (128 + libc::WTERMSIG(status)) as u8
    } else {
        libc::WEXITSTATUS(status) as u8
    };
    if remap.contains(&code) {
        0
    } else {
        code
    }
}

fn print_out(text: &str) -> u8 {
    match sys::write_all(libc::STDOUT_FILENO, text.as_bytes()) {
        Ok(()) => 0,
        Err(_) => EXIT_FAILED,
    }
}

/// `hardinit inspect [--json] [--pid N]`.
fn inspect(args: &[OsString]) -> u8 {
    let mut json = false;
    let mut pid = "self".to_string();
    let mut i = 0;
    while i < args.len() {
        match args[i].to_str() {
            Some("--json") => json = true,
            Some("--pid") => {
                i += 1;
                match args.get(i).and_then(|a| a.to_str()).filter(|p| p.parse::<u32>().is_ok()) {
                    Some(p) => pid = p.to_string(),
                    None => {
                        eprintln!("hardinit inspect: --pid needs a process id");
                        return 2;
                    }
                }
            }
            Some("-h") | Some("--help") => {
                return print_out("Usage: hardinit inspect [--json] [--pid N]\nReport the restrictions a process runs under, as the kernel reports them.\n")
            }
            _ => {
                eprintln!("hardinit inspect: unknown argument {:?}", args[i]);
                return 2;
            }
        }
        i += 1;
    }
    let status = match report::Status::read(&pid) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hardinit inspect: {e}");
            return 1;
        }
    };
    let m = report::of_process(&pid, &status);
    let text = if json {
        format!("{}\n", serde_json::Value::Object(m))
    } else {
        report::table(&m)
    };
    print_out(&text)
}

mod version {
    /// The git revision the binary was built from (set by build.rs).
    pub const REVISION: &str = match option_env!("HARDINIT_GIT_REVISION") {
        Some(r) => r,
        None => "unknown",
    };
}

/// Test-only hooks, compiled out of release builds.
mod test_hooks {
    use crate::plan::Expected;

    /// `HARDINIT_TEST_FORCE_MISMATCH=1` makes verification expect a
    /// capability the child cannot have, to prove a mismatch stops the start.
    #[cfg(debug_assertions)]
    pub fn expected(e: &Expected) -> Expected {
        let mut e = e.clone();
        if std::env::var_os("HARDINIT_TEST_FORCE_MISMATCH").is_some() {
            e.cap_eff = Some(e.cap_eff.unwrap_or(0) ^ (1 << 40));
        }
        e
    }

    #[cfg(not(debug_assertions))]
    pub fn expected(e: &Expected) -> Expected {
        e.clone()
    }
}

const LICENSE: &str = "hardinit is licensed under the Apache License, Version 2.0.\n";

#[cfg(test)]
mod tests {
    #[test]
    fn exit_codes_for_all_statuses() {
        for code in 0..=255 {
            assert_eq!(super::exit_code(code << 8, &[]), code as u8);
        }
        for sig in 1..=64 {
            assert_eq!(super::exit_code(sig, &[]), (128 + sig) as u8);
        }
        assert_eq!(super::exit_code(143 << 8, &[143]), 0);
        assert_eq!(super::exit_code(libc::SIGTERM, &[143]), 0);
        assert_eq!(super::exit_code(3 << 8, &[143]), 3);
    }
}
