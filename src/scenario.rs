//! Scenario files: TOML in, validated `Params` out, with errors that name the file, the
//! field and what is allowed. Also reads the CSV files of empirical distributions.

use crate::model::dist::Dist;
use crate::model::params::{Params, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::error::InputError;
pub(crate) use crate::error::err;

/// Read a scenario file, apply `--set key=value` overrides, validate, load empirical data.
pub fn load(path: &Path, overrides: &[String]) -> Result<Params, InputError> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    parse(&text, &file, base_dir(path), overrides)
}

/// A scenario or experiment file's text, read once (see `input`).
pub fn read_text(path: &Path) -> Result<String, InputError> {
    crate::input::read(path, crate::input::TEXT_LIMIT)
        .map(|i| i.text)
        .map_err(|m| err(&path.display().to_string(), "", format!("cannot read the file: {m}")))
}

/// Notes on `--set` overrides a user should see: one that made a distribution a fixed value
/// (`--set client.offline=1h`: every draw is 1h).
pub fn override_notes(params: &Params, overrides: &[String]) -> Vec<String> {
    crate::output::settings::fixed_by_override(&serde_json::to_value(params).unwrap_or_default(), overrides)
}

/// Where relative paths in a file resolve: its folder (the working folder for standard input).
pub fn base_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !crate::input::is_stdin(path) && !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Parse scenario text; `file` names it in errors and `base` resolves relative CSV paths.
pub fn parse(text: &str, file: &str, base: &Path, overrides: &[String]) -> Result<Params, InputError> {
    if let Ok(t) = toml::from_str::<toml::Table>(text) {
        not_an_experiment(&t, file)?;
    }
    let params: Params = if overrides.is_empty() {
        // Straight from the text, so errors carry line and column.
        let de = toml::Deserializer::parse(text).map_err(|e| err(file, "", toml_message(&e)))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            err(file, if path == "." { "" } else { &path }, toml_message(e.inner()))
        })?
    } else {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| err(file, "", toml_message(&e)))?;
        for o in overrides {
            apply_override(&mut table, o).map_err(|m| err("--set", o.split('=').next().unwrap_or(""), m))?;
        }
        return from_table(table, &format!("{file} (with --set overrides)"), base);
    };
    finish(params, file, base)
}

/// A scenario, not an experiment: an experiment's keys (`sweep`, `replications`, `scenario`)
/// say the file was given to a command that takes a scenario (`tune`, `live`, `bench`).
fn not_an_experiment(t: &toml::Table, file: &str) -> Result<(), InputError> {
    match ["sweep", "replications", "scenario"].into_iter().find(|k| t.contains_key(*k)) {
        Some(k) => Err(err(
            file,
            "",
            format!(
                "is an experiment (it has `{k}`), and this takes a scenario, not an experiment; run an experiment \
                 with `impsim run`, or give its base scenario"
            ),
        )),
        None => Ok(()),
    }
}

/// Params from a scenario table (after overrides or sweep values were applied to it).
pub(crate) fn from_table(table: toml::Table, file: &str, base: &Path) -> Result<Params, InputError> {
    let params: Params = serde_path_to_error::deserialize(table).map_err(|e| {
        let path = e.path().to_string();
        err(file, if path == "." { "" } else { &path }, toml_message(e.inner()))
    })?;
    finish(params, file, base)
}

fn finish(mut params: Params, file: &str, base: &Path) -> Result<Params, InputError> {
    check_name(&params.name).map_err(|m| err(file, "name", m))?;
    // Before validating: the limits that depend on a context's size see the file's bytes.
    load_cost_file(&mut params, file, base)?;
    crate::check::from_table(&params.thresholds).map_err(|(field, m)| err(file, &field, m))?;
    validate(&params).map_err(|(field, m)| err(file, &field, m))?;
    load_empirical(&mut params, file, base)?;
    // Recurring processes must take time, or a client would loop at one instant forever.
    for (field, d) in params.dists_mut() {
        let recurring = field.ends_with("every") || field == "client.activity";
        let gap = recurring || field == "client.offline" || field == "client.session_length";
        if gap && d.mean().partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(err(
                file,
                &field,
                "must have a mean longer than 0s (a process with no delay would repeat forever)",
            ));
        }
    }
    Ok(params)
}

/// A name becomes part of an output path (results/runs/NAME-seedN, results/NAME), so it must
/// be a plain file-name fragment: no separator, no `..`, nothing hidden, nothing a shell or a
/// spreadsheet reads specially.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        let shown: String = name.chars().take(70).flat_map(|c| c.escape_debug()).collect();
        Err(format!(
            "\"{shown}\" is not allowed: a name is 1 to 64 of the characters A-Z a-z 0-9 . _ - and starts with a letter or digit (it becomes part of the output folder's name)"
        ))
    }
}

