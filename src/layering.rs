//! The dependency rule of DESIGN.md, checked against the source tree: each top-level module
//! names only the modules below it, `domain` no framework, and only `store` speaks sea-orm.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// Each top-level module and the modules of this crate it may name. `startup` (the wiring),
/// `lib.rs` and `main.rs` may name everything; a new module must be added here.
const ALLOWED: &[(&str, &[&str])] = &[
    ("clock", &[]),
    ("domain", &[]),
    ("config", &["domain"]),
    ("signing", &["domain"]),
    ("store", &["domain"]),
    ("telemetry", &["config"]),
    ("mail", &["config", "domain", "signing"]),
    ("context", &["clock", "config", "mail", "signing", "store"]),
    (
        "services",
        &[
            "clock", "config", "context", "domain", "mail", "signing", "store",
        ],
    ),
    (
        "delivery",
        &[
            "clock", "config", "context", "domain", "mail", "signing", "store",
        ],
    ),
    ("scheduler", &["context", "delivery", "services", "store"]),
    ("inbound", &["context", "services"]),
    (
        "web",
        &[
            "config",
            "context",
            "delivery",
            "domain",
            "scheduler",
            "services",
            "signing",
            "store",
        ],
    ),
];

/// External crates a module must not name.
const FORBIDDEN_CRATES: &[(&str, &[&str])] = &[
    ("domain", &["sea_orm", "axum", "lettre", "tokio", "maud"]),
    ("services", &["sea_orm", "axum", "maud"]),
    ("delivery", &["sea_orm", "axum", "maud"]),
    ("scheduler", &["sea_orm", "axum", "maud"]),
    ("inbound", &["sea_orm", "axum", "maud"]),
    ("context", &["sea_orm", "axum", "maud"]),
    ("mail", &["sea_orm", "axum"]),
    ("web", &["sea_orm"]),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`, or `dir` itself when it is a file.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_owned()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The source without `//` comments (doc comments name modules freely).
fn code_of(source: &str) -> String {
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file names through `crate::` paths, use trees included.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(tree) => found.extend(top_of_tree(tree)),
            None => found.extend(first_ident(rest)),
        }
    }
    found
}

/// The first path segment of each item of a use tree, `tree` starting after its `{`.
fn top_of_tree(tree: &str) -> Vec<String> {
    let (mut depth, mut item, mut tops) = (1_usize, String::new(), Vec::new());
    for c in tree.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => break,
            '}' => depth -= 1,
            ',' if depth == 1 => tops.extend(first_ident(std::mem::take(&mut item).trim())),
            _ if depth == 1 => item.push(c),
            _ => {}
        }
    }
    tops.extend(first_ident(item.trim()));
    tops
}

fn first_ident(text: &str) -> Option<String> {
    let ident: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty()).then_some(ident)
}

/// The code of every file of a top-level module (a folder or a single file), with its path.
fn module_code(module: &str) -> Vec<(PathBuf, String)> {
    let dir = src_dir().join(module);
    let root = match dir.is_dir() {
        true => dir,
        false => src_dir().join(format!("{module}.rs")),
    };
    rust_files(&root)
        .into_iter()
        .map(|file| {
            let code = code_of(&std::fs::read_to_string(&file).unwrap());
            (file, code)
        })
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(src_dir()).unwrap().display().to_string()
}

#[test]
fn every_module_names_only_the_modules_below_it() {
    let mut broken = Vec::new();
    for (module, allowed) in ALLOWED {
        for (file, code) in module_code(module) {
            for named in crate_modules(&code) {
                if named != *module && !allowed.contains(&named.as_str()) {
                    broken.push(format!("{} names crate::{named}", relative(&file)));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "arrows must point one way:\n{}",
        broken.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_place_in_the_table() {
    let wiring = ["lib", "main", "startup", "layering"];
    for file in std::fs::read_dir(src_dir()).unwrap() {
        let path = file.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let known = ALLOWED.iter().any(|(m, _)| *m == name) || wiring.contains(&name.as_str());
        assert!(known, "src/{name}: add it to ALLOWED with what it may name");
    }
}

#[test]
fn frameworks_stay_in_their_layers() {
    let mut broken = Vec::new();
    for (module, crates) in FORBIDDEN_CRATES {
        for (file, code) in module_code(module) {
            for name in *crates {
                if code.contains(&format!("{name}::")) {
                    broken.push(format!("{} names {name}", relative(&file)));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn handlers_run_no_queries() {
    let mut broken = Vec::new();
    for (file, code) in module_code("web") {
        for (at, _) in code.match_indices("store::") {
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let last = path.rsplit("::").next().unwrap_or("");
            let is_call = code[at + path.len()..].starts_with('(');
            if is_call && last.starts_with(|c: char| c.is_lowercase()) {
                broken.push(format!("{} calls {path}", relative(&file)));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "web goes through the services:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_parser_finds_modules_in_paths_and_use_trees() {
    let code = "use crate::{domain::{A, B}, store::{self, X}, web};\nlet x = crate::mail::f();";
    let found: Vec<_> = crate_modules(code).into_iter().collect();
    assert_eq!(found, ["domain", "mail", "store", "web"]);
}
