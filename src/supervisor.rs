//! PID 1's event loop: one thread, one wait point (poll over a signalfd, the
//! child's log pipes and, when output is pending, our stdout).
//!
//! Signals are forwarded and children reaped as soon as poll returns, even
//! while stdout is blocked by a slow reader: output is written non-blocking
//! and, past a high-water mark, we simply stop reading the child's pipes so
//! the child blocks instead of anything being dropped. No timers run except
//! the `--grace` and exit-drain deadlines: zero wake-ups while idle.

use crate::learn::Learner;
use crate::mozlog::{Envelope, Framer};
use crate::plan::Plan;
use crate::{events, signals, sys};
use nix::errno::Errno;
use std::os::fd::RawFd;

/// Stop reading the child's pipes while this much output is queued.
const HIGH_WATER: usize = 1 << 20;
const READ_CHUNK: usize = 64 * 1024;
/// After the main child exits, how long an idle log pipe may stay open
/// (a grandchild holding it) before we stop waiting for EOF.
const DRAIN_IDLE_NS: u64 = 500_000_000;
/// After the main child exits, the longest we keep reading pipes that a
/// grandchild keeps busy: the container must be able to end.
const DRAIN_MAX_NS: u64 = 2_000_000_000;
/// After the main child exits, how long stdout may accept nothing before we
/// give up on the remaining output.
const FLUSH_STALL_NS: u64 = 5_000_000_000;
/// Pipe buffer for the child's output: fewer wake-ups per megabyte.
const PIPE_SIZE: libc::c_int = 1 << 18;

struct Stream {
    fd: RawFd,
    framer: Framer,
    open: bool,
}

/// Pending output for our stdout, written without blocking.
struct Output {
    buf: Vec<u8>,
    off: usize,
    broken: bool,
    last_progress: u64,
}

impl Output {
    fn pending(&self) -> usize {
        self.buf.len() - self.off
    }

    fn flush(&mut self) {
        while self.pending() > 0 && !self.broken {
            match sys::write(libc::STDOUT_FILENO, &self.buf[self.off..]) {
                Ok(n) => {
                    self.off += n;
                    self.last_progress = sys::monotonic_ns();
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(e) => {
                    // EPIPE/EIO: nobody will ever read. PID 1 keeps running
                    // the program; its output has nowhere to go.
                    self.broken = true;
                    let msg = format!("hardinit: stdout failed ({e}); the program's output is discarded from now on\n");
                    let _ = sys::write(libc::STDERR_FILENO, msg.as_bytes());
                }
            }
        }
        if self.broken || self.off == self.buf.len() {
            self.buf.clear();
            self.off = 0;
        } else if self.off > self.buf.len() / 2 {
            self.buf.drain(..self.off);
            self.off = 0;
        }
    }
}

pub struct Supervisor<'a> {
    plan: &'a Plan,
    child: libc::pid_t,
    sigfd: RawFd,
    streams: Vec<Stream>,
    out: Output,
    read_buf: Vec<u8>,
    main_status: Option<libc::c_int>,
    /// Children are gone (waitpid said ECHILD).
    no_children: bool,
    grace_deadline: Option<u64>,
    cleanup_deadline: Option<u64>,
    last_read: u64,
    is_pid1: bool,
    self_pid: libc::pid_t,
    /// `learn`: the recording, served next to signals and logs.
    learner: Option<Learner>,
    learn_deadline: Option<u64>,
    /// When the main child was reaped (monotonic ns).
    main_exit_at: u64,
    /// SIGKILL already went to the leftovers.
    leftovers_killed: bool,
}

