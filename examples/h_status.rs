//! Fixture for the hardening tests: prints what the kernel says about this
//! process right after execve, one `Key: value` line each, so a test can
//! compare it with the restrictions hardinit promised.
//!
//!   h_status [--limits] [--env NAME]...
//!
//! Always: the /proc/self/status lines CapInh, CapPrm, CapEff, CapBnd,
//! CapAmb, NoNewPrivs, Uid, Gid and Groups (tabs as the kernel prints them).
//! `--limits`: then the "Max open files" line of /proc/self/limits.
//! `--env NAME`: then `env NAME=value`, or `env NAME unset`.
//! The last line is always `done`.

use std::process::ExitCode;

const KEYS: &[&str] = &[
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "NoNewPrivs",
    "Uid",
    "Gid",
    "Groups",
];

fn main() -> ExitCode {
    let status = match std::fs::read_to_string("/proc/self/status") {
        Ok(s) => s,
        Err(e) => {
            eprintln!("h_status: /proc/self/status: {e}");
            return ExitCode::from(3);
        }
    };
    for line in status.lines() {
        if KEYS.iter().any(|k| line.split(':').next() == Some(k)) {
            println!("{line}");
        }
    }
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--limits" => {
                let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
                for line in limits.lines().filter(|l| l.starts_with("Max open files")) {
                    println!("{line}");
                }
            }
            "--env" => {
                let name = args.next().unwrap_or_default();
                match std::env::var(&name) {
                    Ok(v) => println!("env {name}={v}"),
                    Err(_) => println!("env {name} unset"),
                }
            }
            other => {
                eprintln!("h_status: unknown argument {other:?}");
                return ExitCode::from(2);
            }
        }
    }
    println!("done");
    ExitCode::SUCCESS
}
