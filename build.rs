//! Records the git revision for `--version` (tini mode prints it as
//! `git.<rev>`, which `docker info` parses).
use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let rev = git(&["rev-parse", "--short=7", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HARDINIT_GIT_REVISION={rev}");
    println!("cargo:rerun-if-changed=build.rs");
    // Ask git where HEAD and the refs live: in a worktree `.git` is a file,
    // and a build context without .git has none. A path that does not exist
    // would make cargo rerun this script, and relink, on every build.
    for name in ["HEAD", "refs", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", name]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
}
