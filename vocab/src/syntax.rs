//! The text forms of operations, cluster events, pids, hosts and file names, as scenario
//! files and configuration files write them, parsed and printed in one place; and the
//! location of a problem in a text file (`file:line:col: problem`).
//!
//! The implementation's scenario files (`sprite::scenario`) and the model's configuration
//! files (`model::file`) both read operations with [`parse_op`] and events with
//! [`parse_event`], so a file means the same on both.
//!
//! Operation syntax: `open /fN r|w|rw [create]`, `read fdN`, `write fdN SYM`,
//! `lseek fdN POS`, `lseek fdN +K` or `-K` (relative to the current
//! position, SEEK_CUR; `+0` reads it), `close fdN`, `unlink /fN`, `stat /fN` (the file's size),
//! `dup fdN`, `fork`, `exec [hN]`,
//! `exit STATUS`, `wait`, `getpid`, `gettimeofday`, `kill pH.I`, `memread pgN`,
//! `memwrite pgN SYM`, `migrate hN`, `pipe`, `getpgrp`, `setpgid pH.I`, `killpg pH.I`.
//! A pid is `pH.I` (home `H`, slot index `I`), or `pH.I.G` for the generation `G` of a slot
//! given to a new process again (see `Pid`).
//! Events: `crash hN`, `reboot hN`, `owner-returns hN`, `owner-leaves hN`, `clock-tick hN` (the
//! host's clock advances one second).
//! [`op_text`] and [`event_text`] print these forms; parsing what they print gives back the
//! same value.
//!
//! Errors quote at most [`QUOTE_CHARS`] characters of the offending text.

use crate::{ClusterEvent, Fd, FileName, HostId, Mode, Op, PageNo, Pid};
use std::fmt;

/// Characters of offending text an error message quotes.
pub const QUOTE_CHARS: usize = 40;

/// `s` for an error message: whole if short, else its first [`QUOTE_CHARS`] characters
/// and how long it was.
pub fn quote(s: &str) -> String {
    clip(s, QUOTE_CHARS)
}

/// `s` cut after `n` characters, saying how long it was.
pub fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes)", &s[..cut], s.len()),
    }
}

fn num<T: std::str::FromStr>(s: &str, prefix: &str, what: &str) -> Result<T, String> {
    s.strip_prefix(prefix)
        .unwrap_or(s)
        .parse()
        .map_err(|_| format!("bad {what} `{}` (expected e.g. `{prefix}0`)", quote(s)))
}

/// A pid written `pH.I` (home `H`, index `I`, generation 0), or `pH.I.G` for a later
/// generation `G` of the slot (below [`Pid::GENERATIONS`]), as pids are printed.
pub fn parse_pid(s: &str) -> Result<Pid, String> {
    let bad = || format!("bad pid `{}` (expected e.g. `p0.1`)", quote(s));
    let body = s.strip_prefix('p').ok_or_else(bad)?;
    let (h, rest) = body.split_once('.').ok_or_else(bad)?;
    let (i, g) = match rest.split_once('.') {
        Some((i, g)) => (i, Some(g)),
        None => (rest, None),
    };
    let home = h.parse().map_err(|_| {
        format!(
            "bad pid `{}`: home `{}` is not a number from 0 to 255",
            quote(s),
            quote(h)
        )
    })?;
    let index = i.parse().map_err(|_| {
        format!(
            "bad pid `{}`: index `{}` is not a number from 0 to 255",
            quote(s),
            quote(i)
        )
    })?;
    let gen = match g {
        None => 0,
        Some(g) => match g.parse::<u8>() {
            Ok(n) if n < Pid::GENERATIONS => n,
            _ => {
                return Err(format!(
                    "bad pid `{}`: generation `{}` is not a number from 0 to {}",
                    quote(s),
                    quote(g),
                    Pid::GENERATIONS - 1
                ))
            }
        },
    };
    Ok(Pid::with_gen(HostId(home), index, gen))
}

/// A host written `hN`.
pub fn parse_host(s: &str) -> Result<HostId, String> {
    num(s, "h", "host").map(HostId)
}

