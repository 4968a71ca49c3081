//! Which of the requested restrictions the kernel's Landlock ABI can
//! enforce, as access masks. Pure: decided from the options and the ABI
//! number alone, so it is tested in tables with any ABI.

use landlock::{AccessFs, AccessNet, BitFlags, ABI};

use super::{Error, Options};

/// The first ABI each option needs to be fully enforced.
pub const READ_ONLY_ABI: i32 = 3; // truncate
pub const NO_EXEC_ABI: i32 = 1;
pub const PORTS_ABI: i32 = 4; // TCP bind/connect

#[derive(Debug)]
pub struct Plan {
    pub read_only: bool,
    pub no_exec: bool,
    pub fs: BitFlags<AccessFs>,
    pub net: BitFlags<AccessNet>,
    /// Restrictions dropped or weakened under best effort.
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn status(&self) -> &'static str {
        if self.fs.is_empty() && self.net.is_empty() {
            "not enforced"
        } else if self.warnings.is_empty() {
            "enforced"
        } else {
            "partially enforced"
        }
    }
}

/// Checks usage and the ABI; without best effort a missing feature is an
/// error naming the option and the ABI found.
pub fn plan(opts: &Options, abi: i32) -> Result<Plan, Error> {
    if !opts.writable.is_empty() && !opts.read_only && !opts.no_exec_writable {
        return Err(Error::WritableUnused);
    }
    if let Some(spec) = opts.writable.iter().find(|s| !s.path.is_absolute()) {
        return Err(Error::RelativePath {
            path: spec.path.clone(),
        });
    }
    let mut warnings = Vec::new();
    let mut feature = |option: &'static str, wanted: bool, needs: i32| -> Result<bool, Error> {
        if !wanted || abi >= needs {
            return Ok(wanted);
        }
        if !opts.best_effort {
            return Err(Error::Unsupported {
                option,
                needs,
                found: abi,
            });
        }
        warnings.push(format!(
            "{option} not enforced: needs Landlock ABI {needs} (Linux {}+), this kernel has ABI {abi}",
            linux_version(needs)
        ));
        Ok(false)
    };
    // Best effort on ABI 1-2 still confines writes, but not truncation.
    let read_only = feature("--read-only", opts.read_only, READ_ONLY_ABI)?
        || (opts.read_only && opts.best_effort && abi >= 1);
    let no_exec = feature("--no-exec-writable", opts.no_exec_writable, NO_EXEC_ABI)?;
    let bind = feature("--bind-ports", !opts.bind_ports.is_empty(), PORTS_ABI)?;
    let connect = feature("--connect-ports", !opts.connect_ports.is_empty(), PORTS_ABI)?;
    if read_only && abi < READ_ONLY_ABI {
        warnings.retain(|w| !w.starts_with("--read-only"));
        warnings.push(format!(
            "--read-only partially enforced: truncate(2) and O_TRUNC stay allowed everywhere \
             (needs Landlock ABI 3, Linux 6.2+), this kernel has ABI {abi}"
        ));
        if abi < 2 {
            // Without the refer right, Landlock ABI 1 forbids every
            // cross-directory rename/link in a domain (kernel docs, "refer").
            warnings.push(
                "--read-only: Landlock ABI 1 denies renaming or linking across directories \
                 everywhere, writable paths included"
                    .into(),
            );
        }
    }

    let mut fs = BitFlags::<AccessFs>::EMPTY;
    if read_only {
        fs |= write_access(abi);
    }
    if no_exec {
        fs |= AccessFs::Execute;
    }
    let mut net = BitFlags::<AccessNet>::EMPTY;
    if bind {
        net |= AccessNet::BindTcp;
    }
    if connect {
        net |= AccessNet::ConnectTcp;
    }
    Ok(Plan {
        read_only,
        no_exec,
        fs,
        net,
        warnings,
    })
}

/// Every write-type right of the ABI, up to ABI 8: ABI 9's resolve_unix
/// stays unhandled, connecting to a UNIX socket is not a write here.
pub fn write_access(abi: i32) -> BitFlags<AccessFs> {
    AccessFs::from_write(ABI::from(abi.min(8)))
}

/// The first Linux release of each Landlock ABI.
pub fn linux_version(abi: i32) -> &'static str {
    match abi {
        ..=1 => "5.13",
        2 => "5.19",
        3 => "6.2",
        4 => "6.7",
        5 => "6.10",
        6 => "6.12",
        _ => "6.15",
    }
}

/// "80, 443, 8000-8010" from sorted ports.
pub fn format_ports(ports: &[u16]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ports.len() {
        let start = ports[i];
        while i + 1 < ports.len() && ports[i + 1] == ports[i].wrapping_add(1) {
            i += 1;
        }
        out.push(if ports[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", ports[i])
        });
        i += 1;
    }
    out.join(", ")
}
