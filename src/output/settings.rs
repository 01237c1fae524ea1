//! What was simulated, for a report a design review can forward: the fields of a resolved
//! scenario that differ from impsim's defaults (with the default beside them), the main fields
//! always (marked as defaults where they are), the `--set` overrides, and a note where an
//! override made a distribution a fixed value.

use crate::model::Params;
use crate::output::document::Block;
use serde_json::Value;
use std::collections::BTreeMap;

/// Fields a reader always wants to see, default or not, in this order.
const MAIN: [&str; 12] = [
    "protocol",
    "clients",
    "duration",
    "warmup",
    "retention",
    "client.requested_ttl",
    "sap.ttl_max",
    "client.session_length",
    "client.offline",
    "client.logout_prob",
    "transport_break.every",
    "sap.disconnect_every",
];

/// Fields that say nothing about the scenario (the label, the seed said elsewhere) or repeat
/// others (a cost file's recorded digest).
fn skipped(field: &str) -> bool {
    matches!(field, "name" | "seed") || field.ends_with(".sha256")
}

/// A scenario's settings as dotted fields to readable text: a distribution as one value
/// (`lognormal (median 30m, sigma 1.5)`, a fixed one as its value), a weight table as one
/// (`1.1=0.05, 1.2=0.25`), lists inline.
pub(crate) fn fields(scenario: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk("", scenario, &mut out);
    out.retain(|k, _| !skipped(k));
    out
}

fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    let name = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    match v {
        Value::Object(m) if m.contains_key("dist") => {
            out.insert(prefix.to_string(), distribution(m));
        }
        Value::Object(m) if matches!(prefix, "client.versions" | "client.syntaxes") => {
            out.insert(
                prefix.to_string(),
                m.iter().map(|(k, x)| format!("{k}={}", text(x))).collect::<Vec<_>>().join(", "),
            );
        }
        Value::Object(m) => m.iter().for_each(|(k, x)| walk(&name(k), x, out)),
        other => {
            out.insert(prefix.to_string(), text(other));
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(text).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// `lognormal (median 30m, sigma 1.5)`; a fixed distribution is its value.
fn distribution(m: &serde_json::Map<String, Value>) -> String {
    let kind = m.get("dist").map(text).unwrap_or_default();
    let params: Vec<String> = m
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "dist" | "sha256"))
        .map(|(k, x)| format!("{k} {}", text(x)))
        .collect();
    match (kind.as_str(), m.get("value")) {
        ("fixed", Some(v)) => text(v),
        _ => format!("{kind} ({})", params.join(", ")),
    }
}

fn defaults() -> BTreeMap<String, String> {
    fields(&serde_json::to_value(Params::default()).unwrap_or_default())
}

/// Notes for the `--set` overrides (`field=value`) that made a field the defaults draw from a
/// distribution a fixed value: every draw is then that value, which is rarely what "set the
/// mean to 1h" meant.
pub(crate) fn fixed_by_override(scenario: &Value, overrides: &[String]) -> Vec<String> {
    let default = serde_json::to_value(Params::default()).unwrap_or_default();
    let at = |v: &Value, path: &str| path.split('.').try_fold(v.clone(), |v, k| v.get(k).cloned());
    let mut notes = Vec::new();
    for o in overrides {
        let Some((field, value)) = o.split_once('=') else { continue };
        let field = field.trim();
        let (Some(now), Some(was)) = (at(scenario, field), at(&default, field)) else { continue };
        let kind = |v: &Value| v.get("dist").and_then(Value::as_str).map(str::to_string);
        if kind(&now).as_deref() == Some("fixed") && kind(&was).is_some_and(|k| k != "fixed") {
            let mut example = was.as_object().cloned().unwrap_or_default();
            let value = value.trim().trim_matches('"').to_string();
            if let Some(k) = ["mean", "median", "scale"].into_iter().find(|k| example.contains_key(*k)) {
                example.insert(k.to_string(), Value::String(value.clone()));
            }
            let inline: Vec<String> = example.iter().map(|(k, v)| format!("{k}={v}")).collect();
            notes.push(format!(
                "`--set {o}` makes `{field}` a fixed value: every draw is {value} (its default is {}). To keep the \
                 distribution and change its scale, give it whole, e.g. `--set '{field}={{{}}}'`.",
                distribution(was.as_object().unwrap_or(&serde_json::Map::new())),
                inline.join(",")
            ));
        }
    }
    notes
}