/// Read a scenario file as a TOML table (syntax errors carry line and column), with the
/// SHA-256 of its text.
pub fn read_table_hashed(path: &Path) -> Result<(toml::Table, String), InputError> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    let t = toml::from_str(&text).map_err(|e| err(&file, "", toml_message(&e)))?;
    not_an_experiment(&t, &file)?;
    Ok((t, crate::output::sha256_hex(text.as_bytes())))
}

/// Read a scenario file as a TOML table (syntax errors carry line and column).
pub fn read_table(path: &Path) -> Result<toml::Table, InputError> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    toml::from_str(&text).map_err(|e| err(&file, "", toml_message(&e)))
}

/// toml's messages start with "TOML parse error at line L, column C" and a source excerpt;
/// keep all of it, and for an unknown field suggest the nearest known one.
pub(crate) fn toml_message(e: &toml::de::Error) -> String {
    // The excerpt quotes the offending line (and underlines it); a line of 10 kB is cut to what
    // a terminal shows. The message lines (the allowed names) are kept whole.
    let excerpt =
        |l: &str| l.trim_start().trim_start_matches(|c: char| c.is_ascii_digit()).trim_start().starts_with('|');
    let text = e
        .to_string()
        .trim_end()
        .lines()
        .map(|l| {
            if excerpt(l) && l.chars().count() > 200 {
                format!("{}...", l.chars().take(200).collect::<String>())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    match suggestion(&text) {
        Some(s) => format!("{text}\ndid you mean `{s}`?"),
        None => text,
    }
}

/// From "unknown field `x`, expected one of `a`, `b`": the allowed name closest to `x`.
fn suggestion(message: &str) -> Option<String> {
    use crate::error::edit_distance;
    let rest = &message[message.find("unknown field `")? + 15..];
    let (unknown, rest) = rest.split_once('`')?;
    let allowed: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = allowed.iter().min_by_key(|a| edit_distance(unknown, a))?;
    (edit_distance(unknown, best) <= unknown.len().div_ceil(2)).then(|| best.to_string())
}

/// `a.b.c=value`: the value is read as TOML, or as a plain string if it is not valid TOML
/// (so `--set retention=5m` needs no quotes).
pub fn apply_override(table: &mut toml::Table, spec: &str) -> Result<(), String> {
    let (key, raw) = spec.split_once('=').ok_or("write overrides as key=value, e.g. --set retention=5m")?;
    let key = key.trim();
    let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.trim().to_string()),
    };
    set_value(table, key, value)
}

/// Set the field at dotted path `key` (creating tables on the way).
pub(crate) fn set_value(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{key}` is not a field path; write it like sap.ttl_max"));
    }
    let mut t = table;
    for p in &parts[..parts.len() - 1] {
        t = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` in `{key}` is not a table"))?;
    }
    t.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

type Invalid = (String, String);

fn check(ok: bool, field: &str, msg: impl FnOnce() -> String) -> Result<(), Invalid> {
    if ok { Ok(()) } else { Err((field.to_string(), msg())) }
}

fn probability(v: f64, field: &str) -> Result<(), Invalid> {
    check((0.0..=1.0).contains(&v), field, || format!("must be a probability in [0, 1] (got {v})"))
}

fn shares<'a>(it: impl Iterator<Item = (&'a String, &'a f64)> + Clone, field: &str) -> Result<(), Invalid> {
    for (k, v) in it.clone() {
        check(v.is_finite() && *v >= 0.0, &format!("{field}.{k}"), || format!("a share must be 0 or more (got {v})"))?;
    }
    check(it.map(|(_, v)| v).sum::<f64>() > 0.0, field, || "give at least one positive share".into())
}

