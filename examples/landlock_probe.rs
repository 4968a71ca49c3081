//! Fixture for tests of the Landlock options: tries each operation given
//! on the command line and prints one line per operation, "OP ARG: ok" or
//! "OP ARG: EACCES" (the errno name), so a test can run it as the hardened
//! program and compare its output.
//!
//!   landlock_probe [OP ARG]...
//!   write PATH     open an existing file O_WRONLY|O_APPEND, write nothing
//!   create PATH    create a new file (O_EXCL), then remove it again
//!   truncate PATH  truncate(2) to its current length (content unchanged)
//!   mkdir PATH     create a directory, then remove it again
//!   read PATH      open for reading
//!   exec PATH      run PATH without arguments; "ok: exit N" when it ran
//!   bind PORT      bind a TCP socket to 127.0.0.1:PORT
//!   connect PORT   connect to 127.0.0.1:PORT (ECONNREFUSED: allowed, closed)
//!
//! Exit status 0 when every operation was tried, 2 on a usage error.

use std::fs::{self, OpenOptions};
use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, ExitCode};

fn ok<T>(_: T) -> String {
    "ok".to_string()
}

fn probe(op: &str, arg: &str) -> Result<io::Result<String>, String> {
    let port = || arg.parse::<u16>().map_err(|_| format!("bad port {arg:?}"));
    Ok(match op {
        "write" => OpenOptions::new().append(true).open(arg).map(ok),
        "create" => OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(arg)
            .and_then(|_| fs::remove_file(arg))
            .map(ok),
        "truncate" => OpenOptions::new()
            .read(true)
            .open(arg)
            .and_then(|f| f.metadata())
            .and_then(|m| nix_truncate(arg, m.len()))
            .map(ok),
        "mkdir" => fs::create_dir(arg)
            .and_then(|_| fs::remove_dir(arg))
            .map(ok),
        "read" => fs::File::open(arg).map(ok),
        "exec" => Command::new(arg)
            .status()
            .map(|s| format!("ok: exit {}", s.code().unwrap_or(-1))),
        "bind" => TcpListener::bind((Ipv4Addr::LOCALHOST, port()?)).map(ok),
        "connect" => TcpStream::connect((Ipv4Addr::LOCALHOST, port()?)).map(ok),
        _ => return Err(format!("unknown operation {op:?}")),
    })
}

/// truncate(2) by path (std only truncates open files, a different check).
fn nix_truncate(path: &str, len: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    nix::unistd::truncate(path, len).map_err(io::Error::from)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.len().is_multiple_of(2) {
        eprintln!("usage: landlock_probe [OP ARG]...");
        return ExitCode::from(2);
    }
    for pair in args.chunks(2) {
        let (op, arg) = (&pair[0], &pair[1]);
        match probe(op, arg) {
            Ok(Ok(what)) => println!("{op} {arg}: {what}"),
            Ok(Err(e)) => {
                let name = e
                    .raw_os_error()
                    .map(|n| format!("{:?}", nix::errno::Errno::from_raw(n)))
                    .unwrap_or_else(|| e.to_string());
                println!("{op} {arg}: {name}");
            }
            Err(usage) => {
                eprintln!("landlock_probe: {usage}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
