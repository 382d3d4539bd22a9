//! The one vocabulary of the project.
//!
//! The specification (`specs/`), the reference model (`model/`), the implementation
//! (`impl/`) and the conformance harness all speak in these types, so that a difference
//! between them can only be a difference in behaviour, never in representation.
//!
//! Sources are cited as in `specs/README.md`: SPE = "Transparent Process Migration: Design
//! Alternatives and the Sprite Implementation", TH = Douglis's thesis, CACHE = "Caching in
//! the Sprite Network File System".

pub mod cli;
pub mod event;
pub mod ids;
pub mod invariant;
pub mod msg;
pub mod op;
pub mod outcome;
pub mod shared;
pub mod small;
pub mod switch;
pub mod syntax;
pub mod witness;

pub use event::ClusterEvent;
pub use ids::{Fd, FileName, HostId, PageNo, Pid, StreamId};
pub use invariant::InvariantId;
pub use msg::MsgKind;
pub use op::{Mode, Op};
pub use outcome::{Errno, Outcome, Refusal, Value};
pub use switch::{Switch, Switches, VmStrategy};
pub use witness::{Trigger, TriggerStep, Witness};

/// Largest file length, in symbols. Files hold a few small symbols so that model state
/// stays finite; the implementation uses the same bound when it is run against the model.
pub const MAX_FILE_LEN: u8 = 3;

/// Most symbols a pipe holds; a write to a full pipe returns `EAGAIN` (pipes never block,
/// which keeps model state finite). At most [`MAX_FILE_LEN`]: the file server keeps a
/// pipe's contents as a file's data.
pub const PIPE_CAPACITY: u8 = 2;
const _: () = assert!(PIPE_CAPACITY <= MAX_FILE_LEN);

/// Status reported for a process killed by a crash of its home or current host (FAIL).
pub const KILLED_STATUS: u8 = 137;