/// A file name: `/fN` (file number `N`, below [`FileName::NAMED`]), or any other absolute
/// path without spaces, such as `/tmp/data` (numbered by [`FileName::named`]).
pub fn parse_name(s: &str) -> Result<FileName, String> {
    if let Some(n) = s
        .strip_prefix("/f")
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    {
        return match n.parse::<u16>() {
            Ok(n) if n < u16::from(FileName::NAMED) => Ok(FileName(n as u8)),
            _ => Err(format!(
                "bad file name `{}`: numbered names go from /f0 to /f{}",
                quote(s),
                FileName::NAMED - 1
            )),
        };
    }
    let path_like = s.starts_with('/')
        && s.len() > 1
        && s.len() <= FileName::MAX_PATH
        && !s.ends_with('/')
        && !s.contains("//")
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
    if !path_like {
        return Err(format!(
            "bad file name `{}` (expected an absolute path such as `/tmp/data` or `/f0`: \
             at most {} printable characters, no spaces, quotes or backslashes)",
            quote(s),
            FileName::MAX_PATH
        ));
    }
    FileName::named(s).ok_or_else(|| {
        format!(
            "too many named files (at most {} paths besides /f0 to /f{})",
            u8::MAX - FileName::NAMED + 1,
            FileName::NAMED - 1
        )
    })
}

fn args<const N: usize>(words: &[&str], usage: &str) -> Result<[String; N], String> {
    if words.len() != N + 1 {
        return Err(format!("`{}` takes {N} argument(s): {usage}", words[0]));
    }
    Ok(std::array::from_fn(|i| words[i + 1].to_string()))
}

/// Parses an operation (see the module documentation).
pub fn parse_op(s: &str) -> Result<Op, String> {
    // No operation has more than four words: the fifth is enough for the arity errors.
    let words: Vec<&str> = s.split_whitespace().take(5).collect();
    let Some(first) = words.first() else {
        return Err("empty operation".into());
    };
    let fd = |w: &str| num(w, "fd", "descriptor").map(Fd);
    let sym = |w: &str| num::<u8>(w, "", "symbol");
    let page = |w: &str| num(w, "pg", "page").map(PageNo);
    Ok(match *first {
        "open" => {
            if !(3..=4).contains(&words.len()) {
                return Err(
                    "`open` takes a name, a mode and optionally `create`: open /f0 rw create"
                        .into(),
                );
            }
            let mode = match words[2] {
                "r" => Mode::Read,
                "w" => Mode::Write,
                "rw" => Mode::ReadWrite,
                m => return Err(format!("bad mode `{}` (use r, w or rw)", quote(m))),
            };
            let create = match words.get(3) {
                None => false,
                Some(&"create") => true,
                Some(w) => {
                    return Err(format!(
                        "unexpected `{}` after the mode (only `create`)",
                        quote(w)
                    ))
                }
            };
            Op::Open {
                name: parse_name(words[1])?,
                mode,
                create,
            }
        }
        "read" => Op::Read {
            fd: fd(&args::<1>(&words, "read fd0")?[0])?,
        },
        "write" => {
            let [f, v] = args::<2>(&words, "write fd0 7")?;
            Op::Write {
                fd: fd(&f)?,
                sym: sym(&v)?,
            }
        }
        "lseek" => {
            let [f, v] = args::<2>(&words, "lseek fd0 0")?;
            // `+K` or `-K`: relative to the current position (SEEK_CUR).
            if v.starts_with(['+', '-']) {
                let delta = v.parse::<i8>().map_err(|_| {
                    format!(
                        "bad offset `{}` (a number from -128 to +127 after + or -)",
                        quote(&v)
                    )
                })?;
                Op::LseekCur { fd: fd(&f)?, delta }
            } else {
                Op::Lseek {
                    fd: fd(&f)?,
                    pos: sym(&v)?,
                }
            }
        }
        "close" => Op::Close {
            fd: fd(&args::<1>(&words, "close fd0")?[0])?,
        },
        "unlink" => Op::Unlink {
            name: parse_name(&args::<1>(&words, "unlink /f0")?[0])?,
        },
        "stat" => Op::Stat {
            name: parse_name(&args::<1>(&words, "stat /f0")?[0])?,
        },
        "dup" => Op::Dup {
            fd: fd(&args::<1>(&words, "dup fd0")?[0])?,
        },
        "fork" => {
            args::<0>(&words, "fork")?;
            Op::Fork
        }
        "exec" => match words.len() {
            1 => Op::Exec { target: None },
            2 => Op::Exec {
                target: Some(parse_host(words[1])?),
            },
            _ => return Err("`exec` takes at most a host: exec h1".into()),
        },
        "exit" => Op::Exit {
            status: sym(&args::<1>(&words, "exit 0")?[0])?,
        },
        "wait" => {
            args::<0>(&words, "wait")?;
            Op::Wait
        }
        "getpid" => {
            args::<0>(&words, "getpid")?;
            Op::Getpid
        }
        "gettimeofday" => {
            args::<0>(&words, "gettimeofday")?;
            Op::Gettimeofday
        }
        "kill" => Op::Kill {
            pid: parse_pid(&args::<1>(&words, "kill p0.1")?[0])?,
        },
        "memread" => Op::MemRead {
            page: page(&args::<1>(&words, "memread pg0")?[0])?,
        },
        "memwrite" => {
            let [p, v] = args::<2>(&words, "memwrite pg0 7")?;
            Op::MemWrite {
                page: page(&p)?,
                sym: sym(&v)?,
            }
        }
        "migrate" => Op::Migrate {
            target: parse_host(&args::<1>(&words, "migrate h1")?[0])?,
        },
        "pipe" => {
            args::<0>(&words, "pipe")?;
            Op::Pipe
        }
        "getpgrp" => {
            args::<0>(&words, "getpgrp")?;
            Op::Getpgrp
        }
        "setpgid" => Op::Setpgid {
            pgrp: parse_pid(&args::<1>(&words, "setpgid p0.1")?[0])?,
        },
        "killpg" => Op::Killpg {
            pgrp: parse_pid(&args::<1>(&words, "killpg p0.0")?[0])?,
        },
        other => return Err(format!("unknown operation `{}`", quote(other))),
    })
}

