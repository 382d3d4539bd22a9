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

/// Parses a command-line count, seed or bound: a whole number from 0 to `T`'s largest.
///
/// For clap's `value_parser`, with the argument's `allow_negative_numbers` set so that
/// `--seed -3` reaches this function instead of being read as an unknown flag (whose
/// message suggests `-- -3`, which would not help). The error names the problem.
pub fn whole_number<T>(text: &str) -> Result<T, String>
where
    T: TryFrom<u128> + num_max::Max,
{
    let t = text.trim();
    let shown: String = t.chars().take(24).collect();
    let ellipsis = if t.chars().count() > 24 { "..." } else { "" };
    if let Some(rest) = t.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{shown}{ellipsis}` is negative; give 0 or more"));
        }
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{shown}{ellipsis}` is not a whole number"));
    }
    t.parse::<u128>()
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "`{shown}{ellipsis}` is too large; at most {}",
                T::max_text()
            )
        })
}

/// The largest value of each type [`whole_number`] reads, as text for its error.
pub mod num_max {
    pub trait Max {
        fn max_text() -> String;
    }
    macro_rules! max {
        ($($t:ty),*) => { $(impl Max for $t { fn max_text() -> String { <$t>::MAX.to_string() } })* };
    }
    max!(u8, u16, u32, u64, usize);
}

#[cfg(test)]
mod tests {
    use super::whole_number;

    #[test]
    fn whole_numbers_and_their_errors() {
        assert_eq!(whole_number::<u64>("7"), Ok(7));
        assert_eq!(whole_number::<u64>(" 0 "), Ok(0));
        assert_eq!(
            whole_number::<u64>("-3"),
            Err("`-3` is negative; give 0 or more".to_string())
        );
        assert_eq!(
            whole_number::<usize>("x1"),
            Err("`x1` is not a whole number".to_string())
        );
        assert_eq!(
            whole_number::<u8>("256"),
            Err("`256` is too large; at most 255".to_string())
        );
        assert!(whole_number::<u64>(&"9".repeat(100))
            .unwrap_err()
            .contains("too large"));
        assert!(whole_number::<u64>(&"9".repeat(100)).unwrap_err().len() < 80);
    }
}
