//! Fixture for the exit-status tests.
//!
//!   exit_with N          exit with status N (0-255)
//!   exit_with signal N   die of signal N (default action, no core file)

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [n] => std::process::exit(n.parse().expect("exit status")),
        ["signal", n] => {
            let sig: i32 = n.parse().expect("signal number");
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: plain syscalls on valid values; the set is initialised
            // by sigemptyset before use.
            unsafe {
                libc::setrlimit(libc::RLIMIT_CORE, &no_core);
                libc::signal(sig, libc::SIG_DFL);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, sig);
                libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
                libc::raise(sig);
            }
            // A signal whose default action is to ignore (or stop) lands here.
            std::process::exit(100);
        }
        _ => {
            eprintln!("usage: exit_with N | exit_with signal N");
            std::process::exit(2);
        }
    }
}
