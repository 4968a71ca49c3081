//! Fixture: `s_x32` makes getpid through the x32 ABI (syscall number with
//! __X32_SYSCALL_BIT set) and prints `x32 ok` or `x32 ERRNO`. Without a
//! filter the kernel answers (ENOSYS when it lacks x32 support); under any
//! hardinit filter on x86_64 the process must be killed by SIGSYS first.

fn main() {
    #[cfg(target_arch = "x86_64")]
    {
        const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;
        // SAFETY: getpid takes no arguments and changes nothing.
        let rc = unsafe { libc::syscall(X32_SYSCALL_BIT | libc::SYS_getpid) };
        if rc < 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            let name = match e {
                libc::ENOSYS => "ENOSYS".to_string(),
                libc::EPERM => "EPERM".to_string(),
                other => format!("E{other}"),
            };
            println!("x32 {name}");
        } else {
            println!("x32 ok");
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    println!("x32 absent");
}
