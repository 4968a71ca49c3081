//! fork, the child's hardening steps in the documented order, the
//! verification hand-shake, and execve.
//!
//! The child runs only plain syscalls on data the plan prepared: no
//! allocation, no parsing, no locks. Each failing step is reported to the
//! parent through a CLOEXEC pipe as (step, errno); the parent exits 125
//! (126/127 for execve) and the program never starts.

use crate::plan::{Expected, Plan, Verify};
use crate::sys;
use nix::errno::Errno;
use std::os::fd::RawFd;

/// The steps between fork and exec, in order. The number travels through
/// the status pipe; 0 means "ready for verification".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Step {
    Ready = 0,
    ProcessGroup,
    Terminal,
    SignalMask,
    SignalDisposition,
    Stdio,
    Rlimit,
    NoNewPrivs,
    SeccompEarly,
    BoundingSet,
    KeepCaps,
    SetGroups,
    SetGid,
    SetUid,
    Capset,
    AmbientClear,
    AmbientRaise,
    Landlock,
    Seccomp,
    SelfCheck,
    Handshake,
    Learn,
    Exec,
}

const STEPS: &[Step] = &[
    Step::Ready,
    Step::ProcessGroup,
    Step::Terminal,
    Step::SignalMask,
    Step::SignalDisposition,
    Step::Stdio,
    Step::Rlimit,
    Step::NoNewPrivs,
    Step::SeccompEarly,
    Step::BoundingSet,
    Step::KeepCaps,
    Step::SetGroups,
    Step::SetGid,
    Step::SetUid,
    Step::Capset,
    Step::AmbientClear,
    Step::AmbientRaise,
    Step::Landlock,
    Step::Seccomp,
    Step::SelfCheck,
    Step::Handshake,
    Step::Learn,
    Step::Exec,
];

impl Step {
    fn from_u32(n: u32) -> Option<Step> {
        STEPS.get(n as usize).copied()
    }

    /// What the step does, for the error message.
    pub fn describe(self, plan: &Plan) -> String {
        let id = plan.child.identity.as_ref();
        match self {
            Step::Ready => "verification".into(),
            Step::ProcessGroup => "setpgid (new process group)".into(),
            Step::Terminal => "tcsetpgrp (terminal foreground)".into(),
            Step::SignalMask => "sigprocmask (restore the signal mask)".into(),
            Step::SignalDisposition => "sigaction (restore SIGTTIN/SIGTTOU/SIGPIPE/SIGCHLD)".into(),
            Step::Stdio => "dup2 (log pipes onto stdout/stderr)".into(),
            Step::Rlimit => "setrlimit".into(),
            Step::NoNewPrivs => "prctl(PR_SET_NO_NEW_PRIVS)".into(),
            Step::SeccompEarly | Step::Seccomp => format!(
                "seccomp (load profile {})",
                plan.child
                    .seccomp
                    .as_ref()
                    .map(|s| s.name.as_str())
                    .unwrap_or("?")
            ),
            Step::BoundingSet => "prctl(PR_CAPBSET_DROP) (drop the capability bounding set)".into(),
            Step::KeepCaps => "prctl(PR_SET_KEEPCAPS)".into(),
            Step::SetGroups => format!(
                "setgroups([{}])",
                id.map(|i| i
                    .groups
                    .iter()
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(","))
                    .unwrap_or_default()
            ),
            Step::SetGid => format!("setresgid({})", id.map(|i| i.gid).unwrap_or(0)),
            Step::SetUid => format!("setresuid({})", id.map(|i| i.uid).unwrap_or(0)),
            Step::Capset => "capset (permitted/effective/inheritable)".into(),
            Step::AmbientClear => "prctl(PR_CAP_AMBIENT_CLEAR_ALL)".into(),
            Step::AmbientRaise => "prctl(PR_CAP_AMBIENT_RAISE)".into(),
            Step::Landlock => "landlock_restrict_self".into(),
            Step::SelfCheck => "verification (reading /proc/self/status and limits)".into(),
            Step::Handshake => "verification hand-shake".into(),
            Step::Learn => "seccomp (install the recording filter with a listener)".into(),
            Step::Exec => format!("execve {}", plan.program),
        }
    }
}

/// The signal state hardinit inherited and must give back to the child.
pub struct Inherited {
    pub mask: libc::sigset_t,
    pub ttin: libc::sigaction,
    pub ttou: libc::sigaction,
    /// SIGPIPE as exec gave it to us.
    pub pipe: libc::sigaction,
    /// SIGCHLD as inherited (PID 1 needs the default to see exits).
    pub chld: libc::sigaction,
}

