//! One scripted scenario per requirement S1..S20 of SPEC.md. Each starts from the quiet
//! single-client scenario and switches on only the behaviour the rule is about, and most
//! include the contrasting case, so a broken rule fails the test.

mod common;
use common::*;
use impsim::model::cost::Primitive as P;
use impsim::model::sap::Status;
use std::collections::{BTreeMap, BTreeSet};

fn rows(trace: &[impsim::model::Transaction], p: P) -> Vec<&impsim::model::Transaction> {
    trace.iter().filter(|t| t.primitive == p).collect()
}

#[test]
fn s01_transport_break_within_ttl_continues_the_session_without_login() {
    let (r, _) = run(quiet(&["transport_break.every=1h", "transport_break.duration=1m"]));
    let breaks = count(&r, "transport_breaks");
    assert!(breaks >= 9, "{breaks}");
    assert_eq!(count(&r, "session_continuations"), breaks);
    assert_eq!(count(&r, "logins_fresh"), 1);
    assert_eq!(count(&r, "recovery_attempts"), 0);
    assert_eq!(count(&r, "auto_logouts"), 0);
    // Contrast: a break longer than the TTL ends the session (auto-logout) and needs recovery.
    let (r, _) = run(quiet(&["transport_break.every=1h", "transport_break.duration=25m"]));
    let breaks = count(&r, "transport_breaks");
    assert_eq!(count(&r, "session_continuations"), 0);
    assert_eq!(count(&r, "auto_logouts"), breaks);
    assert_eq!(count(&r, "recovery_successes"), breaks);
}

#[test]
fn s02_device_off_and_on_may_still_continue_the_session() {
    let (r, _) = run(quiet(&["device_off.every=3h", "device_off.duration=5m"]));
    assert!(count(&r, "device_offs") >= 2);
    assert_eq!(count(&r, "session_continuations"), count(&r, "device_offs"));
    assert_eq!(count(&r, "logins_fresh"), 1);
    let (r, _) = run(quiet(&["device_off.every=3h", "device_off.duration=2h"]));
    assert_eq!(count(&r, "session_continuations"), 0);
    assert_eq!(count(&r, "auto_logouts"), count(&r, "device_offs"));
}

#[test]
fn s03_syntax_chosen_at_login_holds_for_the_whole_session() {
    use impsim::model::Transaction;
    use impsim::model::cost::{Syntax, TrafficCost};
    // Every client comes back under a new Client-ID (S17), most often with another syntax:
    // the next session uses the new one, but each session keeps the syntax of the login that
    // set it up in every transaction, up to the Disconnect the SAP may send it.
    let p = quiet(&[
        "clients=30",
        "client.syntaxes={xml=1.0,wbxml=1.0,pts=1.0}",
        "client.client_id_change_prob=1",
        "client.session_length={dist=\"exponential\",mean=\"1h\"}",
        "client.offline={dist=\"exponential\",mean=\"20m\"}",
        "client.logout_prob=0.5",
        "client.activity={dist=\"exponential\",mean=\"10m\"}",
        "transport_break.every={dist=\"exponential\",mean=\"1h\"}",
        "sap.disconnect_every={dist=\"exponential\",mean=\"3h\"}",
    ]);
    // Message sizes differ between syntaxes for every primitive: a row's bytes name its syntax.
    let cost = TrafficCost::new(&p.cost.messages);
    let syntax = |t: &Transaction| -> Syntax {
        let fits: Vec<Syntax> = Syntax::ALL.into_iter().filter(|&s| cost.bytes(t.primitive, s) == t.bytes).collect();
        assert_eq!(fits.len(), 1, "the bytes of {t:?} name no single syntax");
        fits[0]
    };
    let (_, trace) = run(p);
    // The syntax a session was set up in: that of its client's fresh login just before it.
    let mut login: BTreeMap<u32, Syntax> = BTreeMap::new();
    let mut session: BTreeMap<u64, Syntax> = BTreeMap::new();
    let mut by_client: BTreeMap<u32, Vec<Syntax>> = BTreeMap::new();
    let mut checked = 0;
    for t in &trace {
        if t.primitive == P::Login && !t.inband {
            if t.status == Status::Ok {
                login.insert(t.client, syntax(t));
            }
            continue;
        }
        // A 502 answers the login of the client the Session-ID's owner became (S17), in that
        // client's syntax: not a transaction of the old session.
        if t.session_id == 0 || t.status == Status::RecoveryFailed {
            continue;
        }
        let at_login = *session.entry(t.session_id).or_insert_with(|| {
            let s = login[&t.client];
            by_client.entry(t.client).or_default().push(s);
            s
        });
        assert_eq!(
            syntax(t),
            at_login,
            "session {} was set up in {:?}, but client {} sent or got {:?} in {:?} at {}",
            t.session_id,
            at_login,
            t.client,
            t.primitive,
            syntax(t),
            t.time.as_micros()
        );
        checked += 1;
    }
    assert!(checked > 3_000, "{checked} transactions in sessions");
    assert!(trace.iter().any(|t| t.primitive == P::Disconnect), "the SAP disconnects some sessions");
    // The Client-ID changes did change syntaxes between sessions, in both directions.
    let changes: usize = by_client.values().map(|v| v.windows(2).filter(|w| w[0] != w[1]).count()).sum();
    assert!(changes >= 60, "only {changes} changes of syntax between consecutive sessions");
    let used: BTreeSet<u8> = session.values().map(|&s| s as u8).collect();
    assert_eq!(used.len(), 3, "sessions in every syntax");
}

