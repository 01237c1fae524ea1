//! Hostile inputs and situations (issue 11): impsim never deletes or overwrites what it did not
//! write, never runs something other than the input it was given, and never loses finished
//! work. Every case runs inside a sandbox folder the test created, with HOME pointed into it,
//! and asserts the exit code, the message, and that no file of the user's was touched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A scratch folder that plays the user's working folder (and home, at `home/`).
struct Sandbox {
    dir: PathBuf,
}

const SCENARIO: &str = "clients = 20\nduration = \"1h\"\nsample_every = \"10m\"\n";
const EXPERIMENT: &str = "name = \"adv\"\nreplications = 2\n[scenario]\nclients = 20\nduration = \"1h\"\n\
                          sample_every = \"10m\"\n[sweep]\nretention = [\"0s\", \"5m\"]\n";

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("impsim-adv-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("home")).unwrap();
        std::fs::write(dir.join("s.toml"), SCENARIO).unwrap();
        std::fs::write(dir.join("e.toml"), EXPERIMENT).unwrap();
        Sandbox { dir }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }
    fn write(&self, p: &str, text: &str) {
        let p = self.path(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn cmd(&self, cwd: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_impsim"));
        c.args(args).current_dir(self.path(cwd)).env("HOME", self.path("home"));
        c
    }
    /// Run impsim in `cwd` (relative to the sandbox).
    fn run_in(&self, cwd: &str, args: &[&str]) -> (i32, String) {
        let o = self.cmd(cwd, args).output().unwrap();
        outcome(o)
    }
    fn run(&self, args: &[&str]) -> (i32, String) {
        self.run_in("", args)
    }
    /// Run impsim with at most 4 GiB of address space, killed after 30 s (exit -1 then, with
    /// "timed out" in the text): for cases that hung or grew without bound.
    fn run_bounded(&self, args: &[&str]) -> (i32, String) {
        let (out, err) = (self.path(".stdout"), self.path(".stderr"));
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("ulimit -v 4194304; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_impsim"))
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", self.path("home"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        let mut child = c.spawn().unwrap();
        let started = std::time::Instant::now();
        let code = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st.code().unwrap_or(-1);
            }
            if started.elapsed().as_secs() >= 30 {
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut text = std::fs::read_to_string(&err).unwrap_or_default();
        text.push_str(&std::fs::read_to_string(&out).unwrap_or_default());
        let _ = (std::fs::remove_file(&out), std::fs::remove_file(&err));
        if code == -1 {
            text.push_str(" (timed out or killed)");
        }
        (code, text)
    }
    /// Every file under the sandbox with its bytes.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut all = BTreeMap::new();
        walk(&self.dir, &mut all);
        all
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn outcome(o: Output) -> (i32, String) {
    let mut text = String::from_utf8_lossy(&o.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&o.stdout));
    (o.status.code().unwrap_or(-1), text)
}

fn walk(dir: &Path, all: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            all.insert(p.clone(), Vec::new());
            walk(&p, all);
        } else {
            all.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
        }
    }
}

/// Exit 2, a message containing every `words`, no panic.
fn refused(r: (i32, String), words: &[&str]) {
    let (code, text) = r;
    assert_eq!(code, 2, "expected a refusal (exit 2): {text}");
    assert!(!text.contains("panicked"), "{text}");
    for w in words {
        assert!(text.contains(w), "expected {w:?} in: {text}");
    }
}

fn ok(r: (i32, String)) -> String {
    assert_eq!(r.0, 0, "{}", r.1);
    r.1
}

// ---- --force replaces only what impsim wrote -------------------------------------------------

#[test]
fn force_never_replaces_the_working_folder_or_one_above_it() {
    let s = Sandbox::new("dot");
    s.write("work/precious.txt", "mine");
    std::fs::copy(s.path("s.toml"), s.path("work/s.toml")).unwrap();
    let before = s.snapshot();
    refused(
        s.run_in("work", &["run", "s.toml", "--out", ".", "--force"]),
        &["cannot be an output folder", "working folder"],
    );
    refused(s.run_in("work", &["run", "s.toml", "--out", "..", "--force"]), &["holds it"]);
    refused(s.run_in("work", &["run", "s.toml", "--out", "../work/", "--force"]), &["working folder"]);
    assert_eq!(s.snapshot(), before, "nothing touched");
}

#[test]
fn force_never_replaces_a_home_folder_or_a_repository_root() {
    let s = Sandbox::new("home");
    s.write("home/.ssh/id_ed25519", "key");
    let home = s.path("home");
    let before = s.snapshot();
    refused(s.run(&["run", "s.toml", "--out", home.to_str().unwrap(), "--force"]), &["home folder"]);
    // Even empty, a home folder is never an output folder (it would be removed and replaced).
    std::fs::create_dir_all(s.path("empty-home")).unwrap();
    let empty = s.path("empty-home");
    let mut c = s.cmd("", &["run", "s.toml", "--out", empty.to_str().unwrap()]);
    refused(outcome(c.env("HOME", &empty).output().unwrap()), &["cannot be an output folder", "home folder"]);
    assert!(empty.exists());
    s.write("repo/.git/HEAD", "ref: refs/heads/main");
    s.write("repo/manifest.json", "{\"impsim_version\": \"0.1.0\", \"files\": [\"manifest.json\"]}");
    let before_repo = s.snapshot();
    refused(s.run(&["run", "s.toml", "--out", "repo", "--force"]), &["repository root"]);
    assert_eq!(s.snapshot(), before_repo);
    assert!(before.keys().all(|k| s.snapshot().contains_key(k)));
}

