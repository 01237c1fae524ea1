//! One virtual client's TCP connection to a broker: opening it (paced, from a chosen loopback
//! source address, under a deadline), the MQTT exchanges that wait for an answer (CONNECT and
//! CONNACK, SUBSCRIBE and SUBACK), and what became of a connection left silent. Every wait for
//! the broker has a deadline: a broker that stops answering is a broker failure, never a hang.

use super::codec::{Incoming, Outgoing, decode, encode};
use super::driver::Shared;
use crate::model::protocol::mqtt5::wire;
use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{sleep_until, timeout_at};

/// Why an exchange with the broker did not happen.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Failed {
    /// The run ended (its end, the time limit, a signal) while waiting.
    Over,
    /// The broker refused, reset, closed or did not answer within the deadline.
    Broker(String),
    /// This machine could not open the connection (no local port, no file descriptor): the
    /// load generator's own limit, not the broker's.
    Driver(String),
}

/// One TCP connection to broker `broker` and what has been read from it.
pub(super) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The broker's index in the run's list.
    pub(super) broker: usize,
}

impl Conn {
    pub(super) async fn send(&mut self, s: &Shared, p: &Outgoing<'_>) -> std::io::Result<()> {
        let mut b = Vec::with_capacity(64);
        encode(p, &mut b);
        {
            let mut m = s.m.borrow_mut();
            m.packets += 1;
            m.bytes += b.len() as u64;
        }
        self.stream.write_all(&b).await
    }
    /// The next packet; `None` when the broker closed the connection.
    pub(super) async fn next(&mut self) -> std::io::Result<Option<Incoming>> {
        loop {
            match decode(&self.buf) {
                Ok(Some((p, n))) => {
                    self.buf.drain(..n);
                    return Ok(Some(p));
                }
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Ok(None);
            }
        }
    }
    /// The next packet, or a broker failure when none comes by `deadline`.
    pub(super) async fn answer(&mut self, s: &Shared, deadline: Instant, what: &str) -> Result<Incoming, Failed> {
        let addr = s.run.opts.brokers[self.broker].addr;
        match timeout_at(deadline.min(s.run.end).into(), self.next()).await {
            Ok(Ok(Some(p))) => Ok(p),
            Ok(Ok(None)) => Err(Failed::Broker(format!("{addr} closed the connection while {what}"))),
            Ok(Err(e)) => Err(Failed::Broker(format!("{addr}: {e} while {what}"))),
            Err(_) if deadline >= s.run.end => Err(Failed::Over),
            Err(_) => Err(Failed::Broker(format!(
                "{addr} did not answer within {:.0} s while {what}",
                s.run.opts.deadline.as_secs_f64()
            ))),
        }
    }
}

/// Wall-clock seconds since the epoch at `t`, as the broker's clock reads them.
pub(super) fn epoch_seconds(t: Instant) -> f64 {
    let now_wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    let now = Instant::now();
    if t <= now { now_wall - (now - t).as_secs_f64() } else { now_wall + (t - now).as_secs_f64() }
}

