//! Records the git commit impsim is built from (when built from a checkout with git at hand),
//! for the manifests: `IMPSIM_GIT_COMMIT`. Without git or a checkout, nothing is recorded.

use std::path::Path;
use std::process::Command;

fn main() {
    let git = Path::new(".git");
    if !git.exists() {
        return;
    }
    // Rebuild the note when the checked-out commit changes.
    println!("cargo:rerun-if-changed=.git/HEAD");
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
        && let Some(r) = head.trim().strip_prefix("ref: ")
    {
        println!("cargo:rerun-if-changed=.git/{r}");
    }
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string());
    if let Some(c) = commit.filter(|c| c.len() == 40 && c.chars().all(|x| x.is_ascii_hexdigit())) {
        println!("cargo:rustc-env=IMPSIM_GIT_COMMIT={c}");
    }
}
