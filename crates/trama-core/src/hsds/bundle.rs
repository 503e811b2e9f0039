//! A bundle: HSDS data flattened into one collection per stored entity, in the order the store
//! writes them. Nested documents (a service with its organization and locations, an
//! organization with its services) are taken apart here, so every source (JSON documents, the
//! tabular data package, the API) is written the same way.

use std::collections::HashMap;
use uuid::Uuid;

use super::{Location, Organization, Service, ServiceAtLocation, Taxonomy, TaxonomyTerm};

/// One collection that keeps the first position of each id; a later copy of the same id replaces
/// the earlier one only when it carries more (a nested copy is often a summary of the full one).
#[derive(Debug, Clone)]
pub struct Collection<T> {
    items: Vec<T>,
    index: HashMap<Uuid, usize>,
}

impl<T> Default for Collection<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: serde::Serialize> Collection<T> {
    fn put(&mut self, id: Uuid, item: T) {
        match self.index.get(&id) {
            Some(&i) => {
                let weight = |t: &T| serde_json::to_string(t).map(|s| s.len()).unwrap_or(0);
                if weight(&item) > weight(&self.items[i]) {
                    self.items[i] = item;
                }
            }
            None => {
                self.index.insert(id, self.items.len());
                self.items.push(item);
            }
        }
    }
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn contains(&self, id: &Uuid) -> bool {
        self.index.contains_key(id)
    }
    pub fn get(&self, id: &Uuid) -> Option<&T> {
        self.index.get(id).map(|&i| &self.items[i])
    }
}

/// HSDS data ready to store: every entity once, none nested in another.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    pub taxonomies: Collection<Taxonomy>,
    pub taxonomy_terms: Collection<TaxonomyTerm>,
    pub organizations: Collection<Organization>,
    pub locations: Collection<Location>,
    pub services: Collection<Service>,
    pub service_at_locations: Collection<ServiceAtLocation>,
}

impl Bundle {
    pub fn len(&self) -> usize {
        self.taxonomies.len()
            + self.taxonomy_terms.len()
            + self.organizations.len()
            + self.locations.len()
            + self.services.len()
            + self.service_at_locations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn add_taxonomy(&mut self, t: Taxonomy) {
        self.taxonomies.put(t.id, t);
    }

    pub fn add_term(&mut self, mut t: TaxonomyTerm) {
        if let Some(detail) = t.taxonomy_detail.take() {
            if t.taxonomy_id.is_none() {
                t.taxonomy_id = Some(detail.id);
            }
            self.add_taxonomy(*detail);
        }
        self.taxonomy_terms.put(t.id, t);
    }

    pub fn add_organization(&mut self, mut o: Organization) {
        for mut l in std::mem::take(&mut o.locations) {
            l.organization_id.get_or_insert(o.id);
            self.add_location(l);
        }
        for mut s in std::mem::take(&mut o.services) {
            s.organization_id.get_or_insert(o.id);
            self.add_service(s);
        }
        self.collect_attribute_terms(&o.attributes);
        self.organizations.put(o.id, o);
    }

    pub fn add_location(&mut self, l: Location) {
        self.collect_attribute_terms(&l.attributes);
        self.locations.put(l.id, l);
    }

    pub fn add_service(&mut self, mut s: Service) {
        if let Some(org) = s.organization.take() {
            s.organization_id.get_or_insert(org.id);
            self.add_organization(*org);
        }
        for mut sal in std::mem::take(&mut s.service_at_locations) {
            sal.service_id = Some(s.id);
            self.add_service_at_location(sal);
        }
        self.collect_attribute_terms(&s.attributes);
        self.services.put(s.id, s);
    }

    pub fn add_service_at_location(&mut self, mut sal: ServiceAtLocation) {
        if let Some(l) = sal.location.take() {
            sal.location_id.get_or_insert(l.id);
            self.add_location(*l);
        }
        if let Some(s) = sal.service.take() {
            sal.service_id.get_or_insert(s.id);
            self.add_service(*s);
        }
        self.service_at_locations.put(sal.id, sal);
    }

    fn collect_attribute_terms(&mut self, attrs: &[super::Attribute]) {
        for a in attrs {
            if let Some(t) = &a.taxonomy_term {
                self.add_term((**t).clone());
            }
        }
    }
}

/// The taxonomy terms an entity is classified under (HSDS 3.0 links them through attributes).
pub fn attribute_term_ids(attrs: &[super::Attribute]) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = attrs
        .iter()
        .filter_map(|a| {
            a.taxonomy_term_id
                .or_else(|| a.taxonomy_term.as_ref().map(|t| t.id))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Service {
    /// The service's one-to-one fields only, as HSDS lists carry them.
    pub fn summary(&self) -> Service {
        Service {
            phones: vec![],
            schedules: vec![],
            service_areas: vec![],
            service_at_locations: vec![],
            languages: vec![],
            organization: None,
            funding: vec![],
            cost_options: vec![],
            program: None,
            required_documents: vec![],
            contacts: vec![],
            attributes: vec![],
            metadata: vec![],
            ..self.clone()
        }
    }
}

impl Organization {
    /// The organization's one-to-one fields only, as nested in a service.
    pub fn summary(&self) -> Organization {
        Organization {
            funding: vec![],
            contacts: vec![],
            phones: vec![],
            locations: vec![],
            programs: vec![],
            organization_identifiers: vec![],
            attributes: vec![],
            metadata: vec![],
            services: vec![],
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_documents_are_taken_apart() {
        let org = Organization {
            id: Uuid::new_v4(),
            name: "Coop".into(),
            description: "d".into(),
            ..Default::default()
        };
        let loc = Location {
            id: Uuid::new_v4(),
            location_type: "physical".into(),
            ..Default::default()
        };
        let sal = ServiceAtLocation {
            id: Uuid::new_v4(),
            location: Some(Box::new(loc.clone())),
            ..Default::default()
        };
        let s = Service {
            id: Uuid::new_v4(),
            name: "SAD".into(),
            status: "active".into(),
            organization: Some(Box::new(org.clone())),
            service_at_locations: vec![sal.clone()],
            ..Default::default()
        };
        let mut b = Bundle::default();
        b.add_service(s.clone());
        assert_eq!(b.organizations.len(), 1);
        assert_eq!(b.locations.len(), 1);
        let stored = b.services.get(&s.id).unwrap();
        assert_eq!(stored.organization_id, Some(org.id));
        assert!(stored.organization.is_none() && stored.service_at_locations.is_empty());
        let stored_sal = b.service_at_locations.get(&sal.id).unwrap();
        assert_eq!(
            (stored_sal.service_id, stored_sal.location_id),
            (Some(s.id), Some(loc.id))
        );
        // A fuller copy of the organization replaces the summary; a poorer one does not.
        let full = Organization {
            email: Some("a@b.it".into()),
            ..org.clone()
        };
        b.add_organization(full.clone());
        b.add_organization(org);
        assert_eq!(
            b.organizations.get(&full.id).unwrap().email.as_deref(),
            Some("a@b.it")
        );
    }
}