/// Rules serde cannot express.
pub(crate) fn validate(p: &Params) -> Result<(), Invalid> {
    check(!p.mqtt.clock.0.is_zero(), "mqtt.clock", || "must be longer than 0s".into())?;
    check(p.mqtt.keepalive_check >= 1, "mqtt.keepalive_check", || {
        "must be at least 1 (second of the broker's clock)".into()
    })?;
    let max = crate::model::sim::MAX_CLIENTS;
    check(p.clients >= 1 && p.clients <= max, "clients", || {
        format!("must be between 1 and {max} (got {})", p.clients)
    })?;
    check(!p.duration.0.is_zero(), "duration", || "must be longer than 0s".into())?;
    // Client records keep times in 48 bits of microseconds (8.9 years).
    check(p.duration.0 <= 8 * 365 * crate::engine::time::DAY, "duration", || "must be at most 2920d (8 years)".into())?;
    check(p.warmup < p.duration, "warmup", || {
        format!(
            "must be shorter than duration ({}): nothing would be measured",
            crate::engine::format_duration(p.duration.0)
        )
    })?;
    check(!p.sample_every.0.is_zero(), "sample_every", || "must be longer than 0s".into())?;
    let rows = p.duration.0 / p.sample_every.0.max(crate::engine::time::MICROS);
    // A million rows is more than any plot shows, and each costs memory on the way out.
    check(rows <= 1_000_000, "sample_every", || {
        format!(
            "would write {rows} timeseries rows; at most 1000000: choose an interval of at least {}",
            crate::engine::format_duration(crate::engine::SimDuration::from_micros(
                p.duration.0.as_micros().div_ceil(1_000_000),
            ))
        )
    })?;
    let c = &p.client;
    probability(c.four_way_share, "client.four_way_share")?;
    probability(c.logout_prob, "client.logout_prob")?;
    probability(c.recover_prob, "client.recover_prob")?;
    probability(c.client_id_change_prob, "client.client_id_change_prob")?;
    probability(c.abandon_prob, "client.abandon_prob")?;
    check(c.keepalive_ratio > 0.0 && c.keepalive_ratio <= 1.0, "client.keepalive_ratio", || {
        format!("must be in (0, 1]: a KeepAlive later than the granted TTL breaks S10 (got {})", c.keepalive_ratio)
    })?;
    check(!c.versions.is_empty(), "client.versions", || "name at least one version, e.g. { \"1.3\" = 1.0 }".into())?;
    shares(c.versions.iter(), "client.versions")?;
    for k in c.syntaxes.keys() {
        check(crate::model::cost::Syntax::from_name(k).is_some(), &format!("client.syntaxes.{k}"), || {
            format!("unknown syntax \"{k}\"; allowed: xml, wbxml, pts")
        })?;
    }
    shares(c.syntaxes.iter(), "client.syntaxes")?;
    check(!c.request_timeout.0.is_zero(), "client.request_timeout", || "must be longer than 0s".into())?;
    check(!c.retry_backoff.0.is_zero(), "client.retry_backoff", || "must be longer than 0s".into())?;
    check(c.retry_backoff_max >= c.retry_backoff, "client.retry_backoff_max", || {
        "must be at least client.retry_backoff".into()
    })?;
    check(!p.users.devices.is_empty(), "users.devices", || {
        "give the weights of 1, 2, ... devices, e.g. [0.8, 0.2]".into()
    })?;
    for (i, w) in p.users.devices.iter().enumerate() {
        check(w.is_finite() && *w >= 0.0, &format!("users.devices[{i}]"), || {
            format!("a weight must be 0 or more (got {w})")
        })?;
    }
    check(p.users.devices.iter().sum::<f64>() > 0.0, "users.devices", || "give at least one positive weight".into())?;
    let s = &p.sap;
    check(s.workers >= 1 && s.workers <= 1_000_000, "sap.workers", || "must be between 1 and 1000000".into())?;
    check(Span::Finite(s.ttl_min.0) <= s.ttl_max, "sap.ttl_min", || "must not exceed sap.ttl_max".into())?;
    check(!s.ttl_min.0.is_zero(), "sap.ttl_min", || {
        "must be longer than 0s: a TTL of 0 would log out every session at once".into()
    })?;
    check(!s.versions.is_empty(), "sap.versions", || "name at least one supported version".into())?;
    check(!s.syntaxes.is_empty(), "sap.syntaxes", || "name at least one supported syntax".into())?;
    for (i, x) in s.syntaxes.iter().enumerate() {
        check(crate::model::cost::Syntax::from_name(x).is_some(), &format!("sap.syntaxes[{i}]"), || {
            format!("unknown syntax \"{x}\"; allowed: xml, wbxml, pts")
        })?;
    }
    let smallest = p.cost.context.base as u64 + p.cost.context.per_service as u64;
    let cap = p.store.max_bytes.0;
    check(cap == 0 || cap >= smallest, "store.max_bytes", || {
        format!("{cap} bytes cannot hold even one context (the smallest is {smallest} bytes); use 0 for no cap")
    })?;
    Ok(())
}