/// A TCP connection to `addr`, from `source` when given. The port is chosen at connect time
/// (IP_BIND_ADDRESS_NO_PORT), so each (source, broker) pair has the whole ephemeral range.
async fn dial(addr: SocketAddr, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(ip) = source {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let one: libc::c_int = 1;
            // SAFETY: setsockopt reads `one` (an int, of the length given) and nothing else.
            unsafe {
                libc::setsockopt(
                    socket.as_raw_fd(),
                    libc::IPPROTO_IP,
                    libc::IP_BIND_ADDRESS_NO_PORT,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// An error opening a socket: this machine's limit (ports, descriptors) or the broker's.
fn dial_error(addr: SocketAddr, source: Option<IpAddr>, e: &std::io::Error) -> Failed {
    use std::io::ErrorKind::*;
    let from = source.map_or(String::new(), |ip| format!(" from {ip}"));
    match e.kind() {
        AddrNotAvailable | AddrInUse => {
            Failed::Driver(format!("no local port left to reach {addr}{from} ({e}): add --source-addrs or shard"))
        }
        _ if e.raw_os_error() == Some(24) || e.raw_os_error() == Some(23) => {
            Failed::Driver(format!("out of file descriptors ({e}): fewer clients per process, or shard"))
        }
        _ => Failed::Broker(format!("{addr}: cannot connect{from}: {e}")),
    }
}

/// Open a connection to broker `broker` and CONNECT; returns the connection, Session Present
/// and the CONNECT-to-CONNACK time. Paced: at most `connect_rate` new connections a second and
/// `max_inflight` waiting for CONNACK, across every thread of the run. `due` is when the client
/// meant to connect: how late the CONNECT went out (pacing included) is the driver's lateness.
pub(super) async fn open(
    s: &Shared,
    broker: usize,
    source: Option<IpAddr>,
    client_id: &str,
    connect: (bool, u16, u32),
    due: Option<Instant>,
) -> Result<(Conn, bool, Duration), Failed> {
    let (clean_start, keep_alive, session_expiry) = connect;
    let run = &s.run;
    let slot = run.pace();
    if slot >= run.end {
        return Err(Failed::Over);
    }
    sleep_until(slot.into()).await;
    let _permit = tokio::select! {
        p = run.inflight.acquire() => p.map_err(|e| Failed::Driver(e.to_string()))?,
        _ = sleep_until(run.end.into()) => return Err(Failed::Over),
    };
    let started = Instant::now();
    if let Some(due) = due {
        s.late(due, started);
    }
    let addr = run.opts.brokers[broker].addr;
    s.m.borrow_mut().connects += 1;
    let deadline = started + run.opts.deadline;
    let stream = match timeout_at(deadline.min(run.end).into(), dial(addr, source)).await {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return Err(dial_error(addr, source, &e)),
        Err(_) if deadline >= run.end => return Err(Failed::Over),
        Err(_) => return Err(Failed::Broker(format!("{addr} did not accept a connection within the deadline"))),
    };
    let mut c = Conn { stream, buf: Vec::with_capacity(256), broker };
    c.send(s, &Outgoing::Connect { client_id, clean_start, keep_alive, session_expiry })
        .await
        .map_err(|e| Failed::Broker(format!("{addr}: {e} sending CONNECT")))?;
    loop {
        match c.answer(s, deadline, "waiting for CONNACK").await? {
            Incoming::ConnAck { session_present, reason: 0, .. } => {
                let took = started.elapsed();
                s.m.borrow_mut().timing.connack.record(took.as_micros() as u64);
                return Ok((c, session_present, took));
            }
            Incoming::ConnAck { reason, .. } => {
                return Err(Failed::Broker(format!("{addr} refused the connection: CONNACK reason {reason:#x}")));
            }
            _ => continue,
        }
    }
}

/// Subscribe to `n` topics of client `c`, one SUBSCRIBE each, each awaited (the rebuild).
pub(super) async fn subscribe_all(s: &Shared, conn: &mut Conn, c: u32, n: u32) -> Result<(), Failed> {
    for i in 0..n {
        let topic = wire::topic(c, i);
        conn.send(s, &Outgoing::Subscribe { packet_id: (i % 65_535 + 1) as u16, topic: &topic })
            .await
            .map_err(|e| Failed::Broker(format!("{e} sending SUBSCRIBE")))?;
        let deadline = Instant::now() + s.run.opts.deadline;
        while !matches!(conn.answer(s, deadline, "waiting for SUBACK").await?, Incoming::SubAck { .. }) {}
    }
    Ok(())
}

/// What became of a connection left open and silent (a transport break, a device power
/// cycle, a walk-away).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Held {
    /// Still open.
    Open,
    /// The broker closed it at this wall time: its keep-alive timeout, or a takeover by the
    /// client's next connection (Mosquitto 2.0 closes the old socket without a DISCONNECT).
    Closed(f64),
    /// The broker said a new connection took the session over (DISCONNECT 0x8E).
    TakenOver,
}

/// A silent connection and what the driver knows of it (wall-clock seconds).
#[derive(Debug)]
pub(super) struct HeldConn {
    pub(super) state: Held,
    /// When its client last sent on it: the broker's keep-alive timer counts from there.
    pub(super) last_send: f64,
    /// When the client connected again with the same Client Identifier.
    pub(super) replaced_at: Option<f64>,
    /// When the client connected again under another Client Identifier, leaving this one
    /// live until the broker's keep-alive closes it.
    pub(super) orphaned_at: Option<f64>,
    /// The Client-ID generation it belongs to.
    pub(super) identity: u32,
    /// The broker it was connected to.
    pub(super) broker: usize,
    /// Ended by the client's DISCONNECT (a logout), not left silent.
    pub(super) logout: bool,
}

/// A record of a connection about to go silent, kept with the run's others.
pub(super) fn silent_record(s: &Shared, last_send: Instant, identity: u32, broker: usize) -> Rc<RefCell<HeldConn>> {
    let rec = Rc::new(RefCell::new(HeldConn {
        state: Held::Open,
        last_send: epoch_seconds(last_send),
        replaced_at: None,
        orphaned_at: None,
        identity,
        broker,
        logout: false,
    }));
    s.holds.borrow_mut().push(rec.clone());
    rec
}

/// Read a silent connection until `until`: Some(conn) if it is still open then, None if the
/// broker ended it (recorded in `rec`).
pub(super) async fn stay_silent(s: &Shared, mut conn: Conn, rec: &RefCell<HeldConn>, until: Instant) -> Option<Conn> {
    loop {
        tokio::select! {
            r = conn.next() => match r {
                Ok(Some(Incoming::Disconnect { reason: 0x8E })) => {
                    rec.borrow_mut().state = Held::TakenOver;
                    return None;
                }
                Ok(Some(_)) => continue,
                _ => {
                    rec.borrow_mut().state = Held::Closed(epoch_seconds(Instant::now()));
                    return None;
                }
            },
            _ = sleep_until(until.min(s.run.end).into()) => return Some(conn),
        }
    }
}

/// Keep `conn` open and silent for the rest of the run, reading only to see how the broker
/// ends it (into `rec`).
pub(super) fn hold_silent(s: &Rc<Shared>, conn: Conn, rec: Rc<RefCell<HeldConn>>) {
    let s = s.clone();
    tokio::task::spawn_local(async move {
        let end = s.run.end;
        let _ = stay_silent(&s, conn, &rec, end).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lack_of_ports_or_descriptors_is_the_drivers_limit_and_the_rest_the_brokers() {
        let addr: SocketAddr = "127.0.0.1:1883".parse().unwrap();
        let src = Some("127.0.0.2".parse().unwrap());
        let e = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
        assert!(matches!(dial_error(addr, src, &e), Failed::Driver(m) if m.contains("127.0.0.2")));
        let e = std::io::Error::from_raw_os_error(24);
        assert!(matches!(dial_error(addr, None, &e), Failed::Driver(m) if m.contains("descriptors")));
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(dial_error(addr, None, &e), Failed::Broker(m) if m.contains("127.0.0.1:1883")));
    }

    #[test]
    fn epoch_seconds_reads_the_wall_clock_before_and_after_now() {
        let now = Instant::now();
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert!((epoch_seconds(now) - wall).abs() < 0.05);
        assert!((epoch_seconds(now + Duration::from_secs(5)) - wall - 5.0).abs() < 0.05);
        assert!((epoch_seconds(now - Duration::from_millis(1)) - wall + 0.001).abs() < 0.05);
    }
}
