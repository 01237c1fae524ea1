//! The pending-event set: a radix heap.
//!
//! An event is a time and a 64-bit payload that only the model interprets; events pop in
//! ascending (time, payload) order, so simultaneous events come out in an order fixed by their
//! payloads, never by insertion order. Simulated time never runs backwards, which is what a
//! radix heap needs: a key is filed in the bucket of the highest bit in which it differs from
//! the last key popped, so a push is an append, and a bucket is only sorted out (into lower
//! buckets) when the earliest events are in it. Most events here are timers minutes or hours
//! ahead; they wait in a few large buckets and move a handful of times, in sequential memory,
//! instead of sifting through a binary heap on every push and pop.
//!
//! Cancellation is lazy: the model stamps payloads with a generation and ignores stale ones
//! when they pop. Buckets keep their storage, so steady-state scheduling allocates nothing.

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

type Key = u128;

#[inline]
fn key(time: SimTime, payload: u64) -> Key {
    ((time as u128) << 64) | payload as u128
}

#[inline]
fn split(k: Key) -> (SimTime, u64) {
    ((k >> 64) as u64, k as u64)
}

pub struct EventQueue {
    /// Bucket 0 holds the events at `last_time`, sorted descending (the next is at the end);
    /// bucket i (1..=64) holds events whose time differs from `last_time` first in bit i-1.
    buckets: Vec<Vec<Key>>,
    /// Bit i set when bucket i is not empty.
    occupied: u128,
    last_time: SimTime,
    /// The last key popped: a later push below it belongs in `early`.
    last_key: Key,
    len: usize,
    /// Keys below the last one popped (an event for the current instant whose payload sorts
    /// before the one being handled): rare, kept apart; they are the smallest keys of all.
    early: BinaryHeap<Reverse<Key>>,
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue {
            buckets: (0..=64).map(|_| Vec::new()).collect(),
            occupied: 0,
            last_time: 0,
            last_key: 0,
            len: 0,
            early: BinaryHeap::new(),
        }
    }
}

#[inline]
fn bucket_of(t: SimTime, last: SimTime) -> usize {
    (64 - (t ^ last).leading_zeros()) as usize
}

impl EventQueue {
    pub fn with_capacity(_n: usize) -> Self {
        EventQueue::default()
    }

    #[inline]
    pub fn push(&mut self, time: SimTime, payload: u64) {
        let k = key(time, payload);
        self.len += 1;
        if k < self.last_key {
            self.early.push(Reverse(k));
            return;
        }
        let b = bucket_of(time, self.last_time);
        if b == 0 {
            // Same instant as the events being handled: keep bucket 0 sorted, next at the end.
            let v = &mut self.buckets[0];
            let at = v.partition_point(|&x| x > k);
            v.insert(at, k);
        } else {
            self.buckets[b].push(k);
        }
        self.occupied |= 1 << b;
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, u64)> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        if let Some(Reverse(k)) = self.early.pop() {
            return Some(split(k));
        }
        if self.occupied & 1 == 0 {
            self.refill();
        }
        let v = &mut self.buckets[0];
        let k = v.pop().expect("refill leaves the next events in bucket 0");
        if v.is_empty() {
            self.occupied &= !1;
        }
        self.last_key = k;
        Some(split(k))
    }

    /// Move the earliest events into bucket 0: the first non-empty bucket holds them; its
    /// smallest time becomes `last_time` and the rest of it is refiled into lower buckets.
    fn refill(&mut self) {
        let i = self.occupied.trailing_zeros() as usize;
        let mut b = std::mem::take(&mut self.buckets[i]);
        self.occupied &= !(1 << i);
        let min = b.iter().map(|&k| (k >> 64) as u64).min().expect("occupied bucket");
        self.last_time = min;
        for &k in &b {
            let j = bucket_of((k >> 64) as u64, min);
            self.buckets[j].push(k);
            self.occupied |= 1 << j;
        }
        b.clear();
        self.buckets[i] = b; // keep its storage
        self.buckets[0].sort_unstable_by(|a, b| b.cmp(a));
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_payload_order_whatever_the_insertion_order() {
        let items = [(5u64, 9u64), (1, 3), (5, 2), (0, 7), (5, 4), (1, 1)];
        let mut a = EventQueue::default();
        let mut b = EventQueue::default();
        for &(t, p) in &items {
            a.push(t, p);
        }
        for &(t, p) in items.iter().rev() {
            b.push(t, p);
        }
        let out_a: Vec<_> = std::iter::from_fn(|| a.pop()).collect();
        let out_b: Vec<_> = std::iter::from_fn(|| b.pop()).collect();
        assert_eq!(out_a, vec![(0, 7), (1, 1), (1, 3), (5, 2), (5, 4), (5, 9)]);
        assert_eq!(out_a, out_b);
    }

    #[test]
    fn handles_extreme_times() {
        let mut q = EventQueue::default();
        q.push(u64::MAX, u64::MAX);
        q.push(0, 0);
        assert_eq!(q.pop(), Some((0, 0)));
        assert_eq!(q.pop(), Some((u64::MAX, u64::MAX)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn matches_a_binary_heap_under_a_simulation_like_load() {
        // Interleaved pops and pushes at or after the current time, including pushes for the
        // current instant that sort before the event being handled.
        let key = crate::engine::RngKey::from_seed(9);
        let mut q = EventQueue::default();
        let mut reference = BinaryHeap::new();
        let mut n = 0u64;
        let mut draw = |m: u64| {
            n += 1;
            key.draw(0, 0, n) % m
        };
        for _ in 0..1000 {
            let (t, p) = (draw(1_000_000), draw(1 << 40));
            q.push(t, p);
            reference.push(Reverse((t, p)));
        }
        let mut popped = 0;
        while let Some(got) = q.pop() {
            let Reverse(want) = reference.pop().unwrap();
            assert_eq!(got, want);
            popped += 1;
            if popped < 50_000 {
                for _ in 0..draw(3) {
                    let t = got.0 + [0, 1, draw(5_000_000)][draw(3) as usize];
                    let p = draw(1 << 40);
                    q.push(t, p);
                    reference.push(Reverse((t, p)));
                }
            }
        }
        assert!(reference.is_empty());
        assert!(popped > 50_000);
    }
}
