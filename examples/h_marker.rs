//! Fixture: create the file named by its argument and print `marker`. A
//! test that expects hardinit to refuse to start a program runs this one
//! and checks afterwards that the file does not exist.
//!
//!   h_marker PATH

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: h_marker PATH");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::write(&path, b"ran\n") {
        eprintln!("h_marker: {}: {e}", std::path::Path::new(&path).display());
        return ExitCode::from(3);
    }
    println!("marker");
    ExitCode::SUCCESS
}
