//! Each rejected design alternative breaks the invariant the papers say it breaks, with a
//! counterexample of pinned length; the correct VM strategies break nothing.
//!
//! Each is tried in an open configuration (`configs::for_switch`), and the breadth-first
//! search returns a shortest counterexample over every program within its bounds. Each is
//! at most as long as the one the scripted configurations gave before (in brackets).

use model::run::{try_alternative, Options};
use vocab::{InvariantId, Switch};

fn counterexample_length(sw: Switch) -> usize {
    let r = try_alternative(sw, &Options::default());
    assert!(
        r.as_expected,
        "{sw}: expected {:?}, broken {:?}",
        r.expected, r.broken
    );
    assert!(r.broken.contains(&sw.breaks().expect("breaks something")));
    r.steps.expect("a counterexample")
}

#[test]
fn alt_reopen_files_breaks_del() {
    assert_eq!(Switch::ReopenFiles.breaks(), Some(InvariantId::DEL));
    assert_eq!(counterexample_length(Switch::ReopenFiles), 6); // [7]
}

#[test]
fn alt_notify_target_first_breaks_cache() {
    assert_eq!(counterexample_length(Switch::NotifyTargetFirst), 5); // [6]
}

#[test]
fn alt_client_offsets_breaks_off() {
    assert_eq!(counterexample_length(Switch::ClientOffsets), 6); // [8]
}

#[test]
fn alt_no_vm_flush_breaks_mem() {
    assert_eq!(counterexample_length(Switch::NoVmFlush), 4); // [4]
}

#[test]
fn alt_no_block_flush_breaks_cons() {
    assert_eq!(counterexample_length(Switch::NoBlockFlush), 9); // [11]
}

#[test]
fn alt_local_time_breaks_time() {
    assert_eq!(counterexample_length(Switch::LocalTime), 7); // [7]
}

#[test]
fn alt_local_pids_breaks_evict() {
    assert_eq!(Switch::LocalPids.breaks(), Some(InvariantId::EVICT));
    assert_eq!(counterexample_length(Switch::LocalPids), 2); // [15] (`fork-wait`)
}

#[test]
fn alt_wait_on_current_breaks_wait() {
    // The switch's strongest form: the rendezvous moves with the parent and exit notices
    // follow it. The earlier form, which never sent an exit on, was caught in 8 steps.
    assert_eq!(counterexample_length(Switch::WaitOnCurrent), 12);
}

#[test]
fn alt_lazy_vm_breaks_res() {
    assert_eq!(counterexample_length(Switch::LazyVm), 9); // [10]
}

#[test]
fn alt_precopy_full_copy_vm_and_remote_to_remote_are_correct() {
    for sw in [
        Switch::PrecopyVm,
        Switch::FullCopyVm,
        Switch::RemoteToRemote,
    ] {
        let r = try_alternative(sw, &Options::default());
        assert!(
            r.as_expected && r.broken.is_empty(),
            "{sw} broke {:?}",
            r.broken
        );
    }
}

#[test]
fn counterexamples_replay_and_end_in_the_violation() {
    for sw in Switch::ALL.into_iter().filter(|s| s.breaks().is_some()) {
        let r = try_alternative(sw, &Options::default());
        let id = sw.breaks().expect("filtered");
        let path = r
            .report
            .invariant(id)
            .and_then(|p| p.path.clone())
            .expect("path");
        let m = model::SpriteModel::new(model::configs::for_switch(sw));
        let states = model::trace::replay(&m, &path).expect("replays");
        let explained = model::trace::explain(&m, states.last().expect("non-empty"));
        assert!(
            explained.iter().any(|l| l.starts_with(id.as_str())),
            "{sw}: {explained:?}"
        );
        // Cut at the first violation: no earlier state breaks it.
        for s in &states[..states.len() - 1] {
            assert!(!model::trace::explain(&m, s)
                .iter()
                .any(|l| l.starts_with(id.as_str())));
        }
        // The same path is replayable from its indices.
        let idx = model::trace::indices(&m, &path);
        assert_eq!(model::trace::from_indices(&m, &idx).expect("valid"), path);
    }
}

#[test]
fn committed_counterexample_figures_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/counterexamples");
    for sw in Switch::ALL.into_iter().filter(|s| s.breaks().is_some()) {
        let r = try_alternative(sw, &Options::default());
        let want = model::figures::markdown(&r).expect("a counterexample");
        let file = dir.join(format!("{sw}.md"));
        let have = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            have == want,
            "{} is stale: run `cargo run --release --bin check -- --write-figures`",
            file.display()
        );
    }
    // And no figure is left for a switch that no longer breaks anything.
    for e in std::fs::read_dir(&dir).expect("specs/counterexamples") {
        let name = e.expect("entry").file_name().into_string().expect("utf-8");
        let sw: Option<Switch> = name.strip_suffix(".md").and_then(|n| n.parse().ok());
        assert!(
            sw.is_some_and(|sw| sw.breaks().is_some()),
            "specs/counterexamples/{name} is not the figure of a breaking switch"
        );
    }
}
