//! Simulated time: an integer count of microseconds since the start of a run.
//! Integers keep runs exact and identical on every machine; no wall clock enters a result.
//! Instants (`SimTime`) and spans (`SimDuration`) are distinct types, as in nexosim's
//! `MonotonicTime`: an instant plus an instant, or a duration where a time is due, does not
//! compile. Both are one `u64` (`repr(transparent)`): no cost.

use std::ops::{Add, AddAssign, Div, Mul, Rem, Sub, SubAssign};

/// An instant of simulated time: microseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct SimTime(u64);

/// A span of simulated time, in whole microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct SimDuration(u64);

/// One microsecond.
pub const MICROS: SimDuration = SimDuration(1);
/// One millisecond.
pub const MILLIS: SimDuration = SimDuration(1_000);
/// One second.
pub const SECOND: SimDuration = SimDuration(1_000_000);
/// One minute.
pub const MINUTE: SimDuration = SimDuration(60 * SECOND.0);
/// One hour.
pub const HOUR: SimDuration = SimDuration(60 * MINUTE.0);
/// One day.
pub const DAY: SimDuration = SimDuration(24 * HOUR.0);

/// The longest finite duration accepted anywhere (100 years). Larger values, e.g. from a
/// Pareto tail, saturate here so that `now + d` can never overflow.
pub const MAX_DURATION: SimDuration = SimDuration(100 * 365 * DAY.0);

/// "Never": later than any event of any run.
pub const NEVER: SimTime = SimTime(u64::MAX);

/// An unlimited span (an infinite TimeToLive or retention): `after(t, FOREVER)` is `NEVER`.
pub const FOREVER: SimDuration = SimDuration(u64::MAX);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The instant `us` microseconds after the start.
    #[inline]
    pub const fn from_micros(us: u64) -> SimTime {
        SimTime(us)
    }
    /// Microseconds since the start.
    #[inline]
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// The time since the start, as a duration.
    #[inline]
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }
    /// Hours since the start (for reports).
    #[inline]
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / HOUR.0 as f64
    }
    /// The time from `earlier` to `self`; zero if `earlier` is later.
    #[inline]
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time.
    pub const ZERO: SimDuration = SimDuration(0);
    /// `us` microseconds.
    #[inline]
    pub const fn from_micros(us: u64) -> SimDuration {
        SimDuration(us)
    }
    /// In microseconds.
    #[inline]
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// In seconds.
    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SECOND.0 as f64
    }
    /// In hours.
    #[inline]
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / HOUR.0 as f64
    }
    /// `self - other`, or zero if `other` is longer.
    #[inline]
    pub fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }
    /// `self * k`, or the longest representable span if that overflows.
    #[inline]
    pub fn saturating_mul(self, k: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(k))
    }
    /// Whether this is no time at all.
    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    #[inline]
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}
impl AddAssign<SimDuration> for SimTime {
    #[inline]
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}
impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    #[inline]
    fn sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0 - d.0)
    }
}
impl Sub for SimTime {
    type Output = SimDuration;
    #[inline]
    fn sub(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0 - earlier.0)
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0 + d.0)
    }
}
impl AddAssign for SimDuration {
    #[inline]
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}
impl Sub for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn sub(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0 - d.0)
    }
}
impl SubAssign for SimDuration {
    #[inline]
    fn sub_assign(&mut self, d: SimDuration) {
        self.0 -= d.0;
    }
}
impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn mul(self, k: u64) -> SimDuration {
        SimDuration(self.0 * k)
    }
}
impl Mul<SimDuration> for u64 {
    type Output = SimDuration;
    #[inline]
    fn mul(self, d: SimDuration) -> SimDuration {
        SimDuration(self * d.0)
    }
}
impl Div<u64> for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn div(self, k: u64) -> SimDuration {
        SimDuration(self.0 / k)
    }
}
/// How many whole `d` fit in `self`.
impl Div for SimDuration {
    type Output = u64;
    #[inline]
    fn div(self, d: SimDuration) -> u64 {
        self.0 / d.0
    }
}
impl Rem for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn rem(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0 % d.0)
    }
}
impl std::iter::Sum for SimDuration {
    fn sum<I: Iterator<Item = SimDuration>>(it: I) -> SimDuration {
        SimDuration(it.map(|d| d.0).sum())
    }
}