#[test]
fn force_refuses_a_folder_holding_anything_impsim_did_not_write() {
    let s = Sandbox::new("foreign");
    ok(s.run(&["run", "s.toml", "--out", "out"]));
    s.write("out/notes.txt", "my notes");
    let before = s.snapshot();
    refused(s.run(&["run", "s.toml", "--out", "out", "--force"]), &["notes.txt", "did not write"]);
    assert_eq!(s.snapshot(), before);
    // A folder of the user's with no manifest at all.
    s.write("data/a.csv", "1\n");
    refused(s.run(&["run", "s.toml", "--out", "data", "--force"]), &["no manifest.json"]);
    // A manifest that is not impsim's.
    s.write("pkg/manifest.json", "{\"name\": \"web app\"}");
    refused(s.run(&["run", "s.toml", "--out", "pkg", "--force"]), &["not list the files"]);
    // A manifest that claims a path outside the folder.
    s.write("evil/manifest.json", "{\"impsim_version\": \"0.1.0\", \"files\": [\"../s.toml\", \"manifest.json\"]}");
    refused(s.run(&["run", "s.toml", "--out", "evil", "--force"]), &["not a file impsim writes"]);
    assert!(s.path("s.toml").exists());
}

#[test]
fn force_replaces_impsims_own_folder_and_leaves_nothing_behind() {
    let s = Sandbox::new("own");
    ok(s.run(&["run", "s.toml", "--out", "out"]));
    refused(s.run(&["run", "s.toml", "--out", "out"]), &["exists and is not empty", "--force"]);
    ok(s.run(&["run", "s.toml", "--out", "out", "--force", "--seed", "2"]));
    let m = std::fs::read_to_string(s.path("out/manifest.json")).unwrap();
    assert!(m.contains("\"seed\": \"2\""), "replaced by the new run");
    let names: Vec<String> =
        std::fs::read_dir(&s.dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "no staging or replaced folder left: {names:?}");
    // An experiment's folder too.
    ok(s.run(&["run", "e.toml", "--out", "exp"]));
    ok(s.run(&["run", "e.toml", "--out", "exp", "--force"]));
}

#[test]
fn out_naming_a_file_is_refused_as_not_a_folder() {
    let s = Sandbox::new("outfile");
    let before = s.snapshot();
    refused(s.run(&["run", "s.toml", "--out", "s.toml"]), &["not a folder"]);
    refused(s.run(&["run", "s.toml", "--out", "s.toml", "--force"]), &["not a folder"]);
    assert_eq!(s.snapshot(), before);
}

// ---- names become paths: only safe ones ------------------------------------------------------

#[test]
fn unsafe_names_are_refused_before_anything_runs() {
    let s = Sandbox::new("names");
    let before = s.snapshot();
    for name in
        ["\"\"", "\"..\"", "\".\"", "\"../x\"", "\"a/b\"", "\".hidden\"", "\"a\\u0000b\"", "\"-rf\"", "\"=cmd()\""]
    {
        s.write("n.toml", &format!("name = {name}\n{SCENARIO}"));
        refused(s.run(&["run", "n.toml", "--force"]), &["n.toml", "field `name`", "is not allowed"]);
        s.write("ne.toml", &format!("name = {name}\n{}", EXPERIMENT.replacen("name = \"adv\"\n", "", 1)));
        refused(s.run(&["run", "ne.toml", "--force"]), &["ne.toml", "field `name`"]);
    }
    refused(s.run(&["run", "s.toml", "--set", "name=..", "--force"]), &["field `name`"]);
    std::fs::remove_file(s.path("n.toml")).unwrap();
    std::fs::remove_file(s.path("ne.toml")).unwrap();
    assert_eq!(s.snapshot(), before, "nothing written anywhere");
}

// ---- inputs are read exactly once ------------------------------------------------------------

fn run_stdin(s: &Sandbox, file: &str, text: &str, out: &str) -> (i32, String) {
    use std::io::Write;
    let mut c = s
        .cmd("", &["run", file, "--out", out])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    outcome(c.wait_with_output().unwrap())
}

#[test]
fn a_scenario_from_a_pipe_is_the_one_that_runs() {
    let s = Sandbox::new("stdin");
    for (file, out) in [("-", "o1"), ("/dev/stdin", "o2")] {
        let text = ok(run_stdin(&s, file, "clients = 77\nduration = \"1h\"\n", out));
        assert!(text.contains("77 clients"), "{text}");
        let m = std::fs::read_to_string(s.path(&format!("{out}/manifest.json"))).unwrap();
        assert!(m.contains("\"clients\": 77"));
    }
    // An experiment from a pipe too.
    let text = ok(run_stdin(&s, "-", EXPERIMENT, "o3"));
    assert!(text.contains("2 points x 2 replications"), "{text}");
    // An empty pipe is not the defaults: the scenario is refused or runs what it says (nothing
    // but defaults is what an empty file says, so it runs them, and the manifest shows the hash).
    refused(run_stdin(&s, "-", "clients = \"many\"\n", "o4"), &["clients"]);
}

