//! Ctrl-C during a sweep stops it cleanly: the completed runs are kept, the manifest says
//! partial, and `--resume` finishes it with the bytes of an uninterrupted run. SIGTERM (Slurm's
//! time limit, scancel) does the same; after SIGKILL (or the out-of-memory killer) the journal
//! of finished runs in the staging folder is what `--resume` finishes from.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("impsim-int-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn impsim(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_impsim"));
    c.args(args);
    c
}

#[test]
fn sigint_then_resume_gives_the_bytes_of_an_uninterrupted_run() {
    let (base, exp) = sweep("sweep");
    let (exp_s, out, whole) = (exp.to_str().unwrap(), base.join("out"), base.join("whole"));
    let out_s = out.to_str().unwrap();

    let mut child = impsim(&["run", exp_s, "--out", out_s, "--threads", "1"]).stderr(Stdio::piped()).spawn().unwrap();
    // Wait for the first progress line (some runs are done), then interrupt.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.find(|l| l.as_ref().is_ok_and(|l| l.contains(" runs, "))).expect("a progress line").unwrap();
    assert!(first.contains("/24 runs"), "{first}");
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "an interrupted sweep exits with 130");

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["partial"], serde_json::Value::Bool(true));
    let rows = std::fs::read_to_string(out.join("runs.csv")).unwrap().lines().count() - 1;
    assert!(rows > 0 && rows < 24, "{rows} runs kept");
    assert!(!out.join("points.csv").exists(), "no statistics from a partial sweep");

    // A plain rerun into the partial folder is refused; --resume finishes it.
    assert_eq!(impsim(&["run", exp_s, "--out", out_s]).output().unwrap().status.code(), Some(2));
    // Resumed under other thresholds than it started with: refused (the gate would change
    // silently), naming both.
    let st =
        impsim(&["run", exp_s, "--out", out_s, "--resume", "--check", "recovery_success_rate>=0.5"]).output().unwrap();
    let err = String::from_utf8_lossy(&st.stderr);
    assert_eq!(st.status.code(), Some(2), "{err}");
    assert!(err.contains("started with the thresholds none and is now given recovery_success_rate>=0.5"), "{err}");
    let st = impsim(&["run", exp_s, "--out", out_s, "--resume", "--threads", "2"]).output().unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let st = impsim(&["run", exp_s, "--out", whole.to_str().unwrap()]).output().unwrap();
    assert!(st.status.success());
    for f in ["runs.csv", "points.csv", "timeseries.csv", "run_timeseries.csv", "report.md"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(whole.join(f)).unwrap(),
            "{f} differs after resume"
        );
    }
    // Resuming a complete folder is refused.
    let st = impsim(&["run", exp_s, "--out", out_s, "--resume"]).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("nothing to resume"));
    let _ = std::fs::remove_dir_all(&base);
}

/// An experiment of 24 runs in a fresh folder; returns (folder, experiment file).
fn sweep(name: &str) -> (PathBuf, PathBuf) {
    let base = tmp(name);
    std::fs::create_dir_all(&base).unwrap();
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    let exp = base.join("exp.toml");
    std::fs::write(
        &exp,
        format!(
            "name = \"int\"\nscenario = {:?}\nreplications = 3\n[set]\nclients = 2000\n[sweep]\nretention = [\"0s\", \"5m\", \"15m\", \"30m\", \"1h\", \"2h\", \"6h\", \"24h\"]\n",
            default.display().to_string()
        ),
    )
    .unwrap();
    (base, exp)
}

/// Start the sweep on one thread, wait until some runs are done, send `signal`, wait for exit.
fn interrupt_with(signal: &str, exp: &Path, out: &Path) -> std::process::ExitStatus {
    let mut child = impsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--threads", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    lines.find(|l| l.as_ref().is_ok_and(|l| l.contains(" runs, "))).expect("a progress line").unwrap();
    assert!(Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
    // Drain stderr so the child never blocks on a full pipe.
    lines.for_each(drop);
    child.wait().unwrap()
}

/// `out` (resumed) holds the bytes of an uninterrupted run of `exp`.
fn resume_matches_whole(base: &Path, exp: &Path, out: &Path) {
    let (exp_s, out_s) = (exp.to_str().unwrap(), out.to_str().unwrap());
    let st = impsim(&["run", exp_s, "--out", out_s, "--resume", "--threads", "2"]).output().unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let whole = base.join("whole");
    assert!(impsim(&["run", exp_s, "--out", whole.to_str().unwrap()]).output().unwrap().status.success());
    for f in ["runs.csv", "points.csv", "timeseries.csv", "run_timeseries.csv", "report.md"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(whole.join(f)).unwrap(),
            "{f} differs after resume"
        );
    }
    let staging = base.join(".out.partial");
    assert!(!staging.exists(), "the staging folder is gone once the result is complete");
}

