//! Fresh ids for tasks, contexts, messages and artifacts.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 unpredictable bits: std's per-process random SipHash keys over a
/// counter, so no two calls in a process repeat.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// A random UUID (version 4 layout), the id form both official SDKs use.
///
/// ```
/// let id = agentor_a2a::new_id();
/// assert_eq!(id.len(), 36);
/// assert_eq!(&id[14..15], "4");
/// assert_ne!(id, agentor_a2a::new_id());
/// ```
pub fn new_id() -> String {
    let high = random_u64();
    let low = random_u64();
    let bytes: u128 = (u128::from(high) << 64) | u128::from(low);
    // Version 4, variant 10xx.
    let bytes = (bytes & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bytes:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
