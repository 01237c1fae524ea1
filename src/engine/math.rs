//! Elementary functions for random draws that give exactly the bits of `libm` (the pure-Rust
//! libm every platform shares, so runs reproduce anywhere) at a lower cost on the hot path.
//! Each one repeats libm's own operations in the same order for the common range and defers
//! to libm elsewhere, so a result never depends on which path computed it; the tests compare
//! them with libm across the whole range, edges included.

// The constants are libm's, digit for digit, so they parse to the same bits.
#![allow(clippy::excessive_precision, clippy::approx_constant)]

/// `libm::exp(x)`, inlined, for |x| < 700 (the whole range of a simulation's draws); other
/// arguments go to libm itself.
///
/// This is FreeBSD's e_exp.c (libm's source): reduce x = k ln2 + r with |r| <= ln2 / 2,
/// a degree-5 rational correction, then scale by 2^k. For |x| < 700 the scale never leaves
/// the normal range, so libm's `scalbn` is a plain multiplication by 2^k, done here directly.
#[inline]
pub(crate) fn exp(x: f64) -> f64 {
    const HALF: [f64; 2] = [0.5, -0.5];
    const LN2HI: f64 = 6.93147180369123816490e-01;
    const LN2LO: f64 = 1.90821492927058770002e-10;
    const INVLN2: f64 = 1.44269504088896338700e+00;
    const P1: f64 = 1.66666666666666019037e-01;
    const P2: f64 = -2.77777777770155933842e-03;
    const P3: f64 = 6.61375632143793436117e-05;
    const P4: f64 = -1.65339022054652515390e-06;
    const P5: f64 = 4.13813679705723846039e-08;
    let hx = (x.to_bits() >> 32) as u32;
    let sign = (hx >> 31) as usize;
    let hx = hx & 0x7fff_ffff;
    // |x| <= 2^-28 (exp is 1 + x) or >= 700 (overflow, underflow, NaN): libm's own paths.
    if hx <= 0x3e30_0000 || hx >= 0x4085_e000 {
        return libm::exp(x);
    }
    // k = 0 below 0.5 ln2, where libm skips the reduction: the same operations with k = 0
    // (x - 0, 0 * LN2LO, a multiplication by 1) leave every value unchanged.
    let k = if hx <= 0x3fd6_2e42 {
        0
    } else if hx >= 0x3ff0_a2b2 {
        (INVLN2 * x + HALF[sign]) as i32
    } else {
        1 - 2 * sign as i32
    };
    let hi = x - k as f64 * LN2HI;
    let lo = k as f64 * LN2LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1. + (r * c / (2. - c) - lo + hi);
    // k is within [-1010, 1010] here, so 2^k is a normal number and the product is exact.
    y * f64::from_bits(((0x3ff + k) as u64) << 52)
}

