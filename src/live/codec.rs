//! The MQTT 5 packets a virtual client exchanges with a broker (OASIS MQTT 5.0, chapter 3):
//! encoded exactly as the simulation counts them (`model::protocol::mqtt5::wire`), decoded
//! from whatever a broker sends. Pure functions over bytes: no socket, no clock.

use std::fmt;

/// A packet a client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing<'a> {
    /// Open (or take over) a session.
    Connect {
        /// The Client Identifier.
        client_id: &'a str,
        /// Clean Start: discard any session of this identifier.
        clean_start: bool,
        /// Keep Alive, seconds (0: none).
        keep_alive: u16,
        /// Session Expiry Interval, seconds (0: none kept; `u32::MAX`: never expires).
        session_expiry: u32,
    },
    /// Subscribe to one topic filter at QoS 0.
    Subscribe {
        /// The packet identifier (non-zero).
        packet_id: u16,
        /// The topic filter.
        topic: &'a str,
    },
    /// Publish at QoS 0.
    Publish {
        /// The topic name.
        topic: &'a str,
        /// The application payload.
        payload: &'a [u8],
    },
    /// "I am still here".
    PingReq,
    /// A normal disconnect (the session is kept for its expiry interval).
    Disconnect,
}

/// A packet a client receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// The answer to CONNECT.
    ConnAck {
        /// Session Present: the broker resumed the session of this Client Identifier.
        session_present: bool,
        /// 0 is success; 0x80 and up refuse the connection.
        reason: u8,
        /// Server Keep Alive, when the broker overrides the client's.
        server_keep_alive: Option<u16>,
    },
    /// The answer to SUBSCRIBE.
    SubAck {
        /// The SUBSCRIBE's packet identifier.
        packet_id: u16,
        /// One reason code per topic filter (0..2: granted QoS; 0x80 and up: refused).
        reasons: Vec<u8>,
    },
    /// A message (the broker's `$SYS` figures, or another client's publication).
    Publish {
        /// The topic name.
        topic: String,
        /// The payload.
        payload: Vec<u8>,
        /// RETAIN: a stored message sent because of a new subscription, possibly stale (a
        /// `$SYS` figure from before this run), not a fresh one.
        retained: bool,
    },
    /// The answer to PINGREQ.
    PingResp,
    /// The broker ends the connection (e.g. 0x8E: another connection took the session over).
    Disconnect {
        /// The reason code (0 when absent).
        reason: u8,
    },
    /// Any other packet type, skipped whole.
    Other {
        /// The packet type (the fixed header's high nibble).
        kind: u8,
    },
}

/// Bytes that cannot be an MQTT 5 packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "malformed MQTT packet: {}", self.0)
    }
}

impl std::error::Error for Malformed {}

/// The largest packet accepted from a broker (a `$SYS` message is a few bytes).
pub const MAX_INCOMING: usize = 1 << 20;

const CONNECT: u8 = 1;
const CONNACK: u8 = 2;
const PUBLISH: u8 = 3;
const SUBSCRIBE: u8 = 8;
const SUBACK: u8 = 9;
const PINGREQ: u8 = 12;
const PINGRESP: u8 = 13;
const DISCONNECT: u8 = 14;

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let mut b = (v % 128) as u8;
        v /= 128;
        if v > 0 {
            b |= 0x80;
        }
        out.push(b);
        if v == 0 {
            break;
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Append the encoding of `p` to `out`.
pub fn encode(p: &Outgoing, out: &mut Vec<u8>) {
    let mut body = Vec::with_capacity(64);
    let first = match *p {
        Outgoing::Connect { client_id, clean_start, keep_alive, session_expiry } => {
            put_str(&mut body, "MQTT");
            body.push(5);
            body.push(if clean_start { 0x02 } else { 0 });
            body.extend_from_slice(&keep_alive.to_be_bytes());
            // Properties: Session Expiry Interval (0x11), always sent so sizes never vary.
            body.push(5);
            body.push(0x11);
            body.extend_from_slice(&session_expiry.to_be_bytes());
            put_str(&mut body, client_id);
            CONNECT << 4
        }
        Outgoing::Subscribe { packet_id, topic } => {
            body.extend_from_slice(&packet_id.to_be_bytes());
            body.push(0); // no properties
            put_str(&mut body, topic);
            body.push(0); // QoS 0, no options
            SUBSCRIBE << 4 | 0b0010
        }
        Outgoing::Publish { topic, payload } => {
            put_str(&mut body, topic);
            body.push(0); // no properties
            body.extend_from_slice(payload);
            PUBLISH << 4
        }
        Outgoing::PingReq => PINGREQ << 4,
        Outgoing::Disconnect => DISCONNECT << 4,
    };
    out.push(first);
    put_varint(out, body.len());
    out.extend_from_slice(&body);
}

/// The encoding of `p`.
pub fn encoded(p: &Outgoing) -> Vec<u8> {
    let mut v = Vec::new();
    encode(p, &mut v);
    v
}

/// A cursor over a packet's body.
struct Body<'a> {
    b: &'a [u8],
}