/// Parses a cluster event (see the module documentation).
pub fn parse_event(s: &str) -> Result<ClusterEvent, String> {
    let words: Vec<&str> = s.split_whitespace().take(3).collect();
    let [what, host] = words.as_slice() else {
        return Err(format!(
            "bad event `{}` (expected e.g. `crash h1`)",
            quote(s)
        ));
    };
    let h = parse_host(host)?;
    Ok(match *what {
        "crash" => ClusterEvent::Crash(h),
        "reboot" => ClusterEvent::Reboot(h),
        "owner-returns" => ClusterEvent::OwnerReturns(h),
        "owner-leaves" => ClusterEvent::OwnerLeaves(h),
        "clock-tick" => ClusterEvent::ClockTick(h),
        other => {
            return Err(format!(
                "unknown event `{}` (crash, reboot, owner-returns, owner-leaves, clock-tick)",
                quote(other)
            ))
        }
    })
}

/// Why a process cannot start away from its home (`start_on`), as if it had migrated
/// there: the host's owner is present (it would have been evicted, EVICT), or the process
/// may never migrate (REFUSE). Used by the model's files and the scenario files alike.
pub fn cannot_start_away(owner_present: bool, immovable: bool) -> Option<&'static str> {
    if owner_present {
        Some("its owner is present, so a foreign process would have been evicted")
    } else if immovable {
        Some("it shares writable memory or maps a device, so it can never have migrated")
    } else {
        None
    }
}

