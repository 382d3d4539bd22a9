//! One file, both sides: every built-in scripted configuration, written as a file by
//! `check show` (`model::file::show`), is a scenario the implementation runs as written,
//! every result agreeing with one Unix machine, and the model reads it back as the same
//! configuration. So the model's reading of a file (each process's steps its script, a
//! forked child's steps those naming the pid Sprite gives it, pids reused once collected)
//! is the implementation's.

use model::file::{canonical, load, show};

#[test]
fn every_shown_scripted_configuration_runs_on_the_implementation() {
    let mut ran = 0;
    for cfg in model::configs::all() {
        if cfg.scripts.iter().any(|s| s.is_alphabet()) {
            continue;
        }
        let text = show(&cfg).unwrap_or_else(|e| panic!("{}: {e}", cfg.name));
        let file = format!("{}.toml", cfg.name);
        assert_eq!(load(&file, &text).expect("loads"), canonical(&cfg));
        let s = sprite::scenario::parse(&file, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let model = sprite::cost::CostModel::default();
        let r = sprite::run::run(&s, false, &model).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!r.failed() && !r.undecided, "{file}:\n{text}\n{r:?}");
        ran += 1;
    }
    assert!(ran >= 11, "{ran}");
}
