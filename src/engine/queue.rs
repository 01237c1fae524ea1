//! The pending-event set.
//!
//! An event is a time and a 64-bit payload that only the model interprets. Events are
//! popped in (time, payload) order, so simultaneous events come out in an order fixed by
//! their payloads, never by insertion order or by anything outside the run. Cancellation
//! is lazy: the model stamps payloads with a generation and ignores stale ones when they
//! pop, so nothing is ever searched for or removed early. Entries are 16 bytes and the
//! heap reuses its storage, so steady-state scheduling allocates nothing.

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Default)]
pub struct EventQueue {
    heap: BinaryHeap<Reverse<u128>>,
}

impl EventQueue {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(n) }
    }

    #[inline]
    pub fn push(&mut self, time: SimTime, payload: u64) {
        self.heap.push(Reverse(((time as u128) << 64) | payload as u128));
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, u64)> {
        self.heap.pop().map(|Reverse(k)| ((k >> 64) as u64, k as u64))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
}