/// Pipes for the child's stdout and stderr (mozlog mode).
pub struct LogPipes {
    pub stdout: (RawFd, RawFd),
    pub stderr: (RawFd, RawFd),
}

#[derive(Debug)]
pub enum SpawnError {
    /// Setting up (pipes, fork) failed in hardinit itself.
    Setup(String),
    /// A step in the child failed.
    Step(Step, Errno),
    /// The child died without telling why.
    Vanished(String),
    /// The child's own check found the kernel's view other than planned:
    /// its /proc/self/status and /proc/self/limits, for PID 1 to name the
    /// differences.
    Mismatch { status: String, limits: String },
}

/// A child stopped just before execve, hardened, waiting for the go-ahead;
/// or, when the plan has nothing to verify, already on its way to execve.
pub struct Started {
    pub pid: libc::pid_t,
    status_r: RawFd,
    /// The go-ahead pipe; None when the child does not wait for one.
    go_w: Option<RawFd>,
    /// `learn`: PID 1's end of the listener hand-off socket.
    learn_sock: Option<RawFd>,
}

const RECORD: usize = 8;

/// Fork and run the hardening steps; returns once the child is ready for
/// verification (or failed). When the plan restricts nothing there is
/// nothing to verify (`Plan::verifies`): the child goes straight on to
/// execve and this returns at once, sparing every start two context
/// switches and the /proc reads.
/// `expect` is what the child compares itself with (`Plan::expect`, as
/// tests may alter it).
pub fn start(
    plan: &Plan,
    inherited: &Inherited,
    pipes: Option<&LogPipes>,
    expect: &Expected,
) -> Result<Started, SpawnError> {
    let setup = |what: &str, e: Errno| SpawnError::Setup(format!("{what}: {e}"));
    let (status_r, status_w) = sys::pipe_cloexec().map_err(|e| setup("pipe", e))?;
    let verify = plan.verify();
    let go = match verify {
        Verify::Stop => Some(sys::pipe_cloexec().map_err(|e| setup("pipe", e))?),
        Verify::InChild | Verify::Nothing => None,
    };
    let learn_sock = match &plan.child.learn {
        Some(_) => Some(crate::learn::socketpair().map_err(|e| setup("socketpair", e))?),
        None => None,
    };
    let argv: Vec<*const libc::c_char> = plan
        .exec
        .argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = plan
        .exec
        .envp
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();

    let child = Child {
        plan,
        inherited,
        pipes,
        status_r,
        status_w,
        go,
        learn_sock,
        argv: &argv,
        envp: &envp,
        check: (verify == Verify::InChild).then_some(expect),
    };
    let pid = match go {
        // Not stopping for us: the child shares our memory until its
        // execve, as posix_spawn does, instead of copying it (see
        // `spawn_shared`).
        None if learn_sock.is_none() => spawn_shared(&child).map_err(|e| setup("clone", e))?,
        _ => {
            let pid = sys::fork().map_err(|e| setup("fork", e))?;
            if pid == 0 {
                child.run();
            }
            pid
        }
    };

    sys::close(status_w);
    let go_w = go.map(|(r, w)| {
        sys::close(r);
        w
    });
    let learn_sock = learn_sock.map(|(ours, theirs)| {
        sys::close(theirs);
        ours
    });
    let Some(go_w) = go_w else {
        return Ok(Started {
            pid,
            status_r,
            go_w: None,
            learn_sock,
        });
    };
    match read_record(status_r) {
        Some((Step::Ready, _)) => Ok(Started {
            pid,
            status_r,
            go_w: Some(go_w),
            learn_sock,
        }),
        Some((step, errno)) => {
            sys::close(status_r);
            sys::close(go_w);
            let _ = sys::wait_pid(pid);
            Err(SpawnError::Step(step, errno))
        }
        None => {
            sys::close(status_r);
            sys::close(go_w);
            let status = sys::wait_pid(pid).unwrap_or(0);
            Err(SpawnError::Vanished(describe_status(status)))
        }
    }
}

/// What the child needs between fork and execve, all prepared by the parent.
struct Child<'a> {
    plan: &'a Plan,
    inherited: &'a Inherited,
    pipes: Option<&'a LogPipes>,
    status_r: RawFd,
    status_w: RawFd,
    go: Option<(RawFd, RawFd)>,
    learn_sock: Option<(RawFd, RawFd)>,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
    /// Verify::InChild: what the child compares itself with.
    check: Option<&'a Expected>,
}

