//! The model's counterexamples for the design switches, replayed on the implementation.
