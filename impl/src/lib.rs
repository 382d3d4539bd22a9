//! The executable Sprite cluster: per-host kernels and a file server as sans-IO
//! state machines, Sprite's table-driven migration, and a deterministic simulator that
//! drives them with a seed.
//!
//! Layout: [`msg`] (typed messages and their binary encoding), [`kernel`] (one host),
//! [`fs`] (the file server), [`vm`] (pages), [`migrate`] (the module table and the
//! driver), [`sim`] (network, scheduler, crashes), [`view`] (read-only state for the
//! conformance harness), [`cost`] (accounting and the cost model), [`calibrate`] (the situations its constants
//! are calibrated on), [`predict`] (figures predicted from them), [`speedup`] (pmake's
//! speedup from a contention model), [`policy`] (load
//! daemon, migd, pmake), [`scenario`] (the scenario file format), [`history`] (a run's
//! results against the one-machine Unix, concurrent operations included).

pub mod alternative_costs;
pub mod calibrate;
pub mod cost;
pub mod final_state;
pub mod fs;
pub mod history;
pub mod kernel;
pub mod migrate;
pub mod msg;
pub mod policy;
pub mod predict;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod speedup;
pub mod view;
pub mod vm;

pub use sim::{Cluster, ClusterConfig, Enabled, HostConfig, OpId, OpState, ProcConfig, SimError};
