//! `specs/kernel-calls.md` against the code. The spec has two tables: every 4.3BSD call of
//! TH Appendix A with Sprite's disposition for a migrated process, and the project's
//! operations with `vocab::msg::disposition`. These tests fail when the project's table and
//! `disposition` disagree, when an operation the table says follows Sprite has another
//! disposition than its call in the appendix table, when a departure is not explained, and
//! when the counts the spec states are not those of its appendix table.

use std::collections::BTreeMap;
use vocab::msg::{disposition, Disposition};
use vocab::{Fd, FileName, HostId, Mode, Op, PageNo, Pid};

const P: Pid = Pid::new(0, 0);

/// Where `op` belongs: its place in [`every_op`], the name of its row in the project's table,
/// and the call of the appendix table it corresponds to (none for operations that are not
/// 4.3BSD calls). No wildcard: an `Op` variant added to vocab does not compile here until it
/// is given a row, and then it must be added to [`every_op`] as well.
fn row_of(op: &Op) -> (usize, &'static str, Option<&'static str>) {
    match op {
        Op::Open { .. } => (0, "open", Some("open")),
        Op::Read { .. } => (1, "read", Some("read")),
        Op::Write { .. } => (2, "write", Some("write")),
        Op::Lseek { .. } => (3, "lseek", Some("lseek")),
        Op::Close { .. } => (4, "close", Some("close")),
        Op::Unlink { .. } => (5, "unlink", Some("unlink")),
        Op::Dup { .. } => (6, "dup", Some("dup")),
        Op::Fork => (7, "fork", Some("fork")),
        Op::Exec { target: None } => (8, "exec", Some("execve")),
        Op::Exec { target: Some(_) } => (9, "exec with a target", None),
        Op::Exit { .. } => (10, "exit", Some("exit")),
        Op::Wait => (11, "wait", Some("wait")),
        Op::Getpid => (12, "getpid", Some("getpid")),
        Op::Gettimeofday => (13, "gettimeofday", Some("gettimeofday")),
        Op::Kill { .. } => (14, "kill", Some("kill")),
        Op::MemRead { .. } => (15, "memread", None),
        Op::MemWrite { .. } => (16, "memwrite", None),
        Op::Migrate { .. } => (17, "migrate", None),
        Op::Pipe => (18, "pipe", Some("pipe")),
        Op::Getpgrp => (19, "getpgrp", Some("getpgrp")),
        Op::Setpgid { .. } => (20, "setpgid", Some("setpgrp")),
        Op::Killpg { .. } => (21, "killpg", Some("killpg")),
        Op::LseekCur { .. } => (22, "lseek relative", Some("lseek")),
        // The last variant closes the numbering (see `every_op_has_one_value_per_row`).
        Op::Stat { .. } => (23, "stat", Some("stat")),
    }
}

/// One value of every operation, in the order of [`row_of`] (both forms of `exec`).
fn every_op() -> Vec<Op> {
    vec![
        Op::Open {
            name: FileName(0),
            mode: Mode::Read,
            create: false,
        },
        Op::Read { fd: Fd(0) },
        Op::Write { fd: Fd(0), sym: 1 },
        Op::Lseek { fd: Fd(0), pos: 0 },
        Op::Close { fd: Fd(0) },
        Op::Unlink { name: FileName(0) },
        Op::Dup { fd: Fd(0) },
        Op::Fork,
        Op::Exec { target: None },
        Op::Exec {
            target: Some(HostId(1)),
        },
        Op::Exit { status: 0 },
        Op::Wait,
        Op::Getpid,
        Op::Gettimeofday,
        Op::Kill { pid: P },
        Op::MemRead { page: PageNo(0) },
        Op::MemWrite {
            page: PageNo(0),
            sym: 1,
        },
        Op::Migrate { target: HostId(1) },
        Op::Pipe,
        Op::Getpgrp,
        Op::Setpgid { pgrp: P },
        Op::Killpg { pgrp: P },
        Op::LseekCur {
            fd: Fd(0),
            delta: 0,
        },
        Op::Stat { name: FileName(0) },
    ]
}

fn spec() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/kernel-calls.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The body rows (cells trimmed) of the table whose header line starts with `header`.
fn table(spec: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = spec.lines().skip_while(|l| !l.starts_with(header));
    assert!(
        lines.next().is_some(),
        "specs/kernel-calls.md has no table starting `{header}`"
    );
    lines
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("| ---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim().trim_matches('|').split('|').collect();
            cells.iter().map(|c| c.trim().to_string()).collect()
        })
        .collect()
}

