//! `trama import` and `trama export`: HSDS data in and out, with a progress bar. Imports are
//! all-or-nothing: the file is parsed whole first, then written in one transaction.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use serde_json::Value;
use std::path::Path;

use trama_core::hsds::{
    Bundle, Location, Organization, Service, ServiceAtLocation, Taxonomy, TaxonomyTerm,
};
use trama_store::Store;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Json,
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

fn add(b: &mut Bundle, kind: &str, v: Value, at: &str) -> Result<()> {
    fn parse<T: serde::de::DeserializeOwned>(v: Value, at: &str, kind: &str) -> Result<T> {
        serde_json::from_value(v).map_err(|e| anyhow::anyhow!("{at}: not a valid HSDS {kind}: {e}"))
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
        other => bail!("{at}: unknown kind {other}"),
    }
    Ok(())
}

/// Reads a JSON file of HSDS documents into a bundle: one document, an array of them, an HSDS
/// list page (`contents`), or Trama's export (an object of arrays by kind).
pub fn bundle_from_json(text: &str, file: &str) -> Result<Bundle> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("{file}: line {}, column {}: {e}", e.line(), e.column()))?;
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
        Value::Object(ref m)
            if GROUPS
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
        _ => bail!("{file}: expected an HSDS document or a list of them"),
    }
    Ok(b)
}

/// Reads what `path` names into a bundle.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let name = path.display().to_string();
    if path.is_dir() || path.file_name().is_some_and(|f| f == "datapackage.json") {
        bail!(
            "{name}: the HSDS tabular data package (CSV) is not supported by this build yet; import a JSON file"
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    bundle_from_json(&text, &name)
}

pub async fn import(store: &Store, path: &Path) -> Result<()> {
    let bundle = read_bundle(path)?;
    let bar = indicatif::ProgressBar::new(bundle.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("importing [{bar:40}] {pos}/{len}")
            .expect("template")
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let result = store
        .import_bundle(&bundle, &mut move |p| b.set_position(p.done as u64))
        .await;
    bar.finish_and_clear();
    result.map_err(|e| anyhow::anyhow!("{}: {e} (nothing was imported)", path.display()))?;
    eprintln!(
        "Imported from {}: {} organizations, {} locations, {} services, {} service_at_locations, {} taxonomies, {} taxonomy terms.",
        path.display(),
        bundle.organizations.len(),
        bundle.locations.len(),
        bundle.services.len(),
        bundle.service_at_locations.len(),
        bundle.taxonomies.len(),
        bundle.taxonomy_terms.len()
    );
    Ok(())
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

pub async fn export(store: &Store, format: Format, out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let bundle = store.export_bundle().await?;
    match format {
        Format::Json => {
            let p = out_dir.join("hsds.json");
            std::fs::write(&p, serde_json::to_string_pretty(&bundle_to_json(&bundle))?)
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("Exported {} documents to {}.", bundle.len(), p.display());
        }
    }
    Ok(())
}
