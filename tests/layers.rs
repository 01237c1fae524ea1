//! ARCHITECTURE.md's layers, checked against the code: each top-level module of src/ may use
//! only modules of a lower level (`crate::x` in any form). A new module must be placed in LEVELS.

use std::path::Path;

/// Low to high. Same level: independent of each other.
const LEVELS: [(&str, u32); 19] = [
    ("engine", 0),
    ("error", 0),
    ("stats", 1),
    ("model", 1),
    ("output", 2),
    ("guard", 2),
    ("run", 2),
    ("input", 3),
    ("check", 3),
    ("scenario", 4),
    ("experiment", 5),
    ("bench", 5),
    ("folder", 6),
    ("live", 6),
    ("reproduce", 6),
    ("compare", 6),
    ("run_report", 5),
    ("main", 7),
    ("cmd", 7),
];

fn level(m: &str) -> Option<u32> {
    LEVELS.iter().find(|(n, _)| *n == m).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let own = level(&module).unwrap_or_else(|| panic!("src/{first}: place the module `{module}` in LEVELS"));
        let text = std::fs::read_to_string(f).unwrap();
        // The binary (main.rs and its subcommands in cmd/) names the library `impsim::`, the
        // library itself `crate::`; the binary's own `crate::` is main.rs.
        let prefix = if module == "main" || module == "cmd" { "impsim::" } else { "crate::" };
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices(prefix) {
                let mut used: String =
                    code[i + prefix.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                // The crate root re-exports `error::Error`.
                if used == "Error" {
                    used = "error".to_string();
                }
                if used == module {
                    continue;
                }
                match level(&used) {
                    Some(l) if l < own => {}
                    _ => wrong.push(format!("src/{}:{}: `{module}` uses `{used}`", rel.display(), n + 1)),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports that go up or sideways (see ARCHITECTURE.md):\n{}", wrong.join("\n"));
}