/// Load every empirical distribution's CSV (relative paths from the scenario's folder).
fn load_empirical(p: &mut Params, file: &str, base: &Path) -> Result<(), InputError> {
    for (field, dist) in p.dists_mut() {
        if let Dist::Empirical { file: csv, scale, samples, sha256 } = dist {
            let path: PathBuf = base.join(&*csv);
            let fail = |m: String| err(file, &field, format!("{}: {m}", path.display()));
            let input = crate::input::read(&path, crate::input::DATA_LIMIT)
                .map_err(|m| fail(format!("cannot read the empirical data: {m}")))?;
            if !sha256.is_empty() && *sha256 != input.sha256 {
                return Err(fail(format!(
                    "its content changed: SHA-256 {} where the scenario says {sha256}",
                    input.sha256
                )));
            }
            *sha256 = input.sha256;
            *samples = parse_samples(&input.text, *scale).map_err(fail)?;
        }
    }
    Ok(())
}

/// Read `[cost] file` (relative to the scenario's folder): a `[context]` table and optionally
/// `[messages]`, checked like the scenario's own `[cost]`.
fn load_cost_file(p: &mut Params, file: &str, base: &Path) -> Result<(), InputError> {
    use crate::model::params::CostParams;
    if p.cost.file.is_empty() {
        // A pin without a file pins nothing: the run would use the built-in costs silently.
        if !p.cost.sha256.is_empty() {
            return Err(err(
                file,
                "cost.sha256",
                "pins the content of a cost file, and `file` names none: give `file` too, or leave `sha256` out",
            ));
        }
        return Ok(());
    }
    let defaults = CostParams::default();
    if p.cost.context != defaults.context || p.cost.messages != defaults.messages {
        return Err(err(
            file,
            "cost.file",
            "gives the whole cost table: set `context` and `messages` in that file, not beside `file`",
        ));
    }
    let path: PathBuf = base.join(&p.cost.file);
    let fail = |m: String| err(file, "cost.file", format!("{}: {m}", path.display()));
    let input =
        crate::input::read(&path, crate::input::TEXT_LIMIT).map_err(|m| fail(format!("cannot read it: {m}")))?;
    if !p.cost.sha256.is_empty() && p.cost.sha256 != input.sha256 {
        return Err(fail(format!(
            "its content changed: SHA-256 {} where the scenario says {}",
            input.sha256, p.cost.sha256
        )));
    }
    let de = toml::Deserializer::parse(&input.text).map_err(|e| fail(toml_message(&e)))?;
    let table: CostParams = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        err(&path.display().to_string(), if field == "." { "" } else { &field }, toml_message(e.inner()))
    })?;
    if !table.file.is_empty() || !table.sha256.is_empty() {
        return Err(fail(
            "a cost file cannot name another file or a SHA-256; it holds `context` and `messages`".into(),
        ));
    }
    p.cost.context = table.context;
    p.cost.messages = table.messages;
    p.cost.sha256 = input.sha256;
    Ok(())
}

/// One number per line; blank lines and lines starting with `#` are skipped. A line of several
/// columns is refused (which one is the data is not for impsim to guess: `id,value` once ran
/// on the ids). Values must be finite and not negative.
pub(crate) fn parse_samples(text: &str, scale: f64) -> Result<Arc<[f64]>, String> {
    // A byte-order mark (spreadsheets write one) is not part of the first value.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(sep) = [',', ';', '\t', ' '].into_iter().find(|c| t.contains(*c)) {
            return Err(format!(
                "line {}: \"{}\" holds more than one column (separated by {:?}); give one number per line, e.g. the \
                 column you mean cut out with `cut -d, -f2`",
                i + 1,
                crate::error::shown(t, 40),
                sep
            ));
        }
        let x: f64 =
            t.parse().map_err(|_| format!("line {}: \"{}\" is not a number", i + 1, crate::error::shown(t, 40)))?;
        if !x.is_finite() || x < 0.0 {
            return Err(format!("line {}: {x} is not allowed; values must be finite and 0 or more", i + 1));
        }
        v.push(x * scale);
    }
    if v.is_empty() {
        return Err("the file holds no values; give one number per line".into());
    }
    v.sort_by(f64::total_cmp);
    Ok(Arc::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_get_the_nearest_known_name() {
        let m = "unknown field `retension`, expected one of `seed`, `retention`, `clients`";
        assert_eq!(suggestion(m).as_deref(), Some("retention"));
        assert_eq!(suggestion("unknown field `zzzzzzzz`, expected one of `seed`, `clients`"), None);
        assert_eq!(suggestion("invalid type"), None);
        assert_eq!(crate::error::edit_distance("kitten", "sitting"), 3);
    }
}
