//! `impsim compare OLD NEW`: the key figures of two results side by side, with the difference's
//! 95% interval and a verdict; exit 6 on a significant regression.

use super::{Done, Outcome, usage};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// The result before (a run's or an experiment's folder).
    pub old: PathBuf,
    /// The result after.
    pub new: PathBuf,
    /// A difference smaller than this share of the old value is no change (0.01 = 1%).
    #[arg(long, default_value_t = 0.01)]
    pub tolerance: f64,
    /// Also write the comparison as JSON here (rows: point, metric, unit, old, new, diff, lo,
    /// hi, test, verdict).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write the Markdown page here (it is printed either way).
    #[arg(long)]
    pub md: Option<PathBuf>,
    /// Replace an existing --json or --md file, only if impsim wrote it.
    #[arg(long)]
    pub force: bool,
}

/// How the files `compare` writes start (so `--force` replaces only those).
const MD_HEAD: &str = "<!-- impsim compare -->";
const JSON_HEAD: &str = "{\n  \"schema\": \"impsim.compare/";

pub fn compare(a: CompareArgs) -> Outcome {
    let CompareArgs { old, new, tolerance, json, md, force } = a;
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return usage(format!("--tolerance {tolerance}: must be a share of at least 0, e.g. 0.01 for 1%"));
    }
    if let (Some(j), Some(m)) = (&json, &md)
        && same_file(j, m)
    {
        return usage(format!("--json {} and --md {}: name two different files", j.display(), m.display()));
    }
    let json =
        json.map(|p| super::output_file(Some(p), "", force, JSON_HEAD, "a comparison impsim wrote")).transpose()?;
    let md = md.map(|p| super::output_file(Some(p), "", force, MD_HEAD, "a comparison impsim wrote")).transpose()?;
    let c = impsim::compare::compare(&old, &new, tolerance)?;
    let page = impsim::compare::markdown(&c, &old.display().to_string(), &new.display().to_string());
    say_part!("{page}");
    if let Some(p) = json {
        // The same conventions as summary.json and points.json (`schema`, NaN as null), with
        // `schema` written first: --force knows the file by its first line.
        let rest = serde_json::json!({
            "impsim_version": env!("CARGO_PKG_VERSION"), "old": old, "new": new,
            "regressions": c.regressions(), "comparison": c,
        });
        let rest = serde_json::to_string_pretty(&rest).unwrap_or_default();
        let text = format!("{JSON_HEAD}2\",{}\n", rest.strip_prefix('{').unwrap_or(&rest));
        super::write_output_file(&p, text.as_bytes())?;
    }
    if let Some(p) = md {
        super::write_output_file(&p, page.as_bytes())?;
    }
    Ok(if c.regressions() > 0 { Done::Regressed } else { Done::Success })
}

/// Whether two paths name one file: the same path once made absolute, or the same file on disk.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(x), Ok(y)) = (std::path::absolute(a), std::path::absolute(b))
        && x == y
    {
        return true;
    }
    matches!((std::fs::metadata(a), std::fs::metadata(b)), (Ok(x), Ok(y)) if (x.dev(), x.ino()) == (y.dev(), y.ino()))
}