/// `libm::log(x)`, inlined, for positive normal x (every uniform draw); zero, negative,
/// subnormal, infinite and NaN arguments go to libm itself.
///
/// FreeBSD's e_log.c (libm's source): x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)],
/// then log(1 + f) from s = f / (2 + f) and a degree-14 polynomial in s.
#[inline]
pub(crate) fn log(x: f64) -> f64 {
    const LN2_HI: f64 = 6.93147180369123816490e-01;
    const LN2_LO: f64 = 1.90821492927058770002e-10;
    const LG1: f64 = 6.666666666666735130e-01;
    const LG2: f64 = 3.999999999940941908e-01;
    const LG3: f64 = 2.857142874366239149e-01;
    const LG4: f64 = 2.222219843214978396e-01;
    const LG5: f64 = 1.818357216161805012e-01;
    const LG6: f64 = 1.531383769920937332e-01;
    const LG7: f64 = 1.479819860511658591e-01;
    let ui = x.to_bits();
    let hx = (ui >> 32) as u32;
    if !(0x0010_0000..0x7ff0_0000).contains(&hx) {
        return libm::log(x);
    }
    // Reduce x into [sqrt(2)/2, sqrt(2)].
    let hx = hx + (0x3ff0_0000 - 0x3fe6_a09e);
    let k = (hx >> 20) as i32 - 0x3ff;
    let hx = (hx & 0x000f_ffff) + 0x3fe6_a09e;
    let x = f64::from_bits((hx as u64) << 32 | (ui & 0xffff_ffff));
    let f = x - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = k as f64;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// `libm::round(x) as u64` for 0 <= x < 2^63 (half-way cases away from zero), without the call:
/// the truncation and the remainder are both exact in this range.
#[inline]
pub(crate) fn round_positive(x: f64) -> u64 {
    debug_assert!((0.0..9.2e18).contains(&x), "round_positive({x})");
    let t = x as u64;
    if x - t as f64 >= 0.5 { t + 1 } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngKey;

    /// Arguments spread over every binade a simulation can reach, plus the boundaries of
    /// each path (the reduction thresholds, the fallback limits) and their neighbours.
    fn arguments() -> Vec<f64> {
        let key = RngKey::from_seed(17);
        let mut xs = Vec::new();
        for n in 0..400_000u64 {
            let bits = key.draw(0, 0, n);
            // Uniform in the exponent (2^-40 .. 2^10) and the mantissa, either sign.
            let e = (bits >> 52) % 51;
            let m = f64::from_bits(0x3ff0_0000_0000_0000 | (bits & ((1 << 52) - 1)));
            let x = m * libm::scalbn(1.0, e as i32 - 40);
            xs.push(if bits & (1 << 51) != 0 { -x } else { x });
        }
        for edge in
            [0x3e30_0000u64, 0x3e30_0001, 0x3fd6_2e42, 0x3fd6_2e43, 0x3ff0_a2b1, 0x3ff0_a2b2, 0x4085_dfff, 0x4085_e000]
        {
            for low in [0u64, 1, 0xffff_ffff] {
                let x = f64::from_bits(edge << 32 | low);
                xs.extend([x, -x, x.next_up(), x.next_down(), -x.next_up(), -x.next_down()]);
            }
        }
        xs.extend([0.0, -0.0, 700.0, -700.0, 709.0, -745.0, 1e300, f64::INFINITY, f64::NEG_INFINITY]);
        xs
    }

    #[test]
    fn exp_gives_libms_bits_everywhere() {
        for x in arguments() {
            assert_eq!(exp(x).to_bits(), libm::exp(x).to_bits(), "exp({x:e})");
        }
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn log_gives_libms_bits_everywhere() {
        let mut xs: Vec<f64> = arguments().into_iter().map(f64::abs).collect();
        // Uniform draws as the streams make them, and the edges of the normal range.
        let key = RngKey::from_seed(5);
        xs.extend((0..200_000).map(|n| crate::engine::rng::to_open01(key.draw(1, 0, n))));
        let tiny = f64::MIN_POSITIVE;
        xs.extend([1.0, 1.0f64.next_up(), 1.0f64.next_down(), tiny, tiny.next_down(), tiny.next_up(), f64::MAX]);
        xs.extend([2f64.sqrt(), 0.5f64.sqrt(), 1e-300, 5e-324, -1.0, -0.0, f64::INFINITY]);
        for x in xs {
            assert_eq!(log(x).to_bits(), libm::log(x).to_bits(), "log({x:e})");
        }
        assert!(log(f64::NAN).is_nan());
    }

    #[test]
    fn round_positive_agrees_with_libm() {
        let mut xs: Vec<f64> = arguments().into_iter().map(f64::abs).map(|x| x * 1e6).collect();
        for k in 0..2_000u64 {
            let h = k as f64 + 0.5;
            xs.extend([h, h.next_up(), h.next_down(), k as f64, 0.5f64.next_down()]);
        }
        xs.extend([4_503_599_627_370_495.5, 4_503_599_627_370_496.0, 9.007_199_254_740_993e15, 9e18]);
        for x in xs.into_iter().filter(|x| *x < 9.2e18) {
            assert_eq!(round_positive(x), libm::round(x) as u64, "round({x:e})");
        }
    }
}
