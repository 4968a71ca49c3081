//! Seccomp: Docker/OCI profiles -> BPF programs installed right before execve.
//!
//! In the parent: `load` (embedded name or path) -> `Profile`, then
//! `compile` against the `Target` the child will run as (architecture,
//! kernel, kept capabilities) -> `Compiled`. In the forked child, as the last
//! step before execve: `Compiled::install`, which only makes syscalls.
//!
//! Deliberate differences from Docker (runc + libseccomp):
//! - only the native ABI is allowed: i386 (`int 0x80`) and arm32 calls and
//!   x32 numbers on x86_64 kill the process, whatever the profile's
//!   `architectures`/`archMap` say (see bpf.rs);
//! - arguments the kernel reads as 32-bit are compared as 32-bit (compile.rs
//!   INT_ARGS);
//! - overlapping entries: the strictest action wins (compile.rs);
//! - SCMP_ACT_TRACE, SCMP_ACT_NOTIFY and filter flags are refused.

mod bpf;
mod compile;
pub mod own;
pub mod profile;
// The foreign architecture's table only for the tests (which compile for
// both): a shipped binary only ever compiles for its own.
#[cfg(any(test, target_arch = "aarch64"))]
mod syscalls_aarch64;
#[cfg(any(test, target_arch = "x86_64"))]
mod syscalls_x86_64;

pub use profile::Profile;

/// Architectures a profile can be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    Aarch64,
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("hardinit's seccomp support covers x86_64 and aarch64 only");

impl Arch {
    /// The architecture this binary runs on.
    pub fn native() -> Arch {
        #[cfg(target_arch = "x86_64")]
        return Arch::X86_64;
        #[cfg(target_arch = "aarch64")]
        return Arch::Aarch64;
    }

    /// The name `includes.arches` uses (Go's GOARCH).
    pub fn docker_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        })
    }
}

/// What `includes`/`excludes` are evaluated against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub arch: Arch,
    /// (major, minor) of the running kernel.
    pub kernel: (u32, u32),
    /// Capability bits (1 << CAP_*) the child will keep in its bounding set.
    pub bounding: u64,
}

impl Target {
    /// The native architecture and the running kernel (uname).
    pub fn running(bounding: u64) -> Result<Target, Error> {
        let fail = |message: String| Error::new("", "", message);
        // SAFETY: utsname is plain old data; all-zero bytes are a valid value.
        let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: uname writes into the struct we own and nothing else.
        if unsafe { libc::uname(&mut uts) } != 0 {
            return Err(fail(format!("uname: {}", std::io::Error::last_os_error())));
        }
        // SAFETY: the kernel NUL-terminates utsname.release within the array.
        let release = unsafe { std::ffi::CStr::from_ptr(uts.release.as_ptr()) };
        let release = release.to_string_lossy();
        let kernel = profile::kernel_version(&release)
            .ok_or_else(|| fail(format!("cannot read the kernel version from {release:?}")))?;
        Ok(Target {
            arch: Arch::native(),
            kernel,
            bounding,
        })
    }
}

/// A profile error: which profile, where in it (JSON path), what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Embedded name or file path of the profile.
    pub name: String,
    /// JSON path (`syscalls[3].args[0].op`), `line L column C` for a syntax
    /// error, or empty when the error concerns the whole profile.
    pub path: String,
    pub message: String,
}

impl Error {
    fn new(name: &str, path: &str, message: String) -> Error {
        Error {
            name: name.to_string(),
            path: path.to_string(),
            message,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.name.is_empty(), self.path.is_empty()) {
            (true, _) => write!(f, "seccomp: {}", self.message),
            (false, true) => write!(f, "seccomp profile {}: {}", self.name, self.message),
            (false, false) => {
                write!(
                    f,
                    "seccomp profile {}: {}: {}",
                    self.name, self.path, self.message
                )
            }
        }
    }
}

impl std::error::Error for Error {}

/// Profiles built into the binary (seccomp-profiles/), as build.rs writes
/// them: without comments and whitespace.
const EMBEDDED: &[(&str, &str)] = &[(
    "default",
    include_str!(concat!(env!("OUT_DIR"), "/default.min.json")),
)];

