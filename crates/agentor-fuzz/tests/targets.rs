//! Every fuzz target, driven by proptest on the stable toolchain (what CI
//! runs; `scripts/fuzz.sh` runs the coverage-guided campaigns): each seed of
//! `fuzz/corpus/`, random mutations of the seeds, and arbitrary bytes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use agentor_fuzz::TARGETS;
use proptest::prelude::*;

/// The seeds of `target`, read once.
fn corpus(target: &'static str) -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<HashMap<&'static str, Vec<Vec<u8>>>> = OnceLock::new();
    let all = CORPUS.get_or_init(|| {
        TARGETS
            .iter()
            .map(|(name, _)| (*name, read_seeds(name)))
            .collect()
    });
    &all[target]
}

fn read_seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.expect("a corpus entry").path()).expect("a seed"))
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn every_target_has_seeds_and_passes_them() {
    for (name, target) in TARGETS {
        let seeds = corpus(name);
        assert!(seeds.len() >= 3, "{name}: {} seeds", seeds.len());
        for seed in seeds {
            target(seed);
        }
    }
}

/// A seed with some bytes replaced, cut or repeated: the inputs that reach
/// deep into a parser, unlike wholly random bytes.
fn mutated(seed: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for &(at, op, byte) in edits {
        if data.is_empty() {
            data.push(byte);
            continue;
        }
        let at = at % data.len();
        match op % 4 {
            0 => data[at] = byte,
            1 => data.truncate(at),
            2 => data.insert(at, byte),
            _ => {
                let piece = data[at..].iter().take(16).copied().collect::<Vec<_>>();
                data.splice(at..at, piece);
            }
        }
    }
    data
}

proptest! {
    #[test]
    fn mutated_seeds(
        target in 0..TARGETS.len(),
        pick in any::<usize>(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
    ) {
        let (name, run) = TARGETS[target];
        let seeds = corpus(name);
        let seed = &seeds[pick % seeds.len()];
        run(&mutated(seed, &edits));
    }

    #[test]
    fn arbitrary_bytes(target in 0..TARGETS.len(), data in prop::collection::vec(any::<u8>(), 0..256)) {
        (TARGETS[target].1)(&data);
    }
}
