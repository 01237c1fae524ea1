//! Random streams derived from (master seed, entity, purpose).
//!
//! Every draw is a pure function `f(key, entity, purpose, n)` where `n` counts the draws of
//! that stream so far. The generator is Philox4x32-10 (Salmon et al., "Parallel random numbers:
//! as easy as 1, 2, 3", SC'11), a counter-based generator: a stream needs no state beyond its
//! draw counter (4 bytes per purpose per client), and adding a client or a purpose never
//! changes the draws of another. The 64-bit Philox key is taken from a ChaCha20 generator
//! seeded with the master seed, so nearby seeds give unrelated keys.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// The run-wide key every stream is derived from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngKey([u32; 2]);

impl RngKey {
    /// The key derived from a master seed (a scenario's `seed`, or an experiment's for its run seeds).
    pub fn from_seed(seed: u64) -> Self {
        let mut chacha = ChaCha20Rng::seed_from_u64(seed);
        let k = chacha.next_u64();
        RngKey([k as u32, (k >> 32) as u32])
    }

    /// The `n`-th 64-bit draw of stream (entity, purpose).
    #[inline]
    pub(crate) fn draw(&self, entity: u32, purpose: u32, n: u64) -> u64 {
        let out = philox4x32_10([n as u32, (n >> 32) as u32, entity, purpose], self.0);
        (out[0] as u64) | ((out[1] as u64) << 32)
    }

    /// The `n`-th draw of stream (entity, purpose) as a uniform in the open interval (0, 1).
    #[inline]
    pub fn uniform(&self, entity: u32, purpose: u32, n: u64) -> f64 {
        to_open01(self.draw(entity, purpose, n))
    }
}

/// 52 random bits mapped to the centres of 2^52 equal cells of (0, 1): never exactly 0 or 1,
/// so logarithms stay finite.
#[inline]
pub(crate) fn to_open01(x: u64) -> f64 {
    ((x >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

#[inline]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox4x32-10 as the paper writes it: the reference the SIMD version is tested against,
/// and the generator on targets without SSE2.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn philox4x32_10_scalar(mut c: [u32; 4], mut k: [u32; 2]) -> [u32; 4] {
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn philox4x32_10(c: [u32; 4], k: [u32; 2]) -> [u32; 4] {
    philox4x32_10_scalar(c, k)
}

/// The same rounds on SSE2 (every x86-64 has it): one instruction makes both 32x32->64
/// products of a round and the word shuffle is one more, about half the instructions of the
/// scalar rounds for the same bits (integer arithmetic: nothing to round differently).
/// Inlined into every draw: called out of line, its words would go through memory.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn philox4x32_10(c: [u32; 4], k: [u32; 2]) -> [u32; 4] {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist; the
    // only memory touched is `out`, a local array of exactly 16 bytes.
    unsafe {
        // Lanes are written high to low: [M0, 0, M1, 0] in lanes 0..4.
        let m = _mm_set_epi32(0, M1 as i32, 0, M0 as i32);
        let w = _mm_set_epi32(0, W1 as i32, 0, W0 as i32);
        let odd = _mm_set_epi32(0, -1, 0, -1);
        let mut key = _mm_set_epi32(0, k[1] as i32, 0, k[0] as i32);
        let mut x = _mm_set_epi32(c[3] as i32, c[2] as i32, c[1] as i32, c[0] as i32);
        for round in 0..10 {
            if round > 0 {
                key = _mm_add_epi32(key, w);
            }
            // [lo0, hi0, lo1, hi1]: c0 * M0 and c2 * M1.
            let p = _mm_mul_epu32(x, m);
            // [hi1, lo1, hi0, lo0] ^ [c1 ^ k0, 0, c3 ^ k1, 0]
            let p = _mm_shuffle_epi32::<0b00_01_10_11>(p);
            let c13 = _mm_and_si128(_mm_shuffle_epi32::<0b11_11_01_01>(x), odd);
            x = _mm_xor_si128(p, _mm_xor_si128(c13, key));
        }
        let mut out = [0u32; 4];
        _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, x);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generator in use (SSE2 on x86-64) gives the scalar reference's bits for any
    /// counter and key.
    #[test]
    fn philox_matches_the_scalar_rounds() {
        let mut x = 0x0123_4567_89ab_cdefu64;
        for _ in 0..100_000 {
            // splitmix64 steps: counters and keys of every shape, not only small ones.
            let mut next = || {
                x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            };
            let (a, b, k) = (next(), next(), next());
            let c = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
            let k = [k as u32, (k >> 32) as u32];
            assert_eq!(philox4x32_10(c, k), philox4x32_10_scalar(c, k), "counter {c:x?} key {k:x?}");
        }
    }

    #[test]
    fn philox_matches_random123_known_answers() {
        assert_eq!(philox4x32_10([0; 4], [0; 2]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(philox4x32_10([u32::MAX; 4], [u32::MAX; 2]), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
        assert_eq!(
            philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn streams_are_independent_of_each_other() {
        let k = RngKey::from_seed(7);
        let a: Vec<u64> = (0..4).map(|n| k.draw(1, 2, n)).collect();
        // Drawing from other streams in between changes nothing: draws are pure functions.
        let _ = k.draw(2, 2, 0);
        let b: Vec<u64> = (0..4).map(|n| k.draw(1, 2, n)).collect();
        assert_eq!(a, b);
        assert_ne!(k.draw(1, 2, 0), k.draw(1, 3, 0));
        assert_ne!(k.draw(1, 2, 0), k.draw(2, 2, 0));
        assert_ne!(RngKey::from_seed(7), RngKey::from_seed(8));
    }

    #[test]
    fn uniforms_are_in_the_open_interval_and_fair() {
        let k = RngKey::from_seed(1);
        let n = 200_000;
        let mut sum = 0.0;
        for i in 0..n {
            let u = k.uniform(3, 4, i);
            assert!(u > 0.0 && u < 1.0);
            sum += u;
        }
        let mean = sum / n as f64;
        // Standard error of the mean of U(0,1) is 1/sqrt(12 n) ~ 0.00065.
        assert!((mean - 0.5).abs() < 0.003, "mean {mean}");
        assert!(to_open01(0) > 0.0 && to_open01(u64::MAX) < 1.0);
    }
}
