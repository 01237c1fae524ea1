//! A compact 48-bit integer for the big per-entity arrays: times and identifiers that fit 48
//! bits, stored in 6 bytes instead of 8.

use super::time::{NEVER, SimTime};

/// A time (microseconds) or Session-ID kept in 48 bits, so a client record stays small:
/// 2^48 us is 8.9 years, beyond any run (`scenario` limits `duration`), so a time past the
/// run's end may be stored as "never" without changing what the run does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct U48([u16; 3]);

impl U48 {
    /// The largest value kept as itself.
    pub(crate) const MAX: u64 = (1 << 48) - 1;

    /// Values from 2^48 - 1 up (such as `NEVER`) are kept as 2^48 - 1 and read back as `NEVER`.
    #[inline]
    pub fn new(v: u64) -> U48 {
        let v = v.min(Self::MAX);
        U48([v as u16, (v >> 16) as u16, (v >> 32) as u16])
    }

    /// The value kept; the saturated 2^48 - 1 reads back as `NEVER`.
    #[inline]
    pub fn get(self) -> u64 {
        let v = self.0[0] as u64 | (self.0[1] as u64) << 16 | (self.0[2] as u64) << 32;
        if v == Self::MAX { NEVER.as_micros() } else { v }
    }
}

/// An instant kept in 48 bits (6 bytes): instants from 2^48 - 1 microseconds (8.9 years) on,
/// such as `NEVER`, are kept as "never".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Time48(U48);

impl Time48 {
    /// The start of the run.
    pub const ZERO: Time48 = Time48(U48([0; 3]));

    /// Keep `t` (saturating to "never").
    #[inline]
    pub fn new(t: SimTime) -> Time48 {
        Time48(U48::new(t.as_micros()))
    }

    /// The instant kept.
    #[inline]
    pub fn get(self) -> SimTime {
        SimTime::from_micros(self.0.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_48_bits_and_saturates_to_never() {
        for v in [0u64, 1, 0xffff, 0x1_0000, 0x1234_5678_9abc, U48::MAX - 1] {
            assert_eq!(U48::new(v).get(), v);
        }
        assert_eq!(U48::new(U48::MAX).get(), u64::MAX);
        assert_eq!(Time48::new(NEVER).get(), NEVER);
        assert_eq!(Time48::new(SimTime::from_micros(U48::MAX)).get(), NEVER);
        assert_eq!(Time48::new(SimTime::from_micros(42)).get(), SimTime::from_micros(42));
        assert_eq!(Time48::ZERO.get(), SimTime::ZERO);
        assert_eq!(std::mem::size_of::<Time48>(), 6);
        assert_eq!(U48::new(u64::MAX).get(), u64::MAX);
        assert_eq!(std::mem::size_of::<U48>(), 6);
    }
}
