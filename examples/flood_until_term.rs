//! Test fixture: writes lines to stdout as fast as it can from a thread
//! until stdout blocks, then reports `ready` on the FIFO given as argument;
//! on SIGTERM it writes `TERM` to the FIFO and exits 0 at once.
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let fifo = std::env::args()
        .nth(1)
        .expect("usage: flood_until_term FIFO");
    // Block SIGTERM in every thread; the main thread takes it with sigwait.
    // SAFETY: plain sigset manipulation on local values.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    let written = Arc::new(AtomicU64::new(0));
    let w = written.clone();
    std::thread::spawn(move || {
        let line = [b'x'; 99];
        let mut out = std::io::stdout().lock();
        loop {
            if out
                .write_all(&line)
                .and_then(|_| out.write_all(b"\n"))
                .is_err()
            {
                return;
            }
            w.fetch_add(100, Ordering::Relaxed);
        }
    });
    // Blocked = no progress for 300 ms after at least one pipe's worth.
    let mut last = 0;
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = written.load(Ordering::Relaxed);
        if now != last {
            last = now;
            since = Instant::now();
        } else if now > 65536 && since.elapsed() > Duration::from_millis(300) {
            break;
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open fifo");
    writeln!(f, "ready {last}").unwrap();
    let mut sig = 0;
    // SAFETY: set is a valid sigset; sig is a valid out pointer.
    unsafe { libc::sigwait(&set, &mut sig) };
    writeln!(f, "TERM").unwrap();
    // SAFETY: leave at once, without flushing the blocked stdout.
    unsafe { libc::_exit(0) };
}
