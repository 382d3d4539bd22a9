//! Input that used to break the `scenario` binary: each gets a located error and exit
//! status 2 before anything runs (nothing on standard output), or, for large but valid
//! scenarios, a result; a comparison that cannot be decided exits 3, never 0.

use std::path::PathBuf;
use std::process::Command;

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("sprite-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("tmp");
        Tmp(d)
    }

    /// Runs `scenario` on `text` (written to `name`) with `args`: (code, stdout, stderr).
    fn run(&self, name: &str, text: &str, args: &[&str]) -> (i32, String, String) {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
            .arg(&p)
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ONE_HOST: &str = "[[host]]\nid = 0\n[[process]]\npid = \"p0.0\"\n";

fn steps(ops: impl Iterator<Item = (String, String)>) -> String {
    let body: String = ops
        .map(|(p, o)| format!("  {{ pid = \"{p}\", op = \"{o}\" }},\n"))
        .collect();
    format!("steps = [\n{body}]\n")
}

/// Asserts a located input error: exit 2, `name:line:` and `what` on stderr, nothing run.
fn refused(r: (i32, String, String), name: &str, line: usize, what: &str) {
    let (code, out, err) = r;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&format!("{name}:{line}:")), "{err}");
    assert!(err.contains(what), "{err}");
    assert!(out.is_empty(), "nothing ran: {out}");
    assert!(err.len() < 600, "a short message: {} bytes", err.len());
}

#[test]
fn clock_skew_beyond_a_clock_is_located() {
    let t = Tmp::new("skew");
    let text = "steps = [{ pid = \"p0.0\", op = \"gettimeofday\" }]\n[[host]]\nid = 0\n\
                clock_skew_ms = 9223372036854775807\n[[process]]\npid = \"p0.0\"\n";
    refused(
        t.run("skew.toml", text, &[]),
        "skew.toml",
        4,
        "clock_skew_ms",
    );
}

#[test]
fn a_step_of_no_process_or_of_no_host_is_located() {
    let t = Tmp::new("pid");
    let text = format!(
        "{}{ONE_HOST}",
        steps([("p0.5".into(), "getpid".into())].into_iter())
    );
    refused(
        t.run("p.toml", &text, &[]),
        "p.toml",
        2,
        "p0.5 is not a listed process",
    );
    let text = format!(
        "{}{ONE_HOST}",
        steps([("p7.0".into(), "getpid".into())].into_iter())
    );
    refused(
        t.run("p.toml", &text, &[]),
        "p.toml",
        2,
        "its home h7 is not a host",
    );
}

#[test]
fn a_huge_operation_is_quoted_by_a_prefix() {
    let t = Tmp::new("op");
    let op = "x".repeat(10 << 20);
    let text = format!("{}{ONE_HOST}", steps([("p0.0".into(), op)].into_iter()));
    refused(
        t.run("op.toml", &text, &[]),
        "op.toml",
        2,
        "unknown operation `xxx",
    );
}

#[test]
fn a_huge_data_array_is_refused_from_its_tokens() {
    let t = Tmp::new("data");
    let data = vec!["1"; 3_400_000].join(", ");
    let text = format!("{ONE_HOST}[[file]]\nname = \"/f0\"\ndata = [{data}]\n");
    refused(
        t.run("d.toml", &text, &[]),
        "d.toml",
        7,
        "an array of more than",
    );
    let text = format!("{ONE_HOST}[[file]]\nname = \"/f0\"\ndata = [1, 2, 3, 4]\n");
    refused(
        t.run("d.toml", &text, &[]),
        "d.toml",
        7,
        "at most 3 symbols",
    );
}

#[test]
fn exec_args_beyond_the_cap_are_refused_not_cut() {
    let t = Tmp::new("args");
    let text = format!(
        "exec_args_bytes = 4000000000\n{}{ONE_HOST}[[host]]\nid = 1\n",
        steps([("p0.0".into(), "exec h1".into())].into_iter())
    );
    refused(t.run("a.toml", &text, &[]), "a.toml", 1, "exec_args_bytes");
}

