//! Writing the directory: saving and removing a service, audited.

use crate::json::rfc3339;
use crate::service_error::store_calls;
use crate::service_error::{ServiceError, ServiceResult};
use crate::state::AppState;
use trama_core::FieldError;
use trama_core::auth::{Principal, Role};
use trama_core::geo::Coordinates;
use trama_core::hsds::{Service, validate_service};
use trama_core::ids::{LocationId, ServiceId, TaxonomyTermId};
use trama_core::query::ServiceQuery;
use trama_store::SearchResult;

/// Checks and writes a provider's service: the organisation must be one the person administers,
/// and so must every location it is delivered at. Shared by the API and the web form.
pub async fn save_service(
    state: &AppState,
    p: &Principal,
    mut s: Service,
    existing: Option<ServiceId>,
) -> ServiceResult<Service> {
    validate_service(&s).map_err(ServiceError::InvalidBody)?;
    let org = s.organization_id.ok_or_else(|| {
        ServiceError::InvalidBody(FieldError::new("organization_id", "is required"))
    })?;
    if let Some(id) = existing {
        if s.id != id.as_uuid() {
            return Err(ServiceError::InvalidBody(FieldError::new(
                "id",
                "differs from the id in the address",
            )));
        }
        match state.store.service_organization(id).await? {
            None => return Err(ServiceError::not_found("service", &id.to_string())),
            Some(current) => {
                if current.is_some_and(|o| !p.can_edit_organization(o))
                    || (current.is_none() && !p.has_role(Role::TerritoryAdmin))
                {
                    return Err(ServiceError::Forbidden(
                        "this service belongs to an organisation you do not administer".into(),
                    ));
                }
            }
        }
    } else if state
        .store
        .service_organization(ServiceId(s.id))
        .await?
        .is_some()
    {
        return Err(ServiceError::Conflict(FieldError::new(
            "id",
            "a service with this id exists; use PUT to change it",
        )));
    }
    if !p.can_edit_organization(org.into()) {
        return Err(ServiceError::Forbidden(
            "you can change only the services of organisations you administer".into(),
        ));
    }
    if s.organization.is_some() {
        return Err(ServiceError::InvalidBody(FieldError::new(
            "organization",
            "is not written through a service; give organization_id",
        )));
    }
    // A category named by id must be one the territory has (a term given inline is its own).
    for (i, a) in s.attributes.iter().enumerate() {
        if let (Some(tid), None) = (a.taxonomy_term_id, &a.taxonomy_term)
            && state.store.get_term(TaxonomyTermId(tid)).await?.is_none()
        {
            return Err(ServiceError::InvalidReference(FieldError::new(
                format!("attributes[{i}].taxonomy_term_id"),
                format!("taxonomy term {tid} does not exist"),
            )));
        }
    }
    for (i, sal) in s.service_at_locations.iter_mut().enumerate() {
        if let Some(loc) = sal.location.as_deref_mut() {
            if let (Some(lat), Some(lon)) = (loc.latitude, loc.longitude) {
                Coordinates::named(
                    lat,
                    lon,
                    &format!("service_at_locations[{i}].location.latitude"),
                    &format!("service_at_locations[{i}].location.longitude"),
                )
                .map_err(ServiceError::InvalidBody)?;
            }
            match loc.organization_id {
                None => loc.organization_id = Some(org),
                Some(o) if o != org => {
                    return Err(ServiceError::InvalidBody(FieldError::new(
                        format!("service_at_locations[{i}].location.organization_id"),
                        "must be the service's organization",
                    )));
                }
                _ => {}
            }
            if let Some(Some(owner)) = state
                .store
                .location_organization(LocationId(loc.id))
                .await?
                && owner.as_uuid() != org
            {
                return Err(ServiceError::Forbidden(format!(
                    "location {} belongs to another organisation",
                    loc.id
                )));
            }
        } else if let Some(lid) = sal.location_id {
            match state.store.location_organization(LocationId(lid)).await? {
                None => {
                    return Err(ServiceError::InvalidReference(FieldError::new(
                        format!("service_at_locations[{i}].location_id"),
                        format!("location {lid} does not exist"),
                    )));
                }
                Some(owner) if owner.map(|o| o.as_uuid()) != Some(org) => {
                    return Err(ServiceError::Forbidden(format!(
                        "location {lid} belongs to another organisation"
                    )));
                }
                _ => {}
            }
        }
        sal.service_id = Some(s.id);
    }
    let now = state.now();
    let millis = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    s.last_modified = Some(rfc3339(millis));
    state.store.put_service(&s).await?;
    let action = if existing.is_some() {
        "service.update"
    } else {
        "service.create"
    };
    audit_service(state, p, action, &s.id.to_string()).await?;
    Ok(s)
}

