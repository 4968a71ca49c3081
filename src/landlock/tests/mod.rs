//! Pure logic in tables, and `prepare` against the running kernel;
//! enforcement for real in `enforce`.

mod enforce;

use super::plan::{self, format_ports};
use super::*;
use landlock::AccessFs;
use std::path::Path;

pub(super) fn writable(path: &Path) -> PathSpec {
    PathSpec {
        path: path.to_path_buf(),
        optional: false,
    }
}

/// Returns false (and says why) when the kernel lacks `needs`.
pub(super) fn landlock_at_least(needs: i32, test: &str) -> bool {
    let found = abi();
    if found < needs {
        println!("skipping {test}: needs Landlock ABI {needs}, this kernel has ABI {found}");
    }
    found >= needs
}

#[test]
fn parse_ports_table() {
    let ok: &[(&str, &[u16])] = &[
        ("80", &[80]),
        ("443,80", &[80, 443]),
        ("80, 443 ,80", &[80, 443]),
        ("8000-8003", &[8000, 8001, 8002, 8003]),
        ("0,65535", &[0, 65535]),
        ("9-9", &[9]),
    ];
    for (input, want) in ok {
        assert_eq!(parse_ports(input).unwrap(), *want, "{input}");
    }
    for bad in ["", "80,", "x", "65536", "-1", "10-5", "1-2-3", "80;443"] {
        assert!(parse_ports(bad).is_err(), "{bad:?} should not parse");
    }
    assert_eq!(
        format_ports(&parse_ports("1,2,3,5,8000-8010,9").unwrap()),
        "1-3, 5, 9, 8000-8010"
    );
}

#[test]
fn parse_path_spec_table() {
    let table = [
        ("/data", "/data", false),
        ("?/cache", "/cache", true),
        ("??/x", "?/x", true),
    ];
    for (input, path, optional) in table {
        assert_eq!(
            parse_path_spec(input),
            PathSpec {
                path: path.into(),
                optional
            },
            "{input}"
        );
    }
}

#[cfg(debug_assertions)]
#[test]
fn simulated_abi_table() {
    let table = [
        (None, None),
        (Some("3"), Some(3)),
        (Some(" 0"), Some(0)),
        (Some("-2"), Some(0)),
    ];
    for (var, want) in table {
        assert_eq!(simulated_abi(var), want, "{var:?}");
    }
    assert_eq!(simulated_abi(Some("x")), None);
}

#[test]
fn no_option_no_ruleset() {
    assert!(prepare(&Options::default()).unwrap().is_none());
    let opts = Options {
        best_effort: true,
        ..Options::default()
    };
    assert!(prepare(&opts).unwrap().is_none());
}

#[test]
fn usage_errors() {
    let unused = Options {
        writable: vec![writable(Path::new("/data"))],
        ..Options::default()
    };
    assert!(matches!(
        prepare_for_abi(&unused, 7),
        Err(Error::WritableUnused)
    ));
    let relative = Options {
        read_only: true,
        writable: vec![parse_path_spec("data")],
        ..Options::default()
    };
    let err = prepare_for_abi(&relative, 7).unwrap_err();
    assert!(err.to_string().contains("must be absolute"), "{err}");
}

#[test]
fn too_old_abi_names_option_and_abi() {
    let table: &[(Options, i32, &str)] = &[
        (
            Options { bind_ports: vec![80], ..Options::default() },
            3,
            "--bind-ports needs Landlock ABI 4 (Linux 6.7+), this kernel has ABI 3",
        ),
        (
            Options { connect_ports: vec![443], ..Options::default() },
            0,
            "--connect-ports needs Landlock ABI 4 (Linux 6.7+), this kernel has ABI 0 (no Landlock)",
        ),
        (
            Options { read_only: true, ..Options::default() },
            2,
            "--read-only needs Landlock ABI 3 (Linux 6.2+), this kernel has ABI 2",
        ),
        (
            Options { no_exec_writable: true, ..Options::default() },
            0,
            "--no-exec-writable needs Landlock ABI 1 (Linux 5.13+), this kernel has ABI 0",
        ),
    ];
    for (opts, abi, want) in table {
        let err = prepare_for_abi(opts, *abi).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert!(err.to_string().starts_with(want), "{err}");
    }
}

