//! Inductive strengthenings of the invariant catalogue, a bounded check of their
//! inductiveness, the refinement mapping to the one-machine Unix, and the traceability
//! table. `proofs/README.md` says what is proved by hand, what is checked here, and how.

pub mod abstraction;
pub mod generate;
pub mod inductive;
pub mod lemmas;
pub mod sample;
pub mod strengthening;
pub mod traceability;
pub mod universe;

pub use strengthening::*;
