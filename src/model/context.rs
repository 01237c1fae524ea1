//! The ContextStore: session contexts the SAP keeps after their session ended (S11, S16),
//! with the retention policy (expiry, caps with oldest-first eviction, replacement).
//!
//! Entries live in a slab; a doubly linked list threads them in the order they were
//! retained, so the oldest is at the head (eviction) and any entry can leave in O(1)
//! (recovery, replacement, expiry).

use crate::engine::time::SimTime;

pub(crate) const NONE: u32 = u32::MAX;

/// Why a context is no longer available for recovery; each maps to a 502 reason (S20).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Gone {
    /// Nothing recorded for the Session-ID.
    Unknown = 0,
    /// The retention period ran out.
    Expired,
    /// Dropped to respect a cap on retained contexts or bytes.
    Evicted,
    /// Retention is 0 (or the context was not kept after a logout): never stored.
    NotStored,
    /// The client comes back under another Client-ID (S17).
    ClientChanged,
    /// Lost when the SAP restarted.
    Restart,
    /// Dropped because the user set up another session (S16).
    Replaced,
}

impl Gone {
    /// The last variant's code plus one: the arrays counted per reason.
    pub(crate) const COUNT: usize = Gone::Replaced as usize + 1;
}

#[derive(Clone, Debug)]
pub(crate) struct Retained {
    pub(crate) session_id: u64,
    pub(crate) expires_at: SimTime,
    /// Client slot and its Client-ID generation at the time the session ended.
    pub(crate) client: u32,
    pub(crate) identity: u32,
    pub(crate) bytes: u32,
    prev: u32,
    next: u32,
    in_use: bool,
}

#[derive(Default)]
pub(crate) struct ContextStore {
    slab: Vec<Retained>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    count: u64,
    bytes: u64,
    pub(crate) max_count: u64,
    pub(crate) max_bytes: u64,
}

impl ContextStore {
    pub fn new(max_count: u64, max_bytes: u64) -> Self {
        ContextStore { head: NONE, tail: NONE, max_count, max_bytes, ..Default::default() }
    }

    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn get(&self, idx: u32) -> Option<&Retained> {
        self.slab.get(idx as usize).filter(|e| e.in_use)
    }

    /// True if the caps leave room for `bytes` more once the oldest entries are evicted.
    pub(crate) fn fits_at_all(&self, bytes: u32) -> bool {
        self.max_bytes == 0 || bytes as u64 <= self.max_bytes
    }

    /// The oldest entry that must go so that one more of `bytes` fits, if any.
    pub(crate) fn eviction_victim(&self, bytes: u32) -> Option<u32> {
        if self.head == NONE {
            return None;
        }
        let over_count = self.max_count != 0 && self.count + 1 > self.max_count;
        let over_bytes = self.max_bytes != 0 && self.bytes + bytes as u64 > self.max_bytes;
        (over_count || over_bytes).then_some(self.head)
    }

    /// Insert at the tail (newest). The caller has evicted what the caps require.
    pub(crate) fn insert(&mut self, e: (u64, SimTime, u32, u32, u32)) -> u32 {
        let (session_id, expires_at, client, identity, bytes) = e;
        let entry =
            Retained { session_id, expires_at, client, identity, bytes, prev: self.tail, next: NONE, in_use: true };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = entry;
                i
            }
            None => {
                self.slab.push(entry);
                (self.slab.len() - 1) as u32
            }
        };
        if self.tail != NONE {
            self.slab[self.tail as usize].next = idx;
        } else {
            self.head = idx;
        }
        self.tail = idx;
        self.count += 1;
        self.bytes += bytes as u64;
        idx
    }

    /// Remove an entry and return it.
    pub(crate) fn remove(&mut self, idx: u32) -> Retained {
        let e = self.slab[idx as usize].clone();
        debug_assert!(e.in_use);
        if e.prev != NONE {
            self.slab[e.prev as usize].next = e.next;
        } else {
            self.head = e.next;
        }
        if e.next != NONE {
            self.slab[e.next as usize].prev = e.prev;
        } else {
            self.tail = e.prev;
        }
        self.slab[idx as usize].in_use = false;
        self.free.push(idx);
        self.count -= 1;
        self.bytes -= e.bytes as u64;
        e
    }

    /// Indices of all entries, oldest first.
    pub(crate) fn indices(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.count as usize);
        let mut i = self.head;
        while i != NONE {
            out.push(i);
            i = self.slab[i as usize].next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instant `us` microseconds after the start.
    fn t(us: u64) -> SimTime {
        SimTime::from_micros(us)
    }

    #[test]
    fn keeps_retention_order_and_totals_through_removals() {
        let mut s = ContextStore::new(0, 0);
        let a = s.insert((1, t(10), 0, 0, 100));
        let b = s.insert((2, t(11), 1, 0, 200));
        let c = s.insert((3, t(12), 2, 0, 300));
        assert_eq!((s.count(), s.bytes()), (3, 600));
        assert_eq!(s.remove(b).session_id, 2);
        assert_eq!(s.indices(), vec![a, c]);
        let d = s.insert((4, t(13), 3, 0, 50));
        assert_eq!(d, b, "slots are reused");
        assert_eq!(s.indices(), vec![a, c, d]);
        s.remove(a);
        s.remove(d);
        assert_eq!(s.indices(), vec![c]);
        assert_eq!((s.count(), s.bytes()), (1, 300));
    }

    #[test]
    fn caps_name_the_oldest_as_victim() {
        let mut s = ContextStore::new(2, 0);
        let a = s.insert((1, t(10), 0, 0, 100));
        assert_eq!(s.eviction_victim(100), None);
        s.insert((2, t(10), 0, 0, 100));
        assert_eq!(s.eviction_victim(100), Some(a));
        let mut s = ContextStore::new(0, 250);
        let a = s.insert((1, t(10), 0, 0, 100));
        s.insert((2, t(10), 0, 0, 100));
        assert_eq!(s.eviction_victim(40), None);
        assert_eq!(s.eviction_victim(60), Some(a));
        assert!(!s.fits_at_all(300));
    }

    #[test]
    fn a_context_exactly_at_the_byte_cap_fits_and_one_byte_more_does_not() {
        let mut s = ContextStore::new(0, 250);
        assert!(s.fits_at_all(250));
        assert!(!s.fits_at_all(251), "larger than the cap: never stored, whatever is evicted");
        let a = s.insert((1, t(10), 0, 0, 100));
        s.insert((2, t(10), 0, 0, 100));
        assert_eq!(s.eviction_victim(50), None, "200 + 50 is exactly the cap");
        assert_eq!(s.eviction_victim(51), Some(a));
        // No caps: anything fits and nothing is ever evicted.
        let mut s = ContextStore::new(0, 0);
        assert!(s.fits_at_all(u32::MAX));
        for i in 0..100 {
            s.insert((i, t(10), 0, 0, u32::MAX));
        }
        assert_eq!(s.eviction_victim(u32::MAX), None);
    }

    #[test]
    fn each_fate_round_trips_through_its_code() {
        let all = [
            Gone::Unknown,
            Gone::Expired,
            Gone::Evicted,
            Gone::NotStored,
            Gone::ClientChanged,
            Gone::Restart,
            Gone::Replaced,
        ];
        assert_eq!(all.len(), Gone::COUNT);
        for (i, g) in all.into_iter().enumerate() {
            assert_eq!(g as usize, i, "codes are dense: each indexes the per-reason arrays");
        }
    }
}
