//! The `check` binary as a user types it: arguments it must refuse clearly, options after
//! subcommands, the Explorer's address, the JSON document's shape, the tables' width.

use serde_json::Value;
use std::process::Command;

/// Runs `check` with `args`: exit status, stdout, stderr.
fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(args)
        .output()
        .expect("check runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn version_is_printed() {
    let (code, out, _) = check(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("check "), "{out}");
}

#[test]
fn negative_numbers_are_refused_by_name() {
    for (flag, value) in [
        ("--max-depth", "-1"),
        ("--max-states", "-5"),
        ("--threads", "-2"),
        ("--timeout", "-3"),
    ] {
        let (code, _, err) = check(&["--config", "files", flag, value]);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains("is negative"), "{flag} {value}: {err}");
        assert!(!err.contains("-- -"), "the misleading tip is back: {err}");
    }
    let (code, _, err) = check(&["--threads", "many"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a whole number"), "{err}");
}

#[test]
fn checking_options_may_follow_a_subcommand() {
    let (code, out, err) = check(&["alt", "local-time", "--threads", "1", "--json"]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert_eq!(doc["switch"], "local-time");
    assert_eq!(doc["verdict"], "caught");
    assert_eq!(doc["ok"], true);
    // Before the subcommand too.
    let (code, out, _) = check(&["--json", "alt", "local-time"]);
    assert_eq!(code, 0);
    assert_eq!(json(&out)["expected"], "TIME");
}

#[test]
fn checking_options_are_refused_where_they_do_nothing() {
    let (code, out, err) = check(&["list", "--json"]);
    assert_eq!(code, 2);
    assert!(err.contains("does nothing with `check list`"), "{err}");
    assert_eq!(json(&out)["exit_status"], 2);
    let (code, _, err) = check(&[
        "replay",
        "--config",
        "files",
        "--path",
        "0",
        "--threads",
        "2",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--threads"), "{err}");
}

#[test]
fn the_explorer_refuses_an_address_it_cannot_use() {
    let (code, _, err) = check(&["explore", "--addr", "not-an-address"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--addr `not-an-address`"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A port already taken.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let at = busy.local_addr().expect("bound").to_string();
    let (code, _, err) = check(&["explore", "--addr", &at]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot listen there"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Every verdict has the same fields, whatever it says.
fn assert_verdict_shape(v: &Value, names: &[&str]) {
    let verdict = v["verdict"].as_str().expect("verdict is a string");
    assert!(names.contains(&verdict), "verdict {verdict}");
    for field in ["steps", "path", "replay"] {
        assert!(v.get(field).is_some(), "{field} missing in {v}");
    }
    let with_path = matches!(verdict, "broken" | "reached" | "caught");
    assert_eq!(v["path"].is_array(), with_path, "{v}");
    assert_eq!(v["replay"].is_string(), with_path, "{v}");
    assert_eq!(v["steps"].as_u64().is_some(), with_path, "{v}");
    if with_path {
        assert_eq!(
            v["path"].as_array().expect("array").len() as u64,
            v["steps"].as_u64().expect("steps"),
            "{v}"
        );
    }
}

#[test]
fn json_document_has_one_shape_and_replayable_paths() {
    let (code, out, err) = check(&["--config", "files", "--switch", "reopen-files", "--json"]);
    let doc = json(&out);
    assert_eq!(doc["schema"], model::json::SCHEMA);
    assert_eq!(doc["exit_status"], code, "{err}");
    assert_eq!(doc["ok"], code == 0);
    assert_eq!(doc["complete"], true);
    let cfg = &doc["configurations"][0];
    assert_eq!(cfg["name"], "files");
    assert_eq!(cfg["source"], "--config files");
    assert_eq!(cfg["switches"], serde_json::json!(["reopen-files"]));
    let props = cfg["properties"].as_array().expect("properties");
    for p in props {
        assert_verdict_shape(
            p,
            &["holds", "holds-so-far", "broken", "reached", "not-reached"],
        );
    }
    let del = props.iter().find(|p| p["name"] == "DEL").expect("DEL");
    assert_eq!(del["verdict"], "broken");
    // The replay command, run as printed, replays a path that ends with DEL broken.
    let replay = del["replay"].as_str().expect("replay");
    let args: Vec<&str> = replay
        .strip_prefix("cargo run --release --bin check -- ")
        .expect("a check command")
        .split(' ')
        .collect();
    let (code, out, _) = check(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("!! DEL"), "{out}");
}

#[test]
fn json_of_a_cut_run_is_not_ok_and_exits_3() {
    let (code, out, _) = check(&["--config", "files", "--max-states", "10", "--json"]);
    assert_eq!(code, 3);
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["exit_status"], 3);
    assert_eq!(doc["complete"], false);
    assert_eq!(
        doc["configurations"][0]["cut"],
        serde_json::json!(["--max-states"])
    );
    let tr = &doc["configurations"][0]["properties"][0];
    assert_verdict_shape(tr, &["holds-so-far"]);
}

/// stateright's depth-first checker looks at its deadline only when a thread runs out of
/// work, so `--timeout` used to be ignored by a one-thread depth-first run (it went on for
/// the whole search). If that comes back, this test does not fail: it runs for the ten
/// minutes or more `deep-files` takes on one thread, and CI's own time limit reports it.
#[test]
fn a_timeout_stops_a_depth_first_run_that_would_take_many_minutes() {
    let (code, out, _) = check(&[
        "--config",
        "deep-files",
        "--no-alternatives",
        "--threads",
        "1",
        "--search",
        "dfs",
        "--timeout",
        "1",
        "--json",
    ]);
    assert_eq!(code, 3);
    let doc = json(&out);
    assert_eq!(doc["complete"], false);
    assert_eq!(
        doc["configurations"][0]["cut"],
        serde_json::json!(["--timeout"])
    );
}

#[test]
fn json_alternatives_spell_switches_as_the_command_line_does() {
    let (code, out, err) = check(&["alt", "precopy-vm", "--json"]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert_eq!(doc["switch"], "precopy-vm");
    assert_verdict_shape(&doc, &["correct"]);
}

#[test]
fn tables_fit_in_120_columns_and_one_configuration_tries_no_alternative() {
    let (code, out, err) = check(&["--suite", "scripts", "--quiet", "--no-alternatives"]);
    assert_eq!(code, 0, "{err}");
    for line in out.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} columns: {line}",
            line.len()
        );
    }
    let (code, out, _) = check(&["--config", "files", "--config", "refuse"]);
    assert_eq!(code, 0);
    assert!(!out.contains("design alternative "), "{out}");
    assert!(!out.contains("==="), "no alternative traces: {out}");
}

/// The progress line names every figure, with the queue when the run counts it; a real
/// run reports progress with its queue, which is empty once the configuration is done.
#[test]
fn progress_lines_carry_the_queue_and_end_with_it_empty() {
    use model::run::{check, Options, Progress};
    use std::sync::Mutex;
    use std::time::Duration;
    let p = Progress {
        config: "files",
        states: 10,
        unique: 8,
        depth: 3,
        queue: Some(2),
        elapsed: Duration::from_secs(2),
        done: false,
    };
    assert_eq!(
        p.line(),
        "files: 10 states, 8 unique, queue 2, depth 3, 4 unique/s, 2.0s"
    );
    let p = Progress { queue: None, ..p };
    assert_eq!(
        p.line(),
        "files: 10 states, 8 unique, depth 3, 4 unique/s, 2.0s"
    );

    static SEEN: Mutex<Vec<(Option<usize>, usize, bool)>> = Mutex::new(Vec::new());
    fn record(p: &Progress) {
        SEEN.lock().unwrap().push((p.queue, p.unique, p.done));
    }
    let opts = Options {
        progress: Some(record),
        ..Options::default()
    };
    let r = check(&model::configs::files(), &opts);
    let seen = SEEN.lock().unwrap();
    let (queue, unique, done) = *seen.last().expect("a final progress report");
    assert!(done);
    assert_eq!(unique, r.unique_states);
    assert_eq!(queue, Some(0), "every unique state was checked");
}

/// A situation no configuration of a run can produce (a pipe shared across hosts, where no
/// program creates a pipe) is listed as not attempted, with what it needs, and is not
/// counted as unreached: the `open` and `deep` suites have no pipes. The default suite
/// attempts every situation.
#[test]
fn a_situation_no_configuration_can_produce_is_not_attempted_rather_than_unreached() {
    let (code, out, err) = check(&["--config", "refuse", "--no-alternatives", "--json"]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert_eq!(
        doc["not_attempted"],
        serde_json::json!([{"name": "reach:shared-pipe", "needs": "a program that creates a pipe"}])
    );
    assert!(!doc["unreached"]
        .as_array()
        .expect("a list")
        .contains(&serde_json::json!("reach:shared-pipe")));
    let names = |suite: &str| -> Vec<&str> {
        model::run::not_attempted(&model::configs::suite(suite).expect("exists"))
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    };
    assert_eq!(names("open"), ["reach:shared-pipe"]);
    assert_eq!(names("deep"), ["reach:shared-pipe"]);
    assert!(names("default").is_empty());
    assert!(names("full").is_empty());
}