/// Records in the audit log who did what to a service.
pub(crate) async fn audit_service(
    state: &AppState,
    p: &Principal,
    action: &str,
    id: &str,
) -> ServiceResult<()> {
    crate::accounts::service::audit(state, p, action, "service", id, None, None).await
}

/// Deletes a provider's service.
pub async fn remove_service(state: &AppState, p: &Principal, id: ServiceId) -> ServiceResult<()> {
    match state.store.service_organization(id).await? {
        None => return Err(ServiceError::not_found("service", &id.to_string())),
        Some(org) => {
            if !org.is_some_and(|o| p.can_edit_organization(o)) && !p.has_role(Role::TerritoryAdmin)
            {
                return Err(ServiceError::Forbidden(
                    "this service belongs to an organisation you do not administer".into(),
                ));
            }
        }
    }
    state.store.delete_service(id).await?;
    audit_service(state, p, "service.delete", &id.to_string()).await?;
    Ok(())
}

/// Searches the directory: words, taxonomy, a point and radius, open now (in the territory's
/// time), as `ServiceQuery` parsed them. The HSDS API and the search page ask this, nothing
/// else; the store answers from its in-memory index near a point, from SQL otherwise.
pub async fn search(state: &AppState, q: &ServiceQuery) -> ServiceResult<SearchResult> {
    Ok(state.store.search_services(q, state.now_local()).await?)
}

/// A taxonomy's terms, a page at a time (public).
pub async fn list_terms(
    state: &AppState,
    taxonomy: Option<trama_core::ids::TaxonomyId>,
    parent: Option<trama_core::ids::TaxonomyTermId>,
    top_only: bool,
    search: Option<&str>,
    page: trama_core::hsds::PageRequest,
) -> ServiceResult<(u64, Vec<trama_store::TermRow>)> {
    Ok(state
        .store
        .list_terms(taxonomy, parent, top_only, search, page)
        .await?)
}

/// Imports an HSDS bundle in one transaction (all or nothing), then refreshes the planner's
/// statistics; the warnings say what was kept only in the documents.
pub async fn import_bundle(
    state: &AppState,
    bundle: &trama_core::hsds::Bundle,
    progress: &mut (dyn FnMut(trama_store::ImportProgress) + Send),
) -> ServiceResult<Vec<String>> {
    let warnings = state.store.import_bundle(bundle, progress).await?;
    state.store.optimize().await?;
    Ok(warnings)
}

/// Writes organisations with Trama's kind of each (municipal, social_cooperative, ...): an
/// import's second half, after the HSDS bundle.
pub async fn import_organization_kinds(
    state: &AppState,
    orgs: &[(trama_core::hsds::Organization, Option<String>)],
) -> ServiceResult<()> {
    Ok(state.store.put_organizations(orgs).await?)
}

/// Imports a municipality's areas (replacing those with the same kind and code); needs and
/// offers are placed in them from now on.
pub async fn import_areas(
    state: &AppState,
    areas: &[trama_core::areas::Area],
) -> ServiceResult<()> {
    state.store.put_areas(areas).await?;
    state.areas.clear();
    Ok(())
}

