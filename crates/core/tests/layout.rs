//! The tree matches the `# Layout` doc of `src/lib.rs`: every top-level
//! module of the crate is in one row of its layer table, and imports (any
//! `crate::name` path outside comments) only modules of its own row or of
//! rows below it. The table is read from the doc itself, so the doc and
//! the code cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`: files and folders.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|name| name != "lib")
        .collect()
}

/// The layer table's rows, bottom first: the module names each row holds
/// (the first path segment of every backticked or linked name in its
/// "modules" column).
fn layers(lib_rs: &str, modules: &BTreeSet<String>) -> Vec<BTreeSet<String>> {
    let table: Vec<&str> = lib_rs
        .lines()
        .skip_while(|l| !l.starts_with("//! | layer |"))
        .skip(2)
        .take_while(|l| l.starts_with("//! |"))
        .collect();
    assert!(!table.is_empty(), "lib.rs has no layer table");
    let mut rows: Vec<BTreeSet<String>> = table
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row.split('|').collect();
            let column = cells[2];
            column
                .split('`')
                .skip(1)
                .step_by(2)
                .filter_map(|name| {
                    let first = name.trim_end_matches('/').split("::").next()?;
                    modules.contains(first).then(|| first.to_string())
                })
                .collect()
        })
        .collect();
    rows.reverse();
    rows
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate modules a source file names, comments left out.
fn imports(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

#[test]
fn every_module_imports_only_its_own_layer_or_those_below() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let modules = top_level_modules(&src);
    let lib_rs = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let rows = layers(&lib_rs, &modules);
    let mut rank = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        for module in row {
            let before = rank.insert(module.clone(), i);
            assert!(
                before.is_none(),
                "`{module}` is in two rows of the layer table"
            );
        }
    }
    for module in &modules {
        assert!(
            rank.contains_key(module),
            "src/{module} is in no row of lib.rs's layer table"
        );
    }

    let mut upward = Vec::new();
    for module in &modules {
        let mut files = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for imported in imports(&source) {
                let Some(&to) = rank.get(&imported) else {
                    continue; // test-only modules (`test_paths`)
                };
                if imported != "error" && to > rank[module] {
                    upward.push(format!(
                        "{} imports `{imported}`, a layer above `{module}`",
                        file.strip_prefix(root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(upward.is_empty(), "{}", upward.join("\n"));
}

#[test]
fn the_import_scan_sees_paths_and_skips_comments() {
    let names =
        imports("use crate::store::Store; // crate::engine\nlet x = crate::text::clean::text(y);");
    assert_eq!(
        names,
        BTreeSet::from(["store".to_string(), "text".to_string()])
    );
}
