//! README's table of scenario fields against the model's `Params`: every field is in the table,
//! every name in the table is a field, and where a row shows one plain value (a number, a
//! boolean, a duration) it is the default. The table cannot drift from the `Default` impls.

use impsim::model::Params;
use serde_json::Value;
use std::collections::BTreeSet;

/// Sections whose fields the README describes as one row (`sap.service.*`, ...).
const GROUPED: [&str; 3] = ["sap.service", "cost.context", "cost.messages"];

fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !GROUPED.contains(&prefix) && (prefix.is_empty() || !is_dist(v)) => {
            for (k, x) in m {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                leaves(&path, x, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

/// A distribution or a map of weights is one field, not a section.
fn is_dist(v: &Value) -> bool {
    v.get("dist").is_some() || v.as_object().is_some_and(|m| m.values().all(|x| x.is_number()))
}

/// The rows of README's field table: (names in the first cell, the default cell).
fn rows(readme: &str) -> Vec<(Vec<String>, String)> {
    let start = readme.find("| field | default | meaning |").expect("the field table");
    let mut out = Vec::new();
    for line in readme[start..].lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split(" | ").collect();
        let names: Vec<String> = cells[0].split('`').skip(1).step_by(2).map(str::to_string).collect();
        // `a.b`, `c` and `.c` name a.c; `x.*` names the grouped section x.
        let first = names[0].clone();
        let section = first.rsplit_once('.').map(|(s, _)| s.to_string()).unwrap_or_default();
        let full = names
            .iter()
            .map(|n| match n.strip_suffix(".*").or_else(|| n.strip_suffix(".<primitive>")) {
                Some(s) => s.to_string(),
                None if n.contains('.') && !n.starts_with('.') => n.clone(),
                None if section.is_empty() => n.clone(),
                None => format!("{section}.{}", n.trim_start_matches('.')),
            })
            .collect();
        out.push((full, cells.get(1).copied().unwrap_or("").to_string()));
    }
    out
}

#[test]
fn the_readme_field_table_names_every_field_and_its_plain_defaults() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut fields = Vec::new();
    leaves("", &serde_json::to_value(Params::default()).unwrap(), &mut fields);
    let rows = rows(&readme);
    let documented: BTreeSet<String> = rows.iter().flat_map(|(n, _)| n.clone()).collect();
    let mut names: BTreeSet<String> = fields.iter().map(|(n, _)| n.clone()).collect();
    // Left out of written scenarios while they have their defaults (ProtocolName::is_default,
    // MqttParams::is_default): named here, with the broker rules' defaults.
    names.insert("protocol".into());
    // Left out while empty: a cost file (and its pinned SHA-256), thresholds.
    names.extend(["cost.file", "cost.sha256", "thresholds"].map(String::from));
    leaves("mqtt", &serde_json::to_value(impsim::model::params::MqttParams::default()).unwrap(), &mut fields);
    names.extend(fields.iter().map(|(n, _)| n.clone()));
    let missing: Vec<_> = names.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&names).collect();
    assert!(missing.is_empty(), "fields missing from README's table: {missing:?}");
    assert!(unknown.is_empty(), "README's table names fields that do not exist: {unknown:?}");
    let mut checked = 0;
    for (names, default) in &rows {
        let shown = default.trim().trim_matches('`').trim_matches('"');
        let Some((_, v)) = fields.iter().find(|(n, _)| names.len() == 1 && *n == names[0]) else { continue };
        let actual = match v {
            Value::Bool(b) => b.to_string(),
            Value::Number(x) => x.to_string(),
            Value::String(s) => s.clone(),
            _ => continue,
        };
        if shown.contains(' ') {
            continue; // a description, not a plain value
        }
        assert_eq!(shown, actual, "README's default of `{}`", names[0]);
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} plain defaults compared");
}
