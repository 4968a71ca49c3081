//! Fixture: block SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGQUIT, print
//! `ready`, then wait for them with sigwait and print `signal N` for each;
//! SIGHUP and SIGUSR1 wait for the next one, the others end it with exit 0.
//! The test synchronises on `ready` (no signal is sent before the program
//! can receive it) and on each `signal N` line.
//!
//!   h_signal

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: the sigset is initialised by sigemptyset before use; the
    // mask is changed before any other thread exists.
    let sig = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGUSR1,
            libc::SIGQUIT,
        ] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        println!("ready");
        let _ = std::io::stdout().flush();
        loop {
            let mut sig = 0;
            if libc::sigwait(&set, &mut sig) != 0 {
                return ExitCode::from(3);
            }
            println!("signal {sig}");
            let _ = std::io::stdout().flush();
            if sig != libc::SIGHUP && sig != libc::SIGUSR1 {
                break sig;
            }
        }
    };
    let _ = sig;
    ExitCode::SUCCESS
}
