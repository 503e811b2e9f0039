//! The HSDS 3.0 tabular data package: one CSV file per table, children pointing at their
//! parents by id. Reading nests the rows into documents (a [`Bundle`]); writing flattens
//! documents back into rows. No file access here: callers hand over and take back CSV text.
//!
//! Policy for imperfect data (the official example package has some):
//! - a reference to an id absent from the package is kept in the document as given;
//! - a child row whose every parent reference is absent cannot be placed in any document: it
//!   is left out and reported as a warning naming file and line;
//! - anything that does not parse (a bad UUID, a bad number, a required field missing) stops
//!   the read with file, line, field and reason.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use super::{Bundle, Location, Organization, Service, ServiceAtLocation, Taxonomy, TaxonomyTerm};

/// A table of the package: its file and its columns, in the order HSDS 3.0 lists them.
pub struct Table {
    pub file: &'static str,
    /// The HSDS object the table holds.
    pub entity: &'static str,
    pub columns: &'static [&'static str],
}

/// The tables of HSDS 3.0 (from its datapackage.json), parents before children.
pub const TABLES: &[Table] = &[
    Table {
        file: "organizations.csv",
        entity: "organization",
        columns: &[
            "id",
            "name",
            "alternate_name",
            "description",
            "email",
            "website",
            "tax_status",
            "tax_id",
            "year_incorporated",
            "legal_status",
            "logo",
            "uri",
            "parent_organization_id",
        ],
    },
    Table {
        file: "programs.csv",
        entity: "program",
        columns: &[
            "id",
            "organization_id",
            "name",
            "alternate_name",
            "description",
        ],
    },
    Table {
        file: "services.csv",
        entity: "service",
        columns: &[
            "id",
            "organization_id",
            "program_id",
            "name",
            "alternate_name",
            "description",
            "url",
            "email",
            "status",
            "interpretation_services",
            "application_process",
            "fees_description",
            "wait_time",
            "fees",
            "accreditations",
            "eligibility_description",
            "minimum_age",
            "maximum_age",
            "assured_date",
            "assurer_email",
            "licenses",
            "alert",
            "last_modified",
        ],
    },
    Table {
        file: "locations.csv",
        entity: "location",
        columns: &[
            "id",
            "location_type",
            "url",
            "organization_id",
            "name",
            "alternate_name",
            "description",
            "transportation",
            "latitude",
            "longitude",
            "external_identifier",
            "external_identifier_type",
        ],
    },
    Table {
        file: "service_at_location.csv",
        entity: "service_at_location",
        columns: &["id", "service_id", "location_id", "description"],
    },
    Table {
        file: "contacts.csv",
        entity: "contact",
        columns: &[
            "id",
            "organization_id",
            "service_id",
            "service_at_location_id",
            "location_id",
            "name",
            "title",
            "department",
            "email",
        ],
    },
    Table {
        file: "phones.csv",
        entity: "phone",
        columns: &[
            "id",
            "location_id",
            "service_id",
            "organization_id",
            "contact_id",
            "service_at_location_id",
            "number",
            "extension",
            "type",
            "description",
        ],
    },
    Table {
        file: "addresses.csv",
        entity: "address",
        columns: &[
            "id",
            "location_id",
            "attention",
            "address_1",
            "address_2",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
    },
    Table {
        file: "schedules.csv",
        entity: "schedule",
        columns: &[
            "id",
            "service_id",
            "location_id",
            "service_at_location_id",
            "valid_from",
            "valid_to",
            "dtstart",
            "timezone",
            "until",
            "count",
            "wkst",
            "freq",
            "interval",
            "byday",
            "byweekno",
            "bymonthday",
            "byyearday",
            "description",
            "opens_at",
            "closes_at",
            "schedule_link",
            "attending_type",
            "notes",
        ],
    },
    Table {
        file: "funding.csv",
        entity: "funding",
        columns: &["id", "organization_id", "service_id", "source"],
    },
    Table {
        file: "service_areas.csv",
        entity: "service_area",
        columns: &[
            "id",
            "service_id",
            "name",
            "description",
            "extent",
            "extent_type",
            "uri",
        ],
    },
    Table {
        file: "required_documents.csv",
        entity: "required_document",
        columns: &["id", "service_id", "document", "uri"],
    },
    Table {
        file: "languages.csv",
        entity: "language",
        columns: &[
            "id",
            "service_id",
            "location_id",
            "phone_id",
            "name",
            "code",
            "note",
        ],
    },
    Table {
        file: "accessibility.csv",
        entity: "accessibility",
        columns: &["id", "location_id", "description", "details", "url"],
    },
    Table {
        file: "cost_options.csv",
        entity: "cost_option",
        columns: &[
            "id",
            "service_id",
            "valid_from",
            "valid_to",
            "option",
            "currency",
            "amount",
            "amount_description",
        ],
    },
    Table {
        file: "organization_identifiers.csv",
        entity: "organization_identifier",
        columns: &[
            "id",
            "organization_id",
            "identifier_scheme",
            "identifier_type",
            "identifier",
        ],
    },
    Table {
        file: "taxonomies.csv",
        entity: "taxonomy",
        columns: &["id", "name", "description", "uri", "version"],
    },
    Table {
        file: "taxonomy_terms.csv",
        entity: "taxonomy_term",
        columns: &[
            "id",
            "code",
            "name",
            "description",
            "parent_id",
            "taxonomy",
            "language",
            "taxonomy_id",
            "term_uri",
        ],
    },
    Table {
        file: "attributes.csv",
        entity: "attribute",
        columns: &[
            "id",
            "link_id",
            "taxonomy_term_id",
            "link_type",
            "link_entity",
            "value",
        ],
    },
    Table {
        file: "metadata.csv",
        entity: "metadata",
        columns: &[
            "id",
            "resource_id",
            "resource_type",
            "last_action_date",
            "last_action_type",
            "field_name",
            "previous_value",
            "replacement_value",
            "updated_by",
        ],
    },
];

const NUMBER_COLUMNS: &[&str] = &[
    "year_incorporated",
    "latitude",
    "longitude",
    "extension",
    "timezone",
    "count",
    "interval",
    "minimum_age",
    "maximum_age",
    "amount",
];

fn is_uuid_column(c: &str) -> bool {
    c == "id" || c.ends_with("_id") && c != "tax_id"
}

/// A row that cannot be read: where, which field, why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}, line {line}: {field}: {reason}")]
pub struct TabularError {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// What a read produced.
#[derive(Debug, Default)]
pub struct TabularRead {
    pub bundle: Bundle,
    /// Rows left out (children whose parents are absent), as "file, line N: why".
    pub warnings: Vec<String>,
    pub rows: usize,
}

struct Row {
    line: u64,
    obj: Map<String, Value>,
}

fn read_table(file: &str, text: &str) -> Result<Vec<Row>, TabularError> {
    let err = |line: u64, field: &str, reason: String| TabularError {
        file: file.into(),
        line,
        field: field.into(),
        reason,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| err(1, "header", e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    if !headers.iter().any(|h| h == "id") {
        return Err(err(1, "id", "the header has no id column".into()));
    }
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        // Where the next record starts: its line is counted from that byte offset.
        let start = rdr.position().byte();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(err(
                    line_at(text, e.position().map(|p| p.byte()).unwrap_or(start)),
                    "row",
                    e.to_string(),
                ));
            }
        }
        let line = line_at(text, start);
        let mut obj = Map::new();
        for (h, v) in headers.iter().zip(rec.iter()) {
            if v.is_empty() {
                continue;
            }
            let value = if NUMBER_COLUMNS.contains(&h.as_str()) {
                let n: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| err(line, h, format!("'{v}' is not a number")))?;
                if !n.is_finite() {
                    return Err(err(line, h, format!("'{v}' is not a finite number")));
                }
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| err(line, h, format!("'{v}' is not a number")))?
            } else if is_uuid_column(h) {
                Uuid::parse_str(v.trim())
                    .map_err(|_| err(line, h, format!("'{v}' is not a UUID")))?;
                Value::String(v.trim().to_string())
            } else {
                Value::String(v.to_string())
            };
            obj.insert(h.clone(), value);
        }
        if !obj.contains_key("id") {
            return Err(err(line, "id", "is empty".into()));
        }
        out.push(Row { line, obj });
    }
    Ok(out)
}

