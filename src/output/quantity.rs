//! How a summary column reads to a person: its name in words and a unit scaled to its values
//! (KiB/MiB/GiB, ms/s/min/h), for plot titles and axes and report tables. The CSV and JSON keep
//! the raw column names and units; this is only how they are shown.

use crate::stats::Estimate;

/// What a summary column measures, from its name (as `unit_of` reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bytes,
    ByteHours,
    Millis,
    Hours,
    /// A rate or share in [0, 1].
    Ratio,
    Count,
}

/// The unit of a summary column, from its name, for summary.json and points.json: "bytes",
/// "byte_hours", "ms", "hours", "ratio" (a rate or share in [0, 1]), "bool" (0 or 1), "id"
/// (the seed) or "count".
pub fn unit_of(column: &str) -> &'static str {
    match column {
        "seed" => "id",
        "steady_state_ok" => "bool",
        c if c.contains("byte_hours") => "byte_hours",
        c if c.contains("bytes") => "bytes",
        c if c.contains("_ms_") => "ms",
        c if c.ends_with("_hours") => "hours",
        c if c.ends_with("_rate") || c.ends_with("_share") || c.contains("_rate_ci95") => "ratio",
        _ => "count",
    }
}

pub(crate) fn kind(column: &str) -> Kind {
    match unit_of(column) {
        "bytes" => Kind::Bytes,
        "byte_hours" => Kind::ByteHours,
        "ms" => Kind::Millis,
        "hours" => Kind::Hours,
        "ratio" => Kind::Ratio,
        _ => Kind::Count,
    }
}

/// The column in words: `auto_logouts` -> "auto-logouts (no transaction within the TTL, S10)".
pub(crate) fn name(column: &str) -> String {
    let fixed = match column {
        "recovery_success_rate" => "recovery success rate",
        "recovery_attempts" => "recovery attempts",
        "recovery_successes" | "logins_recovery" => "sessions recovered",
        "fail_expired" => "502s: retention period ran out",
        "fail_evicted" => "502s: evicted by the store's limits",
        "fail_not_stored" => "502s: context never stored",
        "fail_client_changed" => "502s: client back under a new Client-ID (S17)",
        "fail_restart" => "502s: context lost in a SAP restart",
        "fail_replaced" => "502s: replaced by another session (S16)",
        "fail_unknown" => "502s: unknown Session-ID",
        "auto_logouts" => "auto-logouts (S10)",
        "sap_disconnects" => "SAP-initiated disconnects (S8)",
        "active_sessions_peak" => "active sessions, peak",
        "active_sessions_mean" => "active sessions, time-weighted mean",
        "retained_contexts_peak" => "retained contexts, peak",
        "retained_contexts_mean" => "retained contexts, time-weighted mean",
        "retained_bytes_peak" => "retained context memory, peak",
        "retained_bytes_mean" => "retained context memory, time-weighted mean",
        "retained_byte_hours" => "retained context memory over time",
        "active_bytes_peak" => "live session memory, peak",
        "active_bytes_mean" => "live session memory, time-weighted mean",
        "transactions" => "transactions",
        "bytes_total" => "traffic",
        "logins_fresh" => "fresh logins",
        "logins_initial" => "first logins",
        "logins_after_502" => "fresh logins after a 502 (S20)",
        "logins_after_version_discovery" => "logins after version discovery (S7)",
        "logins_denied" => "clients refused (S4)",
        "session_continuations" => "returns that found the session alive",
        "keepalive_share" => "KeepAlive share of transactions",
        "retries" => "client retries after a timeout",
        "dropped_requests" => "requests lost in a SAP restart",
        "resubscriptions" => "subscriptions re-established on recovery (S19)",
        "recovery_bytes_saved" => "traffic saved by recovery",
        "recovery_transactions_saved" => "transactions saved by recovery",
        "ttl_reduced" => "sessions granted a lower TTL than asked (S10)",
        "contexts_created" => "contexts created",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_string();
    }
    let words = |s: &str| s.replace('_', " ");
    let primitive = |p: &str| match p {
        "keepalive" => "KeepAlive".to_string(),
        "login" => "Login".to_string(),
        "logout" => "Logout".to_string(),
        "disconnect" => "Disconnect".to_string(),
        other => words(other),
    };
    if let Some(rest) = column.strip_prefix("restore_") {
        // restore_recovered_ms_p99 -> "time to restore by recovery, p99"
        if let Some((how, pct)) = rest.split_once("_ms_") {
            let how = if how == "recovered" { "by recovery" } else { "by a fresh login" };
            return format!("time to restore {how}, {pct}");
        }
    }
    if let Some(p) = column.strip_prefix("tx_") {
        return format!("{} transactions", primitive(p));
    }
    if let Some(p) = column.strip_prefix("bytes_") {
        return format!("{} traffic", primitive(p));
    }
    words(column)
}