/// The text of the section under `heading` (a whole heading line), up to the next `## `.
fn section<'a>(spec: &'a str, heading: &str) -> &'a str {
    let start = spec
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("specs/kernel-calls.md lacks `{heading}`"));
    let body = &spec[start + heading.len() + 2..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

fn unquote(cell: &str) -> String {
    cell.replace('`', "")
}

const PROJECT: &str = "| operation | disposition | 4.3BSD | Sprite |";
const APPENDIX: &str = "| call | disposition | how, for a process away from home |";
const COUNTS: &str = "| disposition | rows of the appendix table |";

/// The project's table by row name (a row may name several operations: "`a`, `b`").
fn project_rows(spec: &str) -> BTreeMap<String, Vec<String>> {
    let mut rows = BTreeMap::new();
    for row in table(spec, PROJECT) {
        assert_eq!(row.len(), 6, "project table row {row:?}");
        for name in unquote(&row[0]).split(", ") {
            let old = rows.insert(name.to_string(), row.clone());
            assert!(
                old.is_none(),
                "two rows for `{name}` in the project's table"
            );
        }
    }
    rows
}

/// The appendix table by call name.
fn appendix_rows(spec: &str) -> BTreeMap<String, Vec<String>> {
    let mut rows = BTreeMap::new();
    for row in table(spec, APPENDIX) {
        assert_eq!(row.len(), 5, "appendix table row {row:?}");
        let name = unquote(&row[0]);
        let old = rows.insert(name.clone(), row);
        assert!(old.is_none(), "two rows for `{name}` in the appendix table");
    }
    rows
}

/// The appendix's word for the project's disposition, where there is one.
fn appendix_word(d: Disposition) -> Option<&'static str> {
    match d {
        Disposition::Local => Some("local"),
        Disposition::Home => Some("forwarded"),
        Disposition::Joint => Some("joint"),
        Disposition::Migration => None,
    }
}

#[test]
fn every_op_has_one_value_per_row() {
    let ops = every_op();
    let last = row_of(&Op::Stat { name: FileName(0) }).0;
    assert_eq!(ops.len(), last + 1, "every_op must list one value per arm");
    for (i, op) in ops.iter().enumerate() {
        let (at, row, _) = row_of(op);
        assert_eq!(at, i, "{op} is out of place in every_op");
        assert!(row.starts_with(op.name()), "{op}: row `{row}`");
    }
}

#[test]
fn project_table_states_the_code_disposition() {
    let spec = spec();
    let rows = project_rows(&spec);
    let mut used = Vec::new();
    for op in every_op() {
        let (_, name, call) = row_of(&op);
        let row = rows
            .get(name)
            .unwrap_or_else(|| panic!("the project's table has no row `{name}` ({op})"));
        used.push(name);
        let code = format!("{:?}", disposition(&op));
        assert_eq!(
            row[1], code,
            "{op}: the project's table says {}, vocab::msg::disposition says {code}",
            row[1]
        );
        let want = call.map_or("–".to_string(), |c| format!("`{c}`"));
        assert_eq!(row[2], want, "{op}: the 4.3BSD call of row `{name}`");
        assert!(
            row[3] == "follows" || row[3] == "departs",
            "{op}: the Sprite column says `{}`, not follows or departs",
            row[3]
        );
    }
    for name in rows.keys() {
        assert!(
            used.contains(&name.as_str()),
            "the project's table has a row `{name}` for no operation"
        );
    }
}

#[test]
fn rows_that_follow_sprite_have_the_appendix_disposition() {
    let spec = spec();
    let project = project_rows(&spec);
    let appendix = appendix_rows(&spec);
    let departures = section(&spec, "## Where the project departs");
    for op in every_op() {
        let (_, name, call) = row_of(&op);
        let departs = project[name][3] == "departs";
        if departs {
            assert!(
                departures.contains(&format!("\n### `{}`\n", op.name())),
                "{op} departs from Sprite but `## Where the project departs` has no \
                 `### `{}``",
                op.name()
            );
        }
        let Some(call) = call else { continue };
        let row = appendix
            .get(call)
            .unwrap_or_else(|| panic!("the appendix table has no row `{call}` ({op})"));
        // The appendix row names the operation, and marks the departure the same way.
        let mark = &row[3];
        assert!(
            mark.starts_with(&format!("`{}`", op.name())),
            "appendix row `{call}` names `{mark}` as the project's operation, not `{}`",
            op.name()
        );
        assert_eq!(
            mark.contains("(departs"),
            departs,
            "appendix row `{call}` and project row `{name}` disagree on the departure"
        );
        if !departs {
            let want = appendix_word(disposition(&op))
                .unwrap_or_else(|| panic!("{op}: no appendix word for {:?}", disposition(&op)));
            assert_eq!(
                row[1],
                want,
                "{op} follows Sprite, but its call `{call}` is {} in the appendix and the \
                 project's disposition is {:?}",
                row[1],
                disposition(&op)
            );
        }
    }
    // An appendix row that names a project operation names one that points back to it.
    for (call, row) in &appendix {
        if row[3] == "–" {
            continue;
        }
        assert!(
            every_op()
                .iter()
                .any(|op| row_of(op).2 == Some(call.as_str())),
            "appendix row `{call}` names `{}`, which corresponds to another call",
            row[3]
        );
    }
}

#[test]
fn the_stated_counts_are_those_of_the_appendix_table() {
    let spec = spec();
    let appendix = appendix_rows(&spec);
    let mut counted: BTreeMap<String, usize> = BTreeMap::new();
    for (call, row) in &appendix {
        assert!(
            ["local", "forwarded", "joint", "unimplemented"].contains(&row[1].as_str()),
            "appendix row `{call}` has disposition `{}`",
            row[1]
        );
        *counted.entry(row[1].clone()).or_default() += 1;
    }
    counted.insert("all".into(), appendix.len());
    let stated: BTreeMap<String, usize> = table(&spec, COUNTS)
        .into_iter()
        .map(|row| {
            let n = row[1]
                .parse()
                .unwrap_or_else(|_| panic!("count `{}` of {}", row[1], row[0]));
            (row[0].clone(), n)
        })
        .collect();
    assert_eq!(stated, counted, "stated counts against the appendix table");
}