#[test]
fn devices_fifos_and_huge_files_are_refused_without_hanging() {
    let s = Sandbox::new("devices");
    refused(s.run(&["run", "/dev/zero", "--out", "o"]), &["not a regular file"]);
    refused(s.run(&["run", "/dev/null", "--out", "o"]), &["not a regular file"]);
    refused(s.run(&["run", "home", "--out", "o"]), &["is a folder"]);
    let fifo = s.path("fifo.toml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let started = std::time::Instant::now();
    refused(s.run(&["run", "fifo.toml", "--out", "o"]), &["not a regular file"]);
    assert!(started.elapsed().as_secs() < 10, "no hang on a FIFO");
    s.write("big.toml", &format!("# {}\n{SCENARIO}", "x".repeat(2 << 20)));
    refused(s.run(&["run", "big.toml", "--out", "o"]), &["larger than 1 MiB"]);
    std::fs::write(s.path("bin.toml"), [b'c', b'l', 0xff, 0xfe, b'\n']).unwrap();
    refused(s.run(&["run", "bin.toml", "--out", "o"]), &["not UTF-8"]);
    s.write("zero.toml", &format!("{SCENARIO}[client]\noffline = {{ dist = \"empirical\", file = \"/dev/zero\" }}\n"));
    refused(s.run(&["run", "zero.toml", "--out", "o"]), &["client.offline", "/dev/zero", "not a regular file"]);
    assert!(!s.path("o").exists());
}

/// What impsim looks at to decide whether an output is its own is read only if it is a
/// regular file, and only so far: a FIFO hung these commands (even through SIGTERM), /dev/zero
/// grew their memory without bound.
#[test]
fn outputs_that_are_fifos_or_devices_are_refused_without_hanging() {
    let s = Sandbox::new("outfifo");
    let fifo = |p: &str| {
        std::fs::create_dir_all(s.path(p).parent().unwrap()).unwrap();
        assert!(Command::new("mkfifo").arg(s.path(p)).status().unwrap().success());
    };
    fifo("f.md");
    ok(s.run(&["run", "s.toml", "--out", "r1"]));
    ok(s.run(&["run", "s.toml", "--out", "r2", "--seed", "2"]));
    refused(s.run_bounded(&["compare", "r1", "r2", "--md", "f.md"]), &["f.md", "exists"]);
    refused(s.run_bounded(&["compare", "r1", "r2", "--md", "f.md", "--force"]), &["f.md", "not a regular file"]);
    refused(s.run_bounded(&["compare", "r1", "r2", "--json", "f.md", "--force"]), &["not a regular file"]);
    refused(s.run_bounded(&["compare", "r1", "r2", "--json", "/dev/zero", "--force"]), &["not a regular file"]);
    refused(s.run_bounded(&["bench", "--out", "f.md", "--force"]), &["f.md", "not a regular file"]);
    refused(s.run_bounded(&["bench", "--out", "/dev/zero", "--force"]), &["not a regular file"]);
    refused(
        s.run_bounded(&["live", "--calibrate", "--broker", "127.0.0.1:1", "--out", "f.md", "--force"]),
        &["f.md", "not a regular file"],
    );
    // A folder whose manifest.json is a FIFO: not impsim's, whatever else it holds.
    fifo("o/manifest.json");
    refused(s.run_bounded(&["run", "s.toml", "--out", "o"]), &["exists and is not empty"]);
    refused(s.run_bounded(&["run", "s.toml", "--out", "o", "--force"]), &["manifest.json", "not a regular file"]);
    refused(s.run_bounded(&["run", "e.toml", "--out", "o", "--resume"]), &["not a regular file"]);
    refused(s.run_bounded(&["compare", "o", "r2"]), &["manifest.json", "not a regular file"]);
    refused(s.run_bounded(&["reproduce", "o"]), &["manifest.json", "not a regular file"]);
    refused(s.run_bounded(&["merge", "o", "--out", "m"]), &["manifest.json", "not a regular file"]);
    // A trace named by a FIFO, and a result file replaced by one.
    refused(s.run_bounded(&["run", "s.toml", "--out", "t", "--trace", "f.md", "--force"]), &["not a file"]);
    std::fs::remove_file(s.path("r1/summary.csv")).unwrap();
    fifo("r1/summary.csv");
    refused(s.run_bounded(&["compare", "r1", "r2"]), &["summary.csv", "not a regular file"]);
    assert!(!s.path("m").exists() && !s.path("t").exists());
}

// ---- input content is recorded and checked ---------------------------------------------------

const CSV_SCENARIO: &str = "clients = 20\nduration = \"1h\"\nsample_every = \"10m\"\n\
                            [client]\noffline = { dist = \"empirical\", file = \"off.csv\", unit = \"m\" }\n";

#[test]
fn an_empirical_csvs_content_is_recorded_and_a_pinned_hash_is_enforced() {
    let s = Sandbox::new("csvhash");
    s.write("off.csv", "1\n2\n5\n");
    s.write("c.toml", CSV_SCENARIO);
    ok(s.run(&["run", "c.toml", "--out", "o"]));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("o/manifest.json")).unwrap()).unwrap();
    let sha = m["scenario"]["client"]["offline"]["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    assert_eq!(m["scenario_sha256"].as_str().unwrap(), impsim::output::sha256_hex(CSV_SCENARIO.as_bytes()));
    // Pinned: the same content runs, another is refused naming both hashes.
    s.write("p.toml", &CSV_SCENARIO.replace("unit = \"m\"", &format!("unit = \"m\", sha256 = \"{sha}\"")));
    ok(s.run(&["run", "p.toml", "--out", "o2"]));
    s.write("off.csv", "1\n2\n6\n");
    refused(s.run(&["run", "p.toml", "--out", "o3"]), &["client.offline", "content changed", &sha]);
    refused(s.run(&["run", "p.toml", "--set", "client.offline.sha256=abc", "--out", "o3"]), &["64 hexadecimal digits"]);
}

fn csv_experiment(s: &Sandbox) {
    s.write("c.toml", CSV_SCENARIO);
    s.write("x.toml", "name = \"x\"\nscenario = \"c.toml\"\nreplications = 2\n[sweep]\nretention = [\"0s\", \"5m\"]\n");
}

#[test]
fn merge_refuses_shards_computed_from_different_csv_contents() {
    let s = Sandbox::new("csvmerge");
    csv_experiment(&s);
    s.write("off.csv", "1\n2\n5\n");
    ok(s.run(&["run", "x.toml", "--shard", "1/2", "--out", "s1"]));
    s.write("off.csv", "1\n2\n50\n");
    ok(s.run(&["run", "x.toml", "--shard", "2/2", "--out", "s2"]));
    refused(s.run(&["merge", "s1", "s2", "--out", "m"]), &["another experiment"]);
    assert!(!s.path("m").exists());
}

