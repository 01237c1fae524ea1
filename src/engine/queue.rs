//! The pending-event set: a two-level timing wheel.
//!
//! An event is a time and a payload below 2^48 that only the model interprets; events pop in
//! ascending (time, payload) order, so simultaneous events come out in an order fixed by their
//! payloads, never by insertion order.
//!
//! Most events here are timers seconds to hours ahead, and simulated time never runs backwards,
//! so a timing wheel fits: time is cut into slots of 2^16 us (65.5 ms), grouped in blocks of
//! `2^b0` slots. Level 0 holds the slots of the current block and the next one; an event is
//! appended to its slot unsorted, as one `u64` (its offset in the slot in the top 16 bits, the
//! payload below), so the set costs 8 bytes per event. When the wheel reaches a slot it sorts
//! it once and hands the events out in order; events pushed for the slot being handed out go
//! to a small heap merged with it. Level 1 is a coarser ring of 256 blocks; a block's events
//! move to level 0 once, when it becomes the next block; events beyond level 1 wait in an
//! overflow heap (rare: days ahead).
//!
//! Because the current slot is sorted, the next events are known in advance: `upcoming` lets
//! the model prefetch the state they will touch, which is what keeps millions of clients fast.
//!
//! Cancellation is lazy: the model stamps payloads with a generation and ignores stale ones
//! when they pop. Slots keep their storage, so steady-state scheduling allocates nothing.
//!
//! Why one file of this length: the wheel's levels, its chunk arena and the staging of pushes
//! share invariants (which slot holds which events, when a block cascades) that are read
//! together; about 110 lines are its tests against a binary heap.

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::marker::PhantomData;

/// A model's event as the queue stores it: packed into a payload below `PAYLOAD_LIMIT`.
/// Simultaneous events pop in ascending packed order, so the packing decides how ties are
/// broken: `unpack(pack(e)) == e`, and the bits that come first must say what comes first.
pub trait Packed: Copy {
    /// The event packed into a payload below 2^48 (`PAYLOAD_LIMIT`).
    fn pack(self) -> u64;
    /// The event that `pack` turned into `payload`.
    fn unpack(payload: u64) -> Self;
}

/// A bare payload (the queue's own tests and benchmarks).
impl Packed for u64 {
    #[inline]
    fn pack(self) -> u64 {
        self
    }
    #[inline]
    fn unpack(payload: u64) -> u64 {
        payload
    }
}

/// Payloads must be below this.
pub(crate) const PAYLOAD_LIMIT: u64 = 1 << PAYLOAD_BITS;
/// The width of a packed event.
pub(crate) const PAYLOAD_BITS: u32 = 48;
const SLOT_BITS: u32 = 64 - PAYLOAD_BITS;
const PAYLOAD_MASK: u64 = PAYLOAD_LIMIT - 1;
/// Level-1 slots (blocks); a power of two.
const L1: u64 = 256;

/// An event inside a known slot: offset in the slot, then payload; sorts like (time, payload).
#[inline]
fn entry(time: u64, payload: u64) -> u64 {
    debug_assert!(payload < PAYLOAD_LIMIT, "payload {payload:#x} beyond 48 bits");
    (time << PAYLOAD_BITS) | payload
}

/// Pushes filed together (see `file_staged`), from this many expected pending events up.
const STAGE: usize = 32;
const STAGE_FROM: usize = 1 << 16;
/// Bit `i` of a bit set kept in words.
#[inline]
fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] & (1 << (i % 64)) != 0
}

#[inline]
fn set_bit(words: &mut [u64], i: usize) {
    words[i / 64] |= 1 << (i % 64);
}

#[inline]
fn clear_bit(words: &mut [u64], i: usize) {
    words[i / 64] &= !(1 << (i % 64));
}

/// Slots of at most this many events are sorted whole; larger ones by buckets (see `load`).
const SMALL_SLOT: usize = 32;
/// The next slot's chain is walked over this many events, plus one per chunk, before the
/// current slot ends (see `walk_ahead`).
const WALK_MARGIN: usize = 32;

/// Entries per level-0 chunk: one cache line.
const CHUNK: usize = 8;
const NIL: u32 = u32::MAX;

