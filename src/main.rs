//! hardinit: a small PID 1 for containers.

mod health;
#[allow(dead_code)] // called by the init once spawn lands
mod seccomp;

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).map(|a| a == "health").unwrap_or(false) {
        return ExitCode::from(health::run(&args[2..]));
    }
    eprintln!("hardinit: skeleton");
    ExitCode::from(125)
}