#[test]
fn resume_refuses_a_folder_computed_from_another_csv_content() {
    let s = Sandbox::new("csvresume");
    csv_experiment(&s);
    s.write("off.csv", "1\n2\n5\n");
    ok(s.run(&["run", "x.toml", "--shard", "1/2", "--out", "s1"]));
    // Turn the shard's folder into a partial one, as Ctrl-C would leave it.
    let mp = s.path("s1/manifest.json");
    let m = std::fs::read_to_string(&mp).unwrap().replace("\"partial\": false", "\"partial\": true");
    std::fs::write(&mp, m).unwrap();
    s.write("off.csv", "1\n2\n50\n");
    refused(s.run(&["run", "x.toml", "--shard", "1/2", "--out", "s1", "--resume"]), &["another experiment"]);
}

#[test]
fn shards_started_from_other_folders_or_paths_merge() {
    let s = Sandbox::new("identity");
    s.write("sub/keep", "");
    ok(s.run(&["run", "./e.toml", "--shard", "1/2", "--out", "s1"]));
    ok(s.run_in("sub", &["run", "../e.toml", "--shard", "2/2", "--out", "../s2"]));
    ok(s.run(&["merge", "s1", "s2", "--out", "m"]));
    ok(s.run(&["run", "e.toml", "--out", "whole"]));
    for f in ["runs.csv", "points.csv", "timeseries.csv", "report.md"] {
        let (a, b) = (s.path(&format!("m/{f}")), s.path(&format!("whole/{f}")));
        // The report names the file as the first shard was given it.
        let a = std::fs::read_to_string(a).unwrap().replace("./e.toml", "e.toml");
        assert_eq!(a, std::fs::read_to_string(b).unwrap(), "{f}");
    }
}

// ---- every run exactly once, as written ------------------------------------------------------

fn shards(s: &Sandbox) {
    ok(s.run(&["run", "e.toml", "--shard", "1/2", "--out", "s1", "--force"]));
    ok(s.run(&["run", "e.toml", "--shard", "2/2", "--out", "s2", "--force"]));
}

fn edit(s: &Sandbox, file: &str, f: impl Fn(String) -> String) {
    let p = s.path(file);
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, f(t)).unwrap();
}

#[test]
fn merge_refuses_a_duplicated_run_row() {
    let s = Sandbox::new("dup");
    shards(&s);
    edit(&s, "s1/runs.csv", |t| {
        let last = t.lines().last().unwrap().to_string();
        format!("{t}{last}\n")
    });
    refused(s.run(&["merge", "s1", "s2", "--out", "m"]), &["appears twice"]);
}

#[test]
fn merge_refuses_a_replication_out_of_range_standing_in_for_a_missing_one() {
    let s = Sandbox::new("range");
    shards(&s);
    // Run 1/1 renamed 1/7 (point 1, replication 7 of 2).
    edit(&s, "s2/runs.csv", |t| t.replacen("\n1,1,", "\n1,7,", 1));
    edit(&s, "s2/run_timeseries.csv", |t| t.replace("\n1,1,", "\n1,7,"));
    refused(s.run(&["merge", "s1", "s2", "--out", "m"]), &["out of range"]);
}

#[test]
fn merge_refuses_a_truncated_or_edited_run() {
    let s = Sandbox::new("trunc");
    shards(&s);
    edit(&s, "s1/run_timeseries.csv", |t| {
        let mut lines: Vec<&str> = t.lines().collect();
        lines.pop();
        lines.join("\n") + "\n"
    });
    refused(s.run(&["merge", "s1", "s2", "--out", "m"]), &["checksum"]);
    shards(&s);
    edit(&s, "s2/runs.csv", |t| t.replacen(",0.", ",1.", 1));
    refused(s.run(&["merge", "s1", "s2", "--out", "m"]), &["checksum"]);
    assert!(!s.path("m").exists());
}

// ---- one writer per output; finished work survives -------------------------------------------

#[test]
fn a_second_process_on_the_same_output_is_refused() {
    let s = Sandbox::new("lock");
    std::fs::create_dir_all(s.path(".out.partial")).unwrap();
    let lock = std::fs::File::create(s.path(".out.partial/.lock")).unwrap();
    lock.lock().unwrap();
    refused(s.run(&["run", "s.toml", "--out", "out"]), &["another impsim process"]);
    refused(s.run(&["run", "e.toml", "--out", "out"]), &["another impsim process"]);
    drop(lock);
    ok(s.run(&["run", "s.toml", "--out", "out"]));
}

#[test]
fn a_stale_journal_is_neither_dropped_silently_nor_mixed_in() {
    let s = Sandbox::new("stale");
    // What a killed sweep leaves: a journal with finished runs.
    ok(s.run(&["run", "e.toml", "--out", "whole"]));
    s.write(".out.partial/journal.jsonl", "");
    s.write(".out.partial/.lock", "");
    let exp = impsim::experiment::load(&s.path("e.toml"), &[]).unwrap();
    let meta = impsim::experiment::results::Meta::of(&exp);
    let (_, runs) = impsim::experiment::results::read_runs(&s.path("whole")).unwrap();
    let j =
        impsim::experiment::results::Journal::create(&s.path(".out.partial/journal.jsonl"), &meta, None, &runs[..2])
            .unwrap();
    drop(j);
    refused(s.run(&["run", "e.toml", "--out", "out"]), &["2 finished run(s)", "--resume", "--force"]);
    // Another experiment cannot resume from it.
    s.write("e2.toml", &EXPERIMENT.replace("replications = 2", "replications = 3"));
    refused(s.run(&["run", "e2.toml", "--out", "out", "--resume"]), &["another experiment"]);
    ok(s.run(&["run", "e.toml", "--out", "out", "--resume"]));
    for f in ["runs.csv", "points.csv", "report.md"] {
        assert_eq!(
            std::fs::read(s.path(&format!("out/{f}"))).unwrap(),
            std::fs::read(s.path(&format!("whole/{f}"))).unwrap()
        );
    }
    assert!(!s.path(".out.partial").exists(), "the staging folder is gone once committed");
}

