//! `impsim live`: the same virtual clients as a simulation, driving real MQTT 5 brokers in real
//! time compressed by a factor K, and the model checked against what the brokers did.
//! At the edge: it opens sockets and reads the clock; the model knows nothing of it.

pub mod calibrate;
pub mod capacity;
pub mod client;
pub mod codec;
pub mod compare;
pub mod conn;
pub mod driver;
pub mod measured;
pub mod merge;
pub mod report;
pub mod scale;

use crate::Error;
use crate::model::Params;
use crate::model::protocol::ProtocolName;
use crate::run::Report;
use driver::{Broker, DriveOptions};
use measured::Measured;
use scale::Scale;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Whether `ip` is a loopback address (127.0.0.0/8, ::1, or IPv4-mapped 127.x).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        IpAddr::V4(v4) => v4.is_loopback(),
    }
}

/// A broker's address; refused unless every address it names is a loopback address, or
/// `allow_remote` (load only what you own).
pub fn resolve_broker(broker: &str, allow_remote: bool) -> Result<Broker, Error> {
    let addrs: Vec<SocketAddr> = broker
        .to_socket_addrs()
        .map_err(|e| Error::Usage(format!("--broker {broker}: {e} (write HOST:PORT, e.g. 127.0.0.1:1883)")))?
        .collect();
    let first = *addrs.first().ok_or_else(|| Error::Usage(format!("--broker {broker}: no address")))?;
    if let Some(a) = addrs.iter().find(|a| a.ip().is_unspecified()) {
        return Err(Error::Usage(format!(
            "--broker {broker}: {} is \"any address\", not one to connect to; write 127.0.0.1:{}",
            a.ip(),
            a.port()
        )));
    }
    if !allow_remote && !addrs.iter().all(|a| is_loopback(a.ip())) {
        return Err(Error::Usage(format!(
            "--broker {broker} is not a loopback address (127.0.0.0/8 or ::1); impsim live loads only a broker on \
             loopback, even one on this machine's own network address, unless you pass --allow-remote (load only \
             a broker you own)"
        )));
    }
    Ok(Broker { addr: first, name: broker.to_string() })
}

/// Refuse at once a broker that does not accept connections (before simulating anything).
pub fn reachable(b: &Broker) -> Result<(), Error> {
    std::net::TcpStream::connect_timeout(&b.addr, Duration::from_secs(3))
        .map(drop)
        .map_err(|e| Error::Broker(format!("--broker {}: cannot connect ({e}); is the broker running?", b.name)))
}

/// Refuse, with the numbers, a run this process cannot hold (open files, local ports, a local
/// broker's own open-file limit); the source addresses to use when none were given.
pub fn plan(p: &Params, opts: &DriveOptions) -> Result<Vec<IpAddr>, Error> {
    let limits = capacity::Limits::here();
    let n = opts.brokers.len();
    let (mut here, mut whole) = (vec![0u64; n], vec![0u64; n]);
    for c in 0..p.clients {
        let b = capacity::broker_of(&crate::model::protocol::mqtt5::wire::client_id(c, 0), n);
        whole[b] += 1;
        if opts.shard.has(c) {
            here[b] += 1;
        }
    }
    let sources = if !opts.sources.is_empty() {
        opts.sources.clone()
    } else if opts.brokers.iter().all(|b| is_loopback(b.addr.ip())) && opts.brokers.iter().all(|b| b.addr.is_ipv4()) {
        capacity::auto_sources(here.iter().copied().max().unwrap_or(0), limits, opts.shard.index)
    } else {
        Vec::new()
    };
    let demand = capacity::Demand {
        clients: here.iter().sum(),
        per_broker: here,
        sources: sources.len(),
        shards: opts.shard.count,
    };
    capacity::check(&demand, limits).map_err(Error::Refused)?;
    for (b, broker) in opts.brokers.iter().enumerate() {
        let Some(pid) = capacity::listener_pid(broker.addr) else { continue };
        let Some(files) = capacity::process_open_files(pid) else { continue };
        if whole[b] + capacity::SPARE_FILES > files {
            return Err(Error::Refused(format!(
                "broker {} (process {pid}) may hold at most {files} open files (its ulimit -n), and {} of the {} \
                 virtual clients go to it: start more brokers (--broker repeated, clients spread by Client \
                 Identifier), raise its limit, or run fewer clients",
                broker.name, whole[b], p.clients
            )));
        }
    }
    Ok(sources)
}