impl Child<'_> {
    /// The child process: the steps, then execve; on failure the (step,
    /// errno) record for the parent and an exit code. Never returns.
    fn run(&self) -> ! {
        sys::close(self.status_r);
        let go_r = self.go.map(|(r, w)| {
            sys::close(w);
            r
        });
        let child_sock = self.learn_sock.map(|(ours, theirs)| {
            sys::close(ours);
            theirs
        });
        let Err((step, errno)) = run_child(
            self.plan,
            self.inherited,
            self.pipes,
            self.status_w,
            go_r,
            child_sock,
            self.check,
            self.argv,
            self.envp,
        );
        report(self.status_w, step, errno);
        let code = match (step, errno) {
            (Step::Exec, Errno::ENOENT) => 127,
            (Step::Exec, Errno::EACCES) => 126,
            (Step::Exec, _) if self.plan.tini => 1,
            (Step::Exec, _) => 126,
            _ => 125,
        };
        sys::exit_now(code);
    }
}

/// The child's buffer for its own /proc/self/status (about 1.5 KiB, plus
/// 11 bytes per supplementary group).
pub const STATUS_MAX: usize = 8192;

/// Stack of a child that shares our memory: its path (the steps in
/// `run_child`, plain syscalls, 12 KiB of buffers for its self-check)
/// needs a small part of it.
const SHARED_STACK: usize = 128 * 1024;

/// Start the child with clone(CLONE_VM | CLONE_VFORK): it runs on a stack
/// of its own inside our memory and we are suspended until its execve (or
/// its exit), as posix_spawn does. Nothing is copied: no page tables, no
/// copy-on-write faults in either process, which takes about a tenth of a
/// millisecond off every start. Only for children that do not stop for
/// PID 1 (we could not read their /proc while suspended): they verify
/// themselves or have nothing to verify. The
/// child writes nothing of ours but its own stack (and errno, which we do
/// not read until we run again); its file table is its own copy.
fn spawn_shared(child: &Child) -> Result<libc::pid_t, Errno> {
    extern "C" fn entry(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `&Child` passed to clone below, alive
        // until clone returns, which is after this process exec'd or exited.
        let child = unsafe { &*(arg as *const Child) };
        child.run()
    }
    if child.check.is_some() {
        // The child drops privileges while it still shares our memory. Made
        // non-dumpable, that memory cannot be reached through it by ptrace
        // or process_vm_writev from a process of the same uid that could
        // attach to the child once its capabilities are gone (our own
        // capabilities are still all there). The flag belongs to the
        // memory, so PID 1 keeps it; the program gets a memory of its own,
        // and its own flag, at execve. A uid change sets it the same way.
        sys::prctl(libc::PR_SET_DUMPABLE, 0)?;
    }
    let mut stack = vec![0u8; SHARED_STACK];
    // The stack grows down: pass its (16-byte aligned) top.
    let top = (stack.as_mut_ptr() as usize + SHARED_STACK) & !15;
    // SAFETY: `entry` never returns into clone's caller (execve or _exit);
    // `top` is the top of a live buffer that outlives the child's use of
    // it (CLONE_VFORK: we resume only after its execve or exit).
    let pid = unsafe {
        libc::clone(
            entry,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            child as *const Child as *mut libc::c_void,
        )
    };
    // Before freeing the stack, which may set errno again.
    let result = if pid < 0 { Err(Errno::last()) } else { Ok(pid) };
    drop(stack);
    result
}