/// As `parse_duration` reads it (`90s` is `1m30s`).
impl std::fmt::Display for SimDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&format_duration(*self))
    }
}

/// The time since the start, as a duration (`t+1h30m`); `never` for `NEVER`.
impl std::fmt::Display for SimTime {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if *self == NEVER { f.write_str("never") } else { write!(f, "t+{}", self.since_start()) }
    }
}

/// Add a duration to a time without ever wrapping: results past `MAX_DURATION` beyond `t`
/// become `NEVER`.
#[inline]
pub fn after(t: SimTime, d: SimDuration) -> SimTime {
    if d.0 >= NEVER.0 - t.0 { NEVER } else { SimTime(t.0 + d.0) }
}

/// Convert seconds (as drawn from a distribution) to whole microseconds, saturating.
#[inline]
pub fn from_secs_f64(s: f64) -> SimDuration {
    if s.is_nan() || s <= 0.0 {
        SimDuration(0)
    } else if s >= (MAX_DURATION.0 / SECOND.0) as f64 {
        MAX_DURATION
    } else {
        SimDuration(super::math::round_positive(s * SECOND.0 as f64))
    }
}

const UNITS: [(&str, u64); 7] = [
    ("us", MICROS.0),
    ("ms", MILLIS.0),
    ("s", SECOND.0),
    ("m", MINUTE.0),
    ("h", HOUR.0),
    ("d", DAY.0),
    ("w", 7 * DAY.0),
];

/// Parse a duration written like `250ms`, `30s`, `5m`, `2h`, `1d`, `1.5h` or `1h30m`.
/// `infinite` is not a duration here; see `Span`.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let s = text.trim();
    let allowed = "write a number with a unit: us, ms, s, m, h, d, w (e.g. \"30s\", \"5m\", \"1h30m\")";
    if s.is_empty() {
        return Err(format!("empty duration; {allowed}"));
    }
    if s.starts_with('-') {
        return Err(format!("negative duration \"{s}\" is not allowed; {allowed}"));
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("invalid duration \"{s}\"; {allowed}"));
        }
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let Some(&(_, scale)) = UNITS.iter().find(|(u, _)| *u == unit.trim()) else {
            return Err(format!("invalid duration \"{s}\": unit \"{unit}\" unknown; {allowed}"));
        };
        let value: f64 =
            num.parse().map_err(|_| format!("invalid duration \"{s}\": \"{num}\" is not a number; {allowed}"))?;
        let micros = value * scale as f64;
        if !micros.is_finite() || micros > MAX_DURATION.0 as f64 {
            return Err(format!("duration \"{s}\" is too long; the maximum is 100 years"));
        }
        total += libm::round(micros) as u128;
        rest = tail;
    }
    if total > MAX_DURATION.0 as u128 {
        return Err(format!("duration \"{s}\" is too long; the maximum is 100 years"));
    }
    Ok(SimDuration(total as u64))
}

/// Format a duration the way `parse_duration` reads it, choosing the largest exact unit.
pub fn format_duration(d: SimDuration) -> String {
    let us = d.0;
    if us == 0 {
        return "0s".into();
    }
    for &(name, scale) in UNITS.iter().rev() {
        if us.is_multiple_of(scale) {
            return format!("{}{}", us / scale, name);
        }
    }
    format!("{us}us")
}