#[test]
fn s04_sap_denies_unsupported_syntax_or_version() {
    let (r, trace) = run(quiet(&["clients=3", "client.syntaxes={xml=1.0}", "sap.syntaxes=[\"wbxml\"]"]));
    assert_eq!(count(&r, "logins_denied"), 3);
    assert_eq!(count(&r, "active_sessions_peak"), 0);
    assert!(trace.iter().all(|t| t.status == Status::SyntaxUnsupported));
    let (r, _) = run(quiet(&["client.versions={\"1.1\"=1.0}", "sap.versions=[\"1.3\"]"]));
    assert_eq!(count(&r, "logins_denied"), 1);
    assert_eq!(count(&r, "logins_fresh"), 0);
    let (r, _) = run(quiet(&["client.syntaxes={pts=1.0}", "sap.syntaxes=[\"pts\"]"]));
    assert_eq!(count(&r, "logins_denied"), 0);
}

#[test]
fn s05_session_ids_are_unique_per_run() {
    let (r, trace) = run(quiet(&[
        "clients=40",
        "transport_break.every={dist=\"exponential\",mean=\"1h\"}",
        "transport_break.duration={dist=\"exponential\",mean=\"20m\"}",
        "sap.disconnect_every={dist=\"exponential\",mean=\"2h\"}",
        "retention=5m",
    ]));
    let mut owner: BTreeMap<u64, u32> = BTreeMap::new();
    for t in trace.iter().filter(|t| t.inband) {
        assert_eq!(*owner.entry(t.session_id).or_insert(t.client), t.client, "Session-ID {} shared", t.session_id);
    }
    assert_eq!(owner.len() as u64, count(&r, "logins_fresh"), "one Session-ID per fresh login");
}

#[test]
fn s06_a_session_ends_by_logout_or_by_sap_disconnect() {
    let (r, trace) = run(quiet(&["client.logout_prob=1", "client.session_length=1h"]));
    // Sessions start about 0h, 2h, 4h, 6h, 8h (an hour online, an hour offline).
    assert_eq!(count(&r, "logouts"), 5);
    assert!(rows(&trace, P::Logout).iter().all(|t| t.inband && t.session_id != 0));
    let (r, trace) = run(quiet(&["sap.disconnect_every=121m"]));
    assert_eq!(count(&r, "sap_disconnects"), 4);
    assert_eq!(rows(&trace, P::Disconnect).len(), 4);
    assert_eq!(count(&r, "logouts"), 0);
    assert_eq!(r.outcome.census.sessions_ended, 4);
}

#[test]
fn s07_rejected_version_leads_to_discovery_and_a_second_login() {
    let (r, trace) =
        run(quiet(&["client.versions={\"1.3\"=1.0}", "sap.versions=[\"1.1\",\"1.2\"]", "sap.disconnect_every=3h"]));
    let s = steps(&trace);
    assert_eq!(s[0], (P::Login, false, 0, Status::VersionUnsupported));
    assert_eq!(s[1], (P::VersionDiscovery, false, 0, Status::Ok));
    assert_eq!((s[2].0, s[2].3), (P::Login, Status::Ok));
    assert_eq!(count(&r, "logins_after_version_discovery"), 1);
    // The negotiated version is remembered: later logins need no discovery.
    assert_eq!(rows(&trace, P::VersionDiscovery).len(), 1);
    assert!(count(&r, "recovery_successes") >= 2);
    // A client that does not remember pays for discovery at every login.
    let (r, trace) = run(quiet(&[
        r#"client.versions={"1.3"=1.0}"#,
        r#"sap.versions=["1.1","1.2"]"#,
        "sap.disconnect_every=3h",
        "client.remember_version=false",
    ]));
    let logins = count(&r, "logins_fresh") + count(&r, "recovery_successes");
    assert!(logins >= 3);
    assert_eq!(rows(&trace, P::VersionDiscovery).len() as u64, logins);
    let (r, _) =
        run(quiet(&["client.versions={\"1.3\"=1.0}", "sap.versions=[\"1.2\"]", "client.version_discovery=false"]));
    assert_eq!(count(&r, "logins_denied"), 1);
}

