//! The guide's snippets that start servers are copied from `examples/`
//! rather than doc-tested; this keeps each copy identical to its file.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(file, code)` for every code block right after an `<!-- excerpt: file -->` line.
fn excerpts(markdown: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(file) = line
            .strip_prefix("<!-- excerpt: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(fence.starts_with("```rust"), "{file}: a code block follows");
        let code: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        found.push((file.to_owned(), code.join("\n")));
    }
    found
}

#[test]
fn guide_excerpts_are_verbatim_copies_of_the_examples() {
    let guide = std::fs::read_to_string(repo().join("docs/guide.md")).unwrap();
    let excerpts = excerpts(&guide);
    assert!(excerpts.len() >= 8, "found {}", excerpts.len());
    for (file, code) in excerpts {
        let source =
            std::fs::read_to_string(repo().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            source.contains(&code),
            "docs/guide.md quotes {file}, which no longer contains:\n{code}"
        );
    }
}

#[test]
fn every_example_in_the_guide_table_exists() {
    let guide = std::fs::read_to_string(repo().join("docs/guide.md")).unwrap();
    let manifest = std::fs::read_to_string(repo().join("examples/Cargo.toml")).unwrap();
    for row in guide
        .lines()
        .filter(|l| l.starts_with("| ") && l.ends_with("` |"))
    {
        let name = row.rsplit('`').nth(1).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "the guide lists example `{name}`, examples/Cargo.toml does not"
        );
    }
}
