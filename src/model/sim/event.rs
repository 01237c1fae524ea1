//! The events of the IMPS world and their packing into the engine's 48-bit payloads.

// Event kinds, in the order simultaneous events are handled. The warm-up ends before anything
// else at its instant (which is measured); retention expiry and auto-logout come before client
// events, so a request arriving exactly at a deadline finds it passed.
pub(super) const K_WARMUP_END: u64 = 0;
pub(super) const K_SAMPLE: u64 = 1;
pub(super) const K_RESTART: u64 = 2;
pub(super) const K_EXPIRY: u64 = 3;
pub(super) const K_AUTO_LOGOUT: u64 = 4;
pub(super) const K_DISCONNECT: u64 = 5;
pub(super) const K_CLIENT: u64 = 6;
/// Event payloads (48 bits, see `EventQueue`): kind (3 bits), then a client slot or store
/// index (29 bits: hence the limit on clients), then 16 bits of a timer generation or session
/// epoch. A stale timer is mistaken for the current one only if its client rescheduled a
/// multiple of 65,536 times while it waited.
pub const MAX_CLIENTS: u32 = 1 << 29;
/// How many events ahead the client record is prefetched: far enough to hide a memory
/// access (~100 ns) behind the events handled meanwhile.
pub(super) const PREFETCH_DISTANCE: usize = 12;

#[inline]
pub(super) fn event(kind: u64, a: u32, b: u16) -> u64 {
    debug_assert!(a < MAX_CLIENTS);
    (kind << 45) | ((a as u64) << 16) | b as u64
}

/// The (kind, entity, generation) an `event` payload packs.
#[inline]
pub(super) fn decode(payload: u64) -> (u64, u32, u16) {
    (payload >> 45, (payload >> 16) as u32 & (MAX_CLIENTS - 1), payload as u16)
}