#[test]
fn resume_with_nothing_finished_yet_just_starts_and_needs_a_folder_named() {
    // What a batch job resubmitted after being killed before its first run finished does.
    let s = Sandbox::new("noresume");
    let text = ok(s.run(&["run", "e.toml", "--out", "out", "--resume"]));
    assert!(text.contains("nothing to resume yet"), "{text}");
    assert!(s.path("out/points.csv").exists());
    refused(s.run(&["run", "e.toml", "--resume"]), &["--out"]);
}

// ---- documented commands work when repeated --------------------------------------------------

#[test]
fn the_default_output_folder_is_fresh_each_time() {
    let s = Sandbox::new("repeat");
    let a = ok(s.run(&["run", "s.toml"]));
    let b = ok(s.run(&["run", "s.toml"]));
    assert!(a.contains("results/runs/scenario-seed1/"), "{a}");
    assert!(b.contains("results/runs/scenario-seed1-2/"), "{b}");
    let a = ok(s.run(&["run", "e.toml"]));
    let b = ok(s.run(&["run", "e.toml"]));
    assert!(a.contains("results/runs/adv") && b.contains("results/runs/adv-2"), "{a}\n{b}");
    assert!(!s.path("results/adv").exists(), "never the committed results/<name>");
}

#[test]
fn a_trace_never_overwrites_a_file_it_did_not_write() {
    let s = Sandbox::new("trace");
    s.write("t.csv", "my,data\n");
    refused(s.run(&["run", "s.toml", "--out", "o", "--trace", "t.csv"]), &["trace file exists"]);
    refused(s.run(&["run", "s.toml", "--out", "o", "--trace", "t.csv", "--force"]), &["not an impsim trace"]);
    assert_eq!(std::fs::read_to_string(s.path("t.csv")).unwrap(), "my,data\n");
    ok(s.run(&["run", "s.toml", "--out", "o", "--trace", "t2.csv"]));
    ok(s.run(&["run", "s.toml", "--out", "o", "--trace", "t2.csv", "--force"]));
    refused(s.run(&["run", "e.toml", "--out", "x", "--trace", "t3.csv"]), &["--trace applies to a single scenario"]);
}

/// What a killed `--trace` run leaves (FILE.partial, unlocked) is taken over by the next run,
/// with or without --force; one another process is writing (locked) is refused, and so is a
/// FILE.partial that is not an impsim trace. It blocked every later run.
#[test]
fn a_stale_trace_partial_is_replaced_and_a_live_one_refused() {
    let s = Sandbox::new("tracepartial");
    let killed = "time_us,client,session_id,primitive,type,bytes,status\n12,0,,Login,outband,380,2";
    s.write("t.csv.partial", killed);
    ok(s.run(&["run", "s.toml", "--out", "o", "--trace", "t.csv"]));
    assert!(std::fs::read_to_string(s.path("t.csv")).unwrap().starts_with("time_us,client,"));
    assert!(!s.path("t.csv.partial").exists());
    s.write("t.csv.partial", "");
    ok(s.run(&["run", "s.toml", "--out", "o", "--trace", "t.csv", "--force"]));
    assert!(!s.path("t.csv.partial").exists());
    s.write("t.csv.partial", killed);
    let live = std::fs::OpenOptions::new().write(true).open(s.path("t.csv.partial")).unwrap();
    live.lock().unwrap();
    refused(s.run(&["run", "s.toml", "--out", "o2", "--trace", "t.csv", "--force"]), &["another impsim process"]);
    drop(live);
    s.write("u.csv.partial", "my,data\n");
    refused(s.run(&["run", "s.toml", "--out", "o3", "--trace", "u.csv"]), &["u.csv.partial", "not an impsim trace"]);
    assert_eq!(std::fs::read_to_string(s.path("u.csv.partial")).unwrap(), "my,data\n");
}

/// A trace inside the run's own staging folder would be moved into the result unlisted (and
/// its path would no longer exist): refused, like one inside --out.
#[test]
fn a_trace_into_the_staging_folder_is_refused() {
    let s = Sandbox::new("tracestaging");
    refused(s.run(&["run", "s.toml", "--out", "q", "--trace", ".q.partial/t.csv"]), &["--trace", "staging folder"]);
    refused(s.run(&["run", "s.toml", "--out", "d/q", "--trace", "d/.q.partial/t.csv"]), &["staging folder"]);
    assert!(!s.path("q").exists() && !s.path(".q.partial").exists() && !s.path("d/q").exists());
}

/// compare's --md and --json naming one file would write it twice, the second over the first.
#[test]
fn compare_refuses_one_file_for_both_pages() {
    let s = Sandbox::new("samefile");
    ok(s.run(&["run", "s.toml", "--out", "r1"]));
    ok(s.run(&["run", "s.toml", "--out", "r2", "--seed", "2"]));
    refused(s.run(&["compare", "r1", "r2", "--md", "x", "--json", "./x"]), &["--json", "--md", "two different files"]);
    s.write("y", "mine");
    std::os::unix::fs::symlink(s.path("y"), s.path("z")).unwrap();
    refused(s.run(&["compare", "r1", "r2", "--md", "y", "--json", "z", "--force"]), &["two different files"]);
    assert!(!s.path("x").exists());
    assert_eq!(std::fs::read_to_string(s.path("y")).unwrap(), "mine");
}

/// Any --out name the file system takes for the result works: the staging name `.NAME.partial`
/// (and the others built on NAME) are shortened when NAME is near the 255-byte limit.
#[test]
fn a_long_output_name_is_not_refused_for_its_staging_name() {
    let s = Sandbox::new("longname");
    let name = "r".repeat(250);
    ok(s.run(&["run", "s.toml", "--out", &name]));
    assert!(s.path(&name).join("manifest.json").exists());
    ok(s.run(&["run", "s.toml", "--out", &name, "--force", "--seed", "2"]));
    ok(s.run(&["run", "e.toml", "--out", &"e".repeat(255)]));
    let trace = format!("{}.csv", "t".repeat(250));
    ok(s.run(&["run", "s.toml", "--out", "o", "--trace", &trace]));
    assert!(s.path(&trace).exists());
    let names: Vec<String> =
        std::fs::read_dir(&s.dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "nothing left staged: {names:?}");
}

