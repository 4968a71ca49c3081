//! Placeholder with the Landlock API; replaced by the real module.
#![allow(dead_code)]
use std::path::PathBuf;
pub struct PathSpec {
    pub path: PathBuf,
    pub optional: bool,
}
pub struct Options {
    pub read_only: bool,
    pub writable: Vec<PathSpec>,
    pub no_exec_writable: bool,
    pub bind_ports: Vec<u16>,
    pub connect_ports: Vec<u16>,
    pub best_effort: bool,
}
pub struct Report {
    pub abi: i32,
    pub rules: Vec<String>,
    pub status: &'static str,
    pub warnings: Vec<String>,
}
pub struct Prepared {
    pub report: Report,
}
impl Prepared {
    pub fn enforce(&self) -> Result<(), i32> {
        Err(libc::ENOSYS)
    }
}
#[derive(Debug)]
pub struct Error(pub String);
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
pub fn parse_ports(_: &str) -> Result<Vec<u16>, Error> {
    Err(Error("not built yet".into()))
}
pub fn parse_path_spec(s: &str) -> PathSpec {
    PathSpec {
        path: s.into(),
        optional: false,
    }
}
pub fn prepare(o: &Options) -> Result<Option<Prepared>, Error> {
    if o.read_only || o.no_exec_writable || !o.bind_ports.is_empty() || !o.connect_ports.is_empty()
    {
        return Err(Error("Landlock is not built yet".into()));
    }
    Ok(None)
}
pub fn abi() -> i32 {
    0
}