impl Started {
    /// Let the verified child exec; Ok once execve succeeded. In `learn`
    /// mode also returns the recording, already answering the child's calls.
    pub fn release(self) -> Result<(libc::pid_t, Option<crate::learn::Learner>), SpawnError> {
        if let Some(go_w) = self.go_w {
            let sent = sys::write(go_w, b"G");
            sys::close(go_w);
            if let Err(e) = sent {
                self.kill_and_reap();
                return Err(SpawnError::Setup(format!("write to the child: {e}")));
            }
        }
        let mut learner = None;
        if let Some(sock) = self.learn_sock {
            let received = crate::learn::receive_listener(sock);
            sys::close(sock);
            match received {
                Ok(fd) => learner = Some(crate::learn::Learner::new(fd)),
                Err(m) => {
                    // The child may have said why (e.g. EBUSY installing
                    // the filter) before the helper gave up.
                    if let Some((step, errno)) = read_record(self.status_r) {
                        sys::close(self.status_r);
                        let _ = sys::wait_pid(self.pid);
                        return Err(SpawnError::Step(step, errno));
                    }
                    self.kill_and_reap();
                    return Err(SpawnError::Setup(m));
                }
            }
        }
        let result = match learner.as_mut() {
            // The child's execve (and an error report) wait for our answer.
            Some(l) => read_record_serving(self.status_r, l),
            None => read_record(self.status_r),
        };
        if let Some((Step::SelfCheck, errno)) = result {
            if errno as i32 == 0 {
                // A difference: the child sent what the kernel reports.
                let status = read_blob(self.status_r);
                let limits = read_blob(self.status_r);
                sys::close(self.status_r);
                let _ = sys::wait_pid(self.pid);
                return Err(SpawnError::Mismatch { status, limits });
            }
        }
        sys::close(self.status_r);
        match result {
            // EOF: the CLOEXEC pipe closed in a successful execve.
            None => Ok((self.pid, learner)),
            Some((step, errno)) => {
                match learner.as_mut() {
                    // Its exit is a recorded syscall too: keep answering.
                    Some(l) => l.reap_serving(self.pid),
                    None => {
                        let _ = sys::wait_pid(self.pid);
                    }
                }
                Err(SpawnError::Step(step, errno))
            }
        }
    }

    /// Kill the child before it ever runs the program.
    pub fn abort(&self) {
        if let Some(go_w) = self.go_w {
            sys::close(go_w);
        }
        self.kill_and_reap();
    }

    /// Kill and reap the child; `go_w` is already closed by the caller.
    fn kill_and_reap(&self) {
        let _ = sys::kill(self.pid, libc::SIGKILL);
        sys::close(self.status_r);
        let _ = sys::wait_pid(self.pid);
    }
}

/// read_record while answering the recording filter's notifications.
fn read_record_serving(fd: RawFd, learner: &mut crate::learn::Learner) -> Option<(Step, Errno)> {
    loop {
        let mut fds = [
            libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: learner.fd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        match sys::poll(&mut fds, -1) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return read_record(fd),
        }
        if fds[1].revents & libc::POLLIN != 0 && learner.serve_one().is_err() {
            return read_record(fd);
        }
        if fds[0].revents != 0 {
            return read_record(fd);
        }
    }
}

