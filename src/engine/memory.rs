//! Memory for per-entity arrays that are read at random: millions of client records.
//!
//! At a million clients every event touches a different page, so with 4 KiB pages nearly every
//! access also misses the TLB. Asking the kernel for 2 MiB pages (transparent huge pages, where
//! the machine allows them: `madvise` mode) before the array is first written keeps the whole
//! array within the TLB's reach. Purely a speed hint: results do not depend on it.

/// An empty vector with room for `capacity` items, its storage advised to use huge pages.
pub(crate) fn huge_vec<T>(capacity: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(capacity);
    advise_huge(v.as_ptr() as usize, capacity * std::mem::size_of::<T>());
    v
}

/// Advise huge pages for the whole pages inside [addr, addr + len).
pub(crate) fn advise_huge(addr: usize, len: usize) {
    const PAGE: usize = 4096;
    let start = addr.next_multiple_of(PAGE);
    let end = (addr + len) & !(PAGE - 1);
    // Below a huge page nothing is gained.
    if end <= start || end - start < 2 << 20 {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: madvise with MADV_HUGEPAGE only changes how the kernel backs these pages, which
    // belong to an allocation we own; a failure (THP unavailable) is harmless and ignored.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}