impl<'a> Body<'a> {
    fn u8(&mut self) -> Result<u8, Malformed> {
        let (&x, rest) = self.b.split_first().ok_or(Malformed("truncated"))?;
        self.b = rest;
        Ok(x)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.b.len() < n {
            return Err(Malformed("truncated"));
        }
        let (x, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(x)
    }
    fn u16(&mut self) -> Result<u16, Malformed> {
        let x = self.take(2)?;
        Ok(u16::from_be_bytes([x[0], x[1]]))
    }
    fn varint(&mut self) -> Result<usize, Malformed> {
        let mut v = 0usize;
        for i in 0..4 {
            let b = self.u8()?;
            v |= ((b & 0x7f) as usize) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Malformed("variable byte integer longer than 4 bytes"))
    }
    fn string(&mut self) -> Result<String, Malformed> {
        let n = self.u16()? as usize;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| Malformed("a string is not UTF-8"))
    }
    /// The properties block: Server Keep Alive if present, the rest skipped by their types.
    fn properties(&mut self) -> Result<Option<u16>, Malformed> {
        let n = self.varint()?;
        let mut p = Body { b: self.take(n)? };
        let mut keep_alive = None;
        while !p.b.is_empty() {
            match p.varint()? {
                0x13 => keep_alive = Some(p.u16()?),
                // Byte properties.
                0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => {
                    p.u8()?;
                }
                // Two-byte integers.
                0x21..=0x23 => {
                    p.u16()?;
                }
                // Four-byte integers.
                0x02 | 0x11 | 0x18 | 0x27 => {
                    p.take(4)?;
                }
                0x0B => {
                    p.varint()?;
                }
                // Strings and binary data.
                0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C | 0x1F => {
                    let len = p.u16()? as usize;
                    p.take(len)?;
                }
                0x26 => {
                    for _ in 0..2 {
                        let len = p.u16()? as usize;
                        p.take(len)?;
                    }
                }
                _ => return Err(Malformed("unknown property")),
            }
        }
        Ok(keep_alive)
    }
}