#[test]
fn sigterm_is_handled_like_ctrl_c_and_resume_finishes_the_sweep() {
    let (base, exp) = sweep("term");
    let out = base.join("out");
    let status = interrupt_with("-TERM", &exp, &out);
    assert_eq!(status.code(), Some(130), "SIGTERM ends like Ctrl-C: finished runs written, exit 130");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["partial"], serde_json::Value::Bool(true));
    resume_matches_whole(&base, &exp, &out);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn after_sigkill_the_journal_keeps_the_finished_runs_and_resume_finishes_the_sweep() {
    let (base, exp) = sweep("kill");
    let out = base.join("out");
    let status = interrupt_with("-KILL", &exp, &out);
    assert_eq!(status.code(), None, "killed by a signal");
    assert!(!out.exists(), "no folder that looks like a result");
    let journal = std::fs::read_to_string(base.join(".out.partial/journal.jsonl")).unwrap();
    let finished = journal.lines().count() - 1;
    assert!((1..24).contains(&finished), "{finished} finished runs journaled");
    // A plain rerun does not drop them silently.
    let st = impsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("--resume"));
    // A journal cut mid-line (killed while writing) loses only that run.
    let cut = &journal[..journal.len() - 10];
    std::fs::write(base.join(".out.partial/journal.jsonl"), cut).unwrap();
    // The journal knows the thresholds it started with, too.
    let st = impsim(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--resume",
        "--check",
        "recovery_success_rate>=0.5",
    ])
    .output()
    .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("started with the thresholds none"));
    resume_matches_whole(&base, &exp, &out);
    let _ = std::fs::remove_dir_all(&base);
}

/// Wait (up to 60 s) for `child` to end, killing it then: its exit code, or None if it was
/// killed by a signal or had to be killed.
fn wait_at_most(child: &mut std::process::Child, secs: u64) -> Option<i32> {
    let started = std::time::Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if started.elapsed().as_secs() >= secs {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Poll until `p` exists (up to 60 s).
fn wait_for(p: &Path) {
    let started = std::time::Instant::now();
    while !p.exists() {
        assert!(started.elapsed().as_secs() < 60, "{} never appeared", p.display());
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// `impsim ARGS` started through sh with SIGINT ignored, as a background job of a script
/// inherits it: impsim must catch the signal all the same.
fn impsim_ignoring_sigint(args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", "trap '' INT; exec \"$0\" \"$@\"", env!("CARGO_BIN_EXE_impsim")]).args(args);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// tune stops cleanly on the first signal (Ctrl-C even when inherited as ignored, SIGTERM):
/// the runs in progress finish, nothing is written, its staging folder is removed, exit 130.
/// A second signal aborts at once, leaving nothing either. It ignored SIGINT and died of
/// SIGTERM, its staging folder left behind.
#[test]
fn tune_stops_on_a_signal_writing_nothing_and_a_second_aborts() {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/default.toml");
    for (signals, name) in [(&["-INT"][..], "int"), (&["-TERM"], "term"), (&["-INT", "-INT"], "twice")] {
        let base = tmp(&format!("tune-{name}"));
        std::fs::create_dir_all(&base).unwrap();
        let out = base.join("out");
        let args = ["tune", default.to_str().unwrap(), "--set", "clients=3000", "--out", out.to_str().unwrap()];
        let mut child = impsim_ignoring_sigint(&args).spawn().unwrap();
        let staging = base.join(".out.partial");
        wait_for(&staging);
        std::thread::sleep(std::time::Duration::from_millis(300)); // the search has begun
        for s in signals {
            assert!(Command::new("kill").args([*s, &child.id().to_string()]).status().unwrap().success());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let code = wait_at_most(&mut child, 60);
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(code, Some(130), "{name}: {err}");
        assert!(err.contains("no result") || err.contains("nothing written"), "{name}: {err}");
        assert!(!out.exists() && !staging.exists(), "{name}: nothing left behind: {err}");
        let _ = std::fs::remove_dir_all(&base);
    }
}

/// merge on SIGTERM finishes and writes the merged folder (as a single run does) instead of
/// dying with its staging folder left; a second signal aborts, leaving nothing.
#[test]
fn merge_finishes_on_sigterm_and_a_second_signal_aborts() {
    for (signals, name) in [(&["-TERM"][..], "term"), (&["-TERM", "-TERM"], "twice")] {
        let base = tmp(&format!("merge-{name}"));
        std::fs::create_dir_all(&base).unwrap();
        let exp = base.join("mg.toml");
        std::fs::write(
            &exp,
            "name = \"mg\"\nreplications = 3\n[scenario]\nclients = 50\nduration = \"2d\"\nsample_every = \"1m\"\n\
             [sweep]\nretention = [\"0s\", \"1m\", \"5m\", \"10m\", \"30m\", \"1h\", \"2h\", \"6h\", \"12h\", \"24h\"]\n",
        )
        .unwrap();
        for (i, sh) in ["1/2", "2/2"].iter().enumerate() {
            let dir = base.join(format!("sh{i}"));
            let st = impsim(&["run", exp.to_str().unwrap(), "--shard", sh, "--out", dir.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(st.status.success());
        }
        let out = base.join("m");
        let (a, b) = (base.join("sh0"), base.join("sh1"));
        let mut child = impsim(&["merge", a.to_str().unwrap(), b.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let staging = base.join(".m.partial");
        wait_for(&staging);
        for s in signals {
            assert!(Command::new("kill").args([*s, &child.id().to_string()]).status().unwrap().success());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let code = wait_at_most(&mut child, 60);
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(!staging.exists(), "{name}: no staging folder left: {code:?} {err}");
        match code {
            Some(0) => assert!(out.join("points.csv").exists() && out.join("manifest.json").exists(), "{name}"),
            Some(130) => assert!(!out.exists(), "{name}: an abort leaves nothing"),
            other => panic!("{name}: exit {other:?}: {err}"),
        }
        if signals.len() == 1 {
            assert_eq!(code, Some(0), "one signal: the merge is finished and written: {err}");
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