/// The "Scenario" section: a table of the main fields and every field that differs from the
/// defaults (the default beside it), then the overrides. `swept` names an experiment's axes
/// with their values, shown in place of one point's value.
pub(crate) fn section(scenario: &Value, overrides: &[String], swept: &[(String, String)]) -> Vec<Block> {
    let (now, default) = (fields(scenario), defaults());
    let mut rows = Vec::new();
    let mut row = |field: &str| {
        if let Some((_, values)) = swept.iter().find(|(a, _)| a == field) {
            let d = default.get(field).cloned().unwrap_or_else(|| "-".into());
            rows.push(vec![format!("`{field}`"), format!("swept: {values}"), d]);
            return;
        }
        let Some(v) = now.get(field) else { return };
        let d = default.get(field);
        let shown = if d == Some(v) { "(default)".to_string() } else { d.cloned().unwrap_or_else(|| "-".into()) };
        rows.push(vec![format!("`{field}`"), v.clone(), shown]);
    };
    for f in MAIN {
        row(f);
    }
    let differ: Vec<&String> = now
        .iter()
        .filter(|(k, v)| {
            let is_swept = swept.iter().any(|(a, _)| a == *k);
            !MAIN.contains(&k.as_str()) && (default.get(*k) != Some(*v) || is_swept)
        })
        .map(|(k, _)| k)
        .chain(swept.iter().map(|(a, _)| a).filter(|a| !MAIN.contains(&a.as_str()) && !now.contains_key(*a)))
        .collect();
    for f in differ {
        row(f);
    }
    let mut blocks = vec![
        Block::Heading("Scenario".into()),
        Block::Para(
            "What was simulated: the main settings, and every other one that differs from impsim's defaults \
             (the README's field table); any field not listed is at its default."
                .into(),
        ),
        Block::Table { header: vec!["field".into(), "value".into(), "default".into()], rows },
    ];
    if !overrides.is_empty() {
        let list: Vec<String> = overrides.iter().map(|o| format!("`--set {o}`")).collect();
        blocks.push(Block::Para(format!("Overrides on the command line: {}.", list.join(", "))));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario of `key = value` lines (dotted keys), resolved as the model reads it.
    fn scenario(sets: &[&str]) -> Value {
        let p: Params = toml::from_str(&sets.join("\n")).unwrap();
        serde_json::to_value(p).unwrap()
    }

    #[test]
    fn the_section_names_what_differs_and_marks_defaults() {
        let s = scenario(&["retention=\"2h\"", "sap.workers=4"]);
        let d = crate::output::document::Document { blocks: section(&s, &["retention=2h".into()], &[]) };
        let md = d.markdown();
        assert!(md.contains("| `retention` | 2h | 30m |"), "{md}");
        assert!(md.contains("| `sap.workers` | 4 | 16 |"), "{md}");
        assert!(md.contains("| `clients` | 5000 | (default) |"), "{md}");
        assert!(md.contains("| `client.offline` | lognormal (median 30m, sigma 1.5) | (default) |"), "{md}");
        assert!(!md.contains("`sap.ttl_min`"), "a default that is not a main field is left out: {md}");
        assert!(md.contains("Overrides on the command line: `--set retention=2h`."), "{md}");
        // An experiment's axis shows its values.
        let d = crate::output::document::Document {
            blocks: section(&s, &[], &[("sap.workers".into(), "1, 4, 16".into())]),
        };
        assert!(d.markdown().contains("| `sap.workers` | swept: 1, 4, 16 | 16 |"), "{}", d.markdown());
        // A swept field whose first point is the default is shown too.
        let d = crate::output::document::Document {
            blocks: section(&s, &[], &[("store.keep_on_logout".into(), "true, false".into())]),
        };
        assert!(d.markdown().contains("| `store.keep_on_logout` | swept: true, false | true |"), "{}", d.markdown());
    }

    #[test]
    fn an_override_that_fixes_a_distribution_gets_a_note() {
        let s = scenario(&["client.offline=\"1h\"", "retention=\"2h\""]);
        let notes = fixed_by_override(&s, &["client.offline=\"1h\"".into(), "retention=\"2h\"".into()]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("makes `client.offline` a fixed value: every draw is 1h"), "{}", notes[0]);
        assert!(notes[0].contains("its default is lognormal (median 30m, sigma 1.5)"), "{}", notes[0]);
        assert!(notes[0].contains("median=\"1h\""), "{}", notes[0]);
        // A whole distribution is no note; nor is a field that is fixed by default.
        let s = scenario(&["client.offline={dist=\"exponential\",mean=\"1h\"}", "context.capabilities=3"]);
        assert!(
            fixed_by_override(
                &s,
                &["client.offline={dist=\"exponential\",mean=\"1h\"}".into(), "context.capabilities=3".into()]
            )
            .is_empty()
        );
    }
}
