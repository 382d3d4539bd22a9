//! Model bugs this check found (three): each is a state satisfying a strengthening and an action
//! after which the invariant itself fails in a reachable execution (confirmed by running
//! the model checker on a configuration that reaches it: `tests/known_bugs.rs`). They are
//! reported, not fixed here (the model belongs to another part of the project); the
//! inductiveness check counts them separately so that every *other* failure still fails
//! the test. Each recogniser is precise: it matches only the step that loses information.

use model::state::State;
use model::{Action, SpriteModel};
use vocab::{ClusterEvent, InvariantId};

/// CONS-WINDOW: a process is between MIG_STATE and the STREAM_MOVE of one of its streams;
/// meanwhile another process on the source wrote the same file through its own stream (so
/// the source holds dirty blocks again) and closed it. STREAM_MOVE registers the stream on
/// the target without a recall or a flush (`Ctx::stream_move` calls `register(.., open =
/// false)`, and MIG_STATE's `flush_blocks` ran before the write), so the target reads the
/// server's stale data: CONS, OFF (a read's advance depends on the data) and TR break.
pub const CONS_WINDOW: &str = "CONS-WINDOW: dirty blocks written on the source after MIG_STATE are not flushed by STREAM_MOVE";

/// SIG-CRASH: a SIGNAL is in flight to a host the process has left; that host crashes,
/// and `Ctx::crash` drops every message addressed to it (`signals.retain(|m, _| m.to !=
/// h)`), so the signal is lost though the process lives on elsewhere: SIG (and TR, through
/// the ghost's signal count) break; this also contradicts RES ("a host a process has left
/// crashing does not affect it").
pub const SIG_CRASH: &str =
    "SIG-CRASH: a crash drops SIGNAL messages to the crashed host for processes that left it";

/// CACHE-DUP: a process holds two descriptors on one file with a writing stream (the same
/// stream after `dup`, or two streams) and migrates alone. The model moves references descriptor by descriptor
/// (`next_migration_step` picks the smallest unmoved descriptor), so after the first
/// STREAM_MOVE the source still holds the other descriptor's reference and the server sees
/// the stream on two hosts with a writer: `update_cacheability` turns caching off, and since
/// one process is the only user (`write_shared_by_processes` is false) CACHE is flagged.
/// Sprite moves each *stream* once per process, not each descriptor.
pub const CACHE_DUP: &str =
    "CACHE-DUP: a dup'ed writing stream moved descriptor by descriptor disables caching needlessly";

/// Recognises the known bugs; `None` for any other failure.
pub fn known(id: InvariantId, _: &SpriteModel, s: &State, a: &Action) -> Option<&'static str> {
    use InvariantId::*;
    match *a {
        Action::StreamMove(pid, fd) if matches!(id, TR | CONS | OFF) => {
            let m = s.migrations.get(&pid)?;
            let sid = s.procs.get(&pid)?.fds.get(&fd)?;
            let ino = s.server.streams.get(sid)?.ino;
            s.hosts
                .get(m.source.0 as usize)?
                .cache
                .get(&ino)
                .is_some_and(|e| e.dirty)
                .then_some(CONS_WINDOW)
        }
        Action::StreamMove(pid, fd) if id == CACHE => {
            let p = s.procs.get(&pid)?;
            let m = s.migrations.get(&pid)?;
            let ino = s.server.streams.get(p.fds.get(&fd)?)?.ino;
            let of_file =
                |x: &vocab::StreamId| s.server.streams.get(x).is_some_and(|st| st.ino == ino);
            let twin = p
                .fds
                .iter()
                .any(|(f, x)| *f != fd && of_file(x) && !m.moved.contains(f));
            let writer = s
                .server
                .streams
                .values()
                .any(|st| st.ino == ino && st.mode.writes());
            let cacheable = s.server.files.get(&ino).is_some_and(|f| f.cacheable);
            (twin && writer && cacheable).then_some(CACHE_DUP)
        }
        Action::Event(ClusterEvent::Crash(x)) if matches!(id, TR | SIG) => {
            let survivor_signal_lost = s.signals.keys().any(|msg| {
                msg.to == x
                    && s.procs.get(&msg.pid).is_some_and(|p| {
                        p.host != x
                            && msg.pid.home != x
                            && s.migrations
                                .get(&msg.pid)
                                .is_none_or(|mg| mg.source != x && mg.target != x)
                    })
            });
            survivor_signal_lost.then_some(SIG_CRASH)
        }
        _ => None,
    }
}