#[test]
fn best_effort_warns_instead() {
    let opts = Options {
        bind_ports: vec![80],
        best_effort: true,
        ..Options::default()
    };
    let p = prepare_for_abi(&opts, 3).unwrap().unwrap();
    assert_eq!(p.report.status, "not enforced");
    assert!(p.report.warnings[0].starts_with("--bind-ports not enforced: needs Landlock ABI 4"));
    assert_eq!(p.enforce(), Ok(()));

    let opts = Options {
        read_only: true,
        ..opts
    };
    let p = prepare_for_abi(&opts, 0).unwrap().unwrap();
    assert_eq!(
        (p.report.status, p.report.warnings.len()),
        ("not enforced", 2)
    );

    if !landlock_at_least(3, "best_effort_warns_instead (partial)") {
        return;
    }
    let p = prepare_for_abi(&opts, 3).unwrap().unwrap();
    assert_eq!(p.report.status, "partially enforced");
    assert!(
        p.report.rules.iter().any(|r| r == "write: /dev/null"),
        "{:?}",
        p.report.rules
    );
    let p = prepare_for_abi(&opts, 2).unwrap().unwrap();
    assert_eq!(p.report.status, "partially enforced");
    assert!(
        p.report.warnings.iter().any(|w| w.contains("truncate")),
        "{:?}",
        p.report.warnings
    );
}

#[test]
fn missing_path_is_error_optional_is_skipped() {
    if !landlock_at_least(3, "missing_path_is_error_optional_is_skipped") {
        return;
    }
    let missing = format!("/nonexistent-hardinit-{}", std::process::id());
    let mut opts = Options {
        read_only: true,
        writable: vec![parse_path_spec(&missing)],
        ..Options::default()
    };
    let err = prepare(&opts).unwrap_err();
    assert!(
        matches!(
            err,
            Error::OpenPath {
                errno: libc::ENOENT,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(&missing), "{err}");

    opts.writable = vec![parse_path_spec(&format!("?{missing}"))];
    let p = prepare(&opts).unwrap().unwrap();
    assert_eq!(p.report.status, "enforced");
    let skipped = format!("write: {missing} (optional, absent: skipped)");
    assert!(p.report.rules.contains(&skipped), "{:?}", p.report.rules);
}

#[test]
fn plan_masks_follow_abi() {
    let opts = Options {
        read_only: true,
        best_effort: true,
        ..Options::default()
    };
    // (abi, refer, truncate, ioctl_dev, status)
    let table = [
        (0, false, false, false, "not enforced"),
        (1, false, false, false, "partially enforced"),
        (2, true, false, false, "partially enforced"),
        (3, true, true, false, "enforced"),
        (5, true, true, true, "enforced"),
        (9, true, true, true, "enforced"),
    ];
    for (abi, refer, truncate, ioctl, status) in table {
        let plan = plan::plan(&opts, abi).unwrap();
        let has = |a| plan.fs.contains(a);
        assert_eq!(has(AccessFs::Refer), refer, "abi {abi}");
        assert_eq!(has(AccessFs::Truncate), truncate, "abi {abi}");
        assert_eq!(has(AccessFs::IoctlDev), ioctl, "abi {abi}");
        assert!(
            !has(AccessFs::ResolveUnix) && !has(AccessFs::Execute),
            "abi {abi}"
        );
        assert_eq!(plan.status(), status, "abi {abi}");
    }
    let opts = Options {
        no_exec_writable: true,
        ..Options::default()
    };
    assert_eq!(plan::plan(&opts, 1).unwrap().fs, AccessFs::Execute);
}