#[test]
fn many_operations_and_many_processes_run() {
    let t = Tmp::new("many");
    // 12,000 operations of one process used to overflow the stack in the history check.
    for mode in ["sequential", "concurrent"] {
        let ops = (0..12_000).map(|_| ("p0.0".to_string(), "getpid".to_string()));
        let text = format!("mode = \"{mode}\"\n{}{ONE_HOST}", steps(ops));
        let (code, out, err) = t.run("ops.toml", &text, &[]);
        assert_eq!(code, 0, "{mode}: {err}");
        assert!(out.contains("line 12001"), "{mode}");
    }
    // 2,000 processes each calling getpid at once: 2,000 independent parts.
    let pids: Vec<String> = (0..2000)
        .map(|i| format!("p{}.{}", i / 200, i % 200))
        .collect();
    let hosts: String = (0..10).map(|h| format!("[[host]]\nid = {h}\n")).collect();
    let procs: String = pids
        .iter()
        .map(|p| format!("[[process]]\npid = \"{p}\"\n"))
        .collect();
    let ops = pids.iter().map(|p| (p.clone(), "getpid".to_string()));
    let text = format!("mode = \"concurrent\"\n{}{hosts}{procs}", steps(ops));
    let (code, out, err) = t.run("procs.toml", &text, &["--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["history_parts"], 2000);
    assert_eq!(v["undecided"], false);
}

#[test]
fn an_undecided_comparison_exits_3() {
    // 70 processes open /f0 four times each: more streams than the one machine numbers.
    let t = Tmp::new("undecided");
    let pids: Vec<String> = (0..70).map(|i| format!("p0.{i}")).collect();
    let procs: String = pids
        .iter()
        .map(|p| format!("[[process]]\npid = \"{p}\"\n"))
        .collect();
    let ops = pids
        .iter()
        .flat_map(|p| (0..4).map(move |_| (p.clone(), "open /f0 r".to_string())));
    let text = format!(
        "{}[[host]]\nid = 0\n[[file]]\nname = \"/f0\"\n{procs}",
        steps(ops)
    );
    let (code, out, err) = t.run("u.toml", &text, &[]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.contains("UNDECIDED") && out.contains("256 streams"),
        "{out}"
    );
}

#[test]
fn a_negative_seed_is_refused_by_name() {
    let t = Tmp::new("seed");
    let text = format!(
        "{ONE_HOST}{}",
        steps(std::iter::once(("p0.0".into(), "getpid".into())))
    );
    let (code, out, err) = t.run("seed.toml", &text, &["--seed", "-3"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("`-3` is negative"), "{err}");
    assert!(!err.contains("-- -3"), "the misleading tip is back: {err}");
    assert!(out.is_empty());
}

/// A scenario with one event step at a moment (`after`), then `rest` as steps.
fn with_moment(event: &str, after: &str, extra: &str) -> String {
    format!(
        "steps = [\n  {{ event = \"{event}\", after = \"{after}\"{extra} }},\n  \
         {{ pid = \"p0.0\", op = \"migrate h1\" }},\n]\n[[host]]\nid = 0\n[[host]]\nid = 1\n\
         [[process]]\npid = \"p0.0\"\n"
    )
}

#[test]
fn a_bad_moment_is_located() {
    let t = Tmp::new("after");
    let r = t.run("a.toml", &with_moment("crash h1", "MIG_STAT p0.0", ""), &[]);
    refused(r, "a.toml", 2, "unknown step `MIG_STAT`");
    let r = t.run("a.toml", &with_moment("crash h1", "MIG_STATE", ""), &[]);
    refused(r, "a.toml", 2, "bad moment");
    let r = t.run("a.toml", &with_moment("crash h1", "RESUME p9.0", ""), &[]);
    refused(r, "a.toml", 2, "its home h9 is not a host");
    let r = t.run(
        "a.toml",
        &with_moment("crash h1", "RESUME p0.0", ", expect = \"done\""),
        &[],
    );
    refused(r, "a.toml", 2, "has no `expect`");
    let text = "steps = [{ pid = \"p0.0\", op = \"getpid\", after = \"run p0.0\" }]\n\
                [[host]]\nid = 0\n[[process]]\npid = \"p0.0\"\n";
    refused(
        t.run("b.toml", text, &[]),
        "b.toml",
        1,
        "only an `event` step has an `after`",
    );
}

#[test]
fn an_event_at_a_moment_happens_there_or_fails_the_run() {
    let t = Tmp::new("moment");
    // The target crashes right after the state has left the source: the process is lost.
    let (code, out, err) = t.run(
        "m.toml",
        &with_moment("crash h1", "MIG_STATE p0.0", ""),
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("h1 crashes after MIG_STATE p0.0 = done (simulator step"),
        "{out}"
    );
    assert!(
        out.contains("migrate(to h1)               = killed"),
        "{out}"
    );
    // A moment that never comes (p0.0 never receives a signal) fails the run.
    let (code, out, _) = t.run("n.toml", &with_moment("crash h1", "SIGNAL p0.0", ""), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("never: the moment did not come"), "{out}");
}

#[test]
fn relations_name_an_earlier_result() {
    let t = Tmp::new("rel");
    let two = |first: &str, second: &str| {
        format!(
            "steps = [\n  {{ pid = \"p0.0\", op = \"gettimeofday\"{first} }},\n  \
             {{ pid = \"p0.0\", op = \"gettimeofday\"{second} }},\n]\n{ONE_HOST}"
        )
    };
    let r = t.run("r.toml", &two("", ", expect = \">= t0\""), &[]);
    refused(r, "r.toml", 3, "which no earlier step has as its `id`");
    let r = t.run("r.toml", &two(", id = \"0t\"", ""), &[]);
    refused(r, "r.toml", 2, "bad id `0t`");
    let r = t.run("r.toml", &two(", id = \"t\"", ", id = \"t\""), &[]);
    refused(r, "r.toml", 3, "id `t` is given twice");
    // Held: time never goes backwards on one host; broken: it never goes forwards either.
    let (code, out, err) = t.run("r.toml", &two(", id = \"t0\"", ", expect = \">= t0\""), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = t.run("r.toml", &two(", id = \"t0\"", ", expect = \"< t0\""), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("EXPECTED < t0"), "{out}");
}

#[test]
fn a_start_on_no_host_is_located() {
    let t = Tmp::new("start");
    let text = "steps = [{ pid = \"p0.0\", op = \"getpid\" }]\n[[host]]\nid = 0\n\
                [[process]]\npid = \"p0.0\"\nstart_on = \"h3\"\n";
    refused(t.run("s.toml", text, &[]), "s.toml", 6, "no host h3");
}

#[test]
fn a_process_cannot_start_where_it_could_never_have_migrated() {
    let t = Tmp::new("away");
    let base =
        "steps = [{ pid = \"p0.0\", op = \"getpid\" }]\n[[host]]\nid = 0\n[[host]]\nid = 1\n";
    let owner = format!("{base}owner = true\n[[process]]\npid = \"p0.0\"\nstart_on = \"h1\"\n");
    refused(
        t.run("o.toml", &owner, &[]),
        "o.toml",
        9,
        "its owner is present",
    );
    let pinned =
        format!("{base}[[process]]\npid = \"p0.0\"\nshares_memory = true\nstart_on = \"h1\"\n");
    refused(
        t.run("p.toml", &pinned, &[]),
        "p.toml",
        9,
        "can never have migrated",
    );
}