/// Parse a byte size: a plain integer, or with a unit B, KB, MB, GB, KiB, MiB, GiB, TiB.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let allowed = "write bytes as an integer or with a unit: B, KB, MB, GB, KiB, MiB, GiB, TiB (e.g. \"2GiB\")";
    if s.starts_with('-') {
        return Err(format!("negative size \"{s}\" is not allowed; {allowed}"));
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        other => return Err(format!("invalid size \"{s}\": unit \"{other}\" unknown; {allowed}")),
    };
    let v: f64 = num.parse().map_err(|_| format!("invalid size \"{s}\"; {allowed}"))?;
    let b = v * scale as f64;
    if !b.is_finite() || b >= u64::MAX as f64 {
        return Err(format!("size \"{s}\" is too large"));
    }
    Ok(libm::round(b) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format_round_trip() {
        assert_eq!(parse_duration("30s"), Ok(30 * SECOND));
        assert_eq!(parse_duration("5m"), Ok(5 * MINUTE));
        assert_eq!(parse_duration("1h30m"), Ok(90 * MINUTE));
        assert_eq!(parse_duration("1.5h"), Ok(90 * MINUTE));
        assert_eq!(parse_duration("250ms"), Ok(250 * MILLIS));
        assert_eq!(parse_duration("2w"), Ok(14 * DAY));
        assert_eq!(parse_duration("0s"), Ok(SimDuration::ZERO));
        for us in [SimDuration::ZERO, 7 * MICROS, 250 * MILLIS, 30 * SECOND, 2 * HOUR, 3 * DAY] {
            assert_eq!(parse_duration(&format_duration(us)), Ok(us));
        }
    }

    #[test]
    fn bad_durations_are_refused_with_reason() {
        assert!(parse_duration("-5m").unwrap_err().contains("negative"));
        assert!(parse_duration("5 parsecs").unwrap_err().contains("unit"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("1000000d").unwrap_err().contains("too long"));
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1500"), Ok(1500));
        assert_eq!(parse_size("1.5KB"), Ok(1500));
        assert!(parse_size("-1MiB").is_err());
        assert!(parse_size("3 bananas").is_err());
    }

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(after(NEVER - 5 * MICROS, 10 * MICROS), NEVER);
        assert_eq!(after(NEVER - 5 * MICROS, 4 * MICROS), NEVER - MICROS);
        assert_eq!(after(SimTime::from_micros(10), 5 * MICROS), SimTime::from_micros(15));
        assert_eq!(from_secs_f64(f64::INFINITY), MAX_DURATION);
        assert_eq!(from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(from_secs_f64(1.5), SimDuration::from_micros(1_500_000));
        assert_eq!(from_secs_f64(1.5e-6), SimDuration::from_micros(2), "rounded to the nearest microsecond");
    }

    #[test]
    fn the_units_are_what_they_say_in_microseconds() {
        let us = [MICROS, MILLIS, SECOND, MINUTE, HOUR, DAY, MAX_DURATION].map(SimDuration::as_micros);
        assert_eq!(us, [1, 1_000, 1_000_000, 60_000_000, 3_600_000_000, 86_400_000_000, 3_153_600_000_000_000]);
        assert_eq!((NEVER.as_micros(), FOREVER.as_micros()), (u64::MAX, u64::MAX));
    }

    #[test]
    fn instants_and_durations_do_their_arithmetic_as_microseconds() {
        let t = SimTime::from_micros(5_000_000);
        assert_eq!(t + 2 * SECOND, SimTime::from_micros(7_000_000));
        assert_eq!(t - SECOND, SimTime::from_micros(4_000_000));
        assert_eq!(SimTime::from_micros(7_000_000) - t, 2 * SECOND);
        assert_eq!(t.saturating_since(SimTime::from_micros(9_000_000)), SimDuration::ZERO);
        assert_eq!(t.saturating_since(SimTime::ZERO), 5 * SECOND);
        assert_eq!(HOUR / MINUTE, 60);
        assert_eq!(HOUR / 60, MINUTE);
        assert_eq!((HOUR + 30 * SECOND) % MINUTE, 30 * SECOND);
        assert_eq!(SECOND * 3, 3 * SECOND);
        assert_eq!((90 * MINUTE).as_hours_f64(), 1.5);
        assert_eq!((1500 * MILLIS).as_secs_f64(), 1.5);
        assert_eq!(t.as_hours_f64(), 5.0 / 3600.0);
        assert_eq!(HOUR.saturating_sub(DAY), SimDuration::ZERO);
        assert_eq!(DAY.saturating_sub(HOUR), 23 * HOUR);
        assert_eq!(HOUR.saturating_mul(u64::MAX), SimDuration::from_micros(u64::MAX));
        assert_eq!(SECOND.saturating_mul(4), 4 * SECOND);
        assert_eq!([SECOND, MINUTE].into_iter().sum::<SimDuration>(), 61 * SECOND);
        let (mut a, mut d) = (t, MINUTE);
        a += SECOND;
        d += SECOND;
        d -= 2 * SECOND;
        assert_eq!((a, d), (SimTime::from_micros(6_000_000), 59 * SECOND));
        assert!(SimDuration::ZERO.is_zero() && !MICROS.is_zero());
        assert_eq!(std::mem::size_of::<SimTime>(), 8, "no cost over a u64");
        assert_eq!(format!("{} {} {}", 90 * SECOND, SimTime::ZERO + HOUR, NEVER), "90s t+1h never");
    }
}
