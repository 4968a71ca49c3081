//! A build without the cargo feature `health` (`--no-default-features`):
//! `hardinit health` exits 2 with the reason instead of treating `health`
//! as a program to run. CI runs it with
//! `cargo test --no-default-features --test health_left_out`.
#![cfg(not(feature = "health"))]

use std::process::Command;

#[test]
fn the_subcommand_says_it_was_left_out() {
    let out = Command::new(env!("CARGO_BIN_EXE_hardinit"))
        .args(["health", "http://127.0.0.1:8000/__heartbeat__"])
        .output()
        .expect("run hardinit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("built without the probe (cargo feature \"health\")"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