/// Level-0 storage: slots are chains of 8-entry chunks from one shared arena, so memory follows
/// the events pending (plus at most one part-filled chunk per slot), not each slot's busiest day.
#[derive(Default)]
struct Chunks {
    data: Vec<u64>,
    /// Next chunk of the same slot, or of the free list.
    next: Vec<u32>,
    free: u32,
}

impl Chunks {
    #[inline]
    fn take(&mut self) -> u32 {
        if self.free != NIL {
            let c = self.free;
            self.free = self.next[c as usize];
            self.next[c as usize] = NIL;
            return c;
        }
        let c = self.next.len();
        if c == self.next.capacity() {
            // Grow by a quarter, not double: this is most of the queue's memory.
            let more = (c / 4).max(64);
            self.next.reserve_exact(more);
            self.data.reserve_exact(more * CHUNK);
        }
        self.next.push(NIL);
        self.data.resize((c + 1) * CHUNK, 0);
        c as u32
    }

    #[inline]
    fn give_back(&mut self, c: u32) {
        self.next[c as usize] = self.free;
        self.free = c;
    }

    /// Call `f` on the entries of each chunk of the chain of `n` entries starting at chunk `c`,
    /// giving each chunk back once read if `give_back` (the chain's last pass).
    #[inline]
    fn walk(&mut self, mut c: u32, n: usize, give_back: bool, mut f: impl FnMut(&[u64])) {
        let mut left = n;
        while left > 0 {
            let k = left.min(CHUNK);
            let at = c as usize * CHUNK;
            f(&self.data[at..at + k]);
            left -= k;
            let after = self.next[c as usize];
            if give_back {
                self.give_back(c);
            }
            c = after;
        }
    }
}

/// Sort a few entries in place (the buckets of `load` hold one or two on average).
#[inline]
fn insertion_sort(v: &mut [u64]) {
    for i in 1..v.len() {
        let e = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > e {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = e;
    }
}

/// A level-0 slot: its chain of chunks and how many events it holds.
#[derive(Clone, Copy)]
struct Slot {
    head: u32,
    tail: u32,
    len: u32,
}

const EMPTY: Slot = Slot { head: NIL, tail: NIL, len: 0 };

/// The pending events of a run, popped in ascending (time, payload) order; times in microseconds.
pub struct EventQueue<E: Packed = u64> {
    /// log2 of the slots per block.
    b0: u32,
    /// Level-0 positions minus one: two blocks' worth.
    mask0: u64,
    /// Level 0: the slots of the current and the next block (the block's parity picks the
    /// half); `occupied0` has a bit per non-empty slot.
    ring0: Vec<Slot>,
    chunks: Chunks,
    occupied0: Vec<u64>,
    /// Level 1: (time, payload) of events in the next blocks, by block; bit per non-empty.
    ring1: Vec<Vec<(u64, u64)>>,
    occupied1: [u64; (L1 / 64) as usize],
    /// Events at or beyond `cur1 + L1` blocks.
    overflow: BinaryHeap<Reverse<(u64, u64)>>,
    /// Slot being handed out (absolute slot number: time >> SLOT_BITS), and its block.
    cur0: u64,
    cur1: u64,
    /// The current slot, sorted, handed out from `next`.
    batch: Vec<u64>,
    next: usize,
    /// The next chunk of the following slot to load, and how many of its chunks are left to
    /// load (see `walk_ahead`).
    ahead: u32,
    ahead_left: u32,
    /// Bucket bounds of the counting sort in `load` (kept to reuse its storage).
    counts: Vec<u32>,
    /// Events pushed for the current slot while it is handed out.
    side: BinaryHeap<Reverse<u64>>,
    /// Events for later slots, not yet filed (see `file_staged`): only for large event sets,
    /// where the slots are not in cache; below that, staging (and `walk_ahead`) would only
    /// add work.
    staged: Vec<(u64, u64)>,
    stage: bool,
    len: usize,
    event: PhantomData<E>,
}

impl<E: Packed> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::with_capacity(0)
    }
}