// ---- resources: memory, events, threads ------------------------------------------------------

#[test]
fn runs_that_cannot_fit_are_refused_up_front_with_the_estimate() {
    let s = Sandbox::new("memory");
    refused(
        s.run(&["run", "s.toml", "--set", "sample_every=1ms", "--out", "o"]),
        &["sample_every", "at most 1000000", "at least 3600us"],
    );
    s.write("huge.toml", &EXPERIMENT.replace("replications = 2", "replications = 4294967295"));
    refused(s.run(&["run", "huge.toml", "--out", "o"]), &["needs about", "GiB", "--force-memory"]);
    // tune had no guard: 2^32-1 replications aborted on a 34 GB allocation, a microsecond mean
    // ran for days.
    refused(
        s.run_bounded(&["tune", "s.toml", "--replications", "4294967295", "--out", "o"]),
        &["s.toml", "needs about", "GiB", "replications", "--force-memory"],
    );
    refused(
        s.run_bounded(&["tune", "s.toml", "--set", "client.activity={dist=\"exponential\",mean=\"1us\"}"]),
        &["s.toml", "events", "--force-events"],
    );
    let axis = |n: usize, unit: &str| (1..=n).map(|i| format!("\"{i}{unit}\"")).collect::<Vec<_>>().join(",");
    s.write(
        "wide.toml",
        &format!(
            "name = \"w\"\n[scenario]\nclients = 5\n[sweep]\nretention = [{}]\n\"sap.ttl_min\" = [{}]\n",
            axis(400, "s"),
            axis(400, "ms")
        ),
    );
    refused(s.run(&["run", "wide.toml", "--out", "o"]), &["sweep", "160000 points", "at most 10000"]);
    assert!(!s.path("o").exists());
}

#[test]
fn an_address_space_limit_is_respected_and_forcing_past_it_is_a_clear_error_not_an_abort() {
    let s = Sandbox::new("rlimit");
    let exe = env!("CARGO_BIN_EXE_impsim");
    let run = |force: &str| {
        let script = format!(
            "ulimit -v 3000000; exec {exe} run s.toml --set clients=40000000 --set duration=10m --out o {force}"
        );
        outcome(Command::new("sh").arg("-c").arg(script).current_dir(&s.dir).output().unwrap())
    };
    refused(run(""), &["RLIMIT_AS", "--force-memory"]);
    refused(run("--force-memory"), &["the system refused", "nothing was run"]);
    assert!(!s.path("o").exists());
}

#[test]
fn an_absurd_event_count_is_refused_unless_forced() {
    let s = Sandbox::new("events");
    refused(
        s.run(&["run", "s.toml", "--set", "client.activity={ dist = \"exponential\", mean = \"1us\" }", "--out", "o"]),
        &["events", "hours at 6 M events/s", "--force-events"],
    );
    // The same check guards each point of an experiment.
    s.write("ev.toml", &format!("{EXPERIMENT}\"client.activity\" = [{{ dist = \"exponential\", mean = \"1us\" }}]\n"));
    refused(s.run(&["run", "ev.toml", "--out", "o"]), &["longest run", "--force-events"]);
}

#[test]
fn more_threads_than_runs_are_not_created() {
    let s = Sandbox::new("threads");
    let started = std::time::Instant::now();
    let text = ok(s.run(&["run", "e.toml", "--out", "o", "--threads", "100000"]));
    assert!(text.contains("4 threads"), "clamped to the 4 runs: {text}");
    assert!(started.elapsed().as_secs() < 20);
}