#[test]
fn s08_after_a_sap_disconnect_the_client_logs_in_again_with_the_old_session_id() {
    let (r, trace) = run(quiet(&["sap.disconnect_every=121m", "client.relogin_delay=1m"]));
    let disconnects = rows(&trace, P::Disconnect);
    assert_eq!(disconnects.len(), 4);
    for d in disconnects {
        let next_login = trace
            .iter()
            .find(|t| t.time.as_micros() > d.time.as_micros() && t.primitive == P::Login)
            .expect("a re-login");
        assert!(next_login.inband, "a recovery login carries the Session-ID");
        assert_eq!(next_login.session_id, d.session_id);
        assert_eq!(next_login.status, Status::Ok);
        // It comes a relogin delay (plus the network) after the disconnect.
        assert_eq!(next_login.time.as_micros() - d.time.as_micros(), MIN + 50_000 + 50_000);
    }
    assert_eq!(count(&r, "recovery_successes"), 4);
}

/// A Disconnect reaches a client in an outage too: it re-logs in a relogin delay after it is
/// reachable again, as an online client does, not at once after a 604.
#[test]
fn s08_a_disconnect_during_an_outage_is_acted_on_when_the_client_is_back() {
    // Online at 0; a 5 min transport break at 1h; the SAP disconnects at 62 min, during it.
    let (r, trace) = run(quiet(&[
        "transport_break.every=1h",
        "transport_break.duration=5m",
        "sap.disconnect_every=62m",
        "client.relogin_delay=1m",
    ]));
    let d = rows(&trace, P::Disconnect)[0];
    assert!(d.time.as_micros() > 60 * MIN && d.time.as_micros() < 65 * MIN, "the Disconnect falls in the outage");
    let next = trace.iter().find(|t| t.time.as_micros() > d.time.as_micros()).expect("the client logs in again");
    assert_eq!((next.primitive, next.inband, next.session_id), (P::Login, true, d.session_id), "{next:?}");
    // Back at 1h05 (plus the ~1 s the first login and negotiation took), then the relogin delay.
    assert!(
        next.time.as_micros() >= 66 * MIN && next.time.as_micros() < 66 * MIN + 2 * SEC,
        "re-login at {} ms",
        next.time.as_micros() / 1000
    );
    assert!(!trace.iter().any(|t| t.status == Status::SessionInvalid), "no 604: the client knew");
    assert_eq!(count(&r, "recovery_successes"), count(&r, "sap_disconnects"));
}

/// Whatever the client was doing (online, in an exchange, in an outage), its re-login after a
/// Disconnect comes at least a relogin delay after the Disconnect.
#[test]
fn s08_every_client_waits_the_relogin_delay_after_a_disconnect() {
    let (r, trace) = run(quiet(&[
        "clients=200",
        "sap.disconnect_every={dist=\"exponential\",mean=\"30m\"}",
        "client.activity={dist=\"exponential\",mean=\"3m\"}",
        "transport_break.every={dist=\"exponential\",mean=\"30m\"}",
        "transport_break.duration={dist=\"exponential\",mean=\"3m\"}",
        "network.rtt={dist=\"uniform\",min=\"0s\",max=\"20s\"}",
        "client.relogin_delay=1m",
    ]));
    let disconnects = rows(&trace, P::Disconnect);
    assert!(disconnects.len() > 2_000, "{}", disconnects.len());
    let mut relogins = 0;
    for d in &disconnects {
        if let Some(l) = trace
            .iter()
            .find(|t| t.client == d.client && t.time.as_micros() > d.time.as_micros() && t.primitive == P::Login)
        {
            assert!(
                l.time.as_micros() >= d.time.as_micros() + MIN,
                "client {} logged in {} ms after a Disconnect",
                d.client,
                (l.time.as_micros() - d.time.as_micros()) / 1000
            );
            relogins += 1;
        }
    }
    // Nearly every Disconnect is followed by a re-login (the last ones may fall at the run's end).
    assert!(
        relogins as f64 >= 0.97 * disconnects.len() as f64,
        "{relogins} re-logins after {} Disconnects",
        disconnects.len()
    );
    assert!(count(&r, "recovery_successes") > 0);
}

