//! Fixture for the reaping tests: makes N orphans by double fork (each
//! grandchild exits at once and is re-parented to PID 1 or the subreaper,
//! i.e. to our parent), then waits until our parent has reaped them all.
//!
//!   orphans N          prints `reaped N zombies=0 leftovers=0`, exits 0;
//!                      after 20 s with some left it prints the counts, exits 1
//!   orphans N --burst CODE
//!                      the N grandchildren block on a pipe instead; exit CODE
//!                      at once, which ends all of them together with us
//!
//! Counted from /proc: `leftovers` are processes other than us whose parent
//! is our parent (orphans not yet reaped, zombie or not); `zombies` are those
//! in state Z, and, when our parent is PID 1 of the namespace, every zombie
//! in it.

use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

/// (state, ppid) of a process from /proc/<pid>/stat.
fn stat(pid: &str) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: split after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// (zombies, leftovers) as described above.
fn count() -> (usize, usize) {
    // SAFETY: no arguments.
    let (me, parent) = unsafe { (libc::getpid(), libc::getppid()) };
    let (mut zombies, mut leftovers) = (0, 0);
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return (usize::MAX, usize::MAX);
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Some((state, ppid)) = stat(&name) else {
            continue;
        };
        if ppid == parent {
            leftovers += 1;
        }
        if state == 'Z' && (ppid == parent || parent == 1) {
            zombies += 1;
        }
    }
    (zombies, leftovers)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .expect("orphans N");
    let burst: Option<i32> = match args.get(1).map(String::as_str) {
        Some("--burst") => Some(
            args.get(2)
                .and_then(|a| a.parse().ok())
                .expect("--burst CODE"),
        ),
        None => None,
        Some(other) => panic!("unknown argument {other}"),
    };
    let mut gate = [-1; 2];
    if burst.is_some() {
        // SAFETY: gate is a valid array of two ints.
        assert_eq!(unsafe { libc::pipe(gate.as_mut_ptr()) }, 0);
    }
    for _ in 0..n {
        // SAFETY: single-threaded; children run plain syscalls and _exit.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                if libc::fork() == 0 && burst.is_some() {
                    // Grandchild: wait for the gate to close (our exit).
                    libc::close(gate[1]);
                    let mut b = [0u8; 1];
                    libc::read(gate[0], b.as_mut_ptr().cast(), 1);
                }
                libc::_exit(0);
            }
            assert!(pid > 0, "fork failed");
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    if let Some(code) = burst {
        println!("released {n}");
        std::process::exit(code);
    }
    let deadline = Instant::now() + LIMIT;
    loop {
        let (zombies, leftovers) = count();
        if (zombies, leftovers) == (0, 0) || Instant::now() >= deadline {
            println!("reaped {n} zombies={zombies} leftovers={leftovers}");
            std::process::exit(if zombies + leftovers == 0 { 0 } else { 1 });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
