//! Records the git revision for `--version` (tini mode prints it as
//! `git.<rev>`, which `docker info` parses), and writes the embedded default
//! seccomp profile without its comments and whitespace.
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

/// seccomp-profiles/default.json as the binary embeds it: the same entries
/// in the same order, without the `comment` of each (they stay in the source
/// file, where the tests read them) and without whitespace. That halves
/// what is parsed at every start that uses the default profile.
fn embed_default_profile() {
    let src = "seccomp-profiles/default.json";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let mut profile: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{src}: {e}"));
    if let Some(entries) = profile.get_mut("syscalls").and_then(|s| s.as_array_mut()) {
        for entry in entries.iter_mut().filter_map(|e| e.as_object_mut()) {
            entry.remove("comment");
        }
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("default.min.json");
    std::fs::write(&out, profile.to_string()).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

fn main() {
    embed_default_profile();
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