impl<'a> Supervisor<'a> {
    /// `pipes`: our read ends of the child's stdout and stderr (mozlog mode).
    pub fn new(
        plan: &'a Plan,
        child: libc::pid_t,
        sigfd: RawFd,
        pipes: Option<(RawFd, RawFd)>,
        learner: Option<Learner>,
    ) -> Supervisor<'a> {
        let learn_deadline = plan
            .child
            .learn
            .as_ref()
            .and_then(|l| l.duration)
            .map(|d| sys::monotonic_ns() + d.as_nanos() as u64);
        let mut streams = Vec::new();
        if let (Some((out_fd, err_fd)), Some(log)) = (pipes, &plan.log) {
            for (fd, kind, severity) in [
                (out_fd, "stdout", log.stdout_severity),
                (err_fd, "stderr", log.stderr_severity),
            ] {
                let envelope = Envelope {
                    kind,
                    logger: log.logger.clone(),
                    hostname: log.hostname.clone(),
                    severity,
                    pid: child as u32,
                };
                // Non-blocking so one read never stalls the loop; a bigger
                // pipe is only an optimisation (EPERM above the system
                // limit is fine).
                let _ = sys::set_nonblocking(fd, true);
                // SAFETY: F_SETPIPE_SZ takes an integer size.
                unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_SIZE) };
                streams.push(Stream {
                    fd,
                    framer: Framer::new(&envelope, log.max_line),
                    open: true,
                });
            }
        }
        Supervisor {
            plan,
            child,
            sigfd,
            streams,
            out: Output {
                buf: Vec::with_capacity(if pipes.is_some() { 256 * 1024 } else { 0 }),
                off: 0,
                broken: false,
                last_progress: 0,
            },
            read_buf: vec![0; if pipes.is_some() { READ_CHUNK } else { 0 }],
            main_status: None,
            no_children: false,
            grace_deadline: None,
            cleanup_deadline: None,
            last_read: 0,
            is_pid1: sys::getpid() == 1,
            self_pid: sys::getpid(),
            learner,
            learn_deadline,
            main_exit_at: u64::MAX,
            leftovers_killed: false,
        }
    }

    /// Run until the main child is reaped and its output written; returns
    /// its wait status.
    pub fn run(mut self) -> libc::c_int {
        // Signals that arrived before the loop are waiting in the signalfd;
        // a child that exited already is waiting for waitpid.
        self.reap_all();
        loop {
            self.collect_events();
            self.out.flush();
            let now = sys::monotonic_ns();
            self.check_deadlines(now);
            if self.finished(now) {
                break;
            }
            // At most five fds: a fixed array, nothing allocated per wake-up.
            let mut fds = PollSet::default();
            fds.push(pollfd(self.sigfd, libc::POLLIN));
            let reading = self.out.pending() < HIGH_WATER;
            let draining_stale = self.main_status.is_some() && reading && self.drain_over(now);
            for s in &self.streams {
                if s.open && reading && !draining_stale {
                    fds.push(pollfd(s.fd, libc::POLLIN));
                }
            }
            if self.out.pending() > 0 && !self.out.broken {
                fds.push(pollfd(libc::STDOUT_FILENO, libc::POLLOUT));
            }
            if let Some(l) = &self.learner {
                fds.push(pollfd(l.fd, libc::POLLIN));
            }
            let timeout = self.poll_timeout(now);
            match sys::poll(fds.as_mut_slice(), timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => {
                    // Only ENOMEM is possible here; back off instead of spinning.
                    tracing::error!("poll failed: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
            for p in fds.as_slice() {
                if p.revents == 0 {
                    continue;
                }
                if p.fd == self.sigfd {
                    self.handle_signals();
                } else if self.learner.as_ref().is_some_and(|l| l.fd == p.fd) {
                    self.serve_learner(p.revents);
                } else if p.fd != libc::STDOUT_FILENO {
                    self.read_stream(p.fd);
                }
            }
        }
        if let Some(status) = self.main_status {
            self.log_exit(status);
        }
        if self.out.broken {
            // Nobody takes our stdout: our own records cannot go out either.
            let mut discard = Vec::new();
            events::take(&mut discard);
        }
        if self.learner.is_some() {
            self.save_profile();
            if let (Some(l), Some(p)) = (&self.learner, &self.plan.child.learn) {
                let summary = l.summary(p);
                if events::is_mozlog() {
                    tracing::info!(event = "learn_summary", "{summary}");
                } else {
                    let _ = sys::write_all(
                        libc::STDERR_FILENO,
                        format!("hardinit learn: {summary}\n").as_bytes(),
                    );
                }
            }
        }
        self.main_status.unwrap_or(0)
    }

    /// Write what was learned so far (on exit, SIGTERM/SIGINT, --duration).
    fn save_profile(&self) {
        if let (Some(l), Some(p)) = (&self.learner, &self.plan.child.learn) {
            if let Err(e) = l.write_profile(p) {
                tracing::error!("learn: {e}");
            }
        }
    }

    fn serve_learner(&mut self, revents: libc::c_short) {
        let Some(l) = self.learner.as_mut() else {
            return;
        };
        if revents & libc::POLLIN != 0 {
            if let Err(e) = l.serve_one() {
                tracing::error!("learn: answering a notification failed: {e}");
            }
        } else if revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            // No filtered task is left: nothing more to record. Keep the
            // learner for the profile, stop polling its fd.
            l.fd = -1;
        }
    }

    fn collect_events(&mut self) {
        if events::is_mozlog() {
            events::take(&mut self.out.buf);
        }
    }

    fn finished(&mut self, now: u64) -> bool {
        if self.main_status.is_none() {
            return false;
        }
        if self.cleanup_deadline.is_some() && !self.no_children {
            return false;
        }
        // A reader that takes nothing for FLUSH_STALL_NS after the program
        // exited will never take it: leave rather than hang.
        if self.out.pending() > 0
            && !self.out.broken
            && now.saturating_sub(self.out.last_progress) >= FLUSH_STALL_NS
        {
            let msg = format!(
                "hardinit: stdout accepted nothing for {}s after the program exited; {} bytes of output dropped\n",
                FLUSH_STALL_NS / 1_000_000_000,
                self.out.pending()
            );
            let _ = sys::write(libc::STDERR_FILENO, msg.as_bytes());
            self.out.broken = true;
            return true;
        }
        let streams_done =
            self.streams.iter().all(|s| !s.open) || (self.reading() && self.drain_over(now));
        if !streams_done {
            return false;
        }
        // A grandchild holds a pipe open: take what it wrote, then go.
        for s in self.streams.iter_mut().filter(|s| s.open) {
            s.framer.finish(sys::realtime_ns(), &mut self.out.buf);
            s.open = false;
        }
        self.out.pending() == 0 || self.out.broken
    }

    /// Below the high-water mark: the program's pipes are being read.
    fn reading(&self) -> bool {
        self.out.pending() < HIGH_WATER
    }

    /// After the main child exited: the pipes have been silent for
    /// DRAIN_IDLE_NS, or DRAIN_MAX_NS have passed, or a terminating signal
    /// asked us to go.
    fn drain_over(&self, now: u64) -> bool {
        now >= self.drain_deadline()
    }

    fn drain_deadline(&self) -> u64 {
        (self.last_read + DRAIN_IDLE_NS).min(self.main_exit_at.saturating_add(DRAIN_MAX_NS)) + 1
    }

    fn poll_timeout(&self, now: u64) -> libc::c_int {
        let exited = self.main_status.is_some();
        // The drain deadline only runs while we read (back-pressure pauses
        // it); the stall deadline only while output waits.
        let drain = (exited && self.reading() && self.streams.iter().any(|s| s.open))
            .then(|| self.drain_deadline());
        let stall = (exited && self.out.pending() > 0 && !self.out.broken)
            .then_some(self.out.last_progress + FLUSH_STALL_NS);
        let nearest = [
            self.grace_deadline,
            self.cleanup_deadline,
            self.learn_deadline,
            drain,
            stall,
        ]
        .into_iter()
        .flatten()
        .min();
        match nearest {
            None => -1,
            Some(d) => {
                (d.saturating_sub(now).div_ceil(1_000_000)).min(i32::MAX as u64) as libc::c_int
            }
        }
    }

    fn check_deadlines(&mut self, now: u64) {
        if let Some(d) = self.learn_deadline {
            if now >= d {
                self.learn_deadline = None;
                self.save_profile();
                tracing::warn!(
                    event = "learn_duration",
                    "learn: --duration reached; profile written, stopping the program with SIGTERM"
                );
                self.forward(libc::SIGTERM);
            }
        }
        if let Some(d) = self.grace_deadline {
            if now >= d && self.main_status.is_none() {
                tracing::warn!(
                    event = "grace_expired",
                    "{} did not exit within the grace period; sending SIGKILL to its process group",
                    self.plan.program
                );
                let _ = sys::kill(-self.child, libc::SIGKILL);
                let _ = sys::kill(self.child, libc::SIGKILL);
                self.grace_deadline = None;
            }
        }
        if let Some(d) = self.cleanup_deadline {
            if now >= d && !self.no_children {
                if self.leftovers_killed {
                    // A process outside our reach (not PID 1, and it left the
                    // program's process group) survives: stop waiting for it.
                    tracing::warn!("leftover processes remain after SIGKILL; exiting without them");
                    self.no_children = true;
                } else {
                    tracing::warn!(
                        event = "grace_expired",
                        "leftover processes did not exit within the grace period; sending SIGKILL"
                    );
                    self.signal_leftovers(libc::SIGKILL);
                    self.leftovers_killed = true;
                    self.cleanup_deadline = Some(now + 1_000_000_000);
                }
            }
        }
    }

    fn handle_signals(&mut self) {
        // SAFETY: signalfd_siginfo is plain data; zeroes are a valid value.
        let mut batch: [libc::signalfd_siginfo; 8] = unsafe { std::mem::zeroed() };
        loop {
            let n = match sys::read_signals(self.sigfd, &mut batch) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    tracing::error!("reading signals failed: {e}");
                    return;
                }
            };
            for info in &batch[..n] {
                let sig = info.ssi_signo as i32;
                if sig == libc::SIGCHLD {
                    self.reap_all();
                } else if info.ssi_pid as libc::pid_t == self.self_pid {
                    // Raised by our own doing (SIGPIPE from a closed
                    // stdout, SIGXFSZ from a full file): not the
                    // program's business.
                } else {
                    if self.learner.is_some() && (sig == libc::SIGTERM || sig == libc::SIGINT) {
                        // Keep what was learned even if the program hangs.
                        self.save_profile();
                    }
                    self.forward(sig);
                }
            }
            // A short read took everything pending; what arrives later
            // makes the signalfd readable again for the next poll.
            if n < batch.len() {
                return;
            }
        }
    }

    fn forward(&mut self, sig: i32) {
        let Some(to) = self.plan.rewrites.apply(sig) else {
            tracing::debug!(
                event = "signal_dropped",
                signal = signals::name(sig),
                "Dropping signal: '{}'",
                signals::name(sig)
            );
            return;
        };
        if self.main_status.is_some() {
            if self.cleanup_deadline.is_some() {
                self.signal_leftovers(to);
            } else if signals::is_terminating(to) {
                // Asked to stop while draining: stop waiting for the pipes.
                self.main_exit_at = 0;
            }
            return;
        }
        let target = if self.plan.kill_group {
            -self.child
        } else {
            self.child
        };
        tracing::debug!(
            event = "signal_forwarded",
            signal = signals::name(to),
            received = signals::name(sig),
            "Passing signal: '{}'",
            signals::name(to)
        );
        match sys::kill(target, to) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => tracing::warn!(
                "Unexpected error when forwarding signal: '{}': {e}",
                signals::name(to)
            ),
        }
        if signals::is_terminating(to) && self.grace_deadline.is_none() {
            if let Some(g) = self.plan.grace {
                self.grace_deadline = Some(sys::monotonic_ns() + g.as_nanos() as u64);
            }
        }
    }

    /// Every exit is collected: SIGCHLD coalesces, so one signal may stand
    /// for many children; waitpid until nothing is left.
    fn reap_all(&mut self) {
        loop {
            match sys::reap_one() {
                Ok(Some((pid, status))) => {
                    if pid == self.child {
                        self.main_exited(status);
                    } else if self.plan.warn_reap {
                        tracing::warn!(
                            event = "zombie_reaped",
                            pid = pid,
                            "Reaped zombie process with pid={pid}"
                        );
                    } else {
                        tracing::debug!(
                            event = "zombie_reaped",
                            pid = pid,
                            "Reaped zombie process with pid={pid}"
                        );
                    }
                }
                Ok(None) => return,
                Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => {
                    self.no_children = true;
                    return;
                }
                Err(e) => {
                    tracing::error!("waitpid failed: {e}");
                    return;
                }
            }
        }
    }

    fn main_exited(&mut self, status: libc::c_int) {
        self.main_status = Some(status);
        self.grace_deadline = None;
        let now = sys::monotonic_ns();
        self.last_read = now;
        self.main_exit_at = now;
        // The stall clock for leftover output starts now at the earliest.
        self.out.last_progress = self.out.last_progress.max(now);
        if let Some(g) = self.plan.grace {
            // Give the program's leftovers the same grace, then SIGKILL.
            self.cleanup_deadline = Some(sys::monotonic_ns() + g.as_nanos() as u64);
            self.signal_leftovers(libc::SIGTERM);
        }
    }

    /// Logged once the program's output is out, so the record that says
    /// it exited comes after its last line.
    fn log_exit(&self, status: libc::c_int) {
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            tracing::info!(
                event = "child_exited",
                pid = self.child,
                signal = signals::name(sig),
                "Main child exited with signal (with signal '{}')",
                signals::name(sig)
            );
        } else {
            let code = libc::WEXITSTATUS(status);
            tracing::info!(
                event = "child_exited",
                pid = self.child,
                status = code,
                "Main child exited normally (with status '{code}')"
            );
        }
    }

    /// As PID 1 every other process in the namespace is ours to end
    /// (kill(-1) skips the caller); otherwise only the program's group.
    fn signal_leftovers(&self, sig: i32) {
        let target = if self.is_pid1 { -1 } else { -self.child };
        match sys::kill(target, sig) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(e) => tracing::warn!("signalling leftover processes failed: {e}"),
        }
    }

    fn read_stream(&mut self, fd: RawFd) {
        let Some(idx) = self.streams.iter().position(|s| s.fd == fd) else {
            return;
        };
        // A few reads per wake-up amortise poll; stop at the high-water mark.
        for _ in 0..4 {
            if self.out.pending() >= HIGH_WATER {
                break;
            }
            match sys::read(fd, &mut self.read_buf) {
                Ok(0) => {
                    let s = &mut self.streams[idx];
                    s.framer.finish(sys::realtime_ns(), &mut self.out.buf);
                    s.open = false;
                    sys::close(fd);
                    break;
                }
                Ok(n) => {
                    let ts = sys::realtime_ns();
                    self.streams[idx]
                        .framer
                        .push(&self.read_buf[..n], ts, &mut self.out.buf);
                    self.last_read = sys::monotonic_ns();
                    if n < self.read_buf.len() {
                        break;
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(e) => {
                    tracing::error!("reading the program's output failed: {e}");
                    self.streams[idx].open = false;
                    sys::close(fd);
                    break;
                }
            }
        }
    }
}

/// The loop's poll set: signalfd, two pipes, stdout, the learn listener.
#[derive(Default)]
struct PollSet {
    fds: [libc::pollfd; 5],
    len: usize,
}

impl PollSet {
    fn push(&mut self, p: libc::pollfd) {
        self.fds[self.len] = p;
        self.len += 1;
    }
    fn as_slice(&self) -> &[libc::pollfd] {
        &self.fds[..self.len]
    }
    fn as_mut_slice(&mut self) -> &mut [libc::pollfd] {
        &mut self.fds[..self.len]
    }
}

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}
