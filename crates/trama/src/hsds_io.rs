//! `trama import` and `trama export`: HSDS data in and out, with a progress bar. Imports are
//! all-or-nothing: the files are parsed whole first (a bad row stops everything with file, line,
//! field and reason), then written in one transaction.

use anyhow::{Context, Result};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

use trama_core::hsds::Bundle;
use trama_core::hsds::json::{bundle_from_json, bundle_to_json};
use trama_core::hsds::tabular;
use trama_server::AppState;
use trama_server::directory::service as directory;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Format {
    /// One `hsds.json`: every document, by kind.
    Json,
    /// The HSDS tabular data package: `datapackage.json` and one CSV per table.
    Csv,
}

/// Reads what `path` names: a data package's folder or its `datapackage.json`, or a JSON file.
/// Returns the bundle and the warnings about rows left out.
pub fn read_bundle(path: &Path) -> Result<(Bundle, Vec<String>)> {
    let name = path.display().to_string();
    let package_dir: Option<PathBuf> = if path.is_dir() {
        Some(path.to_path_buf())
    } else if path.file_name().is_some_and(|f| f == "datapackage.json") {
        Some(
            path.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        )
    } else {
        None
    };
    if let Some(dir) = package_dir {
        let found = tabular::TABLES.iter().any(|t| dir.join(t.file).exists());
        anyhow::ensure!(
            found,
            "{}: no HSDS table (organizations.csv, services.csv, ...) in this folder",
            dir.display()
        );
        let read = tabular::read_package(|f| std::fs::read_to_string(dir.join(f)).ok())
            .map_err(|e| anyhow::anyhow!("{}/{e} (nothing was imported)", dir.display()))?;
        return Ok((read.bundle, read.warnings));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let b = bundle_from_json(&text, &name)
        .map_err(|e| anyhow::anyhow!("{e} (nothing was imported)"))?;
    Ok((b, vec![]))
}

pub async fn import(state: &AppState, path: &Path) -> Result<()> {
    let (bundle, mut warnings) = read_bundle(path)?;
    let bar = indicatif::ProgressBar::new(bundle.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("importing [{bar:40}] {pos}/{len}")
            .expect("template")
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let result =
        directory::import_bundle(state, &bundle, &mut move |p| b.set_position(p.done as u64)).await;
    bar.finish_and_clear();
    warnings.extend(
        result.map_err(|e| anyhow::anyhow!("{}: {e} (nothing was imported)", path.display()))?,
    );
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "Imported from {}: {} organizations, {} locations, {} services, {} service_at_locations, {} taxonomies, {} taxonomy terms ({} warnings).",
        path.display(),
        bundle.organizations.len(),
        bundle.locations.len(),
        bundle.services.len(),
        bundle.service_at_locations.len(),
        bundle.taxonomies.len(),
        bundle.taxonomy_terms.len(),
        warnings.len()
    );
    Ok(())
}

pub async fn export(state: &AppState, format: Format, out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let bundle = directory::export_bundle(state).await?;
    let write = |name: &str, text: String| -> Result<()> {
        let p = out_dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
    };
    match format {
        Format::Json => write(
            "hsds.json",
            serde_json::to_string_pretty(&bundle_to_json(&bundle))?,
        )?,
        Format::Csv => {
            let tables = tabular::write_package(&bundle);
            let bar = indicatif::ProgressBar::new(tables.len() as u64);
            for (file, text) in tables {
                write(file, text)?;
                bar.inc(1);
            }
            bar.finish_and_clear();
            write(
                "datapackage.json",
                serde_json::to_string_pretty(&tabular::datapackage_json("trama-export"))?,
            )?;
        }
    }
    eprintln!(
        "Exported {} documents to {}.",
        bundle.len(),
        out_dir.display()
    );
    Ok(())
}
