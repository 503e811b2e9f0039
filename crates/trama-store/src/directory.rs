//! The HSDS directory: organisations, locations, services, their links and taxonomies.
//!
//! Each entity is a row with the columns that queries need and the HSDS document as JSON. The
//! search tables (`service_terms`, `service_funders`, `service_words`, `service_points`) are
//! derived from the documents and rewritten in the same transaction as the service they index.

use crate::sql::ReadRows;
use sqlx::{AnyConnection, Row};
use std::collections::{HashMap, HashSet};
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use trama_core::geo::{Coordinates, grid_cell, grid_cells_covering};
use trama_core::hsds::{
    Bundle, Location, Organization, PageRequest, Service, ServiceAtLocation, Taxonomy,
    TaxonomyTerm, attribute_term_ids,
};
use trama_core::ids::{
    LocationId, OrganizationId, ServiceAtLocationId, ServiceId, TaxonomyId, TaxonomyTermId,
};
use trama_core::query::{ServiceQuery, normalize_funder};
use trama_core::schedule::WeeklyHours;
use trama_core::text::Analyzer;

use crate::sql::{Sql, Val};
use crate::stored_id;
use crate::{Result, Store, StoreError, to_micros};

/// How far an import has gone, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub done: usize,
    pub total: usize,
}

/// A fully nested service and what Trama knows beside it.
#[derive(Debug, Clone)]
pub struct ServiceDetail {
    /// The HSDS service with organization (one-to-one fields) and service_at_locations (each
    /// with its location) nested.
    pub service: Service,
    pub weekly_hours: WeeklyHours,
}

/// One result of a directory search.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The service's one-to-one fields.
    pub service: Service,
    pub organization_name: Option<String>,
    /// Distance from the searched point to the nearest place the service is delivered.
    pub distance_km: Option<f64>,
    /// That nearest place.
    pub point: Option<(LocationId, Coordinates)>,
    pub open_now: bool,
}

#[derive(Debug, Clone)]
pub struct SearchResult {
    pub total: u64,
    pub hits: Vec<SearchHit>,
}

/// A taxonomy term with its English label.
#[derive(Debug, Clone)]
pub struct TermRow {
    pub term: TaxonomyTerm,
    pub name_en: Option<String>,
}

