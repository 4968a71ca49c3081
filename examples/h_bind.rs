//! Fixture: try to bind a TCP socket to 0.0.0.0:PORT (SO_REUSEADDR, never
//! listening, so parallel runs do not collide) and print `bind PORT: ok` or
//! `bind PORT: errno N`. The kernel checks CAP_NET_BIND_SERVICE for ports
//! below ip_unprivileged_port_start before it looks at the address.
//!
//!   h_bind PORT

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(port) = std::env::args().nth(1).and_then(|p| p.parse::<u16>().ok()) else {
        eprintln!("usage: h_bind PORT");
        return ExitCode::from(2);
    };
    // SAFETY: plain socket syscalls on a descriptor this process owns; the
    // address is a fully initialised sockaddr_in of the size passed.
    let result = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            let one: libc::c_int = 1;
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_port = port.to_be();
            addr.sin_addr.s_addr = libc::INADDR_ANY;
            let r = libc::bind(
                fd,
                &addr as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            );
            let result = if r == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            };
            libc::close(fd);
            result
        }
    };
    match result {
        Ok(()) => println!("bind {port}: ok"),
        Err(e) => println!("bind {port}: errno {}", e.raw_os_error().unwrap_or(0)),
    }
    ExitCode::SUCCESS
}
