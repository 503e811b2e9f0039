use trama_core::hsds::{
    Attribute, Funding, Location, Organization, PageRequest, Schedule, Service, ServiceAtLocation,
};
use trama_core::ids::{OrganizationId, ServiceId, TaxonomyTermId};
use trama_core::query::ServiceQuery;
use trama_core::taxonomy::term_id;
use trama_store::{Store, StoreError};
use uuid::Uuid;

use crate::both;

pub const DUOMO: (f64, f64) = (45.4642, 9.1900);

fn org(name: &str) -> Organization {
    Organization {
        id: Uuid::now_v7(),
        name: name.into(),
        description: format!("{name}, Milano"),
        ..Default::default()
    }
}

fn location(org: &Organization, name: &str, lat: f64, lon: f64) -> Location {
    Location {
        id: Uuid::now_v7(),
        location_type: "physical".into(),
        organization_id: Some(org.id),
        name: Some(name.into()),
        latitude: Some(lat),
        longitude: Some(lon),
        ..Default::default()
    }
}

fn service(
    org: &Organization,
    name: &str,
    term: &str,
    funder: &str,
    loc: &Location,
    hours: Option<(&str, &str, &str)>,
) -> Service {
    Service {
        id: Uuid::now_v7(),
        organization_id: Some(org.id),
        name: name.into(),
        description: Some(format!("{name} per anziani e famiglie")),
        status: "active".into(),
        attributes: vec![Attribute {
            id: Uuid::now_v7(),
            taxonomy_term_id: Some(term_id(term).0),
            ..Default::default()
        }],
        funding: vec![Funding {
            id: Uuid::now_v7(),
            source: Some(funder.into()),
            ..Default::default()
        }],
        schedules: hours
            .map(|(d, o, c)| {
                vec![Schedule {
                    id: Uuid::now_v7(),
                    freq: Some("WEEKLY".into()),
                    byday: Some(d.into()),
                    opens_at: Some(o.into()),
                    closes_at: Some(c.into()),
                    ..Default::default()
                }]
            })
            .unwrap_or_default(),
        service_at_locations: vec![ServiceAtLocation {
            id: Uuid::now_v7(),
            location_id: Some(loc.id),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A small Milan: three services at known distances from the Duomo.
pub async fn fixture(store: &Store) -> (Organization, Vec<Service>) {
    store.seed_taxonomies().await.unwrap();
    let coop = org("Cooperativa Sociale Il Melograno");
    store
        .put_organizations(&[(coop.clone(), Some("social_cooperative".into()))])
        .await
        .unwrap();
    let near = location(&coop, "Sede Duomo", 45.4650, 9.1905); // ~0.1 km
    let mid = location(&coop, "Sede Porta Romana", 45.4530, 9.2040); // ~1.6 km
    let far = location(&coop, "Sede Bicocca", 45.5150, 9.2110); // ~5.9 km
    store
        .put_locations(&[near.clone(), mid.clone(), far.clone()])
        .await
        .unwrap();
    let s = vec![
        service(
            &coop,
            "Assistenza domiciliare anziani",
            "C1",
            "Comune di Milano",
            &near,
            Some(("MO,TU,WE,TH,FR", "08:00", "20:00")),
        ),
        service(
            &coop,
            "Assistenza domiciliare integrata",
            "C2",
            "ATS Milano",
            &mid,
            Some(("SA", "09:00", "12:00")),
        ),
        service(
            &coop,
            "Centro diurno integrato",
            "D1",
            "Comune di Milano",
            &far,
            None,
        ),
    ];
    for x in &s {
        store.put_service(x).await.unwrap();
    }
    (coop, s)
}

fn query(pairs: &[(&str, &str)]) -> ServiceQuery {
    let m: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
    ServiceQuery::parse(|k| m.get(k).copied()).unwrap()
}

// A Monday at 10:00 local time.
fn monday_morning() -> time::PrimitiveDateTime {
    time::macros::datetime!(2026-11-23 10:00)
}

both!(
    near_search_sorts_by_distance_and_filters_radius,
    |store: Store| async move {
        let (_, s) = fixture(&store).await;
        let (lat, lon) = (DUOMO.0.to_string(), DUOMO.1.to_string());
        let r = store
            .search_services(
                &query(&[("lat", &lat), ("lon", &lon), ("radius_km", "3")]),
                monday_morning(),
            )
            .await
            .unwrap();
        assert_eq!(r.total, 2);
        let names: Vec<&str> = r.hits.iter().map(|h| h.service.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Assistenza domiciliare anziani",
                "Assistenza domiciliare integrata"
            ]
        );
        let d: Vec<f64> = r.hits.iter().map(|h| h.distance_km.unwrap()).collect();
        assert!(d[0] < 0.2 && (1.0..2.5).contains(&d[1]), "{d:?}");
        assert!(r.hits[0].open_now && !r.hits[1].open_now);
        assert_eq!(
            r.hits[0].organization_name.as_deref(),
            Some("Cooperativa Sociale Il Melograno")
        );

        let r = store
            .search_services(
                &query(&[("lat", &lat), ("lon", &lon), ("radius_km", "10")]),
                monday_morning(),
            )
            .await
            .unwrap();
        assert_eq!(r.total, 3);
        assert_eq!(r.hits[2].service.id, s[2].id);
    }
);

both!(filters_combine, |store: Store| async move {
    let (coop, _) = fixture(&store).await;
    let now = monday_morning();
    let count = |pairs: Vec<(&'static str, String)>| {
        let store = store.clone();
        async move {
            let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            store.search_services(&query(&p), now).await.unwrap().total
        }
    };
    assert_eq!(
        count(vec![("search", "assistenza domiciliare".into())]).await,
        2
    );
    assert_eq!(
        count(vec![("search", "home care".into())]).await,
        2,
        "English category labels: 'Home care (SAD)', 'Integrated home health care (ADI)'"
    );
    assert_eq!(count(vec![("search", "centri diurni".into())]).await, 1);
    assert_eq!(
        count(vec![("search", "melograno".into())]).await,
        3,
        "organisation name"
    );
    assert_eq!(count(vec![("search", "piscina".into())]).await, 0);
    // A parent term covers its children: C covers C1 and C2.
    assert_eq!(
        count(vec![("taxonomy_term_id", term_id("C").to_string())]).await,
        2
    );
    assert_eq!(
        count(vec![("taxonomy_term_id", term_id("D1").to_string())]).await,
        1
    );
    assert_eq!(
        count(vec![(
            "taxonomy_term_id",
            TaxonomyTermId::new().to_string()
        )])
        .await,
        0
    );
    assert_eq!(count(vec![("funder", "comune di MILANO".into())]).await, 2);
    assert_eq!(count(vec![("funder", "ATS Milano".into())]).await, 1);
    assert_eq!(
        count(vec![("organization_id", coop.id.to_string())]).await,
        3
    );
    assert_eq!(
        count(vec![("organization_id", OrganizationId::new().to_string())]).await,
        0
    );
    assert_eq!(count(vec![("open_now", "true".into())]).await, 1);
    assert_eq!(
        count(vec![("modified_after", "2000-01-01T00:00:00Z".into())]).await,
        3
    );
    assert_eq!(
        count(vec![("modified_after", "2999-01-01T00:00:00Z".into())]).await,
        0
    );
    assert_eq!(
        count(vec![
            ("search", "assistenza".into()),
            ("funder", "ATS Milano".into())
        ])
        .await,
        1
    );
});

both!(pages_and_out_of_range, |store: Store| async move {
    fixture(&store).await;
    let r = store
        .search_services(
            &query(&[("per_page", "2"), ("page", "2")]),
            monday_morning(),
        )
        .await
        .unwrap();
    assert_eq!((r.total, r.hits.len()), (3, 1));
    let e = store
        .search_services(
            &query(&[("per_page", "2"), ("page", "3")]),
            monday_morning(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "page"),
        "{e:?}"
    );
    // Page 1 of nothing is an empty page, not an error.
    let r = store
        .search_services(&query(&[("search", "piscina")]), monday_morning())
        .await
        .unwrap();
    assert_eq!((r.total, r.hits.len()), (0, 0));
});

both!(
    full_service_is_nested_and_updates_replace_links,
    |store: Store| async move {
        let (coop, s) = fixture(&store).await;
        let d = store
            .get_service(ServiceId(s[0].id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.service.organization.as_ref().unwrap().name, coop.name);
        assert_eq!(d.service.service_at_locations.len(), 1);
        assert_eq!(
            d.service.service_at_locations[0]
                .location
                .as_ref()
                .unwrap()
                .name
                .as_deref(),
            Some("Sede Duomo")
        );
        assert!(d.service.last_modified.is_some());

        // Move the service to Bicocca: it leaves the 3 km circle.
        let far = store
            .organization_locations(OrganizationId(coop.id))
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.name.as_deref() == Some("Sede Bicocca"))
            .unwrap();
        let mut moved = s[0].clone();
        moved.name = "Assistenza domiciliare anziani (nuova sede)".into();
        moved.service_at_locations = vec![ServiceAtLocation {
            id: Uuid::now_v7(),
            location_id: Some(far.id),
            ..Default::default()
        }];
        store.put_service(&moved).await.unwrap();
        let d = store
            .get_service(ServiceId(s[0].id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.service.service_at_locations.len(), 1);
        let (lat, lon) = (DUOMO.0.to_string(), DUOMO.1.to_string());
        let r = store
            .search_services(
                &query(&[("lat", &lat), ("lon", &lon), ("radius_km", "3")]),
                monday_morning(),
            )
            .await
            .unwrap();
        assert_eq!(r.total, 1);
        let r = store
            .search_services(&query(&[("search", "nuova sede")]), monday_morning())
            .await
            .unwrap();
        assert_eq!(r.total, 1, "the word index follows the update");

        assert!(store.delete_service(ServiceId(s[0].id)).await.unwrap());
        assert!(
            store
                .get_service(ServiceId(s[0].id))
                .await
                .unwrap()
                .is_none()
        );
        assert!(!store.delete_service(ServiceId(s[0].id)).await.unwrap());
        let r = store
            .search_services(
                &query(&[("lat", &lat), ("lon", &lon), ("radius_km", "10")]),
                monday_morning(),
            )
            .await
            .unwrap();
        assert_eq!(r.total, 2);
    }
);

both!(
    moving_a_location_moves_its_services,
    |store: Store| async move {
        let (coop, _) = fixture(&store).await;
        let mut near = store
            .organization_locations(OrganizationId(coop.id))
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.name.as_deref() == Some("Sede Duomo"))
            .unwrap();
        near.latitude = Some(45.60);
        store.put_locations(&[near]).await.unwrap();
        let (lat, lon) = (DUOMO.0.to_string(), DUOMO.1.to_string());
        let r = store
            .search_services(
                &query(&[("lat", &lat), ("lon", &lon), ("radius_km", "3")]),
                monday_morning(),
            )
            .await
            .unwrap();
        assert_eq!(r.total, 1);
    }
);

both!(a_bad_reference_writes_nothing, |store: Store| async move {
    let (coop, _) = fixture(&store).await;
    let before = store.directory_counts().await.unwrap();
    let loc = location(&coop, "Nuova", 45.47, 9.18);
    let mut s = service(
        &coop,
        "Servizio nuovo",
        "A1",
        "Comune di Milano",
        &loc,
        None,
    );
    // The location was never stored: the link refers to nothing.
    s.service_at_locations[0].location_id = Some(Uuid::now_v7());
    let e = store.put_service(&s).await.unwrap_err();
    assert!(
        matches!(e, StoreError::Reference { ref field, .. } if field.ends_with("location_id")),
        "{e:?}"
    );
    assert_eq!(
        store.directory_counts().await.unwrap(),
        before,
        "nothing half-written"
    );
    // A service of an organisation that does not exist.
    let ghost = org("Fantasma");
    let s = service(&ghost, "Servizio fantasma", "A1", "x", &loc, None);
    let mut s2 = s.clone();
    s2.service_at_locations.clear();
    assert!(matches!(
        store.put_service(&s2).await.unwrap_err(),
        StoreError::Reference { .. }
    ));
    assert_eq!(store.directory_counts().await.unwrap(), before);
});

both!(
    out_of_range_coordinates_are_kept_but_not_placed,
    |store: Store| async move {
        let (coop, _) = fixture(&store).await;
        let odd = location(&coop, "Esempio HSDS", 100.0, 101.0);
        store
            .put_locations(std::slice::from_ref(&odd))
            .await
            .unwrap();
        let back = store
            .get_location(trama_core::ids::LocationId(odd.id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (back.latitude, back.longitude),
            (Some(100.0), Some(101.0)),
            "the document is kept verbatim"
        );
        let s = service(&coop, "Servizio altrove", "A1", "x", &odd, None);
        store.put_service(&s).await.unwrap();
        let r = store
            .search_services(
                &query(&[("lat", "45"), ("lon", "9"), ("radius_km", "100")]),
                monday_morning(),
            )
            .await
            .unwrap();
        assert!(
            r.hits.iter().all(|h| h.service.id != s.id),
            "never on the map"
        );
    }
);

both!(organizations_and_taxonomies, |store: Store| async move {
    let (coop, _) = fixture(&store).await;
    let (total, orgs) = store
        .list_organizations(Some("melograno"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!((total, orgs[0].id), (1, coop.id));
    let (o, kind) = store
        .get_organization(OrganizationId(coop.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.services.len(), o.locations.len(), kind.as_deref()),
        (3, 3, Some("social_cooperative"))
    );
    let (n, tax) = store
        .list_taxonomies(None, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(n, 3, "nomenclatore, aree di utenza, aiuti tra vicini");
    let nomenclatore = tax
        .iter()
        .find(|t| t.name.starts_with("Nomenclatore"))
        .unwrap();
    let (n, terms) = store
        .list_terms(
            Some(trama_core::ids::TaxonomyId(nomenclatore.id)),
            None,
            true,
            None,
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(n >= 6, "top-level areas of the nomenclature: {n}");
    assert!(terms.iter().all(|t| t.term.parent_id.is_none()));
    let (n, terms) = store
        .list_terms(
            None,
            Some(term_id("C")),
            false,
            None,
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(n, 7);
    assert!(
        terms
            .iter()
            .any(|t| t.name_en.as_deref() == Some("Home care (SAD)"))
    );
    let (n, _) = store
        .list_terms(None, None, false, Some("home care"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(n, 1, "English labels are searchable");
    // Seeding twice changes nothing.
    store.seed_taxonomies().await.unwrap();
    assert_eq!(
        store
            .list_taxonomies(None, PageRequest::default())
            .await
            .unwrap()
            .0,
        3
    );
});

/// Two server processes on one database: what one writes, the other's search sees at once
/// (its in-memory index follows the directory's change log).
async fn two_processes_agree(url: String) {
    let opts = trama_store::StoreOptions {
        max_connections: 4,
        ..Default::default()
    };
    let a = Store::connect(&url, &opts).await.unwrap();
    a.migrate().await.unwrap();
    let b = Store::connect(&url, &opts).await.unwrap();
    let (coop, s) = fixture(&a).await;
    let (lat, lon) = (DUOMO.0.to_string(), DUOMO.1.to_string());
    let near = query(&[
        ("lat", &lat),
        ("lon", &lon),
        ("radius_km", "3"),
        ("taxonomy_term_id", &term_id("C").to_string()),
    ]);
    assert_eq!(
        b.search_services(&near, monday_morning())
            .await
            .unwrap()
            .total,
        2
    );
    // A writes: a new name, then a deletion; B's next search reflects each.
    let mut renamed = s[1].clone();
    renamed.name = "ADI – nuovo nome".into();
    a.put_service(&renamed).await.unwrap();
    let r = b.search_services(&near, monday_morning()).await.unwrap();
    assert!(
        r.hits.iter().any(|h| h.service.name == "ADI – nuovo nome"),
        "B sees A's rename"
    );
    a.delete_service(ServiceId(s[0].id)).await.unwrap();
    assert_eq!(
        b.search_services(&near, monday_morning())
            .await
            .unwrap()
            .total,
        1,
        "B sees A's deletion"
    );
    // A renames the organisation: every hit of B shows the new name.
    let mut org = coop.clone();
    org.name = "Cooperativa Sociale Il Melograno Due".into();
    a.put_organizations(&[(org, None)]).await.unwrap();
    let r = b.search_services(&near, monday_morning()).await.unwrap();
    assert_eq!(
        r.hits[0].organization_name.as_deref(),
        Some("Cooperativa Sociale Il Melograno Due")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_agree_on_sqlite() {
    let (_dir, url) = trama_testkit::sqlite_url();
    two_processes_agree(url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_agree_on_postgres() {
    let url = tokio::task::spawn_blocking(trama_testkit::postgres_url)
        .await
        .unwrap();
    two_processes_agree(url).await;
}

both!(the_index_answers_like_sql, |store: Store| async move {
    let (coop, _) = fixture(&store).await;
    let other = OrganizationId::new().to_string();
    let coop_id = coop.id.to_string();
    let c = term_id("C").to_string();
    let c1 = term_id("C1").to_string();
    let d1 = term_id("D1").to_string();
    let places = [("45.4642", "9.19"), ("45.50", "9.21"), ("45.45", "9.20")];
    let mut checked = 0;
    for (lat, lon) in places {
        for radius in ["0.5", "2", "7"] {
            for extra in [
                vec![],
                vec![("taxonomy_term_id", c.as_str())],
                vec![("taxonomy_term_id", c1.as_str())],
                vec![("taxonomy_term_id", d1.as_str())],
                vec![("funder", "comune di milano")],
                vec![("organization_id", coop_id.as_str())],
                vec![("organization_id", other.as_str())],
                vec![("open_now", "true")],
                vec![("modified_after", "2999-01-01")],
                vec![
                    ("taxonomy_term_id", c.as_str()),
                    ("open_now", "true"),
                    ("funder", "ATS Milano"),
                ],
                vec![("per_page", "1"), ("page", "2")],
            ] {
                let mut pairs = vec![("lat", lat), ("lon", lon), ("radius_km", radius)];
                pairs.extend(extra);
                let q = query(&pairs);
                let (m, s) = (
                    store.search_services(&q, monday_morning()).await,
                    store.search_services_sql(&q, monday_morning()).await,
                );
                match (m, s) {
                    (Ok(m), Ok(s)) => {
                        assert_eq!(m.total, s.total, "{pairs:?}");
                        let ids = |r: &trama_store::SearchResult| {
                            r.hits
                                .iter()
                                .map(|h| {
                                    (
                                        h.service.id,
                                        h.distance_km.map(|d| (d * 1e6).round()),
                                        h.open_now,
                                    )
                                })
                                .collect::<Vec<_>>()
                        };
                        assert_eq!(ids(&m), ids(&s), "{pairs:?}");
                    }
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("{pairs:?}: {a:?} vs {b:?}"),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 99);
});
