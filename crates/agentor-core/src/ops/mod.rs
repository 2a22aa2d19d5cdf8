//! The stream operators, one per module: each holds its layer, its stream and its tests.

pub mod merge;