/// `v` to three significant digits (0.00571, 5.71, 57.1, 571, 5710).
pub(crate) fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A figure with its interval in human units, the unit chosen by the mean:
/// `1.64 MiB (1.60 to 1.69)`, `0.9948 (0.9939 to 0.9956)`, `518 ms (510 to 526)`.
pub(crate) fn human_ci(metric: &str, e: &Estimate) -> String {
    if !e.mean.is_finite() {
        return "-".into();
    }
    let kind = kind(metric);
    let (div, unit) = scale(kind, e.mean);
    let f = |v: f64| match kind {
        // Four decimals: with three, an interval can read as touching a bound it misses.
        Kind::Ratio => format!("{v:.4}"),
        _ => sig3(v / div),
    };
    let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
    if e.lo.is_finite() {
        format!("{}{unit} ({} to {})", f(e.mean), f(e.lo), f(e.hi))
    } else {
        format!("{}{unit}", f(e.mean))
    }
}

/// `human_ci` of a figure of `runs` runs, marked `[n=k]` when fewer of them give it (a rate
/// where some runs had no recovery attempt).
pub(crate) fn human_ci_of(metric: &str, e: &Estimate, runs: usize) -> String {
    let shown = human_ci(metric, e);
    if e.n < runs && e.mean.is_finite() { format!("{shown} [n={}]", e.n) } else { shown }
}

/// One figure in human units to three significant digits: `1.64 MiB`, `8.87 s`, `0.9945`.
pub(crate) fn human(metric: &str, v: f64) -> String {
    human_ci(metric, &crate::stats::estimate(&[v]))
}

/// A bound as written for people: ratios and counts as the shortest number (`0.95`), sizes
/// and times in their unit (`2.00 MiB`, `1.50 s`).
pub(crate) fn bound(metric: &str, v: f64) -> String {
    match kind(metric) {
        Kind::Ratio | Kind::Count | Kind::Hours => format!("{v}"),
        _ => human(metric, v),
    }
}

/// Whether a column totals what happened in a run's measured window (so a plot may say "in
/// the N h measured"): not a gauge's mean or peak, a percentile, a setting or a flag, nor
/// `events` (the whole run's).
pub(crate) fn is_window_total(column: &str) -> bool {
    matches!(kind(column), Kind::Count | Kind::Bytes | Kind::ByteHours)
        && !column.ends_with("_peak")
        && !column.ends_with("_mean")
        && !matches!(column, "events" | "clients" | "seed" | "steady_state_ok")
}

/// An estimate of a column whose values cannot leave a range, with its interval kept inside it:
/// a rate in [0, 1], memory, times and counts at or above 0 (a t interval of few runs can reach
/// past them).
pub(crate) fn clamped(column: &str, e: Estimate) -> Estimate {
    let (lo, hi) = match kind(column) {
        Kind::Ratio => (0.0, 1.0),
        _ if unit_of(column) == "bool" => (0.0, 1.0),
        _ => (0.0, f64::INFINITY),
    };
    Estimate { lo: e.lo.clamp(lo, hi), hi: e.hi.clamp(lo, hi), ..e }
}