/// Decode the first packet of `buf`: `Ok(None)` while it is incomplete, else the packet and
/// the bytes it took.
pub fn decode(buf: &[u8]) -> Result<Option<(Incoming, usize)>, Malformed> {
    let Some(&first) = buf.first() else { return Ok(None) };
    let mut len = 0usize;
    let mut header = 1;
    loop {
        let Some(&b) = buf.get(header) else { return Ok(None) };
        len |= ((b & 0x7f) as usize) << (7 * (header - 1));
        header += 1;
        if b & 0x80 == 0 {
            break;
        }
        if header > 4 {
            return Err(Malformed("remaining length longer than 4 bytes"));
        }
    }
    if len > MAX_INCOMING {
        return Err(Malformed("packet larger than 1 MiB"));
    }
    if buf.len() < header + len {
        return Ok(None);
    }
    let mut b = Body { b: &buf[header..header + len] };
    let packet = match first >> 4 {
        CONNACK => {
            let flags = b.u8()?;
            let reason = b.u8()?;
            let server_keep_alive = if b.b.is_empty() { None } else { b.properties()? };
            Incoming::ConnAck { session_present: flags & 1 == 1, reason, server_keep_alive }
        }
        SUBACK => {
            let packet_id = b.u16()?;
            b.properties()?;
            Incoming::SubAck { packet_id, reasons: b.b.to_vec() }
        }
        PUBLISH => {
            let topic = b.string()?;
            if (first >> 1) & 3 > 0 {
                b.u16()?; // packet identifier of QoS 1 and 2
            }
            b.properties()?;
            Incoming::Publish { topic, payload: b.b.to_vec(), retained: first & 1 == 1 }
        }
        PINGRESP => Incoming::PingResp,
        DISCONNECT => Incoming::Disconnect { reason: if b.b.is_empty() { 0 } else { b.u8()? } },
        kind => Incoming::Other { kind },
    };
    Ok(Some((packet, header + len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::protocol::mqtt5::wire;

    fn connect(clean_start: bool) -> Vec<u8> {
        encoded(&Outgoing::Connect {
            client_id: &wire::client_id(42, 1),
            clean_start,
            keep_alive: 60,
            session_expiry: 300,
        })
    }

    /// Byte for byte as MQTT 5.0 section 3.1 lays a CONNECT out.
    #[test]
    fn connect_is_laid_out_as_the_standard_says() {
        let b = connect(false);
        assert_eq!(b[0], 0x10);
        assert_eq!(b[1] as usize, b.len() - 2, "remaining length");
        assert_eq!(&b[2..9], &[0, 4, b'M', b'Q', b'T', b'T', 5]);
        assert_eq!(b[9], 0, "Clean Start = 0: resume the session");
        assert_eq!(&b[10..12], &60u16.to_be_bytes());
        assert_eq!(&b[12..18], &[5, 0x11, 0, 0, 1, 44], "Session Expiry Interval 300");
        assert_eq!(&b[18..20], &(wire::CLIENT_ID_LEN as u16).to_be_bytes());
        assert_eq!(&b[20..], wire::client_id(42, 1).as_bytes());
        assert_eq!(connect(true)[9], 0x02, "Clean Start = 1");
    }

    /// The simulation bills exactly what the driver sends.
    #[test]
    fn encoded_sizes_are_the_simulations() {
        assert_eq!(connect(false).len() as u32, wire::CONNECT);
        let sub = encoded(&Outgoing::Subscribe { packet_id: 7, topic: &wire::topic(42, 3) });
        assert_eq!(sub.len() as u32, wire::SUBSCRIBE);
        assert_eq!(sub[0], 0x82, "SUBSCRIBE's reserved flags are 0010");
        let payload = [0u8; wire::PAYLOAD_LEN as usize];
        let publish = encoded(&Outgoing::Publish { topic: &wire::topic(42, 0), payload: &payload });
        assert_eq!(publish.len() as u32, wire::PUBLISH);
        assert_eq!(encoded(&Outgoing::PingReq), [0xC0, 0]);
        assert_eq!(encoded(&Outgoing::PingReq).len() as u32, wire::PINGREQ);
        assert_eq!(encoded(&Outgoing::Disconnect), [0xE0, 0]);
        assert_eq!(encoded(&Outgoing::Disconnect).len() as u32, wire::DISCONNECT);
    }

    #[test]
    fn broker_packets_decode_with_what_the_driver_needs() {
        // CONNACK, Session Present, success, properties: Receive Maximum, Server Keep Alive 30,
        // Assigned Client Identifier "ab", a user property ("k", "v").
        let props = [0x21, 0, 20, 0x13, 0, 30, 0x12, 0, 2, b'a', b'b', 0x26, 0, 1, b'k', 0, 1, b'v'];
        let mut connack = vec![0x20, 0, 1, 0, props.len() as u8];
        connack.extend_from_slice(&props);
        connack[1] = (connack.len() - 2) as u8;
        let (p, n) = decode(&connack).unwrap().unwrap();
        assert_eq!(n, connack.len());
        assert_eq!(p, Incoming::ConnAck { session_present: true, reason: 0, server_keep_alive: Some(30) });
        // A minimal CONNACK (no properties at all) and a refusal.
        assert_eq!(
            decode(&[0x20, 2, 0, 0x87]).unwrap().unwrap().0,
            Incoming::ConnAck { session_present: false, reason: 0x87, server_keep_alive: None }
        );
        assert_eq!(
            decode(&[0x90, 4, 0, 7, 0, 0]).unwrap().unwrap().0,
            Incoming::SubAck { packet_id: 7, reasons: vec![0] }
        );
        assert_eq!(decode(&[0xD0, 0]).unwrap().unwrap().0, Incoming::PingResp);
        assert_eq!(decode(&[0xE0, 0]).unwrap().unwrap().0, Incoming::Disconnect { reason: 0 });
        assert_eq!(decode(&[0xE0, 2, 0x8E, 0]).unwrap().unwrap().0, Incoming::Disconnect { reason: 0x8E });
        // A $SYS message at QoS 0, then one at QoS 1 (with a packet identifier).
        let mut publish = vec![0x30, 0];
        publish.extend_from_slice(&[0, 3, b'$', b'S', b'Y', 0, b'4', b'2']);
        publish[1] = (publish.len() - 2) as u8;
        let want = Incoming::Publish { topic: "$SY".into(), payload: b"42".to_vec(), retained: false };
        assert_eq!(decode(&publish).unwrap().unwrap().0, want);
        let qos1 = [0x32, 9, 0, 3, b'$', b'S', b'Y', 0, 1, 0, b'7'];
        assert_eq!(
            decode(&qos1).unwrap().unwrap().0,
            Incoming::Publish { topic: "$SY".into(), payload: b"7".to_vec(), retained: false }
        );
        // A retained message delivered on subscribing: RETAIN set in the fixed header.
        let mut stored = publish.clone();
        stored[0] |= 1;
        assert_eq!(
            decode(&stored).unwrap().unwrap().0,
            Incoming::Publish { topic: "$SY".into(), payload: b"42".to_vec(), retained: true }
        );
        assert_eq!(decode(&[0xB0, 2, 0, 1]).unwrap().unwrap(), (Incoming::Other { kind: 11 }, 4));
    }

    #[test]
    fn partial_packets_wait_and_several_packets_split() {
        let two = [0xD0, 0, 0x20, 3, 1, 0, 0];
        for cut in 0..2 {
            assert_eq!(decode(&two[..cut]).unwrap(), None, "{cut} bytes");
        }
        let (p, n) = decode(&two).unwrap().unwrap();
        assert_eq!((p, n), (Incoming::PingResp, 2));
        for cut in 2..two.len() {
            assert_eq!(decode(&two[2..cut]).unwrap(), None, "{cut} bytes");
        }
        let (p, _) = decode(&two[2..]).unwrap().unwrap();
        assert_eq!(p, Incoming::ConnAck { session_present: true, reason: 0, server_keep_alive: None });
    }

    #[test]
    fn long_lengths_use_more_length_bytes() {
        for len in [0usize, 127, 128, 16_383, 16_384, 300_000] {
            let payload = vec![7u8; len];
            let b = encoded(&Outgoing::Publish { topic: "t", payload: &payload });
            let body = 2 + 1 + 1 + len;
            let length_bytes = match body {
                0..=127 => 1,
                128..=16_383 => 2,
                _ => 3,
            };
            assert_eq!(b.len(), 1 + length_bytes + body, "{len}");
            let mut c = Body { b: &b[1..] };
            assert_eq!(c.varint().unwrap(), body);
        }
    }

    #[test]
    fn malformed_input_is_refused_not_trusted() {
        assert_eq!(decode(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 1]), Err(Malformed("remaining length longer than 4 bytes")));
        assert_eq!(decode(&[0x30, 0xFF, 0xFF, 0x7F]), Err(Malformed("packet larger than 1 MiB")));
        assert_eq!(decode(&[0x20, 1, 0]), Err(Malformed("truncated")), "a CONNACK without its reason code");
        assert!(decode(&[0x20, 4, 0, 0, 1, 0x7F]).is_err(), "an unknown property");
        assert!(decode(&[0x30, 4, 0, 2, 0xC3, 0x28]).is_err(), "a topic that is not UTF-8");
        assert!(decode(&[0x20, 5, 0, 0, 9, 0x13, 0]).is_err(), "properties longer than the packet");
    }
}