/// S8's "the SAP MAY re-establish the old session" is a setting of its own, not the retention
/// period: with retention 0 the re-login after a Disconnect still recovers, unless it is off.
#[test]
fn s08_the_sap_may_reestablish_a_disconnected_session_whatever_the_retention() {
    let base = ["sap.disconnect_every=121m", "client.relogin_delay=1m", "retention=0s"];
    let with = |extra: &[&str]| run(quiet(&[&base[..], extra].concat())).0;
    let r = with(&[]);
    assert_eq!(count(&r, "sap_disconnects"), 4);
    assert_eq!(count(&r, "recovery_successes"), 4, "re-established although retention is 0");
    assert_eq!(count(&r, "fail_not_stored"), 0);
    let r = with(&["sap.reestablish_after_disconnect=false"]);
    assert_eq!(count(&r, "recovery_successes"), 0);
    assert_eq!(count(&r, "fail_not_stored"), 4);
    // The SAP holds the context for its grace period for the re-login it asked for ...
    let r = with(&["client.relogin_delay=15m", "sap.reestablish_within=10m"]);
    assert_eq!(count(&r, "fail_expired"), count(&r, "recovery_attempts"));
    assert!(count(&r, "recovery_attempts") >= 3);
    let r = with(&["client.relogin_delay=15m", "sap.reestablish_within=20m"]);
    assert_eq!(count(&r, "recovery_successes"), count(&r, "recovery_attempts"));
    // ... or for the retention period if that is longer ...
    let r = with(&["client.relogin_delay=15m", "sap.reestablish_within=10m", "retention=20m"]);
    assert_eq!(count(&r, "recovery_successes"), count(&r, "recovery_attempts"));
    assert!(count(&r, "recovery_attempts") >= 3);
    // ... and never for ever, even when the TTL is infinite.
    let r = with(&[
        "client.relogin_delay=15m",
        "sap.reestablish_within=10m",
        "client.requested_ttl=infinite",
        "sap.ttl_max=infinite",
    ]);
    assert_eq!(count(&r, "fail_expired"), count(&r, "recovery_attempts"));
}

#[test]
fn s09_client_and_sap_keep_the_context_during_the_session() {
    let (r, _) = run(quiet(&[]));
    // base 256 + 2 services x 32 + 3 capabilities x 48 + 4 presence x 160 + 1 notification x 96 + 2 groups x 192
    assert_eq!(count(&r, "active_bytes_peak"), 1584);
    assert_eq!(count(&r, "active_sessions_peak"), 1);
    assert!((r.metric("active_bytes_mean") - 1584.0).abs() < 1.0);
    assert_eq!(count(&r, "retained_contexts_peak"), 0);
}

#[test]
fn s10_granted_ttl_is_obeyed_with_keepalives_and_enforced_by_auto_logout() {
    let ka_gaps = |trace: &[impsim::model::Transaction]| -> BTreeSet<u64> {
        let k = rows(trace, P::KeepAlive);
        k.windows(2).map(|w| w[1].time.as_micros() - w[0].time.as_micros()).collect()
    };
    // The SAP grants what is asked within its bounds (SHOULD NOT lower it).
    let (r, trace) = run(quiet(&[]));
    assert_eq!(ka_gaps(&trace), BTreeSet::from([8 * MIN]));
    assert_eq!(count(&r, "ttl_reduced"), 0);
    assert_eq!(count(&r, "auto_logouts"), 0);
    // Asked for more than ttl_max: granted 1h, and the client obeys it.
    let (r, trace) = run(quiet(&["client.requested_ttl=2h"]));
    assert_eq!(ka_gaps(&trace), BTreeSet::from([48 * MIN]));
    assert_eq!(count(&r, "ttl_reduced"), 1);
    // Infinite requested and allowed: no keep-alive at all.
    let (_, trace) = run(quiet(&["client.requested_ttl=infinite", "sap.ttl_max=infinite"]));
    assert!(rows(&trace, P::KeepAlive).is_empty());
    // Walking away: no transaction within the TTL ends the session.
    let (r, _) = run(quiet(&["client.session_length=1h", "client.offline=5h"]));
    assert_eq!(count(&r, "auto_logouts"), 2);
}

