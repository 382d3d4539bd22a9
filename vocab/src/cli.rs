//! A convention every command-line tool of the project shares.
//!
//! Rust programs ignore `SIGPIPE`, so printing to a pipe whose reader has gone (`check |
//! head`, `scenario --trace | less` quit early) makes `println!` panic with "Broken pipe"
//! and exit with status 101. The tools call [`quiet_on_closed_pipe`] first, which gives
//! them the behaviour of any Unix filter: the write raises `SIGPIPE` and the process stops
//! at once, silently.

/// Restores the default action of `SIGPIPE` (terminate) for this process.
pub fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with `SIG_DFL` only changes this process's disposition of SIGPIPE;
    // it is called at the start of `main`, before any thread or handler exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