// ---- the command line behaves like a Unix tool -----------------------------------------------

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let s = Sandbox::new("pipe");
    let mut c =
        s.cmd("", &["run", "s.toml", "--out", "o"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(c.stdout.take());
    let o = c.wait_with_output().unwrap();
    assert_ne!(o.status.code(), Some(101), "no panic exit");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    assert!(s.path("o/manifest.json").exists(), "the result was committed before anything was printed");
}

#[test]
fn a_section_with_only_some_fields_takes_the_rest_from_its_defaults() {
    let s = Sandbox::new("partial-section");
    s.write("p.toml", &format!("{SCENARIO}[device_off]\nevery = \"never\"\n[transport_break]\nduration = \"5s\"\n"));
    ok(s.run(&["run", "p.toml", "--out", "o"]));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("o/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["scenario"]["device_off"]["every"], "never");
    assert_eq!(m["scenario"]["transport_break"]["duration"]["value"], "5s");
    assert_eq!(m["scenario"]["transport_break"]["every"]["mean"], "2h", "the section's own default");
    refused(
        s.run(&["run", "p.toml", "--set", "device_off.evry=1h", "--out", "o2"]),
        &["evry", "did you mean `every`?"],
    );
}

#[test]
fn seeds_out_of_the_files_range_and_very_long_lines_get_short_clear_errors() {
    let s = Sandbox::new("seed");
    // Every u64 is a seed (derived seeds reach 2^64-1); one past it, or a negative one, is not.
    ok(s.run(&["run", "s.toml", "--seed", "18446744073709551615", "--out", "o"]));
    refused(s.run(&["run", "s.toml", "--seed", "18446744073709551616", "--out", "o3"]), &["--seed"]);
    refused(s.run(&["run", "s.toml", "--seed=-1", "--out", "o3"]), &["--seed"]);
    s.write("long.toml", &format!("clients = [{}\n", "1".repeat(10_000)));
    let (code, text) = s.run(&["run", "long.toml", "--out", "o2"]);
    assert_eq!(code, 2);
    assert!(text.len() < 1500 && text.contains("long.toml"), "{} bytes: {text}", text.len());
}

#[test]
fn bench_never_overwrites_a_table_it_did_not_write_and_says_error_once() {
    let s = Sandbox::new("bench");
    s.write("mine.csv", "a,b\n1,2\n");
    refused(s.run(&["bench", "--clients", "10", "--repeat", "1", "--out", "mine.csv"]), &["exists", "--force"]);
    refused(
        s.run(&["bench", "--clients", "10", "--repeat", "1", "--out", "mine.csv", "--force"]),
        &["not a table impsim bench wrote"],
    );
    assert_eq!(std::fs::read_to_string(s.path("mine.csv")).unwrap(), "a,b\n1,2\n");
    let (code, text) = s.run(&["bench", "--clients", "10", "--repeat", "1", "--workload", "nope.toml"]);
    assert_eq!(code, 2);
    assert!(text.contains("nope.toml") && !text.contains("error: error:"), "{text}");
    // The default workload is found from any folder of the checkout's machine.
    let text = ok(s.run(&["bench", "--clients", "10", "--repeat", "1", "--duration", "10m"]));
    assert!(text.contains("results/runs/bench.csv"), "{text}");
    let text = ok(s.run(&["bench", "--clients", "10", "--repeat", "1", "--duration", "10m"]));
    assert!(text.contains("results/runs/bench-2.csv"), "a fresh table each time: {text}");
}

// ---- a single run: progress and signals ------------------------------------------------------

fn long_single_run(s: &Sandbox) -> std::process::Child {
    s.cmd("", &["run", "s.toml", "--set", "clients=60000", "--set", "duration=72h", "--out", "o"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait for the first progress line (the handler is installed, the run under way).
fn first_progress(c: &mut std::process::Child) -> std::io::Lines<std::io::BufReader<std::process::ChildStderr>> {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(c.stderr.take().unwrap()).lines();
    let line = lines.find(|l| l.as_ref().is_ok_and(|l| l.contains("simulated"))).expect("a progress line").unwrap();
    assert!(line.contains("ETA"), "{line}");
    lines
}

#[test]
fn a_single_run_shows_progress_and_finishes_its_result_on_one_signal() {
    let s = Sandbox::new("single-int");
    let mut c = long_single_run(&s);
    let lines = first_progress(&mut c);
    assert!(Command::new("kill").args(["-TERM", &c.id().to_string()]).status().unwrap().success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = c.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("interrupted: finishing the run")), "{rest:?}");
    assert!(s.path("o/summary.csv").exists(), "the finished run is written");
}

#[test]
fn a_second_signal_aborts_a_single_run_and_leaves_nothing() {
    let s = Sandbox::new("single-abort");
    let mut c = long_single_run(&s);
    let lines = first_progress(&mut c);
    for _ in 0..2 {
        assert!(Command::new("kill").args(["-INT", &c.id().to_string()]).status().unwrap().success());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(c.wait().unwrap().code(), Some(130), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("aborted: no result written")), "{rest:?}");
    assert!(!s.path("o").exists() && !s.path(".o.partial").exists(), "no folder, no staging left");
}

#[test]
fn two_processes_on_one_output_never_mix() {
    let s = Sandbox::new("concurrent");
    let mut a = long_single_run(&s);
    let _progress = first_progress(&mut a);
    refused(s.run(&["run", "s.toml", "--out", "o"]), &["another impsim process"]);
    refused(s.run(&["run", "e.toml", "--out", "o", "--force"]), &["another impsim process"]);
    a.kill().unwrap();
    a.wait().unwrap();
    // The killed run's staging folder holds no finished work: the next run clears it.
    ok(s.run(&["run", "s.toml", "--out", "o"]));
}

#[test]
fn sigkill_at_any_moment_then_resume_gives_the_bytes_of_an_uninterrupted_run() {
    let s = Sandbox::new("randomkill");
    s.write(
        "k.toml",
        "name = \"k\"\nreplications = 4\n[scenario]\nclients = 1500\nduration = \"48h\"\n[sweep]\nretention = [\"0s\", \"5m\", \"1h\", \"infinite\"]\n",
    );
    ok(s.run(&["run", "k.toml", "--out", "whole"]));
    // Moments from before the first run ends to after the last (and the writing of the folder).
    for (i, ms) in [5u64, 150, 400, 700, 1000, 1400, 2000, 3000].into_iter().enumerate() {
        let out = format!("o{i}");
        let mut c = s
            .cmd("", &["run", "k.toml", "--out", &out, "--threads", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = c.kill();
        c.wait().unwrap();
        let (code, text) = s.run(&["run", "k.toml", "--out", &out, "--resume"]);
        match code {
            0 => {}
            // Killed after the folder was complete, or before any run finished.
            2 if text.contains("this folder is complete") => {}
            2 if text.contains("no partial result here") => ok(s.run(&["run", "k.toml", "--out", &out])).truncate(0),
            _ => panic!("killed at {ms} ms, then --resume: exit {code}: {text}"),
        }
        for f in ["runs.csv", "points.csv", "timeseries.csv", "run_timeseries.csv", "report.md"] {
            let (a, b) = (s.path(&format!("{out}/{f}")), s.path(&format!("whole/{f}")));
            assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "killed at {ms} ms: {f}");
        }
        assert!(!s.path(&format!(".{out}.partial")).exists(), "killed at {ms} ms: staging left");
    }
}

// ---- findings of the adversarial review ------------------------------------------------------

#[test]
fn a_planted_staging_folder_or_symlink_is_never_trusted() {
    let s = Sandbox::new("planted");
    s.write("docs/a.txt", "mine");
    std::os::unix::fs::symlink(s.path("docs"), s.path(".out.partial")).unwrap();
    refused(s.run(&["run", "s.toml", "--out", "out"]), &["not impsim's staging folder", "symbolic link"]);
    assert_eq!(std::fs::read_to_string(s.path("docs/a.txt")).unwrap(), "mine");
    assert!(!s.path("out").exists());
    // A real folder of the user's under that name: no lock file, or foreign files.
    s.write(".o2.partial/a.txt", "mine");
    refused(s.run(&["run", "s.toml", "--out", "o2"]), &["not impsim's staging folder"]);
    s.write(".o2.partial/.lock", "");
    refused(s.run(&["run", "s.toml", "--out", "o2"]), &["holds \"a.txt\""]);
    assert_eq!(std::fs::read_to_string(s.path(".o2.partial/a.txt")).unwrap(), "mine");
}

#[test]
fn an_existing_partial_file_is_never_overwritten_or_published() {
    let s = Sandbox::new("partialfile");
    s.write("keep.txt", "mine");
    std::os::unix::fs::symlink(s.path("keep.txt"), s.path("t.csv.partial")).unwrap();
    refused(s.run(&["run", "s.toml", "--out", "o", "--trace", "t.csv"]), &["t.csv.partial exists"]);
    s.write("n.csv.partial", "notes");
    refused(s.run(&["run", "s.toml", "--out", "o", "--trace", "n.csv"]), &["n.csv.partial exists"]);
    s.write("b.csv.partial", "notes");
    refused(
        s.run(&["bench", "--clients", "10", "--repeat", "1", "--duration", "10m", "--out", "b.csv"]),
        &["b.csv.partial exists"],
    );
    assert_eq!(std::fs::read_to_string(s.path("keep.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(s.path("n.csv.partial")).unwrap(), "notes");
    assert!(!s.path("t.csv").exists() && !s.path("n.csv").exists() && !s.path("b.csv").exists());
}

#[test]
fn empty_input_is_refused_not_run_as_the_defaults() {
    let s = Sandbox::new("empty");
    refused(run_stdin(&s, "-", "", "o"), &["is empty"]);
    s.write("empty.toml", "");
    refused(s.run(&["run", "empty.toml", "--out", "o"]), &["empty.toml", "is empty"]);
    // An experiment whose scenario is an empty standard input.
    refused(run_stdin(&s, "x.toml", "", "o"), &["x.toml"]);
    s.write("x.toml", "name = \"x\"\nscenario = \"/dev/stdin\"\n");
    refused(run_stdin(&s, "x.toml", "", "o"), &["is empty"]);
    assert!(!s.path("o").exists());
    // Only comments: the defaults, on purpose.
    s.write("c.toml", "# the defaults\nclients = 20\nduration = \"1h\"\n");
    ok(s.run(&["run", "c.toml", "--out", "o"]));
}

#[test]
fn a_closed_stderr_loses_no_finished_work() {
    let s = Sandbox::new("stderr");
    for (file, out) in [("e.toml", "e"), ("s.toml", "o")] {
        let mut c =
            s.cmd("", &["run", file, "--out", out]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(c.stderr.take());
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{file}: runs to the end and writes its result");
        assert!(s.path(&format!("{out}/manifest.json")).exists(), "{file}");
    }
}

#[test]
fn output_paths_are_normalised_and_a_trace_inside_the_output_is_refused() {
    let s = Sandbox::new("paths");
    std::fs::create_dir_all(s.path("r")).unwrap();
    ok(s.run(&["run", "s.toml", "--out", "r/."]));
    assert!(s.path("r/manifest.json").exists());
    ok(s.run(&["run", "s.toml", "--out", "./r/./", "--force"]));
    refused(
        s.run(&["run", "s.toml", "--out", "g", "--trace", "g/summary.csv"]),
        &["must not be inside the --out folder"],
    );
    assert!(!s.path("g").exists() && !s.path(".g.partial").exists());
    std::os::unix::fs::symlink(s.path("r"), s.path("link")).unwrap();
    refused(s.run(&["run", "s.toml", "--out", "link", "--force"]), &["symbolic link"]);
}

#[test]
fn a_fixed_value_for_a_swept_field_is_refused() {
    let s = Sandbox::new("setswept");
    refused(s.run(&["run", "e.toml", "--set", "retention=2h", "--out", "o"]), &["retention", "is swept"]);
    s.write("e2.toml", &EXPERIMENT.replace("[sweep]", "[set]\nretention = \"2h\"\n[sweep]"));
    refused(s.run(&["run", "e2.toml", "--out", "o"]), &["set.retention", "is swept"]);
}

#[test]
fn messages_point_to_the_way_on() {
    let s = Sandbox::new("messages");
    ok(s.run(&["run", "e.toml", "--shard", "1/2", "--out", "s1"]));
    refused(s.run(&["merge", "s1", "./s1/", "--out", "m"]), &["given twice"]);
    // A partial folder (as Ctrl-C leaves it) rerun without --resume: say --resume.
    let mp = s.path("s1/manifest.json");
    let m = std::fs::read_to_string(&mp).unwrap().replace("\"partial\": false", "\"partial\": true");
    std::fs::write(&mp, m).unwrap();
    refused(s.run(&["run", "e.toml", "--shard", "1/2", "--out", "s1"]), &["interrupted sweep", "--resume"]);
}

#[test]
fn a_second_signal_on_a_traced_single_run_leaves_no_partial_trace() {
    let s = Sandbox::new("trace-abort");
    let mut c = s
        .cmd(
            "",
            &["run", "s.toml", "--set", "clients=60000", "--set", "duration=72h", "--out", "o", "--trace", "t.csv"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = first_progress(&mut c);
    for _ in 0..2 {
        assert!(Command::new("kill").args(["-INT", &c.id().to_string()]).status().unwrap().success());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(c.wait().unwrap().code(), Some(130));
    assert!(!s.path("t.csv").exists() && !s.path("t.csv.partial").exists() && !s.path("o").exists());
}