/// The line a record starting at `byte` is on. csv's reader stops before a line's terminator,
/// so a record's recorded start may sit on the previous line's `\r\n`: skip over it first.
fn line_at(text: &str, byte: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut at = (byte as usize).min(bytes.len());
    while at < bytes.len() && (bytes[at] == b'\r' || bytes[at] == b'\n') {
        at += 1;
    }
    1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64
}

fn typed<T: serde::de::DeserializeOwned>(file: &str, row: &Row) -> Result<T, TabularError> {
    serde_json::from_value(Value::Object(row.obj.clone())).map_err(|e| {
        let msg = e.to_string();
        let field = msg.split('`').nth(1).unwrap_or("row").to_string();
        TabularError {
            file: file.into(),
            line: row.line,
            field,
            reason: msg,
        }
    })
}

fn id_of(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Reads a package. `read(file)` returns a table's CSV text, or `None` when the package lacks it.
pub fn read_package(read: impl Fn(&str) -> Option<String>) -> Result<TabularRead, TabularError> {
    let mut tables: HashMap<&'static str, Vec<Row>> = HashMap::new();
    let mut rows = 0;
    for t in TABLES {
        if let Some(text) = read(t.file) {
            let r = read_table(t.file, &text)?;
            rows += r.len();
            tables.insert(t.file, r);
        }
    }
    let take = |tables: &mut HashMap<&'static str, Vec<Row>>, f: &str| {
        tables.remove(f).unwrap_or_default()
    };
    let mut warnings = Vec::new();

    // Every entity that can hold children, as JSON objects by id, with the table it came from.
    // Children are attached innermost first (languages into phones, phones into contacts, ...),
    // and the holders are turned into typed documents at the end.
    let mut docs: HashMap<String, (&'static str, u64, Map<String, Value>)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for f in [
        "organizations.csv",
        "programs.csv",
        "services.csv",
        "locations.csv",
        "service_at_location.csv",
        "contacts.csv",
        "phones.csv",
        "taxonomies.csv",
        "taxonomy_terms.csv",
    ] {
        for r in take(&mut tables, f) {
            let id = id_of(&r.obj, "id").expect("checked");
            let file = TABLES.iter().find(|t| t.file == f).expect("known").file;
            if docs.contains_key(&id) {
                return Err(TabularError {
                    file: f.into(),
                    line: r.line,
                    field: "id".into(),
                    reason: format!("{id} is used twice in the package"),
                });
            }
            order.push(id.clone());
            docs.insert(id, (file, r.line, r.obj));
        }
    }
    // Plain children: (file, array field, parent references from most to least specific).
    let children: &[(&str, &str, &[&str])] = &[
        ("attributes.csv", "attributes", &["link_id"]),
        ("metadata.csv", "metadata", &["resource_id"]),
        (
            "languages.csv",
            "languages",
            &["phone_id", "service_id", "location_id"],
        ),
        ("addresses.csv", "addresses", &["location_id"]),
        ("accessibility.csv", "accessibility", &["location_id"]),
        (
            "schedules.csv",
            "schedules",
            &["service_at_location_id", "service_id", "location_id"],
        ),
        ("funding.csv", "funding", &["service_id", "organization_id"]),
        ("service_areas.csv", "service_areas", &["service_id"]),
        (
            "required_documents.csv",
            "required_documents",
            &["service_id"],
        ),
        ("cost_options.csv", "cost_options", &["service_id"]),
        (
            "organization_identifiers.csv",
            "organization_identifiers",
            &["organization_id"],
        ),
    ];
    let attach = |docs: &mut HashMap<String, (&'static str, u64, Map<String, Value>)>,
                  file: &str,
                  field: &str,
                  refs: &[&str],
                  r: Row,
                  warnings: &mut Vec<String>| {
        let parent = refs
            .iter()
            .filter_map(|k| id_of(&r.obj, k))
            .find(|id| docs.contains_key(id));
        match parent {
            Some(p) => {
                let holder = &mut docs.get_mut(&p).expect("present").2;
                holder
                    .entry(field.to_string())
                    .or_insert_with(|| Value::Array(vec![]))
                    .as_array_mut()
                    .expect("array")
                    .push(Value::Object(r.obj));
            }
            None => warnings.push(format!(
                "{file}, line {}: left out: {} names nothing in the package",
                r.line,
                refs.iter()
                    .filter_map(|k| id_of(&r.obj, k).map(|v| format!("{k} {v}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    };
    for (file, field, refs) in children {
        for r in take(&mut tables, file) {
            attach(&mut docs, file, field, refs, r, &mut warnings);
        }
    }
    // Phones into contacts, service_at_locations, services, locations, organizations; then
    // contacts likewise; then programs into organizations.
    for (file, field, refs) in [
        (
            "phones.csv",
            "phones",
            &[
                "contact_id",
                "service_at_location_id",
                "service_id",
                "location_id",
                "organization_id",
            ][..],
        ),
        (
            "contacts.csv",
            "contacts",
            &[
                "service_at_location_id",
                "service_id",
                "location_id",
                "organization_id",
            ][..],
        ),
        ("programs.csv", "programs", &["organization_id"][..]),
    ] {
        let ids: Vec<String> = order
            .iter()
            .filter(|id| docs.get(*id).is_some_and(|d| d.0 == file))
            .cloned()
            .collect();
        for id in ids {
            let (_, line, obj) = docs.remove(&id).expect("present");
            attach(
                &mut docs,
                file,
                field,
                refs,
                Row { line, obj },
                &mut warnings,
            );
        }
    }

    let mut b = Bundle::default();
    for id in &order {
        let Some((file, line, obj)) = docs.remove(id) else {
            continue;
        };
        let row = Row { line, obj };
        match file {
            "organizations.csv" => b.add_organization(typed::<Organization>(file, &row)?),
            "services.csv" => b.add_service(typed::<Service>(file, &row)?),
            "locations.csv" => b.add_location(typed::<Location>(file, &row)?),
            "service_at_location.csv" => {
                if row.obj.get("service_id").is_none() {
                    warnings.push(format!("{file}, line {line}: left out: no service_id"));
                    continue;
                }
                b.add_service_at_location(typed::<ServiceAtLocation>(file, &row)?)
            }
            "taxonomies.csv" => b.add_taxonomy(typed::<Taxonomy>(file, &row)?),
            "taxonomy_terms.csv" => b.add_term(typed::<TaxonomyTerm>(file, &row)?),
            _ => {}
        }
    }
    Ok(TabularRead {
        bundle: b,
        warnings,
        rows,
    })
}

/// The table an array field's items go to.
fn table_of_field(field: &str) -> Option<&'static Table> {
    let file = match field {
        "phones" => "phones.csv",
        "contacts" => "contacts.csv",
        "schedules" => "schedules.csv",
        "languages" => "languages.csv",
        "addresses" => "addresses.csv",
        "accessibility" => "accessibility.csv",
        "funding" => "funding.csv",
        "service_areas" => "service_areas.csv",
        "required_documents" => "required_documents.csv",
        "cost_options" => "cost_options.csv",
        "organization_identifiers" => "organization_identifiers.csv",
        "programs" => "programs.csv",
        "attributes" => "attributes.csv",
        "metadata" => "metadata.csv",
        _ => return None,
    };
    TABLES.iter().find(|t| t.file == file)
}

fn fk_column(parent: &Table) -> Option<&'static str> {
    match parent.file {
        "organizations.csv" => Some("organization_id"),
        "services.csv" => Some("service_id"),
        "locations.csv" => Some("location_id"),
        "service_at_location.csv" => Some("service_at_location_id"),
        "contacts.csv" => Some("contact_id"),
        "phones.csv" => Some("phone_id"),
        _ => None,
    }
}

struct Writer {
    rows: HashMap<&'static str, Vec<Vec<String>>>,
    seen: HashSet<(&'static str, String)>,
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

impl Writer {
    fn put(&mut self, table: &'static Table, v: &Value, parent: Option<(&'static Table, &str)>) {
        let Value::Object(m) = v else { return };
        let mut m = m.clone();
        if let Some((pt, pid)) = parent {
            if table.file == "attributes.csv" {
                m.entry("link_id")
                    .or_insert_with(|| Value::String(pid.into()));
                m.entry("link_entity")
                    .or_insert_with(|| Value::String(pt.entity.into()));
            } else if table.file == "metadata.csv" {
                m.entry("resource_id")
                    .or_insert_with(|| Value::String(pid.into()));
                m.entry("resource_type")
                    .or_insert_with(|| Value::String(pt.entity.into()));
            } else if let Some(fk) = fk_column(pt)
                && table.columns.contains(&fk)
            {
                m.entry(fk).or_insert_with(|| Value::String(pid.into()));
            }
        }
        let id = m.get("id").map(cell).unwrap_or_default();
        if self.seen.insert((table.file, id.clone())) {
            let row = table
                .columns
                .iter()
                .map(|c| m.get(*c).map(cell).unwrap_or_default())
                .collect();
            self.rows.entry(table.file).or_default().push(row);
        }
        for (k, child) in &m {
            if let (Some(ct), Value::Array(items)) = (table_of_field(k), child) {
                for item in items {
                    self.put(ct, item, Some((table, &id)));
                }
            }
        }
    }
}

/// Writes a bundle as the tables of a package: (file name, CSV text), every table present.
pub fn write_package(b: &Bundle) -> Vec<(&'static str, String)> {
    let mut w = Writer {
        rows: HashMap::new(),
        seen: HashSet::new(),
    };
    let t = |f: &str| TABLES.iter().find(|t| t.file == f).expect("known table");
    let json = |v: &dyn erased::Ser| v.value();
    for x in b.organizations.iter() {
        w.put(t("organizations.csv"), &json(x), None);
    }
    for x in b.services.iter() {
        w.put(t("services.csv"), &json(x), None);
    }
    for x in b.locations.iter() {
        w.put(t("locations.csv"), &json(x), None);
    }
    for x in b.service_at_locations.iter() {
        w.put(t("service_at_location.csv"), &json(x), None);
    }
    for x in b.taxonomies.iter() {
        w.put(t("taxonomies.csv"), &json(x), None);
    }
    for x in b.taxonomy_terms.iter() {
        w.put(t("taxonomy_terms.csv"), &json(x), None);
    }
    TABLES
        .iter()
        .map(|table| {
            let mut out = csv::Writer::from_writer(vec![]);
            out.write_record(table.columns).expect("in memory");
            for r in w.rows.get(table.file).map(Vec::as_slice).unwrap_or(&[]) {
                out.write_record(r).expect("in memory");
            }
            (
                table.file,
                String::from_utf8(out.into_inner().expect("in memory")).expect("UTF-8"),
            )
        })
        .collect()
}

mod erased {
    /// Anything serialisable, as a JSON value.
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("HSDS types serialise")
        }
    }
}

/// The Frictionless data package descriptor written beside the CSV files.
pub fn datapackage_json(name: &str) -> Value {
    let resources: Vec<Value> = TABLES
        .iter()
        .map(|t| {
            serde_json::json!({
                "name": t.entity,
                "path": t.file,
                "profile": "tabular-data-resource",
                "schema": {
                    "fields": t.columns.iter().map(|c| serde_json::json!({
                        "name": c,
                        "type": if NUMBER_COLUMNS.contains(c) { "number" } else { "string" },
                        "format": if is_uuid_column(c) { "uuid" } else { "default" },
                    })).collect::<Vec<_>>(),
                    "primaryKey": "id",
                }
            })
        })
        .collect();
    serde_json::json!({ "name": name, "profile": "tabular-data-package", "resources": resources })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_row_names_file_line_field_and_reason() {
        let crlf = "id,name,status\r\n3f1c8e2a-0000-4000-8000-000000000001,Mensa,active\r\nbad,Doposcuola,active\r\n";
        let e = read_package(|f| (f == "services.csv").then(|| crlf.to_string())).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_str()),
            (3, "id"),
            "CRLF lines count like LF ones"
        );
        let services = "id,organization_id,name,status\n3f1c8e2a-0000-4000-8000-000000000001,,Mensa,active\nnot-a-uuid,,Doposcuola,active\n";
        let e = read_package(|f| (f == "services.csv").then(|| services.to_string())).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_str()),
            ("services.csv", 3, "id")
        );
        let services = "id,name,status,minimum_age\n3f1c8e2a-0000-4000-8000-000000000001,Mensa,active,dodici\n";
        let e = read_package(|f| (f == "services.csv").then(|| services.to_string())).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "minimum_age"));
        let services = "id,name\n3f1c8e2a-0000-4000-8000-000000000001,Mensa\n";
        let e = read_package(|f| (f == "services.csv").then(|| services.to_string())).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "status"), "{e}");
    }

    #[test]
    fn rows_nest_and_flatten_back() {
        let s = "3f1c8e2a-0000-4000-8000-000000000001";
        let tables: HashMap<&str, String> = [
            ("services.csv", format!("id,name,status\n{s},Mensa,active\n")),
            ("phones.csv", format!("id,service_id,number\n3f1c8e2a-0000-4000-8000-000000000002,{s},+39 02 1\n")),
            ("languages.csv", "id,phone_id,code\n3f1c8e2a-0000-4000-8000-000000000003,3f1c8e2a-0000-4000-8000-000000000002,it\n".to_string()),
            ("funding.csv", "id,service_id,source\n3f1c8e2a-0000-4000-8000-000000000004,3f1c8e2a-0000-4000-8000-0000000000ff,x\n".to_string()),
        ]
        .into_iter()
        .collect();
        let r = read_package(|f| tables.get(f).cloned()).unwrap();
        let svc = r.bundle.services.iter().next().unwrap();
        assert_eq!(svc.phones[0].languages[0].code.as_deref(), Some("it"));
        assert_eq!(
            r.warnings.len(),
            1,
            "the funding row names an absent service: {:?}",
            r.warnings
        );
        assert!(r.warnings[0].starts_with("funding.csv, line 2"));
        let out: HashMap<&str, String> = write_package(&r.bundle).into_iter().collect();
        assert!(
            out["phones.csv"].contains(&format!(
                "3f1c8e2a-0000-4000-8000-000000000002,,{s},,,,+39 02 1"
            )),
            "{}",
            out["phones.csv"]
        );
        assert!(out["languages.csv"].lines().count() == 2);
    }
}
