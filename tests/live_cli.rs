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
fn an_unreachable_broker_is_refused_at_once() {
    let port = closed_port();
    let (code, err) = impsim(&["live", &scenario(), "--broker", &port, "--scale", "60"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot connect") && err.contains(&port), "{err}");
    let (code, err) = impsim(&["live", "--calibrate", "--broker", &port, "--out", "/nonexistent-dir/x.toml"]);
    assert_eq!((code, err.contains("cannot connect")), (1, true), "{err}");
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
