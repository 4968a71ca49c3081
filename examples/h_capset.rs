//! Fixture: try to regain capability number CAP (add it to the permitted
//! and effective sets with capset(2)) and print `capset CAP: ok` or
//! `capset CAP: errno N`. A process can only shrink its permitted set, so a
//! dropped capability must come back as EPERM.
//!
//!   h_capset CAP

use std::process::ExitCode;

#[repr(C)]
struct Header {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const VERSION_3: u32 = 0x2008_0522;

fn main() -> ExitCode {
    let Some(cap) = std::env::args()
        .nth(1)
        .and_then(|c| c.parse::<u32>().ok())
        .filter(|c| *c < 64)
    else {
        eprintln!("usage: h_capset CAP (a capability number)");
        return ExitCode::from(2);
    };
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: header and the two-element array match the v3 capget ABI.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } != 0 {
        println!(
            "capget: errno {}",
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
        );
        return ExitCode::from(3);
    }
    let (word, bit) = ((cap / 32) as usize, 1u32 << (cap % 32));
    data[word].permitted |= bit;
    data[word].effective |= bit;
    // SAFETY: as above, for capset.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if r == 0 {
        println!("capset {cap}: ok");
    } else {
        println!(
            "capset {cap}: errno {}",
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
        );
    }
    ExitCode::SUCCESS
}
