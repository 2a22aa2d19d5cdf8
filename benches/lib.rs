//! Shared inputs and baselines for the benchmarks: the workload of
//! `agentor bench` ([`agentor_workload`]), re-exported so the criterion
//! benches and the command line measure the same input against the same
//! hand-written loop.

pub use agentor_workload::*;
