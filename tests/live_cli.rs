//! `impsim live` refuses what it should before it opens a connection: a broker elsewhere than
//! this machine without --allow-remote, an unreachable broker, a scenario whose intervals do not
//! divide into whole seconds, options that do not go together; and `--calibrate` never replaces
//! a file it did not write. No broker is needed.

use std::path::PathBuf;
use std::process::Command;

fn impsim(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_impsim")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn scenario() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("experiments/live_mosquitto.toml").display().to_string()
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a.to_string()
}

#[test]
fn a_broker_elsewhere_is_refused_without_allow_remote() {
    let (code, err) = impsim(&["live", &scenario(), "--broker", "192.0.2.1:1883", "--scale", "60"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--allow-remote") && err.contains("192.0.2.1"), "{err}");
    let (code, err) = impsim(&["live", "--calibrate", "--broker", "192.0.2.1:1883"]);
    assert_eq!((code, err.contains("--allow-remote")), (2, true), "{err}");
}

#[test]
fn an_unreachable_broker_is_refused_at_once_as_a_broker_failure() {
    // 8, the broker's failure: 1 is this machine's.
    let port = closed_port();
    let (code, err) = impsim(&["live", &scenario(), "--broker", &port, "--scale", "60"]);
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("cannot connect") && err.contains(&port), "{err}");
    let (code, err) = impsim(&["live", "--calibrate", "--broker", &port, "--out", "/nonexistent-dir/x.toml"]);
    assert_eq!((code, err.contains("cannot connect")), (8, true), "{err}");
}

#[test]
fn intervals_that_are_not_whole_seconds_once_compressed_are_refused_naming_the_field() {
    // Retention 5m / 7 = 42.86 s: MQTT carries whole seconds.
    let (code, err) = impsim(&["live", &scenario(), "--broker", &closed_port(), "--scale", "7"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("live_mosquitto.toml") && err.contains("retention"), "{err}");
    let (code, err) = impsim(&["live", &scenario(), "--broker", &closed_port(), "--scale", "0"]);
    assert_eq!((code, err.contains("--scale")), (2, true), "{err}");
}

#[test]
fn options_that_do_not_go_together_are_refused() {
    let port = closed_port();
    for args in [
        vec!["live", "--broker", &port, "--scale", "60"], // no scenario
        vec!["live", &scenario(), "--broker", &port],     // no --scale
        vec!["live", &scenario(), "--calibrate", "--broker", &port], // both
        vec!["live", "--calibrate", "--broker", &port, "--seed", "3"], // a scenario option
        vec!["live", &scenario(), "--broker", &port, "--scale", "60", "--sessions", "9"], // calibrate's
        vec!["live", "--calibrate", "--broker", &port, "--subscriptions", "5"], // one level
        vec!["live", "--calibrate", "--broker", &port, "--subscriptions", "5,x"], // not a count
    ] {
        let (code, err) = impsim(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn calibrate_never_replaces_a_file_it_did_not_write() {
    let dir = std::env::temp_dir().join(format!("impsim-live-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("cost.toml");
    std::fs::write(&f, "my notes\n").unwrap();
    let out = f.display().to_string();
    let port = closed_port();
    let (code, err) = impsim(&["live", "--calibrate", "--broker", &port, "--out", &out]);
    assert_eq!((code, err.contains("exists")), (2, true), "{err}");
    let (code, err) = impsim(&["live", "--calibrate", "--broker", &port, "--out", &out, "--force"]);
    assert_eq!((code, err.contains("not a cost table impsim wrote")), (2, true), "{err}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "my notes\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stand-in MQTT 5 broker for what a real one cannot be made to do on demand. It keeps no
/// session once a connection ends (retention 0) and answers Session Present only for a
/// Client Identifier whose connection is still open (a takeover, which closes the old one), as
/// Mosquitto does with a Session Expiry Interval of 0; it answers SUBSCRIBE and PINGREQ, has no
/// `$SYS` tree and never times a connection out. It can instead stay silent (`answer = false`:
/// a port that accepts and never speaks MQTT), or die on cue, closing every connection and
/// refusing new ones.
struct FakeBroker {
    addr: String,
    dead: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Connections it accepted.
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

type Open =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<std::sync::atomic::AtomicBool>>>>;

impl FakeBroker {
    fn start(answer: bool) -> FakeBroker {
        use std::sync::atomic::Ordering;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let dead = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open: Open = Default::default();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (d, count) = (dead.clone(), accepted.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                if d.load(Ordering::SeqCst) {
                    return; // the listener closes: new connections are refused
                }
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(s) = s else { continue };
                let (d, open) = (d.clone(), open.clone());
                std::thread::spawn(move || serve(s, answer, &d, &open));
            }
        });
        FakeBroker { addr, dead, accepted }
    }
    fn die(&self) {
        self.dead.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(&self.addr); // wake the listener to stop
    }
}

/// One connection of the stand-in broker.
fn serve(mut s: std::net::TcpStream, answer: bool, dead: &std::sync::atomic::AtomicBool, open: &Open) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    let _ = s.set_read_timeout(Some(std::time::Duration::from_millis(50)));
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 4096]);
    let mut me: Option<(String, std::sync::Arc<AtomicBool>)> = None;
    let leave = |me: &Option<(String, std::sync::Arc<AtomicBool>)>| {
        if let Some((id, flag)) = me {
            let mut o = open.lock().unwrap();
            if o.get(id).is_some_and(|f| std::sync::Arc::ptr_eq(f, flag)) {
                o.remove(id);
            }
        }
    };
    loop {
        if dead.load(Ordering::SeqCst) || me.as_ref().is_some_and(|m| m.1.load(Ordering::SeqCst)) {
            return leave(&me); // the broker died, or another connection took the session over
        }
        match s.read(&mut chunk) {
            Ok(0) => return leave(&me),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => continue,
        }
        while let Some((kind, body, used)) = packet(&buf) {
            let reply: Vec<u8> = match kind {
                1 => {
                    // CONNECT: protocol name (6), version, flags, keep alive (2), properties, id.
                    let clean = body[7] & 0x02 != 0;
                    let (plen, at) = varint(&body[10..]);
                    let i = 10 + at + plen;
                    let n = usize::from(u16::from_be_bytes([body[i], body[i + 1]]));
                    let id = String::from_utf8_lossy(&body[i + 2..i + 2 + n]).into_owned();
                    let flag = std::sync::Arc::new(AtomicBool::new(false));
                    let old = open.lock().unwrap().insert(id.clone(), flag.clone());
                    let present = old.is_some_and(|o| {
                        o.store(true, Ordering::SeqCst);
                        !clean
                    });
                    me = Some((id, flag));
                    vec![0x20, 3, u8::from(present), 0, 0]
                }
                8 => vec![0x90, 4, body[0], body[1], 0, 0], // SUBACK
                12 => vec![0xD0, 0],                        // PINGRESP
                14 => return leave(&me),                    // DISCONNECT
                _ => Vec::new(),
            };
            if answer && !reply.is_empty() && s.write_all(&reply).is_err() {
                return leave(&me);
            }
            buf.drain(..used);
        }
    }
}

/// A variable byte integer at the start of `b`: (value, bytes it took).
fn varint(b: &[u8]) -> (usize, usize) {
    let (mut v, mut mult) = (0usize, 1usize);
    for (i, byte) in b.iter().enumerate() {
        v += usize::from(byte & 0x7f) * mult;
        mult *= 128;
        if byte & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    (v, b.len())
}

/// One whole MQTT packet at the start of `b`: (type, body, length with the header).
fn packet(b: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let (mut len, mut mult, mut i) = (0usize, 1usize, 1usize);
    loop {
        let byte = *b.get(i)?;
        len += usize::from(byte & 0x7f) * mult;
        mult *= 128;
        i += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let body = b.get(i..i + len)?.to_vec();
    Some((b[0] >> 4, body, i + len))
}

/// Run `impsim live` on a small population against `broker`; (exit code, stdout + stderr,
/// seconds it took, the output folder). `during` runs with the child's pid while it runs.
fn live_run(broker: &str, extra: &[&str], during: impl FnOnce(u32)) -> (i32, String, f64, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("impsim-live-fake-{}-{}", std::process::id(), broker.replace(':', "-")));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.display().to_string();
    let mut args = vec!["live", "--quiet", "--set", "clients=40", "--broker", broker, "--scale", "60", "--out", &out];
    args.insert(1, Box::leak(scenario().into_boxed_str()));
    args.extend_from_slice(extra);
    let started = std::time::Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_impsim"))
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    during(child.id());
    let o = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text, started.elapsed().as_secs_f64(), dir)
}

#[test]
fn a_port_that_never_answers_is_a_broker_failure_within_the_deadline_not_a_hang() {
    let silent = FakeBroker::start(false);
    let (code, text, took, dir) = live_run(&silent.addr, &["--deadline", "2s", "--time-limit", "60s"], |_| {});
    assert_eq!(code, 8, "{text}");
    assert!(took < 15.0, "{took} s: the deadline is 2 s");
    // It answered nothing: nothing to write, and the error says why.
    assert!(text.contains("accepted no session") && text.contains("did not answer within 2 s"), "{text}");
    assert!(!dir.exists(), "no folder of empty measurements");
}

#[test]
fn the_time_limit_ends_a_run_whose_broker_never_answers_before_the_deadline_does() {
    let silent = FakeBroker::start(false);
    let (code, text, took, _) = live_run(&silent.addr, &["--deadline", "5m", "--time-limit", "3s"], |_| {});
    assert_eq!(code, 8, "{text}");
    assert!(took < 8.0, "{took} s: --time-limit 3s");
    assert!(text.contains("accepted no session") && text.contains("none answered"), "{text}");
}

#[test]
fn a_broker_that_dies_mid_run_is_its_failure_and_its_closes_are_not_keep_alive_closes() {
    let broker = FakeBroker::start(true);
    let (code, text, took, dir) = live_run(&broker.addr, &["--time-limit", "60s"], |_| {
        std::thread::sleep(std::time::Duration::from_secs(4));
        broker.die();
    });
    assert_eq!(code, 8, "{text}");
    assert!(took < 20.0, "{took} s: the run stops once the broker is plainly gone");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let value = |m: &str| -> f64 {
        let line = summary.lines().find(|l| l.starts_with(&format!("{m},"))).unwrap();
        line.split(',').nth(1).unwrap().parse().unwrap()
    };
    assert_eq!(value("auto_logouts"), 0.0, "a dying broker's closes are no keep-alive closes:\n{summary}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("BROKER FAILED") && !report.contains("DISAGREE"), "{report}");
    assert!(report.contains("monitor lost") || value("broker_failures") >= 10.0, "{report}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_broker_without_a_sys_tree_leaves_the_gauge_check_not_judged_never_agreeing() {
    // Retention 0: the stand-in's "no session" is then the broker's rule, and only the gauge
    // check is left without anything to judge.
    let broker = FakeBroker::start(true);
    let (code, text, _, dir) = live_run(&broker.addr, &["--time-limit", "8s", "--set", "retention=0s"], |_| {});
    assert_eq!(code, 7, "{text}");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.contains("sys_gauge_agreement,,,not judged"), "{summary}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("NOT JUDGED") && report.contains("0 $SYS samples"), "{report}");
    assert!(!report.contains("model agrees"), "{report}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn one_signal_writes_what_was_measured_within_seconds() {
    let broker = FakeBroker::start(true);
    let (code, text, took, dir) = live_run(&broker.addr, &["--time-limit", "10m"], |pid| {
        std::thread::sleep(std::time::Duration::from_secs(4));
        // SAFETY: kill sends a signal to the child we started; nothing else is touched.
        unsafe { libc::kill(pid as i32, libc::SIGINT) };
    });
    assert_eq!(code, 130, "{text}");
    assert!(took < 12.0, "{took} s after a signal at 4 s");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("INTERRUPTED"), "{report}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_run_past_one_process_open_files_is_refused_before_it_starts_naming_the_shards() {
    // The 50,000-client run: once it started, stalled at the file limit and blamed the
    // model; now refused with the numbers (or, where a process may hold more, let through).
    let (code, err) =
        impsim(&["live", &scenario(), "--broker", &closed_port(), "--scale", "60", "--set", "clients=50000"]);
    let hard = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|x| x.starts_with("Max open files"))
                .map(|x| x.split_whitespace().nth(4).unwrap_or("").to_string())
        })
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    if hard < 50_064 {
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("50064 open files") && err.contains("shards") && err.contains("impsim merge"), "{err}");
    } else {
        assert_eq!(code, 8, "past the capacity check, the closed port: {err}");
    }
}

#[test]
fn clients_spread_over_several_brokers_each_checked_on_its_own() {
    let (a, b) = (FakeBroker::start(true), FakeBroker::start(true));
    let args = ["--time-limit", "6s", "--set", "retention=0s", "--broker", b.addr.as_str()];
    let (code, text, _, dir) = live_run(&a.addr, &args, |_| {});
    assert!(code == 7 || code == 0, "{text}");
    let (na, nb) =
        (a.accepted.load(std::sync::atomic::Ordering::SeqCst), b.accepted.load(std::sync::atomic::Ordering::SeqCst));
    assert!(na >= 10 && nb >= 10, "40 clients over two brokers: {na} and {nb} connections");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    for broker in [&a.addr, &b.addr] {
        assert!(summary.contains(&format!("strict_agreement@{broker},")), "{summary}");
        assert!(summary.contains(&format!("sys_gauge_agreement@{broker},")), "{summary}");
    }
    let attempts = std::fs::read_to_string(dir.join("attempts.csv")).unwrap();
    let brokers: std::collections::BTreeSet<&str> =
        attempts.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert!(brokers.iter().all(|b| *b == "0" || *b == "1"), "{brokers:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_same_users_do_the_same_on_one_thread_or_two() {
    // Retention 0 and a stand-in that never times a connection out: what each client does, and
    // what the broker answers, follows from its draws alone; only the thread count differs.
    let broker = FakeBroker::start(true);
    let run = |threads: &str| {
        let (code, text, _, dir) = live_run(
            &broker.addr,
            &["--threads", threads, "--set", "retention=0s", "--set", "duration=12m", "--set", "clients=200"],
            |_| {},
        );
        assert!(code == 7 || code == 0, "{text}");
        let attempts = std::fs::read_to_string(dir.join("attempts.csv")).unwrap();
        let _ = std::fs::remove_dir_all(dir);
        // (client, broker, Session Present) of each attempt, leaving out the last 0.2 s, where
        // the run's end may fall either side of a reconnect.
        let mut v: Vec<String> = attempts
            .lines()
            .skip(1)
            .filter(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap() < 11.8)
            .map(|l| {
                l.split(',').take(4).enumerate().filter(|(i, _)| *i != 2).map(|x| x.1).collect::<Vec<_>>().join(",")
            })
            .collect();
        v.sort();
        v
    };
    let (one, two) = (run("1"), run("2"));
    assert!(one.len() >= 50, "{one:?}");
    assert_eq!(one, two);
}
