//! The simulation loop itself: what it processes at the run's last instant, how it counts
//! events, and the guard that stops a run whose simulated time no longer advances.

use impsim::engine::time::{HOUR, SimDuration, SimTime};
use impsim::model::dist::{Dist, DurationDist};
use impsim::model::params::{Dur, Every};
use impsim::model::{Params, Sim};

#[test]
fn events_at_the_last_instant_are_processed_and_none_after_it() {
    let mut p = Params { clients: 10, duration: Dur(HOUR), sample_every: Dur(HOUR / 2), ..Params::default() };
    p.seed = 3;
    let (o, _) = Sim::new(p).run();
    let times: Vec<SimTime> = o.metrics.samples.iter().map(|s| s.time).collect();
    let at = |d: SimDuration| SimTime::ZERO + d;
    assert_eq!(
        times,
        [at(SimDuration::ZERO), at(HOUR / 2), at(HOUR)],
        "the sample due exactly at the end is taken, none later"
    );
}

#[test]
fn every_handled_event_is_counted_once() {
    // One client that comes online only after the end: the run handles nothing but its three
    // samples (0, 30m, 1h), each popped and handled once.
    let mut p = Params { clients: 1, duration: Dur(HOUR), sample_every: Dur(HOUR / 2), ..Params::default() };
    p.startup = DurationDist(Dist::Fixed(7200.0));
    let (o, _) = Sim::new(p).run();
    assert_eq!((o.metrics.c.events, o.metrics.c.popped), (3, 3));
    assert!(o.stalled_at.is_none());
}

/// A scenario the loader refuses (every delay zero), built directly as a library caller could.
fn zero_delays(clients: u32) -> Params {
    let mut p = Params { clients, ..Params::default() };
    p.startup = DurationDist(Dist::Fixed(0.0));
    p.network.rtt = DurationDist(Dist::Fixed(0.0));
    p.client.activity = Every(Some(DurationDist(Dist::Fixed(0.0))));
    p.sap.service.activity = Dur(SimDuration::ZERO);
    p.sap.service.login = Dur(SimDuration::ZERO);
    p.sap.service.negotiation = Dur(SimDuration::ZERO);
    p.sap.service.subscribe = Dur(SimDuration::ZERO);
    p
}

#[test]
fn a_run_whose_time_stops_is_stopped_at_exactly_the_guards_limit() {
    for clients in [1, 3] {
        let (o, _) = Sim::new(zero_delays(clients)).run();
        assert_eq!(o.stalled_at, Some(SimTime::ZERO), "time stopped at 0");
        // The guard allows 1,000,000 + 1,000 per client events at one instant, then stops
        // before handling the next.
        let limit = 1_000_000 + 1_000 * clients as u64;
        assert_eq!(o.metrics.c.popped, limit, "{clients} clients");
        assert_eq!(o.metrics.c.events, limit, "{clients} clients: every popped event was handled");
    }
}
