//! `hardinit health`: placeholder, see issue 10.
use std::ffi::OsString;

pub fn run(_args: &[OsString]) -> u8 {
    1
}
