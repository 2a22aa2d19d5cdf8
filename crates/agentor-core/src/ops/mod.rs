//! The stream operators, one per module: each holds its layer, its stream and its tests.

pub mod batch;
pub mod filter;
pub mod merge;
pub mod metrics;
pub mod progress;
pub mod rebuffer;
pub mod record;
pub mod tap;
pub mod timeout;