#[test]
fn s11_s16_retention_zero_period_or_infinite() {
    // Retention alone decides: the SAP does not hold disconnected sessions for S8 (tested in s08).
    let base = ["sap.disconnect_every=121m", "client.relogin_delay=40m", "sap.reestablish_after_disconnect=false"];
    let with = |extra: &str| {
        let mut o = base.to_vec();
        o.push(extra);
        run(quiet(&o)).0
    };
    let r = with("retention=0s");
    assert_eq!(count(&r, "fail_not_stored"), count(&r, "recovery_attempts"));
    assert_eq!(count(&r, "retained_contexts_peak"), 0);
    let r = with("retention=30m");
    assert_eq!(count(&r, "fail_expired"), count(&r, "recovery_attempts"));
    let r = with("retention=1h");
    assert_eq!(count(&r, "recovery_successes"), count(&r, "recovery_attempts"));
    assert!(count(&r, "recovery_attempts") >= 3);
    let r = with("retention=infinite");
    assert_eq!(count(&r, "recovery_successes"), count(&r, "recovery_attempts"));
    // Infinite: kept until the same client sets up another session, which replaces it.
    let (r, _) = run(quiet(&[
        "retention=infinite",
        "client.recover_prob=0",
        "client.session_length=1h",
        "client.logout_prob=1",
    ]));
    assert_eq!(count(&r, "logins_fresh"), 5);
    assert_eq!(count(&r, "contexts_replaced"), 4);
    assert_eq!(count(&r, "retained_contexts_peak"), 1);
}

#[test]
fn s12_fresh_login_is_followed_by_service_and_capability_negotiation() {
    let (_, trace) = run(quiet(&[]));
    let seq: Vec<P> = trace.iter().take(10).map(|t| t.primitive).collect();
    use P::*;
    assert_eq!(
        seq,
        vec![
            Login,
            Service,
            ClientCapability,
            SubscribePresence,
            SubscribePresence,
            SubscribePresence,
            SubscribePresence,
            SubscribeNotification,
            JoinGroup,
            JoinGroup
        ]
    );
    // At least one service is always negotiated, even if the profile draws none.
    let (r, _) = run(quiet(&["context.services=0"]));
    assert_eq!(count(&r, "active_bytes_peak"), 1584 - 32);
}

#[test]
fn s13_inband_transactions_carry_the_session_id_outband_ones_do_not() {
    let (r, trace) = run(quiet(&[
        "clients=50",
        "client.versions={\"1.2\"=1.0,\"1.3\"=1.0}",
        "sap.versions=[\"1.2\"]",
        "sap.disconnect_every={dist=\"exponential\",mean=\"2h\"}",
        "client.relogin_delay={dist=\"exponential\",mean=\"20m\"}",
        "transport_break.every={dist=\"exponential\",mean=\"1h\"}",
        "transport_break.duration={dist=\"exponential\",mean=\"15m\"}",
    ]));
    assert!(count(&r, "outband_transactions") > 0 && count(&r, "inband_transactions") > 0);
    for t in &trace {
        assert_eq!(t.inband, t.session_id != 0, "{t:?}");
        if matches!(t.primitive, P::VersionDiscovery) {
            assert!(!t.inband);
        }
    }
    assert!(trace.iter().any(|t| t.primitive == P::Login && t.inband), "recovery logins are inband");
    assert!(trace.iter().any(|t| t.primitive == P::Login && !t.inband), "fresh logins are outband");
}

#[test]
fn s14_the_context_has_five_parts_each_with_its_memory_cost() {
    let o = ["sap.disconnect_every=121m", "client.relogin_delay=5m"];
    let (r, _) = run(quiet(&o));
    assert_eq!(count(&r, "retained_bytes_peak"), 1584);
    for (field, delta) in [
        ("cost.context.base=356", 100),
        ("cost.context.per_service=42", 2 * 10),
        ("cost.context.per_capability=58", 3 * 10),
        ("cost.context.per_presence_subscription=170", 4 * 10),
        ("cost.context.per_notification_subscription=106", 10),
        ("cost.context.per_joined_group=202", 2 * 10),
    ] {
        let mut with = o.to_vec();
        with.push(field);
        let (r, _) = run(quiet(&with));
        assert_eq!(count(&r, "retained_bytes_peak"), 1584 + delta, "{field}");
    }
}

