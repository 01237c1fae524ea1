//! What the documentation shows is what the code and the committed files hold: the README's
//! experiment is the bundled file, the help texts agree on where bench writes, and
//! results/README.md quotes the committed results' figures.

use std::path::Path;

fn read(p: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap()
}

#[test]
fn the_readmes_retention_sweep_is_the_bundled_file() {
    let file = read("experiments/retention_sweep.toml");
    let readme = read("README.md");
    assert!(readme.contains(&format!("```toml\n{file}```\n")), "README.md must show experiments/retention_sweep.toml");
}

#[test]
fn every_help_text_names_the_same_bench_output() {
    let help = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_impsim")).args(args).output().unwrap();
        String::from_utf8_lossy(&o.stdout).replace('\n', " ")
    };
    for text in [help(&["--help"]), help(&["bench", "--help"])] {
        assert!(text.contains("results/runs/bench.csv"), "{text}");
        assert!(!text.contains("results/bench/bench.csv"), "{text}");
    }
}

/// results/README.md's sap_restart_storm paragraph, figure by figure, from its points.csv.
#[test]
fn results_readme_quotes_sap_restart_storms_committed_figures() {
    let readme = read("results/README.md");
    let start = readme.find("## sap_restart_storm").unwrap();
    let end = start + readme[start..].find("![").unwrap();
    let text = readme[start..end].split_whitespace().collect::<Vec<_>>().join(" ");
    let points = read("results/sap_restart_storm/points.csv");
    let mut lines = points.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // (workers, contexts kept) -> the column's mean.
    let get = |workers: &str, kept: &str, col: &str| -> f64 {
        let i = header.iter().position(|h| *h == format!("{col}_mean")).unwrap();
        let row = rows.iter().find(|r| r[1] == workers && r[2] == kept).unwrap();
        row[i].parse().unwrap()
    };
    let expect = [
        format!("fresh-login p99 to ~{:.0} min", get("1", "false", "restore_fresh_ms_p99") / 60e3),
        format!("~{:.0} k retries", get("1", "false", "retries") / 1e3),
        format!(
            "recovery rate {:.0}% vs {:.0}%",
            get("1", "true", "recovery_success_rate") * 100.0,
            get("1", "false", "recovery_success_rate") * 100.0
        ),
        format!("~{:.1} k fewer 502s", (get("1", "false", "fail_restart") - get("1", "true", "fail_restart")) / 1e3),
        format!("~{:.0} min at p99 for a recovery", get("1", "true", "restore_recovered_ms_p99") / 60e3),
        format!("recovered p99 of ~{:.0} s", get("4", "true", "restore_recovered_ms_p99") / 1e3),
        format!("with 16 of ~{:.0} s", get("16", "true", "restore_recovered_ms_p99") / 1e3),
    ];
    for e in expect {
        assert!(text.contains(&e), "results/README.md should say {e:?}: {text}");
    }
}

/// Every exit code any command returns (each `ExitCode::from(N)` and `process::exit(N)` in
/// src/, and 0) has a row in the README's exit-code table and a line in `impsim --help`.
#[test]
fn every_exit_code_is_in_the_readmes_table_and_in_help() {
    fn sources(dir: &Path, out: &mut String) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut src = String::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut src);
    let mut codes = vec![0u32];
    for pat in ["ExitCode::from(", "process::exit("] {
        for (i, _) in src.match_indices(pat) {
            let rest = &src[i + pat.len()..];
            if let Ok(n) = rest[..rest.find(')').unwrap()].parse::<u32>()
                && !codes.contains(&n)
            {
                codes.push(n);
            }
        }
    }
    assert!(codes.len() >= 9, "{codes:?}");
    let readme = read("README.md");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_impsim")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    for c in codes {
        assert!(readme.contains(&format!("\n| {c} | ")), "exit code {c} has no row in the README's table");
        assert!(help.contains(&format!("\n  {c} ")), "exit code {c} is not in --help: {help}");
    }
}

/// ARCHITECTURE.md names every source and test file (by name), names no file that does not
/// exist, and stays a page (it was once corrupted to 69,897 lines without a test noticing).
#[test]
fn the_architecture_page_names_every_file_and_nothing_else() {
    let page = read("ARCHITECTURE.md");
    assert!(page.lines().count() < 400, "ARCHITECTURE.md has {} lines", page.lines().count());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs" || x == "sh") {
                out.push(p);
            }
        }
    }
    walk(&root.join("src"), &mut files);
    walk(&root.join("tests"), &mut files);
    let names: std::collections::BTreeSet<String> =
        files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let missing: Vec<String> = files
        .iter()
        .filter(|p| !page.contains(&*p.file_name().unwrap().to_string_lossy()))
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md does not name: {missing:?}");
    let named: std::collections::BTreeSet<&str> = page
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| w.ends_with(".rs") || w.ends_with(".sh"))
        .map(|w| w.trim_start_matches('.'))
        .collect();
    let gone: Vec<&&str> = named.iter().filter(|w| !names.contains(**w)).collect();
    assert!(gone.is_empty(), "ARCHITECTURE.md names files that do not exist: {gone:?}");
}