impl<E: Packed> EventQueue<E> {
    /// `n`: the expected number of pending events; it sizes the level-0 ring (a block of
    /// 2^10..2^16 slots: about 4 events per slot, so empty slots are few and cheap to skip).
    pub(crate) fn with_capacity(n: usize) -> Self {
        let b0 = (n / 4).max(1).next_power_of_two().trailing_zeros().clamp(10, 16);
        EventQueue {
            b0,
            mask0: (2 << b0) - 1,
            ring0: vec![EMPTY; 2 << b0],
            chunks: Chunks { free: NIL, ..Default::default() },
            occupied0: vec![0; (2usize << b0) / 64],
            ring1: (0..L1).map(|_| Vec::new()).collect(),
            occupied1: [0; (L1 / 64) as usize],
            overflow: BinaryHeap::new(),
            cur0: 0,
            cur1: 0,
            batch: Vec::new(),
            next: 0,
            counts: Vec::new(),
            ahead: NIL,
            ahead_left: 0,
            side: BinaryHeap::new(),
            staged: Vec::with_capacity(STAGE),
            stage: n >= STAGE_FROM,
            len: 0,
            event: PhantomData,
        }
    }

    #[inline]
    fn block_of(&self, slot: u64) -> u64 {
        slot >> self.b0
    }

    /// Add event `e` at `time`.
    #[inline]
    pub(crate) fn push(&mut self, time: SimTime, e: E) {
        self.push_payload(time.as_micros(), e.pack());
    }

    #[inline]
    fn push_payload(&mut self, time: u64, payload: u64) {
        self.len += 1;
        let slot = time >> SLOT_BITS;
        if slot <= self.cur0 {
            // The slot being handed out (earlier cannot happen: time does not run backwards).
            debug_assert!(slot == self.cur0, "an event before the current slot");
            self.side.push(Reverse(entry(time, payload)));
            return;
        }
        if !self.stage {
            self.file(time, payload);
            return;
        }
        self.staged.push((time, payload));
        if self.staged.len() == STAGE {
            self.file_staged();
        }
    }

    /// File the staged events. With a million clients the slot an event goes to is rarely in
    /// cache; touching the slots of a whole group first (prefetch) lets those misses overlap.
    fn file_staged(&mut self) {
        let mut staged = std::mem::take(&mut self.staged);
        // Level-0 position of each staged event (NIL: it goes to level 1 or the overflow).
        let mut pos = [NIL; STAGE];
        for (k, &(t, _)) in staged.iter().enumerate() {
            if let Some(i) = self.level0(t) {
                pos[k] = i as u32;
                super::prefetch(&self.ring0[i]);
            }
        }
        for &i in pos.iter().take(staged.len()).filter(|&&i| i != NIL) {
            let s = self.ring0[i as usize];
            if !(s.len as usize).is_multiple_of(CHUNK) {
                super::prefetch(&self.chunks.data[s.tail as usize * CHUNK + s.len as usize % CHUNK]);
            }
        }
        for (k, &(t, p)) in staged.iter().enumerate() {
            match pos[k] {
                NIL => self.file(t, p),
                i => self.file0(i as usize, entry(t, p)),
            }
        }
        staged.clear();
        self.staged = staged;
    }

    /// The level-0 position of an event of a later slot than the current one, if level 0 holds
    /// its block (the current or the next).
    #[inline]
    fn level0(&self, time: u64) -> Option<usize> {
        let slot = time >> SLOT_BITS;
        (self.block_of(slot) - self.cur1 < 2).then_some((slot & self.mask0) as usize)
    }

    /// File an event of a later slot than the current one.
    #[inline(always)]
    fn file(&mut self, time: u64, payload: u64) {
        let block = self.block_of(time >> SLOT_BITS);
        if let Some(i) = self.level0(time) {
            self.file0(i, entry(time, payload));
        } else if block - self.cur1 < L1 {
            let i = (block % L1) as usize;
            self.ring1[i].push((time, payload));
            set_bit(&mut self.occupied1, i);
        } else {
            self.overflow.push(Reverse((time, payload)));
        }
    }

    #[inline]
    fn file0(&mut self, i: usize, e: u64) {
        let s = self.ring0[i];
        let at = s.len as usize % CHUNK;
        let tail = if at == 0 {
            let c = self.chunks.take();
            if s.len == 0 {
                self.ring0[i].head = c;
                set_bit(&mut self.occupied0, i);
            } else {
                self.chunks.next[s.tail as usize] = c;
            }
            self.ring0[i].tail = c;
            c
        } else {
            s.tail
        };
        self.chunks.data[tail as usize * CHUNK + at] = e;
        self.ring0[i].len += 1;
    }