#[test]
fn s14_a_cost_file_prices_the_context_as_the_same_table_inline() {
    // A table as `impsim live --calibrate` writes it, in a file beside the scenario.
    let dir = std::env::temp_dir().join(format!("impsim-costfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broker.toml"),
        "# measured\n[context]\nbase = 1150\nper_service = 0\nper_capability = 0\n\
         per_presence_subscription = 245\nper_notification_subscription = 245\nper_joined_group = 245\n",
    )
    .unwrap();
    let o = ["sap.disconnect_every=121m", "client.relogin_delay=5m"];
    let mut with_file: Vec<String> = o.iter().map(|s| s.to_string()).collect();
    with_file.push("cost.file=\"broker.toml\"".into());
    let from_file = impsim::scenario::parse(common::QUIET, "quiet.toml", &dir, &with_file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (r, _) = run(from_file);
    // The quiet scenario's context: 2 services, 3 capabilities, 4 presence and 1 notification
    // subscriptions, 2 joined groups: 1150 + (4 + 1 + 2) x 245 bytes.
    assert_eq!(count(&r, "retained_bytes_peak"), 1150 + 7 * 245);
    let (inline, _) = run(quiet(&[
        o[0],
        o[1],
        "cost.context={base=1150,per_service=0,per_capability=0,per_presence_subscription=245,\
         per_notification_subscription=245,per_joined_group=245}",
    ]));
    assert_eq!(count(&inline, "retained_bytes_peak"), count(&r, "retained_bytes_peak"));
}

#[test]
fn s15_each_device_of_a_user_has_its_own_session_and_context() {
    let (r, trace) = run(quiet(&["clients=2", "users.devices=[0.0, 1.0]"]));
    assert_eq!(count(&r, "active_sessions_peak"), 2);
    assert_eq!(count(&r, "active_bytes_peak"), 2 * 1584);
    let ids: BTreeSet<(u32, u64)> = trace.iter().filter(|t| t.inband).map(|t| (t.client, t.session_id)).collect();
    assert_eq!(ids.len(), 2);
    // With the `user` replacement scope, one device's fresh login drops the other's retained context.
    let scoped = |scope: &str| {
        run(quiet(&[
            "clients=2",
            "users.devices=[0.0, 1.0]",
            "startup={dist=\"uniform\",min=\"0s\",max=\"1h\"}",
            "retention=infinite",
            "client.logout_prob=1",
            "client.session_length=5m",
            "client.offline=5h",
            &format!("store.replace_scope=\"{scope}\""),
        ]))
        .0
    };
    let r = scoped("user");
    assert!(count(&r, "fail_replaced") >= 1, "a sibling's fresh login replaced the context");
    let r = scoped("client");
    assert_eq!(count(&r, "fail_replaced"), 0);
    assert_eq!(count(&r, "recovery_successes"), count(&r, "recovery_attempts"));
}

/// S15/S16: replacement is per client ("until the user sets up another session with the same
/// client"), so how many devices a user has changes nothing under the `client` scope; it matters
/// only under the `user` scope, where one device's new session replaces its siblings' contexts.
#[test]
fn s15_devices_per_user_matter_only_where_a_user_scope_replaces_contexts() {
    let summary = |devices: &str, scope: &str| {
        let p = quiet(&[
            "clients=300",
            &format!("users.devices={devices}"),
            &format!("store.replace_scope=\"{scope}\""),
            "retention=infinite",
            "startup={dist=\"uniform\",min=\"0s\",max=\"2h\"}",
            "client.session_length={dist=\"exponential\",mean=\"1h\"}",
            "client.offline={dist=\"exponential\",mean=\"1h\"}",
            "client.logout_prob=0.5",
        ]);
        // As printed (a NaN cell equals itself only as text).
        run(p).0.summary.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>()
    };
    let (one, three) = ("[1.0]", "[0.2, 0.3, 0.5]");
    assert_eq!(summary(one, "client"), summary(three, "client"), "devices changed a client-scope run");
    let (a, b) = (summary(one, "user"), summary(three, "user"));
    let replaced =
        |s: &[String]| -> u64 { s.iter().find_map(|c| c.strip_prefix("contexts_replaced=")).unwrap().parse().unwrap() };
    assert!(
        replaced(&b) > replaced(&a),
        "siblings' new sessions replace contexts: {} vs {}",
        replaced(&b),
        replaced(&a)
    );
}

/// S16's byte cap: a context larger than the whole cap is never kept (nothing could be evicted
/// to make room), and its recovery fails as evicted; one exactly the cap's size is kept.
#[test]
fn s16_a_context_larger_than_the_byte_cap_is_never_kept() {
    let base = ["sap.disconnect_every=121m", "client.relogin_delay=1m"];
    // Every context here is 1584 bytes (s09).
    let r = run(quiet(&[&base[..], &["store.max_bytes=1583"]].concat())).0;
    assert_eq!(count(&r, "retained_contexts_peak"), 0);
    assert_eq!(count(&r, "contexts_evicted"), 4);
    assert_eq!(count(&r, "recovery_attempts"), 4);
    assert_eq!(count(&r, "fail_evicted"), 4);
    let r = run(quiet(&[&base[..], &["store.max_bytes=1584"]].concat())).0;
    assert_eq!(count(&r, "contexts_evicted"), 0);
    assert_eq!(count(&r, "recovery_successes"), 4);
}

/// `store.keep_on_logout = false`: a client's Logout leaves nothing to recover (each such
/// context counted as not stored), while a session that ends otherwise is still retained.
#[test]
fn s16_without_keep_on_logout_only_a_logout_drops_the_context() {
    let base = ["client.session_length=1h", "retention=2h", "store.keep_on_logout=false"];
    let r = run(quiet(&[&base[..], &["client.logout_prob=1"]].concat())).0;
    assert_eq!(count(&r, "logouts"), 5);
    assert_eq!(count(&r, "contexts_not_stored"), 5);
    assert_eq!(count(&r, "recovery_attempts"), 4);
    assert_eq!(count(&r, "fail_not_stored"), 4);
    assert_eq!(count(&r, "retained_contexts_peak"), 0);
    // The user walks away instead: auto-logout, and the context is kept and recovered.
    let r = run(quiet(&[&base[..], &["client.logout_prob=0"]].concat())).0;
    assert_eq!(count(&r, "contexts_not_stored"), 0);
    assert!(count(&r, "recovery_attempts") >= 4);
    assert_eq!(count(&r, "recovery_successes"), count(&r, "recovery_attempts"));
    // The default keeps a logged-out context too.
    let r = run(quiet(&["client.session_length=1h", "retention=2h", "client.logout_prob=1"])).0;
    assert_eq!(count(&r, "contexts_not_stored"), 0);
    assert_eq!(count(&r, "recovery_successes"), 4);
}

#[test]
fn s17_changed_client_ids_and_abandonment_leak_under_infinite_retention() {
    let churn = |retention: &str| {
        run(quiet(&[
            &format!("retention={retention}"),
            "client.client_id_change_prob=1",
            "client.logout_prob=1",
            "client.session_length=1h",
        ]))
        .0
    };
    let r = churn("infinite");
    assert_eq!(count(&r, "fail_client_changed"), 4);
    assert_eq!(r.outcome.census.contexts_retained, 5, "every orphaned context is kept forever");
    let r = churn("30m");
    assert_eq!(count(&r, "retained_contexts_peak"), 1);
    assert_eq!(r.outcome.census.contexts_retained, 0);
    // Back within the TTL under a new Client-ID: the old session is another client's. It is
    // neither continued nor recovered, and its context is left behind as an orphan.
    let (r, _) = run(quiet(&[
        "retention=infinite",
        "client.client_id_change_prob=1",
        "client.session_length=1h",
        "client.offline=2m",
    ]));
    assert_eq!(count(&r, "session_continuations"), 0);
    assert_eq!(count(&r, "recovery_successes"), 0);
    assert_eq!(count(&r, "fail_client_changed"), count(&r, "recovery_attempts"));
    assert!(count(&r, "recovery_attempts") >= 4);
    assert_eq!(count(&r, "contexts_replaced"), 0, "another client's context is not replaced");
    assert_eq!(r.outcome.census.contexts_retained, count(&r, "recovery_attempts"), "each old context is kept");
    // A user who never comes back leaves the context behind for good.
    let (r, _) = run(quiet(&[
        "retention=infinite",
        "client.abandon_prob=1",
        "client.replace_abandoned=false",
        "client.session_length=1h",
        "client.logout_prob=1",
    ]));
    assert_eq!(count(&r, "abandoned"), 1);
    assert_eq!(count(&r, "logins_fresh"), 1);
    assert_eq!(r.outcome.census.contexts_retained, 1);
}

#[test]
fn s18_recovery_is_a_normal_login_of_one_or_two_round_trips() {
    for (share, rounds) in [("0", 1u64), ("1", 2)] {
        let (r, trace) = run(quiet(&[
            "sap.disconnect_every=121m",
            "client.relogin_delay=1m",
            &format!("client.four_way_share={share}"),
        ]));
        let recoveries = count(&r, "recovery_successes");
        assert_eq!(recoveries, 4);
        let recovery_logins = rows(&trace, P::Login).iter().filter(|t| t.inband).count() as u64;
        assert_eq!(recovery_logins, recoveries * rounds);
        // Restored after exactly `rounds` round trips of 100ms.
        // (HDR histograms keep 3 significant digits.)
        assert!((r.metric("restore_recovered_ms_p50") - 100.0 * rounds as f64).abs() < 0.2);
    }
}

/// A login whose response comes too late is sent again; the SAP recognises the retransmission
/// and answers it with the session it already set up: one session per login, never two.
#[test]
fn s18_a_retransmitted_login_sets_up_one_session() {
    // 20 logins at once on one worker of 3 s each: the later ones time out and are retried.
    let (r, trace) = run(quiet(&["clients=20", "sap.workers=1", "sap.service.login=3s", "client.request_timeout=20s"]));
    assert!(count(&r, "retries") >= 5, "logins were retried");
    assert_eq!(count(&r, "logins_fresh"), 20);
    assert_eq!(count(&r, "contexts_created"), 20);
    assert_eq!(count(&r, "relogin_drops"), 0, "no session was replaced by its own login's retry");
    let sessions: BTreeSet<u64> = trace.iter().filter(|t| t.inband).map(|t| t.session_id).collect();
    assert_eq!(sessions.len(), 20);
}

/// A recovery login that finds its session still live (the client judged liveness by its last
/// send, the SAP by the last arrival) is a continuation: never counted as a recovery.
#[test]
fn s18_a_login_that_finds_its_session_live_continues_it_and_is_no_recovery() {
    // Retention 0 and no Disconnects: nothing can be recovered. Outages end around the TTL
    // and round trips are long, so many clients come back just inside the SAP's deadline.
    let (r, trace) = run(quiet(&[
        "clients=300",
        "retention=0s",
        "network.rtt={dist=\"uniform\",min=\"0s\",max=\"60s\"}",
        "client.request_timeout=5m",
        "transport_break.every={dist=\"exponential\",mean=\"20m\"}",
        "transport_break.duration={dist=\"uniform\",min=\"9m\",max=\"11m\"}",
    ]));
    assert!(count(&r, "recovery_attempts") > 500);
    assert_eq!(count(&r, "recovery_successes"), 0, "a live session was counted as recovered");
    assert_eq!(count(&r, "fail_not_stored"), count(&r, "recovery_attempts"));
    // The case happened: recovery logins answered 200 (with retention 0, only a live session).
    let live_found = trace.iter().filter(|t| t.primitive == P::Login && t.inband && t.status == Status::Ok).count();
    assert!(live_found >= 5, "{live_found} logins found their session live");
}

#[test]
fn s19_recovery_restores_the_whole_context_and_the_sap_redoes_its_subscriptions() {
    let (r, trace) = run(quiet(&["sap.disconnect_every=121m", "client.relogin_delay=1m"]));
    let first_disconnect = rows(&trace, P::Disconnect)[0].time.as_micros();
    assert!(
        !trace.iter().any(|t| t.time.as_micros() > first_disconnect
            && matches!(t.primitive, P::Service | P::ClientCapability | P::SubscribePresence | P::JoinGroup)),
        "nothing is renegotiated or resubscribed by the client"
    );
    assert_eq!(count(&r, "resubscriptions"), 4 * 7);
    // What a fresh login would have cost in WBXML: Service 700 + ClientCapability 620
    // + 4 SubscribePresence x 300 + 1 SubscribeNotification x 220 + 2 JoinGroup x 280.
    assert_eq!(count(&r, "recovery_bytes_saved"), 4 * 3300);
    assert_eq!(count(&r, "recovery_transactions_saved"), 4 * 9);
    assert_eq!(count(&r, "active_bytes_peak"), 1584, "the restored context is the same size");
}

/// S19: the SAP's own work of re-subscribing is charged to the recovery login: one worker is
/// busy `sap.service.resubscribe` per item (7 here), so the client waits for it.
#[test]
fn s19_the_sap_is_charged_for_redoing_the_subscriptions() {
    let (r, _) = run(quiet(&["sap.disconnect_every=121m", "client.relogin_delay=1m", "sap.service.resubscribe=100ms"]));
    assert_eq!(count(&r, "recovery_successes"), 4);
    assert_eq!(count(&r, "resubscriptions"), 4 * 7);
    // Half a round trip, 7 x 100 ms of SAP work, half a round trip.
    let p50 = r.metric("restore_recovered_ms_p50");
    assert!((p50 - 800.0).abs() < 1.0, "{p50}");
}

#[test]
fn s20_failed_recovery_answers_502_then_a_full_fresh_login_without_the_session_id() {
    let (r, trace) = run(quiet(&["sap.disconnect_every=121m", "client.relogin_delay=45m", "retention=30m"]));
    let fail = trace.iter().position(|t| t.status == Status::RecoveryFailed).expect("a 502");
    let old = trace[fail].session_id;
    assert!(trace[fail].inband && old != 0);
    let s = steps(&trace[fail + 1..fail + 11]);
    assert_eq!((s[0].0, s[0].1, s[0].2), (P::Login, false, 0), "logs in again without the Session-ID");
    let new = s[1].2;
    assert_ne!(new, old, "the user was not logged in to the old session");
    let prims: Vec<P> = s.iter().map(|x| x.0).collect();
    assert_eq!(&prims[1..3], &[P::Service, P::ClientCapability]);
    assert_eq!(count(&r, "fail_expired"), count(&r, "recovery_attempts"));
    assert_eq!(count(&r, "logins_after_502"), count(&r, "fail_expired"));
    // The 502 exchange, the login, two negotiations and seven rebuild transactions: 11 round trips.
    assert!((r.metric("restore_fresh_ms_p50") - 1100.0).abs() < 1.1, "{}", r.metric("restore_fresh_ms_p50"));
}
