//! `[final]` in scenario files: expectations on the cluster once the run is over, each
//! reported with what the run gave, failing the run when one does not hold, and located
//! errors for a malformed table.

use sprite::cost::CostModel;
use sprite::scenario::parse;

const CLUSTER: &str = "[[host]]\nid = 0\n[[host]]\nid = 1\n[[process]]\npid = \"p0.0\"\n\
                       [[process]]\npid = \"p1.0\"\n";

/// A sequential run: p0.0 writes /f1 and keeps it open, unlinks /f2 after closing it,
/// migrates to h1; p1.0 signals it.
const STEPS: &str = r#"
steps = [
  { pid = "p0.0", op = "open /f1 rw create" },
  { pid = "p0.0", op = "write fd0 7" },
  { pid = "p0.0", op = "open /f2 rw create" },
  { pid = "p0.0", op = "close fd1" },
  { pid = "p0.0", op = "unlink /f2" },
  { pid = "p0.0", op = "migrate h1" },
  { pid = "p1.0", op = "kill p0.0" },
]
"#;

/// Runs `STEPS` with `finals`: each final line as (what = got, ok).
fn run(finals: &str) -> (bool, Vec<(String, String, bool)>) {
    let text = format!("{STEPS}{CLUSTER}{finals}");
    let s = parse("f.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let r = sprite::run::run(&s, false, &CostModel::default()).expect("runs");
    let lines = r
        .finals
        .iter()
        .map(|f| (f.what.clone(), f.got.clone(), f.ok))
        .collect();
    (r.failed(), lines)
}

#[test]
fn what_the_run_left_is_reported_and_checked() {
    let (failed, lines) = run(r#"
[[final.file]]
name = "/f1"
reclaimed = false
data = [7]
dirty_blocks = 0
cacheable = true
[[final.file]]
name = "/f2"
reclaimed = true
[[final.process]]
pid = "p0.0"
host = "h1"
signals = 1
[[final.migration]]
pid = "p0.0"
result = "ok"
files_moved = 1
blocks_flushed = 1
"#);
    assert!(!failed, "{lines:#?}");
    assert_eq!(lines.len(), 10);
    assert!(lines.iter().all(|(_, _, ok)| *ok), "{lines:#?}");
    assert!(lines.contains(&("file /f2 reclaimed".into(), "true".into(), true)));
    assert!(lines.contains(&("process p0.0 signals".into(), "1".into(), true)));
}

#[test]
fn an_expectation_that_does_not_hold_fails_the_run() {
    for (finals, what, got) in [
        (
            "[[final.file]]\nname = \"/f1\"\nreclaimed = true\n",
            "file /f1 reclaimed",
            "false",
        ),
        (
            "[[final.process]]\npid = \"p0.0\"\nhost = \"none\"\n",
            "process p0.0 host",
            "h1",
        ),
        (
            "[[final.process]]\npid = \"p0.0\"\nsignals = 2\n",
            "process p0.0 signals",
            "1",
        ),
        (
            "[[final.migration]]\npid = \"p0.0\"\nnth = 2\nrpcs = 3\n",
            "migration 2 of p0.0 rpcs",
            "nothing (no such file, process or migration)",
        ),
        (
            "[[final.migration]]\npid = \"p0.0\"\nresult = \"refused*\"\n",
            "migration 1 of p0.0 result",
            "ok",
        ),
        ("[final]\nrpcs = 1\n", "the run's rpcs", ""),
    ] {
        let (failed, lines) = run(finals);
        assert!(failed, "{finals}: {lines:#?}");
        let (w, g, ok) = &lines[0];
        assert_eq!(w, what);
        if !got.is_empty() {
            assert_eq!(g, got);
        }
        assert!(!ok);
    }
}

#[test]
fn a_malformed_final_table_is_located() {
    for (finals, line, what) in [
        ("[[final.file]]\nname = \"f1\"\n", 2, "bad file name"),
        (
            "[[final.process]]\npid = \"p7.0\"\n",
            2,
            "its home h7 is not a host",
        ),
        (
            "[[final.process]]\npid = \"p0.0\"\nhost = \"h5\"\n",
            3,
            "no host h5",
        ),
        (
            "[[final.migration]]\npid = \"p0.0\"\nnth = 0\n",
            3,
            "`nth` counts from 1",
        ),
        (
            "[[final.file]]\nname = \"/f1\"\ncolour = 3\n",
            3,
            "unknown field `colour`",
        ),
    ] {
        let text = format!("{STEPS}{CLUSTER}{finals}");
        let offset = text.lines().count() - finals.lines().count();
        let e = parse("f.toml", &text).expect_err(finals);
        assert!(e.to_string().contains(what), "{finals}: {e}");
        assert_eq!(e.line, offset + line, "{finals}: {e}");
    }
}

#[test]
fn exec_arguments_arrive_and_travel_with_the_process() {
    // A local exec records the arguments; the forked child inherits them, and they move
    // with it when it migrates.
    let text = r#"
exec_args = ["sh", "-c", "make"]
steps = [
  { pid = "p0.0", op = "exec" },
  { pid = "p0.0", op = "fork" },
  { pid = "p0.1", op = "migrate h1" },
]
[[host]]
id = 0
[[host]]
id = 1
[[process]]
pid = "p0.0"
[[final.process]]
pid = "p0.1"
host = "h1"
args = ["sh", "-c", "make"]
[[final.process]]
pid = "p0.0"
args = ["sh", "-c", "make"]
"#;
    let s = parse("e.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let r = sprite::run::run(&s, false, &CostModel::default()).expect("runs");
    assert!(!r.failed(), "{:#?}", r.finals);
    assert_eq!(r.finals.len(), 3);
    // Without `exec_args`, an exec records none.
    let plain = text.replace("exec_args = [\"sh\", \"-c\", \"make\"]\n", "");
    let s = parse("p.toml", &plain).expect("parses");
    let r = sprite::run::run(&s, false, &CostModel::default()).expect("runs");
    assert!(r.failed());
    assert!(r
        .finals
        .iter()
        .any(|f| f.what == "process p0.1 args" && f.got == "[]"));
}

#[test]
fn exec_arguments_are_checked_when_read() {
    let base = "[[host]]\nid = 0\n[[process]]\npid = \"p0.0\"\n";
    for (head, what) in [
        ("exec_args = [\"a\"]\nexec_args_bytes = 10\n", "not both"),
        ("exec_args = [\"a\\u0000b\"]\n", "cannot contain a NUL"),
    ] {
        let e = parse("x.toml", &format!("{head}{base}")).expect_err(head);
        assert!(e.to_string().contains(what), "{e}");
        assert_eq!(e.line, 1, "{e}");
    }
    let long = format!("exec_args = [\"{}\"]\n{base}", "x".repeat(20_000));
    let e = parse("l.toml", &long).expect_err("too long");
    assert!(e.to_string().contains("more than 16384"), "{e}");
}
