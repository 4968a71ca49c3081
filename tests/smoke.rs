mod common;
use common::*;

#[test]
fn runs_a_program_and_returns_its_status() {
    let out = Run::new(&[
        "--seccomp",
        "unconfined",
        "--",
        "sh",
        "-c",
        "echo hi; exit 3",
    ])
    .output();
    assert_eq!(out.code, Some(3), "{out:?}");
    assert_eq!(out.msgs("stdout"), vec!["hi"]);
}
