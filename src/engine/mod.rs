//! The discrete-event engine: simulated time, the pending-event queue and the random streams.
//! It knows nothing of IMPS; the model in `crate::model` gives meaning to event payloads.

pub mod math;
pub mod memory;
pub mod queue;
pub mod rng;
pub mod time;
pub mod u48;

pub use queue::EventQueue;
pub use rng::RngKey;
pub use time::{SimDuration, SimTime, format_duration, parse_duration, parse_size};
pub use u48::{Time48, U48};

/// Ask the CPU to start loading the cache line at `r` (any address: a prefetch never faults): the model calls it for the state the
/// next events will touch, so their cache misses overlap instead of queueing one by one.
#[inline(always)]
pub(crate) fn prefetch<T>(r: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults and has no effect on program state.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(r as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// Start loading element `i` of `items` (every cache line of it, for records up to three
/// lines); nothing if `i` is out of range. The model's prefetch hint for the state an
/// upcoming event will touch.
#[inline(always)]
pub(crate) fn prefetch_element<T>(items: &[T], i: usize) {
    if let Some(item) = items.get(i) {
        let at = item as *const T as *const u8;
        let size = std::mem::size_of::<T>().max(1);
        for off in [0, 64.min(size - 1), size - 1] {
            prefetch(at.wrapping_add(off));
        }
    }
}
