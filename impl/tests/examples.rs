//! The example scenarios in `scenarios/` run clean through the `scenario` binary (every
//! expectation holds, the cluster agrees with one Unix machine), each design switch they
//! mention makes them fail, and malformed input gets a located error and exit code 2.

use std::path::PathBuf;
use std::process::Command;

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn scenario(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_example_scenario_passes() {
    let mut n = 0;
    for e in std::fs::read_dir(scenarios_dir()).expect("scenarios/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            let (code, out, err) = scenario(&[p.to_str().expect("utf-8")]);
            assert_eq!(code, 0, "{}:\n{out}{err}", p.display());
            let (code, out, _) = scenario(&[p.to_str().expect("utf-8"), "--json"]);
            assert_eq!(code, 0);
            let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
            assert!(v["steps"].is_array());
            n += 1;
        }
    }
    assert!(n >= 12, "only {n} example scenarios");
}

#[test]
fn the_rejected_designs_fail_the_examples() {
    let dir = scenarios_dir();
    for (file, switch) in [
        ("temp-file.toml", "reopen-files"),
        ("shared-offset.toml", "client-offsets"),
        ("skewed-clocks.toml", "local-time"),
        ("remote-fork-wait.toml", "local-pids"),
        // Concurrent steps, no expectations: the comparison with one machine catches it.
        ("concurrent-unlink.toml", "reopen-files"),
    ] {
        let p = dir.join(file);
        let (code, out, _) = scenario(&[p.to_str().expect("utf-8"), "--switches", switch]);
        assert_eq!(code, 1, "{file} with {switch} should fail:\n{out}");
        assert!(out.contains("DIFFERS") || out.contains("EXPECTED"), "{out}");
        // The replay hint is a command that fails the same way, switches included.
        let hint = out
            .lines()
            .find_map(|l| l.strip_prefix("FAILED (replay: "))
            .and_then(|l| l.strip_suffix(')'))
            .unwrap_or_else(|| panic!("no replay hint:\n{out}"));
        let args: Vec<&str> = hint
            .strip_prefix("cargo run --release -p sprite --bin scenario -- ")
            .unwrap_or_else(|| panic!("not a scenario command: {hint}"))
            .split(' ')
            .collect();
        assert!(hint.contains(&format!("--switches {switch}")), "{hint}");
        let (again, out_again, _) = scenario(&args);
        assert_eq!(again, 1, "{hint}:\n{out_again}");
        assert_eq!(out_again, out, "the replay runs the same scenario");
    }
}

#[test]
fn the_readme_names_every_example_scenario() {
    let readme = std::fs::read_to_string(scenarios_dir().join("../README.md")).expect("README");
    for e in std::fs::read_dir(scenarios_dir()).expect("scenarios/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            assert!(
                readme.contains(&format!("scenarios/{name}")),
                "README.md does not mention scenarios/{name}"
            );
        }
    }
}

#[test]
fn malformed_input_is_located_and_exits_2() {
    let dir = std::env::temp_dir().join(format!("sprite-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "seed = 1\nsteps = [\n  { pid = \"p0.0\", op = \"teleport h1\" },\n]\n[[host]]\nid = 0\n",
    )
    .expect("write");
    let (code, _, err) = scenario(&[bad.to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml:3:"), "{err}");
    assert!(err.contains("unknown operation `teleport`"), "{err}");
    std::fs::write(&bad, "seed = [\n").expect("write");
    let (code, _, err) = scenario(&[bad.to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml:"), "{err}");
    let (code, _, err) = scenario(&["/nonexistent/x.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.toml"), "{err}");
    let (code, out, _) = scenario(&["--report"]);
    assert_eq!(code, 0);
    assert!(out.contains("SPE Table 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `scenario --trace --json | head -c 1`: when the reader of its output goes away, the tool stops
/// the way Unix filters do (killed by SIGPIPE), without a "Broken pipe" panic.
#[cfg(unix)]
#[test]
fn a_closed_output_pipe_stops_the_tool_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let file = scenarios_dir().join("pmake.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenario"))
        .args([file.to_str().expect("utf-8"), "--trace", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Read one byte, then close the pipe: this trace in JSON (about 260 kB) is far longer
    // than a pipe's buffer (64 kB), so the tool is still writing when the reader goes.
    let mut first = [0u8; 1];
    let mut out = child.stdout.take().expect("stdout");
    out.read_exact(&mut first).expect("some output");
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("exits");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.signal(), Some(libc_sigpipe()), "{status:?}: {err}");
}

/// SIGPIPE's number on every Unix this project runs on (Linux and the BSDs agree).
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}
