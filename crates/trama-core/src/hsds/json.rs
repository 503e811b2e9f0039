//! HSDS documents as JSON: reading any of the shapes people exchange (one document, an array,
//! an HSDS list page, Trama's export) into a [`Bundle`], and writing Trama's export.

use serde_json::Value;

use super::{Bundle, Location, Organization, Service, ServiceAtLocation, Taxonomy, TaxonomyTerm};

/// A document that cannot be read, and where it is (`file: services[3]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {reason}")]
pub struct JsonError {
    pub at: String,
    pub reason: String,
}

/// What kind of HSDS document a JSON object is, from the fields it carries.
fn kind_of(v: &Value) -> &'static str {
    let has = |k: &str| v.get(k).is_some();
    if has("status") || has("service_at_locations") && !has("locations") {
        "service"
    } else if has("location_type") {
        "location"
    } else if has("services")
        || has("organization_identifiers")
        || has("year_incorporated")
        || has("legal_status")
        || has("website")
    {
        "organization"
    } else if has("service_id") || has("location") && !has("name") {
        "service_at_location"
    } else if has("taxonomy_detail")
        || has("parent_id")
        || has("term_uri")
        || has("taxonomy_id")
        || has("code")
    {
        "taxonomy_term"
    } else if has("version") || has("uri") && !has("email") {
        "taxonomy"
    } else {
        "organization"
    }
}

fn add(b: &mut Bundle, kind: &str, v: Value, at: &str) -> Result<(), JsonError> {
    fn parse<T: serde::de::DeserializeOwned>(
        v: Value,
        at: &str,
        kind: &str,
    ) -> Result<T, JsonError> {
        serde_json::from_value(v).map_err(|e| JsonError {
            at: at.to_string(),
            reason: format!("not a valid HSDS {kind}: {e}"),
        })
    }
    match kind {
        "service" => b.add_service(parse::<Service>(v, at, kind)?),
        "location" => b.add_location(parse::<Location>(v, at, kind)?),
        "organization" => b.add_organization(parse::<Organization>(v, at, kind)?),
        "service_at_location" => {
            b.add_service_at_location(parse::<ServiceAtLocation>(v, at, kind)?)
        }
        "taxonomy_term" => b.add_term(parse::<TaxonomyTerm>(v, at, kind)?),
        "taxonomy" => b.add_taxonomy(parse::<Taxonomy>(v, at, kind)?),
        other => {
            return Err(JsonError {
                at: at.to_string(),
                reason: format!("unknown kind {other}"),
            });
        }
    }
    Ok(())
}

/// Reads a JSON file of HSDS documents into a bundle: one document, an array of them, an HSDS
/// list page (`contents`), or Trama's export (an object of arrays by kind).
pub fn bundle_from_json(text: &str, file: &str) -> Result<Bundle, JsonError> {
    let v: Value = serde_json::from_str(text).map_err(|e| JsonError {
        at: format!("{file}: line {}, column {}", e.line(), e.column()),
        reason: e.to_string(),
    })?;
    let mut b = Bundle::default();
    const GROUPS: [(&str, &str); 6] = [
        ("taxonomies", "taxonomy"),
        ("taxonomy_terms", "taxonomy_term"),
        ("organizations", "organization"),
        ("locations", "location"),
        ("services", "service"),
        ("service_at_locations", "service_at_location"),
    ];
    match v {
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                let k = kind_of(&item);
                add(&mut b, k, item, &format!("{file}: [{i}]"))?;
            }
        }
        Value::Object(ref m) if m.contains_key("contents") => {
            let items = m["contents"].as_array().cloned().unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                let k = kind_of(&item);
                add(&mut b, k, item, &format!("{file}: contents[{i}]"))?;
            }
        }
        // Trama's export: arrays by kind, and no id of its own (a service also has arrays named
        // like some groups, `service_at_locations`, but it has an id).
        Value::Object(ref m)
            if !m.contains_key("id")
                && GROUPS
                    .iter()
                    .any(|(g, _)| m.get(*g).is_some_and(Value::is_array)) =>
        {
            for (group, kind) in GROUPS {
                for (i, item) in m
                    .get(group)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    add(&mut b, kind, item, &format!("{file}: {group}[{i}]"))?;
                }
            }
        }
        Value::Object(_) => {
            let k = kind_of(&v);
            add(&mut b, k, v, file)?;
        }
        _ => {
            return Err(JsonError {
                at: file.to_string(),
                reason: "expected an HSDS document or a list of them".into(),
            });
        }
    }
    Ok(b)
}

/// The bundle as Trama's JSON export: an object of arrays by kind.
pub fn bundle_to_json(b: &Bundle) -> Value {
    serde_json::json!({
        "taxonomies": b.taxonomies.iter().collect::<Vec<_>>(),
        "taxonomy_terms": b.taxonomy_terms.iter().collect::<Vec<_>>(),
        "organizations": b.organizations.iter().collect::<Vec<_>>(),
        "locations": b.locations.iter().collect::<Vec<_>>(),
        "services": b.services.iter().collect::<Vec<_>>(),
        "service_at_locations": b.service_at_locations.iter().collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_errors() {
        let one = r#"{"id": "3f1c8e2a-0000-4000-8000-000000000001", "name": "Mensa", "status": "active"}"#;
        assert_eq!(bundle_from_json(one, "f").unwrap().services.len(), 1);
        let page = format!(r#"{{"total_items": 1, "contents": [{one}]}}"#);
        assert_eq!(bundle_from_json(&page, "f").unwrap().services.len(), 1);
        let e = bundle_from_json(
            r#"[{"id": "x", "name": "Mensa", "status": "active"}]"#,
            "f.json",
        )
        .unwrap_err();
        assert_eq!(e.at, "f.json: [0]");
        let e = bundle_from_json("{", "f.json").unwrap_err();
        assert!(e.at.starts_with("f.json: line 1"), "{e}");
        let b = bundle_from_json(one, "f").unwrap();
        let back = bundle_to_json(&b).to_string();
        assert_eq!(bundle_from_json(&back, "g").unwrap().services.len(), 1);
    }
}
