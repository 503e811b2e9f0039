//! The official HSDS 3.0 examples (`../shared/data/hsds/3.0/examples`) import, and export back
//! to equivalent documents, on both databases.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use trama_core::hsds::json::bundle_from_json;
use trama_core::hsds::tabular;
use trama_core::ids::ServiceId;
use trama_store::Store;

use crate::both;

fn examples() -> std::path::PathBuf {
    trama_testkit::require_shared_data().join("hsds/3.0/examples")
}

type Rows = Vec<BTreeMap<String, String>>;

fn rows(text: &str) -> Rows {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut out: Rows = r
        .records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect()
        })
        .collect();
    out.sort_by(|a, b| a.get("id").cmp(&b.get("id")));
    out
}

both!(the_csv_package_round_trips, |store: Store| async move {
    let dir = examples().join("csv");
    let read = tabular::read_package(|f| std::fs::read_to_string(dir.join(f)).ok())
        .expect("the official package reads");
    // The example package has rows whose parents are not in it (documented in ARCHITECTURE.md).
    for w in &read.warnings {
        trama_testkit::note(&format!("left out: {w}"));
    }
    let left_out: Vec<(String, u64)> = read
        .warnings
        .iter()
        .map(|w| {
            let (file, rest) = w.split_once(", line ").unwrap();
            (
                file.to_string(),
                rest.split(':').next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let warnings = store
        .import_bundle(&read.bundle, &mut |_| {})
        .await
        .expect("imports");
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("kept in the document only")),
        "{warnings:?}"
    );

    let exported: HashMap<&str, String> =
        tabular::write_package(&store.export_bundle().await.unwrap())
            .into_iter()
            .collect();
    for t in tabular::TABLES {
        let Ok(original) = std::fs::read_to_string(dir.join(t.file)) else {
            continue;
        };
        let mut want = rows(&original);
        // Drop the rows the reader reported as left out (line 2 is the first data row).
        let dropped: Vec<u64> = left_out
            .iter()
            .filter(|(f, _)| f == t.file)
            .map(|(_, l)| *l)
            .collect();
        let mut i = 0u64;
        let by_line: Vec<BTreeMap<String, String>> = {
            let mut r = csv::Reader::from_reader(original.as_bytes());
            let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
            r.records()
                .filter_map(|rec| {
                    i += 1;
                    let line = i + 1;
                    if dropped.contains(&line) {
                        return None;
                    }
                    Some(
                        headers
                            .iter()
                            .zip(rec.unwrap().iter())
                            .filter(|(_, v)| !v.is_empty())
                            .map(|(h, v)| (h.clone(), v.to_string()))
                            .collect(),
                    )
                })
                .collect()
        };
        if !dropped.is_empty() {
            want = by_line;
            want.sort_by(|a, b| a.get("id").cmp(&b.get("id")));
        }
        let got = rows(exported.get(t.file).unwrap());
        assert_eq!(got, want, "{} differs after import and export", t.file);
    }
});

/// JSON numbers compare by value (2 and 2.0 are the same number).
fn normalise(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

/// Every entity of a bundle as normalised JSON, by kind and id.
fn entities(b: &trama_core::hsds::Bundle) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut put = |kind: &str, id: uuid::Uuid, v: Value| {
        out.insert(format!("{kind}/{id}"), normalise(&v));
    };
    b.taxonomies
        .iter()
        .for_each(|x| put("taxonomy", x.id, serde_json::to_value(x).unwrap()));
    b.taxonomy_terms
        .iter()
        .for_each(|x| put("taxonomy_term", x.id, serde_json::to_value(x).unwrap()));
    b.organizations
        .iter()
        .for_each(|x| put("organization", x.id, serde_json::to_value(x).unwrap()));
    b.locations
        .iter()
        .for_each(|x| put("location", x.id, serde_json::to_value(x).unwrap()));
    b.services
        .iter()
        .for_each(|x| put("service", x.id, serde_json::to_value(x).unwrap()));
    b.service_at_locations.iter().for_each(|x| {
        put(
            "service_at_location",
            x.id,
            serde_json::to_value(x).unwrap(),
        )
    });
    out
}

both!(
    the_json_examples_import_and_export_equivalent_documents,
    |store: Store| async move {
        let dir = examples();
        // service_full.json alone: every entity in it comes back out of the export unchanged.
        let text = std::fs::read_to_string(dir.join("service_full.json")).unwrap();
        let original = bundle_from_json(&text, "service_full.json").unwrap();
        store.import_bundle(&original, &mut |_| {}).await.unwrap();
        let exported = store.export_bundle().await.unwrap();
        assert_eq!(
            entities(&exported),
            entities(&original),
            "service_full.json differs after import and export"
        );
        assert!(
            entities(&original).len() >= 6,
            "service, organization, location, link, term, taxonomy"
        );
        let id: ServiceId = original.services.iter().next().unwrap().id.into();
        let nested = store.get_service(id).await.unwrap().expect("stored");
        assert_eq!(nested.service.service_at_locations.len(), 1);

        // Every other official example imports too.
        for f in [
            "organization_full.json",
            "service_at_location_full.json",
            "location.json",
            "taxonomy.json",
            "taxonomy_term.json",
            "service_list.json",
            "organization_list.json",
            "service_at_location_list.json",
            "taxonomy_list.json",
            "taxonomy_term_list.json",
        ] {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            let b = bundle_from_json(&text, f).unwrap_or_else(|e| panic!("{e}"));
            store
                .import_bundle(&b, &mut |_| {})
                .await
                .unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }
);