/// The summary columns whose totals a rate is the ratio of (successes, attempts), for the
/// rates whose interval must not be narrower than the binomial one of those counts.
pub(crate) fn counts_of(rate: &str) -> Option<(&'static str, &'static str)> {
    match rate {
        "recovery_success_rate" => Some(("recovery_successes", "recovery_attempts")),
        "keepalive_share" => Some(("tx_keepalive", "transactions")),
        _ => None,
    }
}

/// The estimate of `column` from its runs' values, kept in its range (`clamped`) and, for a
/// rate, never narrower than the binomial interval of its pooled counts (`get` reads a column's
/// values over the same runs).
pub(crate) fn estimate_of(column: &str, values: &[f64], get: impl Fn(&str) -> Vec<f64>) -> Estimate {
    let e = crate::stats::estimate(values);
    let e = match counts_of(column) {
        Some((s, a)) => {
            // Pooled over the runs that gave the rate (a run without attempts gives none); no
            // floor when some run lacks its counts.
            let (succ, att) = (get(s), get(a));
            let mut pooled = Some((0.0, 0.0));
            for (i, _) in values.iter().enumerate().filter(|(_, r)| r.is_finite()) {
                let (x, y) = (succ.get(i).copied().unwrap_or(f64::NAN), att.get(i).copied().unwrap_or(f64::NAN));
                pooled = pooled.filter(|_| x.is_finite() && y.is_finite()).map(|(ps, pa)| (ps + x, pa + y));
            }
            match pooled {
                Some((ps, pa)) => crate::stats::floored_at_binomial(e, ps, pa),
                None => e,
            }
        }
        None => e,
    };
    clamped(column, e)
}

/// `n` with thousands separated: 2,000.
pub(crate) fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 { format!("-{out}") } else { out }
}

