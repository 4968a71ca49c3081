//! Placeholder with the seccomp API; replaced by the real module.
#![allow(dead_code)]
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}
pub struct Target {
    pub arch: Arch,
    pub kernel: (u32, u32),
    pub bounding: u64,
}
impl Target {
    pub fn running(bounding: u64) -> Result<Target, Error> {
        Ok(Target {
            arch: Arch::X86_64,
            kernel: (6, 0),
            bounding,
        })
    }
}
pub struct Profile;
pub struct Compiled {
    pub name: String,
    pub default_action: String,
    pub programs: Vec<seccompiler::BpfProgram>,
    pub allowed: Vec<String>,
    pub skipped: Vec<String>,
    pub instructions: usize,
}
impl Compiled {
    pub fn install(&self) -> Result<(), i32> {
        Err(libc::ENOSYS)
    }
}
#[derive(Debug)]
pub struct Error {
    pub path: String,
    pub message: String,
}
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}
pub fn load(spec: &str) -> Result<Profile, Error> {
    Err(Error {
        path: spec.into(),
        message: "not built yet".into(),
    })
}
pub fn compile(_: &Profile, _: &Target) -> Result<Compiled, Error> {
    Err(Error {
        path: String::new(),
        message: "not built yet".into(),
    })
}
