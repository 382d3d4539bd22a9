//! The model's configuration files (`model/configs/*.toml`, read by `check --file`) are
//! written in the scenario files' vocabulary: a scripted one runs on the implementation
//! as it is, with every result as expected (exit status 0); an open one (alphabets, events
//! at any point) is refused with a message saying which key is model-only (exit status 2).

use std::path::PathBuf;
use std::process::Command;

fn configs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model/configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("model/configs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn is_open(text: &str) -> bool {
    text.lines().any(|l| {
        let key = l.split('=').next().unwrap_or("").trim();
        ["alphabet", "budget", "events"].contains(&key)
    })
}

#[test]
fn the_models_files_run_here_or_are_refused_as_model_only() {
    let mut scripted = 0;
    for path in configs() {
        let text = std::fs::read_to_string(&path).expect("read");
        let out = Command::new(env!("CARGO_BIN_EXE_scenario"))
            .arg(&path)
            .output()
            .expect("runs");
        let (code, stdout, stderr) = (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if is_open(&text) {
            assert_eq!(code, 2, "{}: {stdout}{stderr}", path.display());
            assert!(stderr.contains("is a model-only key"), "{stderr}");
            assert!(sprite::scenario::parse("f.toml", &text).is_err());
        } else {
            scripted += 1;
            assert_eq!(code, 0, "{}: {stdout}{stderr}", path.display());
            let s = sprite::scenario::parse("f.toml", &text).expect("parses");
            assert!(s.steps.iter().any(|st| st.expect.is_some()));
        }
    }
    assert!(scripted >= 1, "a scripted example runs on both");
}
