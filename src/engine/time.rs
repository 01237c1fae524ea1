//! Simulated time: an integer count of microseconds since the start of a run.
//! Integers keep runs exact and identical on every machine; no wall clock enters a result.

/// Microseconds since the start of the run.
pub type SimTime = u64;

pub(crate) const MICROS: u64 = 1;
pub(crate) const MILLIS: u64 = 1_000;
pub(crate) const SECOND: u64 = 1_000_000;
pub(crate) const MINUTE: u64 = 60 * SECOND;
pub(crate) const HOUR: u64 = 60 * MINUTE;
pub(crate) const DAY: u64 = 24 * HOUR;

/// The longest finite duration accepted anywhere (100 years). Larger values, e.g. from a
/// Pareto tail, saturate here so that `now + d` can never overflow.
pub(crate) const MAX_DURATION: u64 = 100 * 365 * DAY;

/// "Never": later than any event of any run.
pub const NEVER: SimTime = u64::MAX;

/// Add a duration to a time without ever wrapping: results past `MAX_DURATION` beyond `t`
/// become `NEVER`.
#[inline]
pub fn after(t: SimTime, d: u64) -> SimTime {
    if d >= NEVER - t { NEVER } else { t + d }
}

/// Convert seconds (as drawn from a distribution) to whole microseconds, saturating.
#[inline]
pub(crate) fn from_secs_f64(s: f64) -> u64 {
    if s.is_nan() || s <= 0.0 {
        0
    } else if s >= (MAX_DURATION / SECOND) as f64 {
        MAX_DURATION
    } else {
        super::math::round_positive(s * SECOND as f64)
    }
}

const UNITS: [(&str, u64); 7] =
    [("us", MICROS), ("ms", MILLIS), ("s", SECOND), ("m", MINUTE), ("h", HOUR), ("d", DAY), ("w", 7 * DAY)];

/// Parse a duration written like `250ms`, `30s`, `5m`, `2h`, `1d`, `1.5h` or `1h30m`.
/// Returns microseconds. `infinite` is not a duration here; see `Retention`/`Ttl`.
pub fn parse_duration(text: &str) -> Result<u64, String> {
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
        if !micros.is_finite() || micros > MAX_DURATION as f64 {
            return Err(format!("duration \"{s}\" is too long; the maximum is 100 years"));
        }
        total += libm::round(micros) as u128;
        rest = tail;
    }
    if total > MAX_DURATION as u128 {
        return Err(format!("duration \"{s}\" is too long; the maximum is 100 years"));
    }
    Ok(total as u64)
}

/// Format microseconds the way `parse_duration` reads them, choosing the largest exact unit.
pub fn format_duration(us: u64) -> String {
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
        assert_eq!(parse_duration("0s"), Ok(0));
        for us in [0, 7, 250 * MILLIS, 30 * SECOND, 2 * HOUR, 3 * DAY] {
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
        assert_eq!(after(NEVER - 5, 10), NEVER);
        assert_eq!(after(10, 5), 15);
        assert_eq!(from_secs_f64(f64::INFINITY), MAX_DURATION);
        assert_eq!(from_secs_f64(-1.0), 0);
        assert_eq!(from_secs_f64(1.5), 1_500_000);
    }
}
