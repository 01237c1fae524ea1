//! The events of the IMPS world and their one encoding into the engine's payloads.

use crate::engine::queue::{PAYLOAD_BITS, Packed};

/// What can happen, in the order simultaneous events are handled (the order is part of the
/// model). The warm-up ends before anything else at its instant (which is measured); retention
/// expiry and auto-logout come before client events, so a request arriving exactly at a
/// deadline finds it passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    WarmupEnd = 0,
    /// A timeseries row is due.
    Sample = 1,
    /// The SAP restarts (entity: the restart's index in the scenario).
    Restart = 2,
    /// A retained context's period may be over (entity: its store index).
    Expiry = 3,
    /// A session's auto-logout check (S10) (entity: the client; generation: the session epoch).
    AutoLogout = 4,
    /// The SAP disconnects a session (S8) (entity: the client; generation: the session epoch).
    Disconnect = 5,
    /// The client's one pending timer (entity: the client; generation: the timer's).
    Client = 6,
}

/// An event: its kind, the client slot or store index it concerns, and the generation (timer
/// or session epoch) it was set in, which makes a superseded event recognisable when it pops.
/// A struct rather than an enum with fields: unpacking is three shifts and no match (an enum
/// cost 10 more instructions per event, 1.4%).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Event {
    pub(crate) kind: Kind,
    pub(crate) entity: u32,
    pub(crate) generation: u16,
}

impl Event {
    pub(crate) const WARMUP_END: Event = Event { kind: Kind::WarmupEnd, entity: 0, generation: 0 };
    pub(crate) const SAMPLE: Event = Event { kind: Kind::Sample, entity: 0, generation: 0 };
    #[inline]
    pub(crate) fn restart(i: u32) -> Event {
        Event { kind: Kind::Restart, entity: i, generation: 0 }
    }
    #[inline]
    pub(crate) fn expiry(store_idx: u32) -> Event {
        Event { kind: Kind::Expiry, entity: store_idx, generation: 0 }
    }
    #[inline]
    pub(crate) fn auto_logout(client: u32, epoch: u16) -> Event {
        Event { kind: Kind::AutoLogout, entity: client, generation: epoch }
    }
    #[inline]
    pub(crate) fn disconnect(client: u32, epoch: u16) -> Event {
        Event { kind: Kind::Disconnect, entity: client, generation: epoch }
    }
    #[inline]
    pub(crate) fn client(client: u32, timer: u16) -> Event {
        Event { kind: Kind::Client, entity: client, generation: timer }
    }
}

/// Packing: kind (3 bits), then a client slot or store index (29 bits: hence the limit on
/// clients), then 16 bits of a timer generation or session epoch. A stale timer is mistaken
/// for the current one only if its client rescheduled a multiple of 65,536 times meanwhile.
const KIND_SHIFT: u32 = PAYLOAD_BITS - 3;
const ENTITY_SHIFT: u32 = 16;
const ENTITY_BITS: u32 = KIND_SHIFT - ENTITY_SHIFT;

/// At most this many clients (and retained contexts at once): a slot must fit its field.
pub const MAX_CLIENTS: u32 = 1 << ENTITY_BITS;

/// How many events ahead the client record is prefetched: far enough to hide a memory
/// access (~100 ns) behind the events handled meanwhile.
pub(super) const PREFETCH_DISTANCE: usize = 12;

impl Event {
    /// The client slot whose record handling this event will touch, if any.
    #[inline]
    pub(super) fn touches_client(self) -> Option<u32> {
        (self.kind as u8 >= Kind::AutoLogout as u8).then_some(self.entity)
    }
}

impl Packed for Event {
    #[inline(always)]
    fn pack(self) -> u64 {
        debug_assert!(self.entity < MAX_CLIENTS);
        ((self.kind as u64) << KIND_SHIFT) | ((self.entity as u64) << ENTITY_SHIFT) | self.generation as u64
    }

    #[inline(always)]
    fn unpack(payload: u64) -> Event {
        let kind = match payload >> KIND_SHIFT {
            0 => Kind::WarmupEnd,
            1 => Kind::Sample,
            2 => Kind::Restart,
            3 => Kind::Expiry,
            4 => Kind::AutoLogout,
            5 => Kind::Disconnect,
            _ => Kind::Client,
        };
        Event { kind, entity: (payload >> ENTITY_SHIFT) as u32 & (MAX_CLIENTS - 1), generation: payload as u16 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips_and_packs_in_the_order_simultaneous_events_are_handled() {
        let top = MAX_CLIENTS - 1;
        let order = [
            Event::WARMUP_END,
            Event::SAMPLE,
            Event::restart(0),
            Event::restart(top),
            Event::expiry(0),
            Event::expiry(top),
            Event::auto_logout(0, 0),
            Event::auto_logout(0, u16::MAX),
            Event::auto_logout(top, 1),
            Event::disconnect(0, 7),
            Event::disconnect(top, u16::MAX),
            Event::client(0, 0),
            Event::client(1, 0),
            Event::client(top, u16::MAX),
        ];
        for w in order.windows(2) {
            assert!(w[0].pack() < w[1].pack(), "{:?} must come before {:?}", w[0], w[1]);
        }
        for e in order {
            assert!(e.pack() < crate::engine::queue::PAYLOAD_LIMIT);
            assert_eq!(Event::unpack(e.pack()), e);
        }
        assert_eq!(MAX_CLIENTS, 1 << 29);
    }

    /// The prefetch hint names the client record an event will touch, and only such records.
    #[test]
    fn only_a_clients_events_name_a_record_to_prefetch() {
        assert_eq!(Event::client(7, 3).touches_client(), Some(7));
        assert_eq!(Event::auto_logout(9, 1).touches_client(), Some(9));
        assert_eq!(Event::disconnect(11, 2).touches_client(), Some(11));
        for e in [Event::WARMUP_END, Event::SAMPLE, Event::restart(7), Event::expiry(7)] {
            assert_eq!(e.touches_client(), None, "{e:?}");
        }
    }
}
