//! The reference model (see issue 2).
