//! The `replay` command line: `--help` and unknown flags, and input that is not a
//! scenario (a text file, JSON that is not a scenario or is out of the generator's range,
//! bytes that generate no steps) refused with exit status 2 before anything runs; every
//! scenario the generator makes passes `Scenario::check`.

use conform::{Scenario, SplitMix};
use std::path::PathBuf;
use std::process::Command;

fn replay(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8")
}

#[test]
fn help_and_unknown_flags() {
    let (code, out, _) = replay(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--impl-switches") && out.contains("Exit status"),
        "{out}"
    );
    let (code, _, err) = replay(&["--frobnicate", "00"]);
    assert_eq!(code, 2);
    assert!(err.contains("--frobnicate"), "{err}");
    let (code, _, err) = replay(&["--impl-switches", "no-such-switch", "00"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-switch"), "{err}");
    let (code, _, _) = replay(&[]);
    assert_eq!(code, 2);
}

#[test]
fn a_file_that_is_not_a_scenario_is_refused() {
    let dir = std::env::temp_dir().join(format!("conform-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    // Text: the README, a scenario for the `scenario` binary.
    for text in [
        root().join("README.md"),
        root().join("scenarios/temp-file.toml"),
    ] {
        let (code, out, err) = replay(&[path(&text)]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains("is a text file") && err.contains("--bytes"),
            "{err}"
        );
        assert!(out.is_empty(), "nothing ran: {out}");
    }
    // Its bytes as generator input, when asked for.
    let toml = root().join("scenarios/temp-file.toml");
    let (code, out, _) = replay(&["--bytes", path(&toml)]);
    assert_eq!(code, 0, "{out}");
    // JSON: not a scenario, out of range, no steps.
    let good = std::fs::read_to_string(
        root().join("conform/tests/regressions/orphan-parent-pointer.json"),
    )
    .expect("a regression case");
    let sc: Scenario = serde_json::from_str(&good).expect("a scenario");
    let mut clock = sc.clone();
    clock.hosts[0].clock = 9;
    let mut hosts = sc.clone();
    hosts.hosts.extend(vec![hosts.hosts[0].clone(); 5]);
    let mut target = sc.clone();
    target.steps.push(conform::gen::Step::Op {
        who: conform::gen::Who::Slot(0),
        op: vocab::Op::Migrate {
            target: vocab::HostId(9),
        },
    });
    let mut empty = sc.clone();
    empty.steps.clear();
    let cases = [
        ("{}".to_string(), "not a scenario"),
        ("[1, 2".to_string(), "not a scenario"),
        (serde_json::to_string(&clock).expect("json"), "clock #9"),
        (serde_json::to_string(&hosts).expect("json"), "8 hosts"),
        (serde_json::to_string(&target).expect("json"), "no host h9"),
        (serde_json::to_string(&empty).expect("json"), "no steps"),
    ];
    for (k, (text, want)) in cases.iter().enumerate() {
        let f = dir.join(format!("case{k}.json"));
        std::fs::write(&f, text).expect("write");
        let (code, out, err) = replay(&[path(&f)]);
        assert_eq!(code, 2, "case {k}: {out}{err}");
        assert!(err.contains(want), "case {k}: {err}");
        assert!(out.is_empty(), "case {k}: nothing ran: {out}");
    }
    // An empty file, bytes that generate no steps, not hex.
    let f = dir.join("empty");
    std::fs::write(&f, b"").expect("write");
    let (code, _, err) = replay(&[path(&f)]);
    assert_eq!((code, err.contains("empty")), (2, true), "{err}");
    let (code, _, err) = replay(&["00"]);
    assert_eq!((code, err.contains("no steps")), (2, true), "{err}");
    let (code, _, err) = replay(&["not-hex"]);
    assert_eq!(
        (code, err.contains("neither a file nor hex")),
        (2, true),
        "{err}"
    );
    let long = "z".repeat(100_000);
    let (code, _, err) = replay(&[&long]);
    assert_eq!(code, 2);
    assert!(
        err.len() < 300,
        "quotes a short prefix: {} bytes",
        err.len()
    );
    // A good case still runs.
    let (code, out, _) = replay(&[path(
        &root().join("conform/tests/regressions/orphan-parent-pointer.json"),
    )]);
    assert_eq!(code, 0);
    assert!(out.contains("no mismatch"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_generated_scenario_passes_the_check() {
    let mut rng = SplitMix(5);
    let mut n = 0;
    for _ in 0..3000 {
        let len = (rng.next_u64() % 600) as usize;
        let bytes = rng.bytes(len);
        for sc in [
            Scenario::from_bytes(&bytes),
            Scenario::from_bytes_with_mid_migration_event(&bytes),
        ] {
            if !sc.steps.is_empty() {
                sc.check().unwrap_or_else(|e| panic!("{e}: {sc:?}"));
                n += 1;
            }
        }
    }
    assert!(n > 3000, "{n}");
}

/// The README's sample replay commands do what the README says: the first passes, the
/// second (with reopen-files in the implementation only) reports a mismatch.
#[test]
fn the_readme_sample_replays_as_described() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let samples: Vec<Vec<&str>> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("cargo run -p conform --bin replay -- "))
        .map(|rest| rest.split_whitespace().collect())
        .collect();
    assert_eq!(samples.len(), 2, "two sample commands in README.md");
    let (code, out, err) = replay(&samples[0]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no mismatch"), "{out}");
    assert!(samples[1].contains(&"--impl-switches"));
    let (code, out, err) = replay(&samples[1]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("MISMATCH"), "{out}");
}
