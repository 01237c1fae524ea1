//! `impsim live`: the same virtual clients as a simulation, driving a real MQTT 5 broker in
//! real time compressed by a factor K, and the model checked against what the broker did.
//! At the edge: it opens sockets and reads the clock; the model knows nothing of it.

pub mod calibrate;
pub mod client;
pub mod codec;
pub mod compare;
pub mod driver;
pub mod report;
pub mod scale;

use crate::Error;
use crate::model::Params;
use crate::model::protocol::ProtocolName;
use crate::run::Report;
use driver::{DriveOptions, Measured};
use scale::Scale;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::AtomicBool;

/// The broker's address; refused unless every address it names is this machine's, or
/// `allow_remote` (load only what you own).
pub fn resolve_broker(broker: &str, allow_remote: bool) -> Result<SocketAddr, Error> {
    let addrs: Vec<SocketAddr> = broker
        .to_socket_addrs()
        .map_err(|e| Error::Usage(format!("--broker {broker}: {e} (write HOST:PORT, e.g. 127.0.0.1:1883)")))?
        .collect();
    let first = *addrs.first().ok_or_else(|| Error::Usage(format!("--broker {broker}: no address")))?;
    if !allow_remote && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(Error::Usage(format!(
            "--broker {broker} is not on this machine; impsim live loads only a loopback broker unless you pass \
             --allow-remote (load only a broker you own)"
        )));
    }
    Ok(first)
}

/// Refuse at once a broker that does not accept connections (before simulating anything).
pub fn reachable(addr: SocketAddr) -> Result<(), Error> {
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3))
        .map(drop)
        .map_err(|e| Error::Host(format!("--broker {addr}: cannot connect ({e}); is the broker running?")))
}

/// The simulation a live run is compared with: the same scenario and seed under MQTT 5 with
/// the broker's clock in compressed time (one broker second is K simulated seconds), measured
/// from the start (a live run has no warm-up to leave out).
pub fn comparison_params(p: &Params, scale: Scale) -> Params {
    let mut s = p.clone();
    s.protocol = ProtocolName::Mqtt5;
    s.mqtt.clock = crate::model::params::Dur(scale.broker_second());
    s.warmup = crate::model::params::Dur(crate::engine::SimDuration::ZERO);
    s
}

/// Simulate, then drive the broker: the simulation's report, what the broker did, and the two
/// compared.
pub fn run(
    p: &Params,
    opts: DriveOptions,
    stop: &'static AtomicBool,
    progress: &dyn Fn(&driver::Progress),
) -> Result<(Report, Measured, Vec<compare::Row>), Error> {
    if p.client.logout_prob > 0.0 && !p.store.keep_on_logout {
        return Err(Error::Usage(
            "store.keep_on_logout = false: an MQTT 5 client's DISCONNECT keeps its session for its expiry \
             interval; set store.keep_on_logout = true (or client.logout_prob = 0) for a live run"
                .into(),
        ));
    }
    let scale = opts.scale;
    scale.check(p).map_err(|(field, why)| Error::Usage(format!("field `{field}`: {why}")))?;
    let (sim, ()) = crate::run::simulate(comparison_params(p, scale), ());
    let measured = driver::drive(p, opts, stop, progress).map_err(Error::Host)?;
    if measured.connack_us.is_empty() {
        let why = measured.errors.first().cloned().unwrap_or_else(|| "no connection succeeded".into());
        return Err(Error::Host(format!("the broker accepted no session: {why}")));
    }
    let rows = compare::compare(&sim, &measured, scale);
    Ok((sim, measured, rows))
}