fn read_record(fd: RawFd) -> Option<(Step, Errno)> {
    let mut buf = [0u8; RECORD];
    let mut got = 0;
    while got < RECORD {
        match sys::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    if got < RECORD {
        return None;
    }
    let step = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
    Some((
        Step::from_u32(step).unwrap_or(Step::Exec),
        Errno::from_raw(errno),
    ))
}

/// The largest text a self-check sends (/proc/self/status is about 1.5 KiB).
const BLOB_MAX: usize = 16 * 1024;

/// A length-prefixed text from the status pipe; empty if cut short.
fn read_blob(fd: RawFd) -> String {
    let mut len = [0u8; 4];
    if !matches!(sys::read_all(fd, &mut len), Ok(4)) {
        return String::new();
    }
    let mut buf = vec![0u8; (u32::from_ne_bytes(len) as usize).min(BLOB_MAX)];
    let n = sys::read_all(fd, &mut buf).unwrap_or(0);
    buf.truncate(n);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The child's half of a self-check difference: the record, then the two
/// texts, length-prefixed. A sharing child's parent is suspended until it
/// exits, so nobody drains the pipe meanwhile, and a pipe can be as small
/// as one page (a user over pipe-user-pages-soft): the write end goes
/// non-blocking and what does not fit is dropped (PID 1 then names the
/// fields it could not read as missing). The 8-byte record always fits.
fn report_mismatch(fd: RawFd, status: &[u8], limits: &[u8]) {
    let _ = sys::set_nonblocking(fd, true);
    report(fd, Step::SelfCheck, Errno::from_raw(0));
    for text in [status, limits] {
        let text = &text[..text.len().min(BLOB_MAX)];
        if !(write_now(fd, &(text.len() as u32).to_ne_bytes()) && write_now(fd, text)) {
            return;
        }
    }
}

/// Write all of `buf` to a non-blocking `fd` with write(2) alone (the
/// profile guarantees write, not poll); false once the pipe is full.
fn write_now(fd: RawFd, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        match sys::write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
    true
}

fn report(fd: RawFd, step: Step, errno: Errno) {
    let mut buf = [0u8; RECORD];
    buf[..4].copy_from_slice(&(step as u32).to_ne_bytes());
    buf[4..].copy_from_slice(&(errno as i32).to_ne_bytes());
    // Nothing else can be done if the parent is gone.
    let _ = sys::write(fd, &buf);
}

pub fn describe_status(status: libc::c_int) -> String {
    if libc::WIFSIGNALED(status) {
        format!("killed by {}", crate::signals::name(libc::WTERMSIG(status)))
    } else {
        format!("exited with status {}", libc::WEXITSTATUS(status))
    }
}

type Failure = (Step, Errno);

fn step<T>(s: Step, r: sys::SysResult<T>) -> Result<T, Failure> {
    r.map_err(|e| (s, e))
}

/// The child path. Never returns Ok: execve replaces it.
#[allow(clippy::too_many_arguments)]
fn run_child(
    plan: &Plan,
    inherited: &Inherited,
    pipes: Option<&LogPipes>,
    status_w: RawFd,
    go_r: Option<RawFd>,
    learn_sock: Option<RawFd>,
    check: Option<&Expected>,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> Result<std::convert::Infallible, Failure> {
    let c = &plan.child;

    // 0. The self-check's files, opened before Landlock and seccomp can
    // refuse an open (/proc generates the text at the first read, after
    // the last step).
    let (status_fd, limits_fd) = match check {
        Some(_) => (
            Some(step(Step::SelfCheck, sys::open_read(c"/proc/self/status"))?),
            match c.rlimits.is_empty() {
                true => None,
                false => Some(step(Step::SelfCheck, sys::open_read(c"/proc/self/limits"))?),
            },
        ),
        None => (None, None),
    };

    // 1-2. Own process group, and the terminal's foreground if there is
    // one. Done while SIGTTOU is still ignored (as tini does): tcsetpgrp
    // from a background group would otherwise stop us.
    step(Step::ProcessGroup, sys::setpgid_self())?;
    match sys::take_terminal() {
        // No terminal: nothing to take.
        Ok(()) | Err(Errno::ENOTTY) | Err(Errno::ENXIO) => {}
        Err(e) => return Err((Step::Terminal, e)),
    }
    step(
        Step::SignalDisposition,
        sys::restore_disposition(libc::SIGTTIN, &inherited.ttin),
    )?;
    step(
        Step::SignalDisposition,
        sys::restore_disposition(libc::SIGTTOU, &inherited.ttou),
    )?;
    step(
        Step::SignalDisposition,
        sys::restore_disposition(libc::SIGPIPE, &inherited.pipe),
    )?;
    step(
        Step::SignalDisposition,
        sys::restore_disposition(libc::SIGCHLD, &inherited.chld),
    )?;
    step(Step::SignalMask, sys::set_sigmask(&inherited.mask))?;

    // 3. Log pipes onto stdout and stderr (dup2 clears CLOEXEC on the copies).
    if let Some(p) = pipes {
        step(Step::Stdio, sys::dup2(p.stdout.1, libc::STDOUT_FILENO))?;
        step(Step::Stdio, sys::dup2(p.stderr.1, libc::STDERR_FILENO))?;
    }

    // 4. rlimits, while we may still hold CAP_SYS_RESOURCE.
    for l in &c.rlimits {
        step(Step::Rlimit, sys::setrlimit(l.resource, l.soft, l.hard))?;
    }

    // 5. no_new_privs: from here on execve cannot gain privileges.
    if c.no_new_privs {
        step(Step::NoNewPrivs, sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1))?;
    } else if let Some(s) = &c.seccomp {
        // Without no_new_privs the kernel wants CAP_SYS_ADMIN to install a
        // filter, so it goes in now, before the capability drop.
        s.install()
            .map_err(|e| (Step::SeccompEarly, Errno::from_raw(e)))?;
    }

    // 6. Bounding set: needs CAP_SETPCAP, so before the uid change.
    if let Some(caps) = &c.caps {
        if caps.drop_bounding {
            for cap in 0..=caps.cap_last_cap {
                if caps.keep & (1 << cap) == 0 {
                    step(
                        Step::BoundingSet,
                        sys::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong),
                    )?;
                }
            }
        }
    }

    // 7. Groups, gid, uid. KEEPCAPS keeps the permitted set across
    // setresuid when a non-root user keeps capabilities.
    if let Some(id) = c.identity.as_ref().filter(|_| c.switch_ids) {
        if c.caps.as_ref().is_some_and(|caps| caps.keep != 0) && id.uid != 0 {
            step(Step::KeepCaps, sys::prctl(libc::PR_SET_KEEPCAPS, 1))?;
        }
        step(Step::SetGroups, sys::setgroups(&id.groups))?;
        step(Step::SetGid, sys::setresgid(id.gid))?;
        step(Step::SetUid, sys::setresuid(id.uid))?;
    }

    // 8. The remaining sets; ambient makes kept capabilities survive
    // execve for a non-root user (and for root it is the same set).
    if let Some(caps) = &c.caps {
        step(Step::Capset, sys::capset(caps.keep, caps.keep, caps.keep))?;
        step(
            Step::AmbientClear,
            sys::prctl3(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
                0,
            ),
        )?;
        for cap in 0..=caps.cap_last_cap {
            if caps.keep & (1 << cap) != 0 {
                step(
                    Step::AmbientRaise,
                    sys::prctl3(
                        libc::PR_CAP_AMBIENT,
                        libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                        cap as libc::c_ulong,
                    ),
                )?;
            }
        }
    }

    // 8b. Landlock: needs no_new_privs (or CAP_SYS_ADMIN); before seccomp
    // so the filter need not allow the Landlock syscalls.
    if let Some(l) = &c.landlock {
        l.enforce()
            .map_err(|e| (Step::Landlock, Errno::from_raw(e)))?;
    }

    // 9. seccomp, last: after it only write, read and execve run.
    if c.no_new_privs {
        if let Some(s) = &c.seccomp {
            s.install()
                .map_err(|e| (Step::Seccomp, Errno::from_raw(e)))?;
        }
    }

    // Verification by the child itself: the kernel's view after the last
    // step, compared with the plan without allocating. A difference goes
    // to PID 1 as text; the program never starts.
    if let (Some(expect), Some(fd)) = (check, status_fd) {
        let mut status = [0u8; STATUS_MAX];
        let n = step(Step::SelfCheck, sys::read_all(fd, &mut status))?;
        let mut limits = [0u8; 4096];
        let m = match limits_fd {
            Some(fd) => step(Step::SelfCheck, sys::read_all(fd, &mut limits))?,
            None => 0,
        };
        // A full buffer may have cut the text: fail closed rather than
        // compare half of it (`Plan::verify` sends long group lists to the
        // stopping path, where PID 1 reads any length).
        if n == status.len() || m == limits.len() {
            return Err((Step::SelfCheck, Errno::E2BIG));
        }
        // The first line is `Name:`, the command name as raw bytes (not
        // always UTF-8); every other line is ASCII and none is compared.
        let after_name = status[..n]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(n, |i| i + 1);
        let status_text = std::str::from_utf8(&status[after_name..n]).unwrap_or("");
        let limits_text = std::str::from_utf8(&limits[..m]).unwrap_or("");
        if !(crate::report::matches(expect, status_text)
            && crate::report::limits_match(&c.rlimits, limits_text))
        {
            report_mismatch(status_w, &status[..n], &limits[..m]);
            sys::exit_now(125);
        }
    }

    // Verification: PID 1 reads /proc/<pid>/status and lets us go on.
    if let Some(go_r) = go_r {
        report(status_w, Step::Ready, Errno::from_raw(0));
        let mut go = [0u8; 1];
        match sys::read(go_r, &mut go) {
            Ok(1) if go[0] == b'G' => {}
            Ok(_) => return Err((Step::Handshake, Errno::ECANCELED)),
            Err(e) => return Err((Step::Handshake, e)),
        }
    }

    // `learn`: the recording filter goes in after verification, so that
    // from here only execve runs (and is recorded).
    if let (Some(l), Some(sock)) = (&c.learn, learn_sock) {
        crate::learn::install_in_child(l, sock).map_err(|e| (Step::Learn, e))?;
    }

    // 10. execve; the CLOEXEC status pipe closes when it succeeds.
    Err((Step::Exec, sys::execve(&plan.exec.path, argv, envp)))
}

/// Create the two log pipes (CLOEXEC; the child dup2s its ends onto 1 and 2).
pub fn log_pipes() -> Result<LogPipes, SpawnError> {
    let setup = |e: Errno| SpawnError::Setup(format!("pipe for the program's output: {e}"));
    let stdout = sys::pipe_cloexec().map_err(setup)?;
    let stderr = sys::pipe_cloexec().map_err(setup)?;
    Ok(LogPipes { stdout, stderr })
}