/// The embedded profiles' source files, comments included (for the tests).
#[cfg(test)]
const SOURCES: &[(&str, &str)] = &[(
    "default",
    include_str!("../../seccomp-profiles/default.json"),
)];

/// Names `load` accepts besides paths.
pub fn embedded_names() -> &'static [&'static str] {
    &["default"]
}

/// An embedded profile by name, else a profile file by path. The caller
/// handles "unconfined" before calling this.
pub fn load(spec: &str) -> Result<Profile, Error> {
    if let Some((_, json)) = EMBEDDED.iter().find(|(n, _)| *n == spec) {
        return parse(spec, json);
    }
    match std::fs::read_to_string(spec) {
        Ok(json) => parse(spec, &json),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !spec.contains('/') => {
            Err(Error::new(
                spec,
                "",
                format!(
                    "no embedded profile of that name ({}, or unconfined) and no such file",
                    embedded_names().join(", ")
                ),
            ))
        }
        Err(e) => Err(Error::new(spec, "", format!("cannot read the file: {e}"))),
    }
}

/// Parse a Docker/OCI seccomp profile; `name` labels errors.
pub fn parse(name: &str, json: &str) -> Result<Profile, Error> {
    profile::parse(name, json)
}

/// Evaluate `includes`/`excludes` for `target` and build the BPF programs.
pub fn compile(profile: &Profile, target: &Target) -> Result<Compiled, Error> {
    compile::compile(profile, target)
}

/// A profile compiled for one target, ready to install.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// "default" or the path.
    pub name: String,
    /// e.g. "SCMP_ACT_ERRNO(1)".
    pub default_action: String,
    /// In installation order; `compile` makes one, whatever the profile.
    pub programs: Vec<seccompiler::BpfProgram>,
    /// Syscalls some call can get through with (unconditionally or on its arguments), sorted.
    pub allowed: Vec<&'static str>,
    /// Names unknown on this architecture, skipped, sorted.
    pub skipped: Vec<String>,
    /// Total over `programs`.
    pub instructions: usize,
}

impl Compiled {
    /// Install the programs on the calling thread, in order. Runs in the
    /// forked child right before execve: allocates nothing. Needs
    /// no_new_privs or CAP_SYS_ADMIN. Err is the raw errno of seccomp(2);
    /// the filters installed before a failure stay (the caller must not exec).
    pub fn install(&self) -> Result<(), i32> {
        if self.programs.is_empty() {
            return Err(libc::EINVAL); // never run unfiltered by accident
        }
        for prog in &self.programs {
            let len = u16::try_from(prog.len()).map_err(|_| libc::EINVAL)?;
            let fprog = libc::sock_fprog {
                len,
                // seccompiler's sock_filter is #[repr(C)] with the same fields
                // as the kernel's; the kernel only reads through this pointer.
                filter: prog.as_ptr() as *mut libc::sock_filter,
            };
            // SAFETY: fprog points to `len` valid instructions that outlive the
            // call; SECCOMP_SET_MODE_FILTER copies the program before returning.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &fprog as *const libc::sock_fprog,
                )
            };
            if rc != 0 {
                return Err(nix::errno::Errno::last_raw());
            }
        }
        Ok(())
    }
}

fn table(arch: Arch) -> &'static [(&'static str, i64)] {
    match arch {
        #[cfg(any(test, target_arch = "x86_64"))]
        Arch::X86_64 => &syscalls_x86_64::SYSCALLS,
        #[cfg(any(test, target_arch = "aarch64"))]
        Arch::Aarch64 => &syscalls_aarch64::SYSCALLS,
        // Not this binary's architecture (`Arch::native`): no profile is
        // compiled for it outside the tests.
        #[allow(unreachable_patterns)]
        _ => &[],
    }
}

/// Syscall name for a number on `arch` (for `learn`).
pub fn syscall_name(arch: Arch, nr: i64) -> Option<&'static str> {
    table(arch)
        .iter()
        .find(|(_, n)| *n == nr)
        .map(|(name, _)| *name)
}

/// Syscall number for a name on `arch`.
pub fn syscall_number(arch: Arch, name: &str) -> Option<i64> {
    let t = table(arch);
    t.binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| t[i].1)
}

#[cfg(test)]
mod bpf_equivalence;
#[cfg(test)]
mod tests;