    /// The earliest event (the least packed one among simultaneous events), removed.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_payload().map(|(t, p)| (SimTime::from_micros(t), E::unpack(p)))
    }

    #[inline(always)]
    fn pop_payload(&mut self) -> Option<(u64, u64)> {
        loop {
            let from_batch = self.batch.get(self.next).copied();
            let e = match (from_batch, self.side.peek()) {
                (Some(b), Some(&Reverse(s))) if s < b => self.side.pop().map(|r| r.0),
                (Some(b), _) => {
                    self.next += 1;
                    if self.ahead_left > 0 && self.next + self.ahead_left as usize + WALK_MARGIN >= self.batch.len() {
                        self.walk_ahead();
                    }
                    Some(b)
                }
                (None, Some(_)) => self.side.pop().map(|r| r.0),
                (None, None) => None,
            };
            if let Some(e) = e {
                self.len -= 1;
                let time = (self.cur0 << SLOT_BITS) | (e >> PAYLOAD_BITS);
                return Some((time, e & PAYLOAD_MASK));
            }
            if self.len == 0 || !self.advance() {
                return None;
            }
        }
    }

    /// The `k`-th event after the next one in the current slot (events pushed since
    /// the slot was sorted are not counted): what the model will handle soon.
    #[inline]
    pub(crate) fn upcoming(&self, k: usize) -> Option<E> {
        self.batch.get(self.next + k).map(|e| E::unpack(e & PAYLOAD_MASK))
    }

    /// One step along the chain of the next slot, loading its next chunk: the slot's chunks
    /// are scattered through the arena and each is found from the one before, so `load`
    /// would wait for them one by one. Walked one chunk per event over the last events of
    /// the current slot (late enough that they are still in cache), they arrive together.
    #[inline]
    fn walk_ahead(&mut self) {
        let c = self.ahead;
        super::prefetch(self.chunks.data.as_ptr().wrapping_add(c as usize * CHUNK));
        self.ahead_left -= 1;
        if self.ahead_left > 0 {
            self.ahead = self.chunks.next[c as usize];
            super::prefetch(self.chunks.next.as_ptr().wrapping_add(self.ahead as usize));
        }
    }

    /// The current slot is used up: move to the next non-empty slot and sort it into `batch`.
    /// False when nothing is pending.
    fn advance(&mut self) -> bool {
        self.file_staged();
        self.batch.clear();
        self.next = 0;
        let n = 1usize << self.b0;
        loop {
            // The next non-empty slot of the current block (its half of level 0).
            let half = (self.cur1 & 1) as usize * n;
            let from = if self.block_of(self.cur0) == self.cur1 { (self.cur0 as usize & (n - 1)) + 1 } else { 0 };
            if let Some(i) = self.next_occupied0(half + from, half + n) {
                self.cur0 = (self.cur1 << self.b0) | (i - half) as u64;
                self.load(i);
                self.ahead_left = 0;
                if self.stage
                    && let Some(j) = self.next_occupied0(i + 1, half + n)
                {
                    let s = self.ring0[j];
                    self.ahead = s.head;
                    self.ahead_left = (s.len as usize).div_ceil(CHUNK) as u32;
                }
                return true;
            }
            if !self.enter_next_block() {
                return false;
            }
        }
    }

    /// Sort level-0 position `i` into `batch`, giving its chunks back.
    ///
    /// A counting sort on the top bits of the offset (about one bucket per event) puts the
    /// slot in order up to ties within a bucket, which a short insertion sort (or, for a
    /// crowded bucket, a full sort) settles: two passes over the chunks instead of a copy and
    /// a comparison sort. The result is the slot in ascending (time, payload) order whatever
    /// the method, so the choice never shows in a run.
    #[inline(never)]
    fn load(&mut self, i: usize) {
        clear_bit(&mut self.occupied0, i);
        let s = std::mem::replace(&mut self.ring0[i], EMPTY);
        let n = s.len as usize;
        debug_assert!(self.batch.is_empty(), "advance empties the batch");
        if n <= SMALL_SLOT {
            // Few events (small populations): a plain sort is cheaper than the buckets.
            let batch = &mut self.batch;
            self.chunks.walk(s.head, n, true, |part| batch.extend_from_slice(part));
            batch.sort_unstable();
            return;
        }
        let bits = n.next_power_of_two().trailing_zeros().min(16);
        let shift = 64 - bits;
        let counts = &mut self.counts;
        counts.clear();
        counts.resize((1 << bits) + 1, 0);
        self.chunks.walk(s.head, n, false, |part| part.iter().for_each(|&e| counts[(e >> shift) as usize + 1] += 1));
        for b in 1..counts.len() {
            counts[b] += counts[b - 1];
        }
        // `counts[b]` is now where bucket b starts; it walks to where b ends as it fills.
        self.batch.resize(n, 0);
        let batch = &mut self.batch;
        self.chunks.walk(s.head, n, true, |part| {
            for &e in part {
                let at = &mut counts[(e >> shift) as usize];
                batch[*at as usize] = e;
                *at += 1;
            }
        });
        let mut start = 0;
        for &end in &counts[..1 << bits] {
            let bucket = &mut batch[start..end as usize];
            match bucket.len() {
                0 | 1 => {}
                2..=16 => insertion_sort(bucket),
                _ => bucket.sort_unstable(),
            }
            start = end as usize;
        }
    }

    /// The current block is done. Level 0 holds it and the next block; make the next block
    /// current and bring the one after it into level 0 (skipping blocks with no events).
    fn enter_next_block(&mut self) -> bool {
        let n = 1usize << self.b0;
        let next = self.cur1 + 1;
        let half = (next & 1) as usize * n;
        if self.next_occupied0(half, half + n).is_none() {
            // The next block is empty: jump to just before the first block with events.
            let Some(b) = self.next_block() else { return false };
            self.cur1 = b - 1;
            self.pull_overflow();
            self.cascade(b);
        }
        self.cur1 += 1;
        self.pull_overflow();
        self.cascade(self.cur1 + 1);
        // Just before the block's first slot, so the search starts at slot 0.
        self.cur0 = (self.cur1 << self.b0) - 1;
        true
    }

    /// Move level-1 block `b` (now within the two blocks of level 0) into level 0.
    fn cascade(&mut self, b: u64) {
        let j = (b % L1) as usize;
        if !bit(&self.occupied1, j) {
            return;
        }
        clear_bit(&mut self.occupied1, j);
        // Freed, not kept: this position is next used a ring revolution (256 blocks) later.
        for (t, p) in std::mem::take(&mut self.ring1[j]) {
            self.file(t, p);
        }
    }

    /// Overflow events that level 1 now reaches move there.
    fn pull_overflow(&mut self) {
        while let Some(&Reverse((t, _))) = self.overflow.peek() {
            if self.block_of(t >> SLOT_BITS) - self.cur1 >= L1 {
                break;
            }
            let Reverse((t, p)) = self.overflow.pop().expect("peeked");
            self.file(t, p);
        }
    }

    /// First occupied level-0 position in [from, to).
    fn next_occupied0(&self, from: usize, to: usize) -> Option<usize> {
        if from >= to {
            return None;
        }
        let mut w = from / 64;
        let mut bits = self.occupied0[w] & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                return (i < to).then_some(i);
            }
            w += 1;
            if w * 64 >= to {
                return None;
            }
            bits = self.occupied0[w];
        }
    }

    /// The first block beyond level 0 holding events (level 1, else the overflow).
    fn next_block(&self) -> Option<u64> {
        for d in 2..L1 {
            if bit(&self.occupied1, ((self.cur1 + d) % L1) as usize) {
                return Some(self.cur1 + d);
            }
        }
        self.overflow.peek().map(|Reverse((t, _))| self.block_of(t >> SLOT_BITS))
    }

    /// Number of pending events (stale timers included: they are dropped only when they pop).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests think in raw microseconds.
    impl EventQueue<u64> {
        fn push_us(&mut self, t: u64, p: u64) {
            self.push(SimTime::from_micros(t), p);
        }
        fn pop_us(&mut self) -> Option<(u64, u64)> {
            self.pop().map(|(t, p)| (t.as_micros(), p))
        }
    }

    #[test]
    fn pops_in_time_then_payload_order_whatever_the_insertion_order() {
        let items = [(5u64, 9u64), (1, 3), (5, 2), (0, 7), (5, 4), (1, 1)];
        let mut a = EventQueue::default();
        let mut b = EventQueue::default();
        for &(t, p) in &items {
            a.push_us(t, p);
        }
        for &(t, p) in items.iter().rev() {
            b.push_us(t, p);
        }
        let out_a: Vec<_> = std::iter::from_fn(|| a.pop_us()).collect();
        let out_b: Vec<_> = std::iter::from_fn(|| b.pop_us()).collect();
        assert_eq!(out_a, vec![(0, 7), (1, 1), (1, 3), (5, 2), (5, 4), (5, 9)]);
        assert_eq!(out_a, out_b);
    }

    #[test]
    fn handles_extreme_times_and_payloads() {
        let mut q = EventQueue::default();
        q.push_us(u64::MAX, PAYLOAD_LIMIT - 1);
        q.push_us(1 << 40, 3);
        q.push_us(0, 0);
        assert_eq!(q.pop_us(), Some((0, 0)));
        assert_eq!(q.pop_us(), Some((1 << 40, 3)));
        assert_eq!(q.pop_us(), Some((u64::MAX, PAYLOAD_LIMIT - 1)));
        assert_eq!(q.pop_us(), None);
        assert!(q.is_empty());
    }

    /// Interleaved pops and pushes at or after the current time, including pushes for the
    /// current instant that sort before the event being handled, at every distance from
    /// the same slot to beyond level 1; `upcoming` must name the events that follow.
    fn matches_a_binary_heap(capacity: usize, spread: [u64; 4]) {
        let key = crate::engine::RngKey::from_seed(9);
        let mut q = EventQueue::with_capacity(capacity);
        let mut reference = BinaryHeap::new();
        let mut n = 0u64;
        let mut draw = |m: u64| {
            n += 1;
            key.draw(0, 0, n) % m
        };
        for _ in 0..1000 {
            let (t, p) = (draw(spread[3]), draw(1 << 40));
            q.push_us(t, p);
            reference.push(Reverse((t, p)));
        }
        let mut popped = 0;
        let mut expect_next = None;
        while let Some(got) = q.pop_us() {
            let Reverse(want) = reference.pop().unwrap();
            assert_eq!(got, want);
            if let Some(p) = expect_next.take() {
                assert_eq!(got.1, p, "upcoming(0) named the next event");
            }
            popped += 1;
            if popped < 50_000 {
                for _ in 0..draw(3) {
                    let t = got.0 + [0, 1, draw(spread[0]), draw(spread[1]), draw(spread[2])][draw(5) as usize];
                    let p = draw(1 << 40);
                    q.push_us(t, p);
                    reference.push(Reverse((t, p)));
                }
            } else {
                // No pushes from here on: what `upcoming` names comes next.
                expect_next = q.upcoming(0).filter(|_| q.side.is_empty());
            }
        }
        assert!(reference.is_empty());
        assert!(popped > 50_000);
    }

    /// Crowded slots: thousands of events in one slot, many at the same instant, others
    /// spread over the slot; every bucket size of the slot sort (empty, small, crowded).
    #[test]
    fn sorts_crowded_slots_exactly() {
        let key = crate::engine::RngKey::from_seed(3);
        for (k, n) in [1u64, 2, 17, 100, 5_000, 70_000].into_iter().enumerate() {
            let mut q = EventQueue::with_capacity(1 << 20);
            let mut want = Vec::new();
            let base = (k as u64 + 1) << 16; // a later slot than the current one
            for j in 0..n {
                let r = key.draw(k as u32, 0, j);
                let t = base + if r.is_multiple_of(3) { 7 } else { (r >> 8) % 65_536 };
                let p = (r >> 24) % 1_000;
                q.push_us(t, p);
                want.push((t, p));
            }
            want.sort_unstable();
            let got: Vec<_> = std::iter::from_fn(|| q.pop_us()).collect();
            assert_eq!(got, want, "{n} events in one slot");
        }
    }

    #[test]
    fn matches_a_binary_heap_under_a_simulation_like_load() {
        matches_a_binary_heap(0, [70_000, 5_000_000, 3_600_000_000, 1_000_000]);
    }

    #[test]
    fn matches_a_binary_heap_across_blocks_and_the_overflow() {
        // A small ring (2^10 slots = 67 s per block, 4.8 h in level 1) and timers of days.
        matches_a_binary_heap(0, [65_536 * 3, 100_000_000, 30 * 86_400_000_000, 86_400_000_000]);
        matches_a_binary_heap(1 << 20, [1_000, 65_536 * 1024 * 300, 1 << 50, 1 << 45]);
    }
}