/// The simulation a live run is compared with: the same scenario and seed under MQTT 5 with
/// the broker's clock in compressed time (one broker second is K simulated seconds), measured
/// from the start (a live run has no warm-up to leave out), over the window the live run
/// drove (`driven` of real time; a run cut short by its time limit or a signal is compared
/// with the same stretch of simulated time).
pub fn comparison_params(p: &Params, scale: Scale, driven: Duration) -> Params {
    let mut s = p.clone();
    s.protocol = ProtocolName::Mqtt5;
    s.mqtt.clock = crate::model::params::Dur(scale.broker_second());
    s.warmup = crate::model::params::Dur(crate::engine::SimDuration::ZERO);
    s.duration = crate::model::params::Dur(scale.simulated(driven).min(p.duration.0));
    s
}

/// Check a scenario for a live run: what MQTT 5 can carry of it.
pub fn check_scenario(p: &Params, scale: Scale) -> Result<(), Error> {
    if p.client.logout_prob > 0.0 && !p.store.keep_on_logout {
        return Err(Error::Usage(
            "store.keep_on_logout = false: an MQTT 5 client's DISCONNECT keeps its session for its expiry \
             interval; set store.keep_on_logout = true (or client.logout_prob = 0) for a live run"
                .into(),
        ));
    }
    scale.check(p).map_err(|(field, why)| Error::Usage(format!("field `{field}`: {why}")))?;
    Ok(())
}

/// Drive the brokers, then simulate the same scenario over the same window: the simulation's
/// report, what the brokers did, and the two compared. A shard of a larger run
/// (`opts.shard.count > 1`) is not compared: `impsim merge` joins the shards and compares the
/// whole.
pub fn run(
    p: &Params,
    opts: DriveOptions,
    late_limit_ms: f64,
    stop: &'static AtomicBool,
    progress: &dyn Fn(&driver::Progress),
) -> Result<(Option<(Report, compare::Comparison)>, Measured), Error> {
    check_scenario(p, opts.scale)?;
    let scale = opts.scale;
    let sharded = opts.shard.count > 1;
    let measured = driver::drive(p, opts, stop, progress).map_err(Error::Host)?;
    if measured.timing.connack.is_empty() && measured.connects > 0 {
        let why = match (measured.failure_messages.first(), &measured.ending) {
            (Some(f), _) => f.clone(),
            (None, measured::Ending::Aborted(why)) => why.clone(),
            _ => format!(
                "{} connections opened, none answered in the {:.0} s the run lasted",
                measured.connects, measured.wall_seconds
            ),
        };
        return Err(Error::Broker(format!("the broker accepted no session: {why}")));
    }
    if sharded {
        return Ok((None, measured));
    }
    let driven = Duration::from_secs_f64(measured.wall_seconds.max(0.0));
    let (sim, ()) = crate::run::simulate(comparison_params(p, scale, driven), ());
    let comparison = compare::compare(&sim, &measured, late_limit_ms);
    Ok((Some((sim, comparison)), measured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_brokers_without_allow_remote() {
        assert!(resolve_broker("127.0.0.1:1883", false).is_ok());
        assert!(resolve_broker("127.0.0.7:1883", false).is_ok(), "all of 127/8 is loopback");
        assert!(resolve_broker("[::1]:1883", false).is_ok());
        assert!(resolve_broker("[::ffff:127.0.0.1]:1883", false).is_ok(), "IPv4-mapped loopback");
        let e = resolve_broker("0.0.0.0:1883", false).unwrap_err().to_string();
        assert!(e.contains("any address") && e.contains("127.0.0.1:1883"), "{e}");
        let e = resolve_broker("192.0.2.1:1883", false).unwrap_err().to_string();
        assert!(e.contains("not a loopback address") && e.contains("--allow-remote"), "{e}");
        assert!(resolve_broker("192.0.2.1:1883", true).is_ok());
        assert!(resolve_broker("nonsense", false).unwrap_err().to_string().contains("HOST:PORT"));
    }

    #[test]
    fn the_simulation_covers_the_window_the_live_run_drove() {
        let p = Params::default();
        let k = Scale::new(30).unwrap();
        let whole = comparison_params(&p, k, Duration::from_secs(1_000_000));
        assert_eq!(whole.duration, p.duration, "never past the scenario's end");
        let cut = comparison_params(&p, k, Duration::from_secs(120));
        assert_eq!(cut.duration.0, crate::engine::time::HOUR, "120 s at 30x is an hour");
        assert_eq!(cut.warmup.0, crate::engine::SimDuration::ZERO);
        assert_eq!(cut.mqtt.clock.0, 30 * crate::engine::time::SECOND);
    }
}