fn parse_doc<T: serde::de::DeserializeOwned>(
    what: &'static str,
    id: &str,
    json: &str,
) -> Result<T> {
    serde_json::from_str(json).map_err(|source| StoreError::CorruptDocument {
        what,
        id: id.to_string(),
        source,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("HSDS types always serialise")
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

/// Valid WGS84 coordinates of a location, or none (absent or out of range: see ARCHITECTURE.md).
pub fn location_point(l: &Location) -> Option<Coordinates> {
    match (l.latitude, l.longitude) {
        (Some(lat), Some(lon)) => Coordinates::new(lat, lon).ok(),
        _ => None,
    }
}

async fn exists(conn: &mut AnyConnection, table: &'static str, id: &Uuid) -> Result<bool> {
    let sql = match table {
        "organizations" => "SELECT 1 FROM organizations WHERE id = $1",
        "locations" => "SELECT 1 FROM locations WHERE id = $1",
        "services" => "SELECT 1 FROM services WHERE id = $1",
        _ => unreachable!("only the tables above are checked"),
    };
    Ok(sqlx::query(sql)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Writes a bundle inside an open transaction. `replace_links`: the services' links to
/// locations are exactly those in the bundle (API writes), rather than added to (imports).
pub(crate) async fn write_bundle(
    now: OffsetDateTime,
    conn: &mut AnyConnection,
    b: &Bundle,
    english: &HashMap<Uuid, String>,
    replace_links: bool,
    strict: bool,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    // A reference to something absent: an error for API writes, a warning for imports (the
    // document keeps the reference as given; the indexed column is left empty).
    let mut dangling = |field: String, reason: String| -> Result<()> {
        if strict {
            Err(StoreError::Reference { field, reason })
        } else {
            warnings.push(format!("{field}: {reason}; kept in the document only"));
            Ok(())
        }
    };
    let total = b.len();
    let mut done = 0usize;
    let mut tick = |n: usize| {
        done += n;
        progress(ImportProgress { done, total });
    };

    for t in b.taxonomies.iter() {
        sqlx::query(
            "INSERT INTO taxonomies (id, name, doc) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc",
        )
        .bind(t.id.to_string())
        .bind(t.name.clone())
        .bind(to_json(t))
        .execute(&mut *conn)
        .await?;
        tick(1);
    }
    for t in b.taxonomy_terms.iter() {
        let mut taxonomy = t.taxonomy_id;
        if let Some(tax) = t.taxonomy_id
            && !b.taxonomies.contains(&tax)
        {
            let known = sqlx::query("SELECT 1 FROM taxonomies WHERE id = $1")
                .bind(tax.to_string())
                .fetch_optional(&mut *conn)
                .await?
                .is_some();
            if !known {
                dangling(
                    format!("taxonomy_terms[{}].taxonomy_id", t.id),
                    format!("taxonomy {tax} does not exist"),
                )?;
                taxonomy = None;
            }
        }
        sqlx::query(
            "INSERT INTO taxonomy_terms (id, taxonomy_id, parent_id, code, name, name_en, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             taxonomy_id = excluded.taxonomy_id, parent_id = excluded.parent_id, code = excluded.code, \
             name = excluded.name, name_en = COALESCE(excluded.name_en, taxonomy_terms.name_en), doc = excluded.doc",
        )
        .bind(t.id.to_string())
        .bind(taxonomy.map(|u| u.to_string()))
        .bind(t.parent_id.map(|u| u.to_string()))
        .bind(t.code.clone())
        .bind(t.name.clone())
        .bind(english.get(&t.id).cloned())
        .bind(to_json(t))
        .execute(&mut *conn)
        .await?;
        tick(1);
    }
    for o in b.organizations.iter() {
        let mut doc = o.clone();
        doc.locations.clear();
        doc.services.clear();
        sqlx::query(
            "INSERT INTO organizations (id, name, doc, modified_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc, modified_at = excluded.modified_at",
        )
        .bind(o.id.to_string())
        .bind(o.name.clone())
        .bind(to_json(&doc))
        .bind(to_micros(now))
        .execute(&mut *conn)
        .await?;
        tick(1);
    }
    for l in b.locations.iter() {
        let mut owner = l.organization_id;
        if let Some(org) = l.organization_id
            && !b.organizations.contains(&org)
            && !exists(conn, "organizations", &org).await?
        {
            dangling(
                format!("locations[{}].organization_id", l.id),
                format!("organization {org} does not exist"),
            )?;
            owner = None;
        }
        let point = location_point(l);
        sqlx::query(
            "INSERT INTO locations (id, organization_id, name, latitude, longitude, cell, doc, modified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET \
             organization_id = excluded.organization_id, name = excluded.name, latitude = excluded.latitude, \
             longitude = excluded.longitude, cell = excluded.cell, doc = excluded.doc, modified_at = excluded.modified_at",
        )
        .bind(l.id.to_string())
        .bind(owner.map(|u| u.to_string()))
        .bind(l.name.clone())
        .bind(point.map(|p| p.lat()))
        .bind(point.map(|p| p.lon()))
        .bind(point.map(|p| grid_cell(&p)))
        .bind(to_json(l))
        .bind(to_micros(now))
        .execute(&mut *conn)
        .await?;
        // The services delivered here move with it.
        sqlx::query("DELETE FROM service_points WHERE location_id = $1")
            .bind(l.id.to_string())
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO service_points (service_id, location_id, latitude, longitude, cell, name, weekly_hours) \
             SELECT sal.service_id, l.id, l.latitude, l.longitude, l.cell, s.name, s.weekly_hours FROM service_at_locations sal \
             JOIN locations l ON l.id = sal.location_id JOIN services s ON s.id = sal.service_id \
             WHERE l.id = $1 AND l.latitude IS NOT NULL ON CONFLICT DO NOTHING",
        )
        .bind(l.id.to_string())
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM service_term_points WHERE location_id = $1")
            .bind(l.id.to_string())
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO service_term_points (term_id, cell, service_id, location_id, latitude, longitude, name, weekly_hours) \
             SELECT st.term_id, p.cell, p.service_id, p.location_id, p.latitude, p.longitude, p.name, p.weekly_hours \
             FROM service_points p JOIN service_terms st ON st.service_id = p.service_id WHERE p.location_id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(l.id.to_string())
        .execute(&mut *conn)
        .await?;
        tick(1);
    }

    let analyzer = Analyzer::new();
    let mut touched: HashSet<Uuid> = HashSet::new();
    for s in b.services.iter() {
        let mut owner = s.organization_id;
        if let Some(org) = s.organization_id
            && !b.organizations.contains(&org)
            && !exists(conn, "organizations", &org).await?
        {
            dangling(
                format!("services[{}].organization_id", s.id),
                format!("organization {org} does not exist"),
            )?;
            owner = None;
        }
        write_service(conn, s, owner, &analyzer, now).await?;
        if replace_links {
            sqlx::query("DELETE FROM service_at_locations WHERE service_id = $1")
                .bind(s.id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        touched.insert(s.id);
        tick(1);
    }
    for sal in b.service_at_locations.iter() {
        let Some(service_id) = sal.service_id else {
            return Err(StoreError::Reference {
                field: format!("service_at_locations[{}].service_id", sal.id),
                reason: "is missing".into(),
            });
        };
        if !b.services.contains(&service_id) && !exists(conn, "services", &service_id).await? {
            // A link without its service cannot be kept anywhere, even in lenient mode.
            return Err(StoreError::Reference {
                field: format!("service_at_locations[{}].service_id", sal.id),
                reason: format!("service {service_id} does not exist"),
            });
        }
        let mut place = sal.location_id;
        if let Some(loc) = sal.location_id
            && !b.locations.contains(&loc)
            && !exists(conn, "locations", &loc).await?
        {
            dangling(
                format!("service_at_locations[{}].location_id", sal.id),
                format!("location {loc} does not exist"),
            )?;
            place = None;
        }
        sqlx::query(
            "INSERT INTO service_at_locations (id, service_id, location_id, doc, modified_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET service_id = excluded.service_id, \
             location_id = excluded.location_id, doc = excluded.doc, modified_at = excluded.modified_at",
        )
        .bind(sal.id.to_string())
        .bind(service_id.to_string())
        .bind(place.map(|u| u.to_string()))
        .bind(to_json(sal))
        .bind(to_micros(now))
        .execute(&mut *conn)
        .await?;
        touched.insert(service_id);
        tick(1);
    }
    for id in &touched {
        refresh_points(conn, *id).await?;
    }
    // Tell the search indexes what changed: the services written, those delivered at the places
    // written, or everything when names they show (organisations, categories) may have changed.
    let full =
        !b.organizations.is_empty() || !b.taxonomy_terms.is_empty() || !b.taxonomies.is_empty();
    if !full {
        for l in b.locations.iter() {
            let rows =
                sqlx::query("SELECT service_id FROM service_at_locations WHERE location_id = $1")
                    .bind(l.id.to_string())
                    .fetch_all(&mut *conn)
                    .await?;
            touched.extend(
                rows.iter()
                    .filter_map(|r| r.get::<String, _>(0).parse::<Uuid>().ok()),
            );
        }
    }
    let ids: Vec<Uuid> = touched.into_iter().collect();
    record_changes(conn, &ids, full).await?;
    Ok(warnings)
}

/// Bumps the directory's version and records what changed under it. The counter row's lock
/// (PostgreSQL) or the single writer (SQLite) makes versions commit in order.
pub(crate) async fn record_changes(
    conn: &mut AnyConnection,
    ids: &[Uuid],
    full: bool,
) -> Result<()> {
    let v: i64 = sqlx::query(
        "UPDATE directory_version SET version = version + 1 WHERE id = 1 RETURNING version",
    )
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    let mut values: Vec<String> = ids.iter().map(|u| u.to_string()).collect();
    if full {
        values = vec!["*".to_string()];
    }
    for chunk in values.chunks(200) {
        let mut sql = Sql::new("INSERT INTO directory_changes (version, service_id) VALUES ");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(")
                .bind(Val::I64(v))
                .push(", ")
                .bind_text(id.clone())
                .push(")");
        }
        sql.push(" ON CONFLICT DO NOTHING");
        sql.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn refresh_points(conn: &mut AnyConnection, service: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM service_points WHERE service_id = $1")
        .bind(service.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO service_points (service_id, location_id, latitude, longitude, cell, name, weekly_hours) \
         SELECT sal.service_id, l.id, l.latitude, l.longitude, l.cell, s.name, s.weekly_hours FROM service_at_locations sal \
         JOIN locations l ON l.id = sal.location_id JOIN services s ON s.id = sal.service_id \
         WHERE sal.service_id = $1 AND l.latitude IS NOT NULL ON CONFLICT DO NOTHING",
    )
    .bind(service.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM service_term_points WHERE service_id = $1")
        .bind(service.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO service_term_points (term_id, cell, service_id, location_id, latitude, longitude, name, weekly_hours) \
         SELECT st.term_id, p.cell, p.service_id, p.location_id, p.latitude, p.longitude, p.name, p.weekly_hours \
         FROM service_points p JOIN service_terms st ON st.service_id = p.service_id WHERE p.service_id = $1 \
         ON CONFLICT DO NOTHING",
    )
    .bind(service.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_pairs(
    conn: &mut AnyConnection,
    table: &str,
    col: &str,
    id: &str,
    values: &[String],
) -> Result<()> {
    for chunk in values.chunks(200) {
        let mut sql = Sql::new("INSERT INTO ");
        sql.push(table)
            .push(" (service_id, ")
            .push(col)
            .push(") VALUES ");
        for (i, v) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(")
                .bind_text(id)
                .push(", ")
                .bind_text(v.clone())
                .push(")");
        }
        sql.push(" ON CONFLICT DO NOTHING");
        sql.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn write_service(
    conn: &mut AnyConnection,
    s: &Service,
    owner: Option<Uuid>,
    analyzer: &Analyzer,
    now: OffsetDateTime,
) -> Result<()> {
    let mut doc = s.clone();
    doc.organization = None;
    doc.service_at_locations.clear();
    let modified = match doc
        .last_modified
        .as_deref()
        .map(|t| trama_core::query::parse_datetime("last_modified", t))
    {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            return Err(StoreError::Invalid(trama_core::FieldError::new(
                format!("services[{}].last_modified", s.id),
                e.reason,
            )));
        }
        None => {
            doc.last_modified = Some(rfc3339(now));
            now
        }
    };
    let hours = WeeklyHours::from_schedules(&doc.schedules).map_err(|e| {
        StoreError::Invalid(trama_core::FieldError::new(
            format!("services[{}].{}", s.id, e.field),
            e.reason,
        ))
    })?;
    let id = s.id.to_string();
    sqlx::query(
        "INSERT INTO services (id, organization_id, name, status, doc, weekly_hours, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
         organization_id = excluded.organization_id, name = excluded.name, status = excluded.status, \
         doc = excluded.doc, weekly_hours = excluded.weekly_hours, modified_at = excluded.modified_at",
    )
    .bind(id.clone())
    .bind(owner.map(|u| u.to_string()))
    .bind(s.name.clone())
    .bind(s.status.clone())
    .bind(to_json(&doc))
    .bind(to_json(&hours))
    .bind(to_micros(modified))
    .execute(&mut *conn)
    .await?;

    for table in ["service_terms", "service_funders", "service_words"] {
        let sql = match table {
            "service_terms" => "DELETE FROM service_terms WHERE service_id = $1",
            "service_funders" => "DELETE FROM service_funders WHERE service_id = $1",
            _ => "DELETE FROM service_words WHERE service_id = $1",
        };
        sqlx::query(sql)
            .bind(id.clone())
            .execute(&mut *conn)
            .await?;
    }

    let terms: Vec<String> = attribute_term_ids(&doc.attributes)
        .iter()
        .map(|u| u.to_string())
        .collect();
    insert_pairs(conn, "service_terms", "term_id", &id, &terms).await?;

    let mut funders: Vec<String> = doc
        .funding
        .iter()
        .filter_map(|f| f.source.as_deref())
        .map(normalize_funder)
        .collect();
    funders.sort();
    funders.dedup();
    insert_pairs(conn, "service_funders", "funder", &id, &funders).await?;

    // Words: the service's own text, its categories in both languages, its organisation's name.
    let mut texts: Vec<String> = vec![doc.name.clone()];
    texts.extend(doc.alternate_name.clone());
    texts.extend(doc.description.clone());
    if !terms.is_empty() {
        let mut sql = Sql::new("SELECT name, name_en FROM taxonomy_terms WHERE id IN ");
        sql.bind_list(terms.iter().cloned());
        for r in sql.build().fetch_all(&mut *conn).await? {
            texts.push(r.get::<String, _>(0));
            texts.extend(r.get::<Option<String>, _>(1));
        }
    }
    if let Some(org) = owner {
        let r = sqlx::query("SELECT name FROM organizations WHERE id = $1")
            .bind(org.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        texts.extend(r.map(|r| r.get::<String, _>(0)));
    }
    let words: Vec<String> = analyzer
        .index_terms(texts.iter().map(|s| s.as_str()))
        .into_iter()
        .collect();
    insert_pairs(conn, "service_words", "term", &id, &words).await?;
    Ok(())
}

/// What a query's rows are: services (`s`), or search points (`p`), which carry the service's
/// id, name and hours but no other column of it.
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    Services,
    Points,
}

/// Adds the parts of a query that filter services to `sql`. `terms_done`: the category is
/// already applied by the table the query reads (the points by category).
fn push_service_filters(
    sql: &mut Sql,
    q: &ServiceQuery,
    term_ids: &[String],
    analyzer: &Analyzer,
    from: Rows,
    terms_done: bool,
) {
    let id = match from {
        Rows::Services => "s.id",
        Rows::Points => "p.service_id",
    };
    if let Some(org) = q.organization_id {
        match from {
            Rows::Services => sql
                .push(" AND s.organization_id = ")
                .bind_text(org.to_string()),
            Rows::Points => sql
                .push(" AND p.service_id IN (SELECT id FROM services WHERE organization_id = ")
                .bind_text(org.to_string())
                .push(")"),
        };
    }
    if let Some(t) = q.modified_after {
        match from {
            Rows::Services => sql
                .push(" AND s.modified_at >= ")
                .bind(Val::I64(to_micros(t))),
            Rows::Points => sql
                .push(" AND p.service_id IN (SELECT id FROM services WHERE modified_at >= ")
                .bind(Val::I64(to_micros(t)))
                .push(")"),
        };
    }
    if q.taxonomy_term_id.is_some() && !terms_done {
        sql.push(" AND ")
            .push(id)
            .push(" IN (SELECT service_id FROM service_terms WHERE term_id IN ");
        sql.bind_list(term_ids.iter().cloned());
        sql.push(")");
    }
    if let Some(tax) = q.taxonomy_id {
        sql.push(" AND ").push(id).push(
            " IN (SELECT st.service_id FROM service_terms st JOIN taxonomy_terms tt \
             ON tt.id = st.term_id WHERE tt.taxonomy_id = ",
        );
        sql.bind_text(tax.to_string()).push(")");
    }
    if let Some(f) = &q.funder {
        sql.push(" AND ")
            .push(id)
            .push(" IN (SELECT service_id FROM service_funders WHERE funder = ");
        sql.bind_text(f.clone()).push(")");
    }
    if let Some(text) = &q.search {
        // The words typed, or what the services call them (`text::SYNONYMS`): for one of the
        // alternatives, every word's group.
        let alternatives = analyzer.alternative_groups(text);
        if alternatives.is_empty() {
            // Only stop words: nothing can match.
            sql.push(" AND 1 = 0");
        } else {
            sql.push(" AND (");
            for (i, groups) in alternatives.into_iter().enumerate() {
                sql.push(if i == 0 { "(" } else { " OR (" });
                for (k, g) in groups.into_iter().enumerate() {
                    if k > 0 {
                        sql.push(" AND ");
                    }
                    sql.push(id)
                        .push(" IN (SELECT service_id FROM service_words WHERE term IN ");
                    sql.bind_list(g);
                    sql.push(")");
                }
                sql.push(")");
            }
            sql.push(")");
        }
    }
}

impl Store {
    /// Imports HSDS data in one transaction: all of it or, on any error, none of it. References
    /// to entities that exist nowhere are kept in the documents and reported in the returned
    /// warnings (the official HSDS examples have some).
    pub async fn import_bundle(
        &self,
        b: &Bundle,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<Vec<String>> {
        let mut tx = self.write.begin().await?;
        let warnings = write_bundle(
            self.now(),
            &mut tx,
            b,
            &HashMap::new(),
            false,
            false,
            progress,
        )
        .await?;
        tx.commit().await?;
        Ok(warnings)
    }

    /// Writes a service with exactly the links to locations it carries (and any nested
    /// locations), as the provider API does.
    pub async fn put_service(&self, s: &Service) -> Result<()> {
        let mut b = Bundle::default();
        b.add_service(s.clone());
        // The service's organisation must exist already; a nested organisation is not written.
        b.organizations = Default::default();
        let mut tx = self.write.begin().await?;
        write_bundle(
            self.now(),
            &mut tx,
            &b,
            &HashMap::new(),
            true,
            true,
            &mut |_| {},
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes locations (with a fresh index of the services delivered there).
    pub async fn put_locations(&self, locations: &[Location]) -> Result<()> {
        let mut b = Bundle::default();
        for l in locations {
            b.add_location(l.clone());
        }
        let mut tx = self.write.begin().await?;
        write_bundle(
            self.now(),
            &mut tx,
            &b,
            &HashMap::new(),
            false,
            true,
            &mut |_| {},
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes organisations with Trama's kind of each (municipal, social_cooperative, ...).
    pub async fn put_organizations(&self, orgs: &[(Organization, Option<String>)]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let mut b = Bundle::default();
        for (o, _) in orgs {
            b.add_organization(o.clone());
        }
        write_bundle(
            self.now(),
            &mut tx,
            &b,
            &HashMap::new(),
            false,
            true,
            &mut |_| {},
        )
        .await?;
        for (o, kind) in orgs {
            sqlx::query("UPDATE organizations SET kind = $1 WHERE id = $2")
                .bind(kind.clone())
                .bind(o.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes taxonomies and terms, with the English label of each term.
    pub async fn put_taxonomy(&self, t: &Taxonomy, terms: &[(TaxonomyTerm, String)]) -> Result<()> {
        let mut b = Bundle::default();
        b.add_taxonomy(t.clone());
        let mut english = HashMap::new();
        for (term, en) in terms {
            english.insert(term.id, en.clone());
            b.add_term(term.clone());
        }
        let mut tx = self.write.begin().await?;
        write_bundle(self.now(), &mut tx, &b, &english, false, true, &mut |_| {}).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Seeds the national nomenclature and the user areas (idempotent).
    pub async fn seed_taxonomies(&self) -> Result<()> {
        for seed in trama_core::taxonomy::seed_taxonomies() {
            let terms: Vec<(TaxonomyTerm, String)> = seed
                .terms
                .into_iter()
                .map(|(t, en)| (t, en.to_string()))
                .collect();
            self.put_taxonomy(&seed.taxonomy, &terms).await?;
        }
        Ok(())
    }

    pub async fn delete_service(&self, id: ServiceId) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        // Derived rows go by ON DELETE CASCADE; delete them explicitly too, so the store does not
        // depend on SQLite's foreign_keys pragma for correctness.
        for sql in [
            "DELETE FROM service_terms WHERE service_id = $1",
            "DELETE FROM service_funders WHERE service_id = $1",
            "DELETE FROM service_words WHERE service_id = $1",
            "DELETE FROM service_points WHERE service_id = $1",
            "DELETE FROM service_term_points WHERE service_id = $1",
            "DELETE FROM service_at_locations WHERE service_id = $1",
        ] {
            sqlx::query(sql)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let n = sqlx::query("DELETE FROM services WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            record_changes(&mut tx, &[id.as_uuid()], false).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// The organisation a service belongs to, for permission checks.
    pub async fn service_organization(
        &self,
        id: ServiceId,
    ) -> Result<Option<Option<OrganizationId>>> {
        let row = sqlx::query("SELECT organization_id FROM services WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| owner(r.get(0))).transpose()
    }

    /// The organisation a location belongs to.
    pub async fn location_organization(
        &self,
        id: LocationId,
    ) -> Result<Option<Option<OrganizationId>>> {
        let row = sqlx::query("SELECT organization_id FROM locations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| owner(r.get(0))).transpose()
    }

    pub async fn get_location(&self, id: LocationId) -> Result<Option<Location>> {
        let row = sqlx::query("SELECT doc FROM locations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| parse_doc("location", &id.to_string(), &r.get::<String, _>(0)))
            .transpose()
    }

    /// The locations of an organisation, by name.
    pub async fn organization_locations(&self, org: OrganizationId) -> Result<Vec<Location>> {
        let rows = sqlx::query(
            "SELECT id, doc FROM locations WHERE organization_id = $1 ORDER BY name, id",
        )
        .bind(org.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| parse_doc("location", &r.get::<String, _>(0), &r.get::<String, _>(1)))
            .collect()
    }

    /// A fully nested service.
    pub async fn get_service(&self, id: ServiceId) -> Result<Option<ServiceDetail>> {
        let Some(row) =
            sqlx::query("SELECT doc, organization_id, weekly_hours FROM services WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.read)
                .await?
        else {
            return Ok(None);
        };
        let sid = id.to_string();
        let mut service: Service = parse_doc("service", &sid, &row.get::<String, _>(0))?;
        let weekly_hours: WeeklyHours = parse_doc("service hours", &sid, &row.get::<String, _>(2))?;
        if let Some(org) = row.get::<Option<String>, _>(1) {
            let r = sqlx::query("SELECT doc FROM organizations WHERE id = $1")
                .bind(org.clone())
                .fetch_optional(&self.read)
                .await?;
            if let Some(r) = r {
                let o: Organization = parse_doc("organization", &org, &r.get::<String, _>(0))?;
                service.organization = Some(Box::new(o.summary()));
            }
        }
        service.service_at_locations = self.links_of(&sid).await?;
        Ok(Some(ServiceDetail {
            service,
            weekly_hours,
        }))
    }

    async fn links_of(&self, service_id: &str) -> Result<Vec<ServiceAtLocation>> {
        let rows = sqlx::query(
            "SELECT sal.id, sal.doc, l.doc FROM service_at_locations sal \
             LEFT JOIN locations l ON l.id = sal.location_id WHERE sal.service_id = $1 ORDER BY sal.id",
        )
        .bind(service_id.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.get(0);
                let mut sal: ServiceAtLocation =
                    parse_doc("service_at_location", &id, &r.get::<String, _>(1))?;
                if let Some(l) = r.get::<Option<String>, _>(2) {
                    sal.location = Some(Box::new(parse_doc("location", &id, &l)?));
                }
                Ok(sal)
            })
            .collect()
    }

    /// The ids of a term and of every term below it.
    async fn term_subtree(&self, id: TaxonomyTermId) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "WITH RECURSIVE sub(id) AS (SELECT CAST($1 AS TEXT) UNION SELECT t.id FROM taxonomy_terms t JOIN sub ON t.parent_id = sub.id) \
             SELECT id FROM sub",
        )
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
    }

    /// The directory search: filters, distance and opening hours, one page of results.
    pub async fn search_services(
        &self,
        q: &ServiceQuery,
        now_local: PrimitiveDateTime,
    ) -> Result<SearchResult> {
        // Near a point, without words or a whole taxonomy: from the in-memory index.
        if let Some(near) = &q.near
            && q.search.is_none()
            && q.taxonomy_id.is_none()
            && let Some(cells) =
                grid_cells_covering(&near.point.bounding_box(near.radius.km()), 400)
        {
            return self.search_near_in_memory(q, near, &cells, now_local).await;
        }
        self.search_services_sql(q, now_local).await
    }

    /// Builds (or brings up to date) the in-memory search index now, rather than at the first
    /// search; returns how many services it holds.
    pub async fn warm_search_index(&self) -> Result<usize> {
        Ok(self.cache.current(&self.read).await?.services.len())
    }

    /// The same search through SQL only, without the in-memory index: what searches with words
    /// use, and what the tests hold the index to.
    pub async fn search_services_sql(
        &self,
        q: &ServiceQuery,
        now_local: PrimitiveDateTime,
    ) -> Result<SearchResult> {
        let analyzer = Analyzer::new();
        let term_ids = match q.taxonomy_term_id {
            Some(t) => self.term_subtree(t).await?,
            None => vec![],
        };

        // Words without a point: every match, ranked by how well its name answers the words
        // (`Analyzer::name_score`), then paged.
        if q.near.is_none()
            && let Some(text) = &q.search
        {
            let alternatives = analyzer.query_alternatives(text);
            let mut sql =
                Sql::new("SELECT s.id, s.name, s.weekly_hours FROM services s WHERE 1 = 1");
            push_service_filters(&mut sql, q, &term_ids, &analyzer, Rows::Services, false);
            let rows = sql.build().fetch_all(&self.read).await?;
            let mut ranked: Vec<(f64, String, String)> = Vec::with_capacity(rows.len());
            for r in &rows {
                let id: String = r.get(0);
                let name: String = r.get(1);
                if q.open_now {
                    let hours: WeeklyHours =
                        parse_doc("service hours", &id, &r.get::<String, _>(2))?;
                    if !hours.is_open_at(now_local) {
                        continue;
                    }
                }
                ranked.push((analyzer.name_score(&name, &alternatives), name, id));
            }
            ranked.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then_with(|| a.1.cmp(&b.1))
                    .then_with(|| a.2.cmp(&b.2))
            });
            let total = ranked.len() as u64;
            q.page.check_within(total)?;
            let ids: Vec<String> = ranked
                .into_iter()
                .skip(q.page.offset() as usize)
                .take(q.page.per_page as usize)
                .map(|(_, _, id)| id)
                .collect();
            let hits = self.hits_for(&ids, &HashMap::new(), now_local).await?;
            return Ok(SearchResult { total, hits });
        }

        // Without a point or "open now", SQL counts and pages.
        if q.near.is_none() && !q.open_now {
            let mut count = Sql::new("SELECT COUNT(*) FROM services s WHERE 1 = 1");
            push_service_filters(&mut count, q, &term_ids, &analyzer, Rows::Services, false);
            let total = count.build().fetch_one(&self.read).await?.get::<i64, _>(0) as u64;
            q.page.check_within(total)?;
            let mut sql = Sql::new("SELECT s.id FROM services s WHERE 1 = 1");
            push_service_filters(&mut sql, q, &term_ids, &analyzer, Rows::Services, false);
            sql.push(" ORDER BY s.name, s.id LIMIT ")
                .bind(Val::I64(q.page.per_page as i64))
                .push(" OFFSET ")
                .bind(Val::I64(q.page.offset() as i64));
            let ids: Vec<String> = sql.build().rows(&self.read, |r| Ok(r.get(0))).await?;
            let hits = self.hits_for(&ids, &HashMap::new(), now_local).await?;
            return Ok(SearchResult { total, hits });
        }

        // Otherwise fetch the candidates, then measure, filter and sort here.
        let mut sql;
        let by_category = q.near.is_some() && q.taxonomy_term_id.is_some();
        if let Some(near) = &q.near {
            let bbox = near.point.bounding_box(near.radius.km());
            if by_category {
                // Points by category, then by cell: an index range per (category, cell).
                sql = Sql::new(
                    "SELECT p.service_id, p.name, p.weekly_hours, p.location_id, p.latitude, p.longitude \
                     FROM service_term_points p WHERE p.term_id IN ",
                );
                sql.bind_list(term_ids.iter().cloned());
                sql.push(" AND ");
            } else {
                sql = Sql::new(
                    "SELECT p.service_id, p.name, p.weekly_hours, p.location_id, p.latitude, p.longitude \
                     FROM service_points p WHERE ",
                );
            }
            match grid_cells_covering(&bbox, 400) {
                Some(cells) => {
                    sql.push("p.cell IN (");
                    for (i, c) in cells.into_iter().enumerate() {
                        if i > 0 {
                            sql.push(", ");
                        }
                        sql.bind(Val::I64(c));
                    }
                    sql.push(")");
                }
                None => {
                    sql.push("p.latitude BETWEEN ")
                        .bind(Val::F64(bbox.min_lat))
                        .push(" AND ")
                        .bind(Val::F64(bbox.max_lat));
                }
            }
            sql.push(" AND p.longitude BETWEEN ")
                .bind(Val::F64(bbox.min_lon))
                .push(" AND ")
                .bind(Val::F64(bbox.max_lon));
        } else {
            sql = Sql::new("SELECT s.id, s.name, s.weekly_hours FROM services s WHERE 1 = 1");
        }
        push_service_filters(
            &mut sql,
            q,
            &term_ids,
            &analyzer,
            if q.near.is_some() {
                Rows::Points
            } else {
                Rows::Services
            },
            by_category,
        );
        let rows = sql.build().fetch_all(&self.read).await?;

        struct Cand {
            name: String,
            open: bool,
            best: Option<(f64, LocationId, Coordinates)>,
        }
        let mut cands: HashMap<String, Cand> = HashMap::new();
        for r in &rows {
            let id: String = r.get(0);
            let point = match &q.near {
                Some(near) => {
                    let c = Coordinates::new(r.get(4), r.get(5)).ok();
                    let loc = r.get::<String, _>(3).parse::<LocationId>().ok();
                    match (c, loc) {
                        (Some(c), Some(loc)) => {
                            let d = near.point.distance_km(&c);
                            if d > near.radius.km() {
                                continue;
                            }
                            Some((d, loc, c))
                        }
                        _ => continue,
                    }
                }
                None => None,
            };
            if let Some(c) = cands.get_mut(&id) {
                if let (Some(p), Some(b)) = (point, c.best)
                    && p.0 < b.0
                {
                    c.best = Some(p);
                }
                continue;
            }
            // Hours matter here only for the "open now" filter; the page's hits get theirs later.
            let open = if q.open_now {
                let hours: WeeklyHours = parse_doc("service hours", &id, &r.get::<String, _>(2))?;
                hours.is_open_at(now_local)
            } else {
                true
            };
            cands.insert(
                id,
                Cand {
                    name: r.get(1),
                    open,
                    best: point,
                },
            );
        }
        let mut list: Vec<(String, Cand)> = cands
            .into_iter()
            .filter(|(_, c)| !q.open_now || c.open)
            .collect();
        list.sort_by(|a, b| {
            let da = a.1.best.map(|p| p.0).unwrap_or(0.0);
            let db = b.1.best.map(|p| p.0).unwrap_or(0.0);
            da.total_cmp(&db)
                .then_with(|| a.1.name.cmp(&b.1.name))
                .then_with(|| a.0.cmp(&b.0))
        });
        let total = list.len() as u64;
        q.page.check_within(total)?;
        let page: Vec<(String, Cand)> = list
            .into_iter()
            .skip(q.page.offset() as usize)
            .take(q.page.per_page as usize)
            .collect();
        let ids: Vec<String> = page.iter().map(|(id, _)| id.clone()).collect();
        let extra: HashMap<String, (f64, LocationId, Coordinates)> = page
            .into_iter()
            .filter_map(|(id, c)| c.best.map(|b| (id, b)))
            .collect();
        let hits = self.hits_for(&ids, &extra, now_local).await?;
        Ok(SearchResult { total, hits })
    }

    async fn search_near_in_memory(
        &self,
        q: &ServiceQuery,
        near: &trama_core::query::Near,
        cells: &[i64],
        now_local: PrimitiveDateTime,
    ) -> Result<SearchResult> {
        let snap = self.cache.current(&self.read).await?;
        let terms: Option<Vec<Uuid>> = q.taxonomy_term_id.map(|t| snap.subtree(t.as_uuid()));
        let after = q.modified_after.map(to_micros);
        let mut verdict: HashMap<Uuid, bool> = HashMap::new();
        let mut best: HashMap<Uuid, (f64, LocationId, Coordinates)> = HashMap::new();
        let radius = near.radius.km();
        let mut visit = |p: &crate::search_cache::Point| {
            let keep = *verdict.entry(p.service).or_insert_with(|| {
                let Some(s) = snap.services.get(&p.service) else {
                    return false;
                };
                q.organization_id
                    .is_none_or(|o| s.organization_id == Some(o.as_uuid()))
                    && after.is_none_or(|t| s.modified_at >= t)
                    && q.funder.as_ref().is_none_or(|f| s.funders.contains(f))
                    && (!q.open_now || s.hours.is_open_at(now_local))
            });
            if !keep {
                return;
            }
            let d = near.point.distance_km(&p.at);
            if d > radius {
                return;
            }
            let e = best.entry(p.service).or_insert((d, p.location, p.at));
            if d < e.0 {
                *e = (d, p.location, p.at);
            }
        };
        for cell in cells {
            match &terms {
                Some(terms) => {
                    for t in terms {
                        for p in snap
                            .by_term_cell
                            .get(&(*t, *cell))
                            .map(Vec::as_slice)
                            .unwrap_or(&[])
                        {
                            visit(p);
                        }
                    }
                }
                None => {
                    for p in snap.by_cell.get(cell).map(Vec::as_slice).unwrap_or(&[]) {
                        visit(p);
                    }
                }
            }
        }
        let mut list: Vec<(Uuid, (f64, LocationId, Coordinates))> = best.into_iter().collect();
        let name = |id: &Uuid| {
            snap.services
                .get(id)
                .map(|s| s.summary.name.as_str())
                .unwrap_or("")
        };
        list.sort_by(|a, b| {
            a.1.0
                .total_cmp(&b.1.0)
                .then_with(|| name(&a.0).cmp(name(&b.0)))
                .then_with(|| a.0.cmp(&b.0))
        });
        let total = list.len() as u64;
        q.page.check_within(total)?;
        let hits = list
            .into_iter()
            .skip(q.page.offset() as usize)
            .take(q.page.per_page as usize)
            .filter_map(|(id, (d, loc, at))| {
                let s = snap.services.get(&id)?;
                Some(SearchHit {
                    service: s.summary.clone(),
                    organization_name: s.organization_name.clone(),
                    distance_km: Some(d),
                    point: Some((loc, at)),
                    open_now: s.hours.is_open_at(now_local),
                })
            })
            .collect();
        Ok(SearchResult { total, hits })
    }

    async fn hits_for(
        &self,
        ids: &[String],
        near: &HashMap<String, (f64, LocationId, Coordinates)>,
        now_local: PrimitiveDateTime,
    ) -> Result<Vec<SearchHit>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = Sql::new(
            "SELECT s.id, s.doc, s.weekly_hours, o.name FROM services s \
             LEFT JOIN organizations o ON o.id = s.organization_id WHERE s.id IN ",
        );
        sql.bind_list(ids.iter().cloned());
        let rows = sql.build().fetch_all(&self.read).await?;
        let mut by_id: HashMap<String, SearchHit> = HashMap::new();
        for r in rows {
            let id: String = r.get(0);
            let s: Service = parse_doc("service", &id, &r.get::<String, _>(1))?;
            let hours: WeeklyHours = parse_doc("service hours", &id, &r.get::<String, _>(2))?;
            let n = near.get(&id);
            by_id.insert(
                id.clone(),
                SearchHit {
                    service: s.summary(),
                    organization_name: r.get(3),
                    distance_km: n.map(|x| x.0),
                    point: n.map(|x| (x.1, x.2)),
                    open_now: hours.is_open_at(now_local),
                },
            );
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// HSDS `/service_at_locations`: the links of the services that match, each with its location.
    pub async fn list_service_at_locations(
        &self,
        q: &ServiceQuery,
    ) -> Result<(u64, Vec<ServiceAtLocation>)> {
        let analyzer = Analyzer::new();
        let term_ids = match q.taxonomy_term_id {
            Some(t) => self.term_subtree(t).await?,
            None => vec![],
        };
        let mut count = Sql::new(
            "SELECT COUNT(*) FROM service_at_locations sal JOIN services s ON s.id = sal.service_id WHERE 1 = 1",
        );
        push_service_filters(&mut count, q, &term_ids, &analyzer, Rows::Services, false);
        let total = count.build().fetch_one(&self.read).await?.get::<i64, _>(0) as u64;
        q.page.check_within(total)?;
        let mut sql = Sql::new(
            "SELECT sal.id, sal.doc, l.doc FROM service_at_locations sal JOIN services s ON s.id = sal.service_id \
             LEFT JOIN locations l ON l.id = sal.location_id WHERE 1 = 1",
        );
        push_service_filters(&mut sql, q, &term_ids, &analyzer, Rows::Services, false);
        sql.push(" ORDER BY sal.id LIMIT ")
            .bind(Val::I64(q.page.per_page as i64))
            .push(" OFFSET ")
            .bind(Val::I64(q.page.offset() as i64));
        let rows = sql.build().fetch_all(&self.read).await?;
        let items = rows
            .iter()
            .map(|r| {
                let id: String = r.get(0);
                let mut sal: ServiceAtLocation =
                    parse_doc("service_at_location", &id, &r.get::<String, _>(1))?;
                if let Some(l) = r.get::<Option<String>, _>(2) {
                    sal.location = Some(Box::new(parse_doc("location", &id, &l)?));
                }
                Ok(sal)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((total, items))
    }

    /// HSDS `/service_at_locations/{id}`: the link with its location and its service (one-to-one fields).
    pub async fn get_service_at_location(
        &self,
        id: ServiceAtLocationId,
    ) -> Result<Option<ServiceAtLocation>> {
        let row = sqlx::query(
            "SELECT sal.doc, l.doc, s.doc FROM service_at_locations sal LEFT JOIN locations l ON l.id = sal.location_id \
             LEFT JOIN services s ON s.id = sal.service_id WHERE sal.id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let sid = id.to_string();
        let mut sal: ServiceAtLocation =
            parse_doc("service_at_location", &sid, &r.get::<String, _>(0))?;
        if let Some(l) = r.get::<Option<String>, _>(1) {
            sal.location = Some(Box::new(parse_doc("location", &sid, &l)?));
        }
        if let Some(s) = r.get::<Option<String>, _>(2) {
            let s: Service = parse_doc("service", &sid, &s)?;
            sal.service = Some(Box::new(s.summary()));
        }
        Ok(Some(sal))
    }

    /// Counts the rows of `table` that `filter` keeps, refuses a page past the last, and returns
    /// the page's rows: `columns` in `order`.
    async fn count_and_page(
        &self,
        table: &str,
        columns: &str,
        order: &str,
        filter: impl Fn(&mut Sql),
        page: PageRequest,
    ) -> Result<(u64, Vec<sqlx::any::AnyRow>)> {
        let mut count = Sql::new("SELECT COUNT(*) FROM ");
        count.push(table).push(" WHERE 1 = 1");
        filter(&mut count);
        let total = count.build().fetch_one(&self.read).await?.get::<i64, _>(0) as u64;
        page.check_within(total)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(columns)
            .push(" FROM ")
            .push(table)
            .push(" WHERE 1 = 1");
        filter(&mut sql);
        sql.push(" ORDER BY ").push(order).push(" LIMIT ");
        sql.bind(Val::I64(page.per_page as i64))
            .push(" OFFSET ")
            .bind(Val::I64(page.offset() as i64));
        Ok((total, sql.build().fetch_all(&self.read).await?))
    }

    /// HSDS `/organizations`: one-to-one fields, by name; `search` matches the name.
    pub async fn list_organizations(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<(u64, Vec<Organization>)> {
        let filter = |sql: &mut Sql| {
            if let Some(s) = search {
                sql.push(" AND LOWER(name) LIKE ")
                    .bind_text(format!("%{}%", like_escape(&s.to_lowercase())))
                    .push(" ESCAPE '\\'");
            }
        };
        let (total, rows) = self
            .count_and_page("organizations", "id, doc", "name, id", filter, page)
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                parse_doc::<Organization>(
                    "organization",
                    &r.get::<String, _>(0),
                    &r.get::<String, _>(1),
                )
                .map(|o| o.summary())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((total, items))
    }

    /// HSDS `/organizations/{id}`: the organisation with its locations and its services
    /// (one-to-one fields), and Trama's kind of organisation.
    pub async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<(Organization, Option<String>)>> {
        let Some(r) = sqlx::query("SELECT doc, kind FROM organizations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let mut o: Organization =
            parse_doc("organization", &id.to_string(), &r.get::<String, _>(0))?;
        let kind: Option<String> = r.get(1);
        o.locations = self.organization_locations(id).await?;
        let rows = sqlx::query(
            "SELECT id, doc FROM services WHERE organization_id = $1 ORDER BY name, id",
        )
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await?;
        o.services = rows
            .iter()
            .map(|r| {
                parse_doc::<Service>("service", &r.get::<String, _>(0), &r.get::<String, _>(1))
                    .map(|s| s.summary())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((o, kind)))
    }

    pub async fn list_taxonomies(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<(u64, Vec<Taxonomy>)> {
        let filter = |sql: &mut Sql| {
            if let Some(s) = search {
                sql.push(" AND LOWER(name) LIKE ")
                    .bind_text(format!("%{}%", like_escape(&s.to_lowercase())))
                    .push(" ESCAPE '\\'");
            }
        };
        let (total, rows) = self
            .count_and_page("taxonomies", "id, doc", "name, id", filter, page)
            .await?;
        let items = rows
            .iter()
            .map(|r| parse_doc("taxonomy", &r.get::<String, _>(0), &r.get::<String, _>(1)))
            .collect::<Result<Vec<_>>>()?;
        Ok((total, items))
    }

    pub async fn get_taxonomy(&self, id: TaxonomyId) -> Result<Option<Taxonomy>> {
        let r = sqlx::query("SELECT doc FROM taxonomies WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        r.map(|r| parse_doc("taxonomy", &id.to_string(), &r.get::<String, _>(0)))
            .transpose()
    }

    /// Taxonomy terms, by code then name. `parent`: children of a term; `top_only`: roots.
    pub async fn list_terms(
        &self,
        taxonomy: Option<TaxonomyId>,
        parent: Option<TaxonomyTermId>,
        top_only: bool,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<(u64, Vec<TermRow>)> {
        let filter = |sql: &mut Sql| {
            if let Some(t) = taxonomy {
                sql.push(" AND taxonomy_id = ").bind_text(t.to_string());
            }
            if let Some(p) = parent {
                sql.push(" AND parent_id = ").bind_text(p.to_string());
            }
            if top_only {
                sql.push(" AND parent_id IS NULL");
            }
            if let Some(s) = search {
                let pat = format!("%{}%", like_escape(&s.to_lowercase()));
                sql.push(" AND (LOWER(name) LIKE ")
                    .bind_text(pat.clone())
                    .push(" ESCAPE '\\' OR LOWER(name_en) LIKE ");
                sql.bind_text(pat).push(" ESCAPE '\\')");
            }
        };
        let (total, rows) = self
            .count_and_page(
                "taxonomy_terms",
                "id, doc, name_en",
                "code, name, id",
                filter,
                page,
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(TermRow {
                    term: parse_doc(
                        "taxonomy_term",
                        &r.get::<String, _>(0),
                        &r.get::<String, _>(1),
                    )?,
                    name_en: r.get(2),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((total, items))
    }

    pub async fn get_term(&self, id: TaxonomyTermId) -> Result<Option<TermRow>> {
        let r = sqlx::query("SELECT doc, name_en FROM taxonomy_terms WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        r.map(|r| {
            Ok(TermRow {
                term: parse_doc("taxonomy_term", &id.to_string(), &r.get::<String, _>(0))?,
                name_en: r.get(1),
            })
        })
        .transpose()
    }

    /// Every stored document of one table, as (id, JSON), by id.
    async fn documents(&self, table: &str) -> Result<Vec<(String, String)>> {
        let mut sql = Sql::new("SELECT id, doc FROM ");
        sql.push(table).push(" ORDER BY id");
        let rows = sql.build().fetch_all(&self.read).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Every stored entity, for export, in dependency order.
    pub async fn export_bundle(&self) -> Result<Bundle> {
        let mut b = Bundle::default();
        for (id, doc) in self.documents("taxonomies").await? {
            b.add_taxonomy(parse_doc("taxonomy", &id, &doc)?);
        }
        for (id, doc) in self.documents("taxonomy_terms").await? {
            b.add_term(parse_doc("taxonomy_term", &id, &doc)?);
        }
        for (id, doc) in self.documents("organizations").await? {
            b.add_organization(parse_doc("organization", &id, &doc)?);
        }
        for (id, doc) in self.documents("locations").await? {
            b.add_location(parse_doc("location", &id, &doc)?);
        }
        for (id, doc) in self.documents("services").await? {
            b.add_service(parse_doc("service", &id, &doc)?);
        }
        for (id, doc) in self.documents("service_at_locations").await? {
            b.add_service_at_location(parse_doc("service_at_location", &id, &doc)?);
        }
        Ok(b)
    }

    /// How many of each entity the directory holds.
    pub async fn directory_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        let mut out = Vec::new();
        for (name, sql) in [
            ("organizations", "SELECT COUNT(*) FROM organizations"),
            ("services", "SELECT COUNT(*) FROM services"),
            ("locations", "SELECT COUNT(*) FROM locations"),
            (
                "service_at_locations",
                "SELECT COUNT(*) FROM service_at_locations",
            ),
            ("taxonomy_terms", "SELECT COUNT(*) FROM taxonomy_terms"),
            ("hubs", "SELECT COUNT(*) FROM locations WHERE is_hub = 1"),
        ] {
            out.push((
                name,
                sqlx::query(sql)
                    .fetch_one(&self.read)
                    .await?
                    .get::<i64, _>(0),
            ));
        }
        Ok(out)
    }

    /// Marks locations as community hubs.
    pub async fn mark_hubs(&self, ids: &[LocationId]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for id in ids {
            sqlx::query("UPDATE locations SET is_hub = 1 WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A stored owning organisation: none, or an id (a corrupt one is an error, never "none").
fn owner(s: Option<String>) -> Result<Option<OrganizationId>> {
    s.map(|s| stored_id("organization id", s).map(OrganizationId))
        .transpose()
}
