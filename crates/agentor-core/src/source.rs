//! Event sources for tests, examples and benchmarks.