/// Imports an address gazetteer (`trama places import`, the demo's): all of it or none.
pub async fn import_places(
    state: &AppState,
    places: &[trama_core::places::Address],
) -> ServiceResult<u64> {
    Ok(state.store.put_places(places).await?)
}

/// Where a typed place is: a neighbourhood or Municipio by its name, else an address of the
/// gazetteer ("Via Torino 43", or the street as a whole). With its name as the page shows it.
pub async fn resolve_place(
    state: &AppState,
    typed: &str,
) -> ServiceResult<Option<(String, trama_core::geo::Coordinates)>> {
    let wanted = trama_core::places::loose_key(typed);
    if wanted.is_empty() {
        return Ok(None);
    }
    let areas = crate::territory::areas(state).await?;
    let by_name = |exact: bool| {
        areas.0.iter().chain(areas.1.iter()).find_map(|a| {
            let name = trama_core::places::loose_key(&a.name);
            let hit = if exact {
                name == wanted
            } else {
                wanted.chars().count() >= 4 && name.contains(&wanted)
            };
            let c = a
                .centroid
                .or_else(|| a.polygons.first().and_then(|p| p.centroid()))?;
            hit.then(|| (a.name.clone(), c))
        })
    };
    if let Some(found) = by_name(true) {
        return Ok(Some(found));
    }
    // The landmarks the territory lists (Piazza del Duomo…), by their name.
    for (name, lat, lon) in &state.config.map.places {
        let key = trama_core::places::loose_key(name);
        if (key == wanted || (wanted.chars().count() >= 4 && key.contains(&wanted)))
            && let Ok(c) = trama_core::geo::Coordinates::new(*lat, *lon)
        {
            return Ok(Some((name.clone(), c)));
        }
    }
    let (street, number) = trama_core::places::parse_typed(typed);
    if let Some(p) = state.store.find_place(&street, number.as_deref()).await? {
        let label = if p.number.is_empty() {
            p.street
        } else {
            format!("{} {}", p.street, p.number)
        };
        return Ok(Some((label, p.point)));
    }
    Ok(by_name(false))
}

store_calls! {
    /// How many addresses the gazetteer holds.
    pub fn count_places() -> i64;
    /// The areas of a kind (`municipio`, `nil`), for the pages' choices and maps.
    pub fn areas(kind: &str) -> Vec<trama_core::areas::Area>;
    /// Which of these services are delivered at a community hub.
    pub fn services_at_hubs(services: &[uuid::Uuid]) -> std::collections::HashSet<uuid::Uuid>;
    /// A service with its places, as the directory holds it (public).
    pub fn get_service(id: ServiceId) -> Option<trama_store::ServiceDetail>;
    /// A taxonomy term (public).
    pub fn get_term(id: trama_core::ids::TaxonomyTermId) -> Option<trama_store::TermRow>;
    /// An organisation and its kind (public).
    pub fn get_organization(
        id: trama_core::ids::OrganizationId,
    ) -> Option<(trama_core::hsds::Organization, Option<String>)>;
    pub fn list_organizations(
        search: Option<&str>,
        page: trama_core::hsds::PageRequest,
    ) -> (u64, Vec<trama_core::hsds::Organization>);
    pub fn list_service_at_locations(
        q: &trama_core::query::ServiceQuery,
    ) -> (u64, Vec<trama_core::hsds::ServiceAtLocation>);
    pub fn get_service_at_location(
        id: trama_core::ids::ServiceAtLocationId,
    ) -> Option<trama_core::hsds::ServiceAtLocation>;
    pub fn list_taxonomies(
        search: Option<&str>,
        page: trama_core::hsds::PageRequest,
    ) -> (u64, Vec<trama_core::hsds::Taxonomy>);
    pub fn get_taxonomy(id: trama_core::ids::TaxonomyId) -> Option<trama_core::hsds::Taxonomy>;
    /// The whole directory as an HSDS bundle.
    pub fn export_bundle() -> trama_core::hsds::Bundle;
    /// Marks locations as the territory's community hubs.
    pub fn mark_hubs(ids: &[trama_core::ids::LocationId]) -> ();
}