/// A unit for values up to `max` (in the column's own unit): the divisor and its label, e.g.
/// 3 MiB of bytes -> (1048576, "MiB"), 90,000 ms -> (60000, "min"). Counts and ratios are
/// shown as they are ("" label).
pub(crate) fn scale(kind: Kind, max: f64) -> (f64, &'static str) {
    let max = if max.is_finite() { max.abs() } else { 0.0 };
    let pick = |units: &[(f64, &'static str)]| units.iter().rev().find(|(d, _)| max >= *d).copied().unwrap_or(units[0]);
    match kind {
        Kind::Bytes => pick(&[(1.0, "B"), (1024.0, "KiB"), (1048576.0, "MiB"), (1073741824.0, "GiB")]),
        Kind::ByteHours => pick(&[(1.0, "B·h"), (1024.0, "KiB·h"), (1048576.0, "MiB·h"), (1073741824.0, "GiB·h")]),
        Kind::Millis => pick(&[(1.0, "ms"), (1000.0, "s"), (60000.0, "min"), (3600000.0, "h")]),
        Kind::Hours => (1.0, "h"),
        Kind::Ratio | Kind::Count => (1.0, ""),
    }
}

/// Ticks for a log axis of times in ms from `lo` to `hi`: 1-2-5 steps (and 24 h),
/// each labelled in the unit it needs: `500 ms`, `1 s`, `2 min`, `1 h`, never `1000 ms` or `0.5 s`.
pub(crate) fn time_ticks_ms(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let steps: [(f64, &str, &[f64]); 4] = [
        (1.0, "ms", &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]),
        (1000.0, "s", &[1.0, 2.0, 5.0, 10.0, 20.0]),
        (60_000.0, "min", &[1.0, 2.0, 5.0, 10.0, 20.0]),
        (3_600_000.0, "h", &[1.0, 2.0, 5.0, 10.0, 24.0, 48.0, 100.0, 200.0, 500.0, 1000.0]),
    ];
    let mut ticks = Vec::new();
    // Below 1 ms, decades of ms.
    let mut sub = 0.001;
    while sub < 1.0 {
        if sub >= lo && sub <= hi {
            ticks.push((sub, format!("{} ms", sig3(sub))));
        }
        sub *= 10.0;
    }
    for (unit, name, values) in steps {
        for v in values {
            let ms = v * unit;
            if ms >= lo && ms <= hi {
                ticks.push((ms, format!("{v} {name}")));
            }
        }
    }
    ticks
}

/// An axis description: the column's name and its unit, `retained context memory, peak (MiB)`.
pub(crate) fn axis(column: &str, max: f64) -> (f64, String) {
    let (div, unit) = scale(kind(column), max);
    let name = name(column);
    (div, if unit.is_empty() { name } else { format!("{name} ({unit})") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_time_take_the_largest_unit_the_values_reach() {
        assert_eq!(scale(Kind::Bytes, 5_800.0), (1024.0, "KiB"));
        assert_eq!(scale(Kind::Bytes, 1023.0), (1.0, "B"));
        assert_eq!(scale(Kind::Bytes, 1_048_576.0), (1_048_576.0, "MiB"));
        assert_eq!(scale(Kind::Bytes, 3.0 * 1_073_741_824.0), (1_073_741_824.0, "GiB"));
        assert_eq!(scale(Kind::Bytes, 0.0), (1.0, "B"));
        assert_eq!(scale(Kind::Bytes, f64::NAN), (1.0, "B"));
        assert_eq!(scale(Kind::Millis, 520.0), (1.0, "ms"));
        assert_eq!(scale(Kind::Millis, 8_900.0), (1000.0, "s"));
        assert_eq!(scale(Kind::Millis, 2_340_000.0), (60000.0, "min"));
        assert_eq!(scale(Kind::Millis, 7_200_000.0), (3_600_000.0, "h"));
        assert_eq!(scale(Kind::ByteHours, 2048.0), (1024.0, "KiB·h"));
        assert_eq!(scale(Kind::Count, 1e9), (1.0, ""));
        assert_eq!(scale(Kind::Ratio, 0.5), (1.0, ""));
        assert_eq!(scale(Kind::Hours, 72.0), (1.0, "h"));
    }

    #[test]
    fn columns_read_as_words_with_their_unit() {
        assert_eq!(axis("retained_bytes_peak", 3e6), (1_048_576.0, "retained context memory, peak (MiB)".into()));
        assert_eq!(axis("restore_recovered_ms_p99", 2_000.0), (1000.0, "time to restore by recovery, p99 (s)".into()));
        assert_eq!(name("restore_fresh_ms_p50"), "time to restore by a fresh login, p50");
        assert_eq!(axis("auto_logouts", 3e4).1, "auto-logouts (S10)");
        assert_eq!(name("tx_keepalive"), "KeepAlive transactions");
        assert_eq!(name("bytes_login"), "Login traffic");
        assert_eq!(name("tx_version_discovery"), "version discovery transactions");
        assert_eq!(name("bytes_total"), "traffic");
        assert_eq!(kind("bytes_total"), Kind::Bytes);
        assert_eq!(kind("retained_byte_hours"), Kind::ByteHours);
        assert_eq!(kind("recovery_success_rate"), Kind::Ratio);
        assert_eq!(kind("warmup_hours"), Kind::Hours);
        assert_eq!(kind("auto_logouts"), Kind::Count);
        assert_eq!(name("contexts_lost_restart"), "contexts lost restart");
    }

    #[test]
    fn units_are_read_from_the_column_name() {
        let units = ["seed", "steady_state_ok", "retained_byte_hours", "active_bytes_peak", "restore_fresh_ms_p50"]
            .map(unit_of);
        assert_eq!(units, ["id", "bool", "byte_hours", "bytes", "ms"]);
        let more = ["sim_hours", "keepalive_share", "recovery_success_rate_ci95_lo", "logins_fresh"].map(unit_of);
        assert_eq!(more, ["hours", "ratio", "ratio", "count"]);
    }

    #[test]
    fn what_a_figure_can_be_and_how_it_reads() {
        let e = |mean: f64, lo: f64, hi: f64| Estimate { n: 3, mean, sd: 1.0, lo, hi };
        // An interval stays where its quantity can be: a rate in [0, 1], memory and counts >= 0.
        assert_eq!(clamped("recovery_success_rate", e(0.99, 0.97, 1.01)).hi, 1.0);
        assert_eq!(clamped("recovery_success_rate", e(0.01, -0.01, 0.03)).lo, 0.0);
        let mem = clamped("retained_bytes_mean", e(558.0, -1819.0, 2934.0));
        assert_eq!((mem.lo, mem.hi, mem.mean), (0.0, 2934.0, 558.0));
        assert_eq!(clamped("restore_recovered_ms_p99", e(514.0, -176.0, 1203.0)).lo, 0.0);
        assert_eq!(clamped("auto_logouts", e(5.0, 2.0, 8.0)), e(5.0, 2.0, 8.0));
        assert!(clamped("auto_logouts", e(f64::NAN, f64::NAN, f64::NAN)).lo.is_nan());
        // Totals over the measured window, and what is not one.
        for total in ["auto_logouts", "bytes_keepalive", "tx_login", "retained_byte_hours", "fail_expired"] {
            assert!(is_window_total(total), "{total}");
        }
        for not in [
            "events",
            "clients",
            "seed",
            "steady_state_ok",
            "retained_contexts_peak",
            "active_sessions_mean",
            "recovery_success_rate",
            "restore_fresh_ms_p99",
            "warmup_hours",
        ] {
            assert!(!is_window_total(not), "{not}");
        }
        // Bounds as people write them.
        assert_eq!(bound("recovery_success_rate", 0.95), "0.95");
        assert_eq!(bound("retained_bytes_peak", 2097152.0), "2.00 MiB");
        assert_eq!(bound("retained_bytes_peak", 2000000.0), "1.91 MiB");
        assert_eq!(bound("retained_byte_hours", 3000000.0), "2.86 MiB·h");
        assert_eq!(bound("restore_recovered_ms_p99", 1500.0), "1.50 s");
        assert_eq!(bound("auto_logouts", 30000.0), "30000");
        assert_eq!(human("retained_bytes_mean", 5816.0), "5.68 KiB");
        assert_eq!(human("recovery_success_rate", f64::NAN), "-");
        assert_eq!([sig3(0.0), sig3(f64::NAN), sig3(-0.0)], ["0", "NaN", "-0"]);
        assert_eq!(clamped("steady_state_ok", e(0.7, -0.2, 1.6)), e(0.7, 0.0, 1.0));
        // A figure fewer of a point's runs give is marked with how many; all of them, or none, not.
        let rate = Estimate { n: 1, mean: 1.0, sd: f64::NAN, lo: f64::NAN, hi: f64::NAN };
        assert_eq!(human_ci_of("recovery_success_rate", &rate, 3), "1.0000 [n=1]");
        assert_eq!(human_ci_of("recovery_success_rate", &rate, 1), "1.0000");
        assert_eq!(human_ci_of("recovery_success_rate", &e(0.5, 0.4, 0.6), 3), "0.5000 (0.4000 to 0.6000)");
        let none = Estimate { n: 0, mean: f64::NAN, ..rate };
        assert_eq!(human_ci_of("recovery_success_rate", &none, 3), "-");
    }

    /// A restore plot's ticks read in the unit each needs: never "1000" of ms nor "0.5" of s.
    #[test]
    fn time_ticks_carry_the_unit_their_value_needs() {
        let t = time_ticks_ms(400.0, 2_400_000.0);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels[..4], ["500 ms", "1 s", "2 s", "5 s"]);
        assert!(labels.contains(&"1 min") && labels.contains(&"20 s"), "{labels:?}");
        assert_eq!(t.last().unwrap(), &(1_200_000.0, "20 min".to_string()));
        for (v, l) in &t {
            let n: f64 = l.split(' ').next().unwrap().parse().unwrap();
            assert!((1.0..1000.0).contains(&n), "{l}");
            assert!(*v >= 400.0 && *v <= 2_400_000.0);
        }
        assert_eq!(time_ticks_ms(0.5, 3.0).iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["1 ms", "2 ms"]);
    }
}