/// Parses the moment an event happens at (`after = "MIG_STATE p0.0"`; see
/// [`crate::Trigger`]).
pub fn parse_trigger(s: &str) -> Result<crate::Trigger, String> {
    let words: Vec<&str> = s.split_whitespace().take(3).collect();
    let names = || {
        crate::TriggerStep::ALL
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let [what, pid] = words.as_slice() else {
        return Err(format!(
            "bad moment `{}` (expected a step and a pid, e.g. `MIG_STATE p0.0`; steps: {})",
            quote(s),
            names()
        ));
    };
    let step = crate::TriggerStep::ALL
        .iter()
        .find(|(_, n)| n == what)
        .map(|(t, _)| *t)
        .ok_or_else(|| format!("unknown step `{}` (known: {})", quote(what), names()))?;
    Ok(crate::Trigger {
        step,
        pid: parse_pid(pid)?,
    })
}

/// An operation in the syntax [`parse_op`] reads (`open /f0 rw create`, `kill p0.1`).
pub fn op_text(op: &Op) -> String {
    match *op {
        Op::Open { name, mode, create } => {
            let m = match mode {
                Mode::Read => "r",
                Mode::Write => "w",
                Mode::ReadWrite => "rw",
            };
            format!("open {name} {m}{}", if create { " create" } else { "" })
        }
        Op::Read { fd } => format!("read {fd}"),
        Op::Write { fd, sym } => format!("write {fd} {sym}"),
        Op::Lseek { fd, pos } => format!("lseek {fd} {pos}"),
        Op::LseekCur { fd, delta } => format!("lseek {fd} {delta:+}"),
        Op::Close { fd } => format!("close {fd}"),
        Op::Unlink { name } => format!("unlink {name}"),
        Op::Stat { name } => format!("stat {name}"),
        Op::Dup { fd } => format!("dup {fd}"),
        Op::Fork => "fork".into(),
        Op::Exec { target: None } => "exec".into(),
        Op::Exec { target: Some(h) } => format!("exec {h}"),
        Op::Exit { status } => format!("exit {status}"),
        Op::Wait => "wait".into(),
        Op::Getpid => "getpid".into(),
        Op::Gettimeofday => "gettimeofday".into(),
        Op::Kill { pid } => format!("kill {pid}"),
        Op::MemRead { page } => format!("memread {page}"),
        Op::MemWrite { page, sym } => format!("memwrite {page} {sym}"),
        Op::Migrate { target } => format!("migrate {target}"),
        Op::Pipe => "pipe".into(),
        Op::Getpgrp => "getpgrp".into(),
        Op::Setpgid { pgrp } => format!("setpgid {pgrp}"),
        Op::Killpg { pgrp } => format!("killpg {pgrp}"),
    }
}

/// A cluster event in the syntax [`parse_event`] reads (`owner-returns h1`).
pub fn event_text(e: &ClusterEvent) -> String {
    match *e {
        ClusterEvent::Crash(h) => format!("crash {h}"),
        ClusterEvent::Reboot(h) => format!("reboot {h}"),
        ClusterEvent::OwnerReturns(h) => format!("owner-returns {h}"),
        ClusterEvent::OwnerLeaves(h) => format!("owner-leaves {h}"),
        ClusterEvent::ClockTick(h) => format!("clock-tick {h}"),
    }
}

/// A problem with an input file, located: printed `file:line:col: problem`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for TextError {}

/// A text being read, and its name, to locate problems in it by byte offsets (the spans
/// `toml` gives). Where each line starts is computed once, so that a byte offset becomes a
/// line and a column in O(log lines).
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Source<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source { file, text, starts }
    }

    /// 1-based line and column (in bytes) of `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset);
        (line, offset - self.starts[line - 1] + 1)
    }

    /// The 1-based line where `span` starts.
    pub fn line(&self, span: std::ops::Range<usize>) -> usize {
        self.line_col(span.start).0
    }

    /// An error at the start of `span`. Messages from `toml` and from the parsers here may
    /// quote input at any length (ours quote it with [`quote`]): the message is cut at ten
    /// times [`QUOTE_CHARS`] (the longest list of expected keys is under 300 characters).
    pub fn err(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> TextError {
        let (line, column) = self.line_col(span.start);
        let message: String = message.into();
        TextError {
            file: self.file.to_string(),
            line,
            column,
            message: clip(&message, 10 * QUOTE_CHARS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One operation of every kind, with arguments away from zero.
    fn every_op() -> Vec<Op> {
        let (fd, h, p) = (Fd(2), HostId(3), Pid::new(1, 4));
        let mut ops = vec![
            Op::Read { fd },
            Op::Write { fd, sym: 9 },
            Op::Lseek { fd, pos: 2 },
            Op::LseekCur { fd, delta: -1 },
            Op::LseekCur { fd, delta: 0 },
            Op::Close { fd },
            Op::Unlink { name: FileName(5) },
            Op::Stat { name: FileName(4) },
            Op::Dup { fd },
            Op::Fork,
            Op::Exec { target: None },
            Op::Exec { target: Some(h) },
            Op::Exit { status: 255 },
            Op::Wait,
            Op::Getpid,
            Op::Gettimeofday,
            Op::Kill { pid: p },
            Op::MemRead { page: PageNo(1) },
            Op::MemWrite {
                page: PageNo(1),
                sym: 7,
            },
            Op::Migrate { target: h },
            Op::Pipe,
            Op::Getpgrp,
            Op::Setpgid { pgrp: p },
            Op::Killpg { pgrp: p },
        ];
        for mode in [Mode::Read, Mode::Write, Mode::ReadWrite] {
            for create in [false, true] {
                ops.push(Op::Open {
                    name: FileName(1),
                    mode,
                    create,
                });
            }
        }
        ops
    }

    #[test]
    fn printed_operations_and_events_parse_back() {
        for op in every_op() {
            assert_eq!(parse_op(&op_text(&op)), Ok(op), "{}", op_text(&op));
        }
        for h in [HostId(0), HostId(255)] {
            for e in [
                ClusterEvent::Crash(h),
                ClusterEvent::Reboot(h),
                ClusterEvent::OwnerReturns(h),
                ClusterEvent::OwnerLeaves(h),
                ClusterEvent::ClockTick(h),
            ] {
                assert_eq!(parse_event(&event_text(&e)), Ok(e));
            }
        }
        assert_eq!(op_text(&every_op()[0]), "read fd2");
        for pid in [Pid::new(0, 1), Pid::with_gen(HostId(2), 7, 15)] {
            assert_eq!(parse_pid(&pid.to_string()), Ok(pid));
        }
        assert_eq!(parse_pid("p0.1.3"), Ok(Pid::with_gen(HostId(0), 1, 3)));
        assert_eq!(
            op_text(&Op::Open {
                name: FileName(0),
                mode: Mode::ReadWrite,
                create: true
            }),
            "open /f0 rw create"
        );
    }

    #[test]
    fn bad_text_is_refused_with_a_short_quote() {
        for s in [
            "",
            "open",
            "open /f0 rx",
            "write fd0",
            "kill p0",
            "kill p0.256",
            "kill p0.1.16",
            "kill p0.1.",
            "kill p0.1.1.1",
            "migrate hx",
            "exec h1 h2",
            "lseek fd0 999",
            "pipe fd0",
            "getpgrp p0.0",
            "setpgid",
            "killpg h1",
            "teleport h1",
        ] {
            assert!(parse_op(s).is_err(), "{s}");
        }
        for s in ["crash", "crash h1 h2", "explode h1", "crash p0.0"] {
            assert!(parse_event(s).is_err(), "{s}");
        }
        let long = "x".repeat(10_000);
        for e in [
            parse_op(&long),
            parse_op(&format!("read {long}")),
            parse_event(&format!("crash {long}")).map(|_| Op::Wait),
            parse_pid(&format!("p{long}")).map(|_| Op::Wait),
        ] {
            assert!(e.unwrap_err().len() < 200);
        }
    }

    #[test]
    fn files_are_named_by_number_or_by_a_path_of_their_own() {
        assert_eq!(parse_name("/f0"), Ok(FileName(0)));
        assert_eq!(parse_name("/f127"), Ok(FileName(127)));
        assert!(parse_name("/f128").unwrap_err().contains("/f0 to /f127"));
        assert!(parse_name("/f99999999999").is_err());
        let a = parse_name("/tmp/syntax-test-a").expect("a path");
        let b = parse_name("/tmp/syntax-test-b").expect("a path");
        assert!(a.0 >= FileName::NAMED && b.0 >= FileName::NAMED && a != b);
        assert_eq!(
            parse_name("/tmp/syntax-test-a"),
            Ok(a),
            "the same path, the same file"
        );
        assert_eq!(a.to_string(), "/tmp/syntax-test-a");
        let op = parse_op("open /tmp/syntax-test-a rw create").expect("an op");
        assert_eq!(parse_op(&op_text(&op)), Ok(op));
        assert_eq!(op.to_string(), "open(/tmp/syntax-test-a, rw, create)");
        for bad in ["tmp/x", "/", "/a b", "/a/", "/a//b", "/a\"b", "/a\\b"] {
            assert!(parse_name(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("/{}", "x".repeat(FileName::MAX_PATH));
        let e = parse_name(&long).unwrap_err();
        assert!(e.len() < 300 && e.contains("bytes)"), "{e}");
        // An unnamed number above /f127 prints as a number.
        assert_eq!(FileName(255).to_string(), "/f255");
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let src = Source::new("f.toml", "a\nbc\n\nd");
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(3), (2, 2));
        assert_eq!(src.line_col(5), (3, 1));
        assert_eq!(src.line_col(6), (4, 1));
        assert_eq!(src.line_col(99), (4, 2));
        let e = src.err(3..4, "x".repeat(1000));
        assert_eq!((e.line, e.column), (2, 2));
        assert!(e.to_string().starts_with("f.toml:2:2: xxx"));
        assert!(e.message.len() < 10 * QUOTE_CHARS + 30);
    }
}
