//! Regression cases: scenarios that once failed, each kept as the scenario itself (JSON
//! files in `tests/regressions/`, so that they stay the same scenarios when the generator
//! changes), and each must now run clean:
//!
//! | file | what it was |
//! | --- | --- |
//! | `orphan-parent-pointer` | an orphan whose parent's pid is reused by its own child (KNOWN-4, an implementation bug) |
//! | `read-during-sharers-migration` | a read of a stream while another holder of it migrates saw a stale position (KNOWN-7, an implementation bug) |
//! | `crash-kills-waiter-and-child` | found by the lockstep: a crash ends a waiting parent and its child together; the model logged the parent's wait result although the parent died in the same step |
//! | `close-queued-behind-exchange` | found by the lockstep: a close of a host's last reference, issued while the server was in the middle of another process's exchange on the same file, took effect in the kernel before the server had closed it |
//! | `close-overtaken-by-exchange` | found by the lockstep: a close settled in the abstraction before the server began another exchange on the file, which then queued it |
//! | `writer-recalled-keeps-writing` | found by the lockstep: after the server recalled a host's dirty blocks it forgot the host as last writer, though the host kept the file open for writing and wrote to its cache again; a read at the server then missed that write (CONS, an implementation bug) |
//! | `killpg-large-group` | found by the lockstep: a killpg delivering to ten members at the home in one implementation step, more than the search's depth took one by one |
//! | `target-crash-mid-exchange` | found by the mid-migration-event sweep: the target crashed during the stream exchange of a process whose forked child shares its file on the source; the source dropped the moving process's references twice and the child's `read` returned EBADF (an implementation bug) |
//! | `crash-cuts-exchange-after-release` | found by the `migrate_events` fuzz target: the target crashed after the source had released a shared stream and before the grant; the implementation's server keeps the released position, the model's exchange never began, so where the position lives is compared only in runs without a crash |
//! | `exit-during-exchange` | found by the lockstep: an exit's backing-file discard queued behind a stream exchange at the server, leaving the exit half done |
//! | `write-close-in-exchange-window` | the CONS window (proofs/README.md, CONS-WINDOW): another process on the source opens, writes and closes the file between the migration's BLOCK_FLUSH and the stream exchange; the implementation left the block dirty on the source and granted the target the server's older copy (an implementation bug; caught once the generator could put several operations inside one migration) |
//! | `close-pending-at-release` | found by the mid-migration-event suite: the same window, where the other process's close was not yet answered when the source released the mover's stream, so the source kept clean blocks the moved writer then made stale (CONS clause 3, an implementation bug) |
//! | `aborted-migration-flush-then-source-crash` | KNOWN-10, found by the mid-migration-event suite (`CONFORM_SEED=7 CONFORM_CASES=5000`): the target crashed after the source had sent BLOCK_FLUSH; the blocks reached the server, the migration was aborted, and a later crash of the source lost them in the model only, whose flush was inside the MIG_STATE that never happened. Closed by the model's WRITE_BACK step, which the server names when the flush arrives |
//! | `exit-racing-exchange-on-source` | KNOWN-11, found by the mid-migration-event suite (`CONFORM_SEED=29 CONFORM_CASES=5000`): a process exits on the source while another process there that shares its stream migrates away; the exit had dropped its reference early, so the source told the server it no longer used the stream, and the server kept caching on where the model, whose exit comes later, turns it off |
//! | `exit-racing-release-keeps-position` | KNOWN-12, found by the `remote-to-remote` suite (`conform/tests/switches.rs`, `CONFORM_SEED=1 CONFORM_CASES=20000`): a process exits on the source while its parent, sharing a stream with it there, moves away; the server took the exit's close beside the exchange before the source answered STREAM_RELEASE, but the source still counted the exiting process's reference, so the stream looked shared and its position stayed on the server, where the model, whose exit came first, gives it back to the only holder (OFF's placement). Fails when the server is not told which holders are exiting (`Released::exiting`) |
//! | `signal-before-resume-three-way` | found by the `remote-to-remote` suite: in a move between two remote hosts the home sent a signal on to the target after HOME_UPDATE, and it reached the target before RESUME (another channel); the target bounced it home, the home sent it back, and so on until RESUME came (no quiescence within the budget). The target now takes it for the arrived process |
//! | `open-granted-to-a-process-its-homes-crash-killed` | found by the mid-event suite once an event could land inside any operation (`Step::EventAmid`): a process on h1 opens a file, the server suspends the open on a CACHE_DISABLE to h0, h0 (the process's home) crashes, h1 kills the process, and the server then grants the open; the grant reached a process that no longer existed and was dropped, so the server counted a reference from h1 for ever (OFF fails on the mapped state: a stream used on h1 with no position anywhere; an implementation bug). The kernel now closes streams granted to a dead process |
//! | `cancelled-exchange-leaves-a-host-writing-through` | KNOWN-13, found by the mid-event suite (`CONFORM_SEED=9 CONFORM_CASES=20000`): a crash of the target cancelled a stream exchange after the server had sent CACHE_DISABLE to another host, which from then on wrote through to the server while the model kept its writes dirty in its cache; a later crash of that host lost them in the model only (CONS). Fails when the server does not name a write it takes for a cacheable file as the write and its write-back |
//! | `exit-close-ahead-of-the-release-answer` | KNOWN-14, found by the mid-event suite (`CONFORM_SEED=18 CONFORM_CASES=20000`): a process exec-migrates while its child on the source, sharing two pipe ends with it, exits; the child's exit close is ahead of the source's answer to STREAM_RELEASE in the same channel, so the server takes it first and gives the positions to the target, but the settled copy let the answer overtake it and the model kept the positions on the server. Fails when `abs::overtakes` lets that answer overtake the close |
//! | `write-back-behind-a-close` | found by the lockstep once it could: the same window, where the close travels ahead of the CACHE_DISABLE reply that carries the written block; the abstraction now counts blocks in such a reply as the server's |
//!
//! A new case: `cargo run -p conform --bin replay -- <hex> --save tests/regressions/<name>.json`
//! (from `conform/`) writes the scenario of a report's `replay:` line; then add a row above.

use conform::{report, run, Options, Scenario};
use std::path::Path;

#[test]
fn regression_cases_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("tests/regressions") {
        let path = e.expect("entry").path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let sc: Scenario = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a scenario: {e}", path.display()));
        if let Some(m) = run(&sc, &Options::default()).mismatch {
            let cmd = format!("cargo run -p conform --bin replay -- {}", path.display());
            panic!("{}:\n{}", path.display(), report::render(&m, &sc, &cmd));
        }
        n += 1;
    }
    assert!(n >= 8, "only {n} regression cases in {}", dir.display());
}
