use axum::http::StatusCode;
use serde_json::{Value, json};
use trama_core::hsds::{Location, Organization};
use trama_core::ids::OrganizationId;
use trama_core::taxonomy::term_id;
use uuid::Uuid;

use crate::{TestApp, both};

/// An organisation with two places near the Duomo and an admin; returns (org, admin token, location ids).
pub async fn provider(app: &TestApp) -> (Organization, String, Vec<Uuid>) {
    let org = Organization {
        id: Uuid::now_v7(),
        name: "Cooperativa Sociale Il Melograno".into(),
        description: "Servizi domiciliari a Milano".into(),
        email: Some("info@melograno.example.it".into()),
        ..Default::default()
    };
    app.store()
        .put_organizations(&[(org.clone(), Some("social_cooperative".into()))])
        .await
        .unwrap();
    let locs: Vec<Location> = [
        ("Sede Duomo", 45.4650, 9.1905),
        ("Sede Bicocca", 45.5150, 9.2110),
    ]
    .into_iter()
    .map(|(n, lat, lon)| Location {
        id: Uuid::now_v7(),
        location_type: "physical".into(),
        organization_id: Some(org.id),
        name: Some(n.into()),
        latitude: Some(lat),
        longitude: Some(lon),
        ..Default::default()
    })
    .collect();
    app.store().put_locations(&locs).await.unwrap();
    let token = app
        .org_admin(
            &format!("admin-{}@melograno.example.it", org.id.simple()),
            OrganizationId(org.id),
        )
        .await;
    (org, token, locs.iter().map(|l| l.id).collect())
}

pub fn service_body(org: &Organization, name: &str, term: &str, location: Uuid) -> Value {
    json!({
        "organization_id": org.id,
        "name": name,
        "description": format!("{name}: aiuto a casa per persone anziane"),
        "status": "active",
        "email": "servizi@melograno.example.it",
        "attributes": [{"taxonomy_term_id": term_id(term).to_string(), "link_type": "category", "link_entity": "service"}],
        "funding": [{"source": "Comune di Milano"}],
        "schedules": [{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "00:00", "closes_at": "24:00"}],
        "phones": [{"number": "+39 02 1234567"}],
        "cost_options": [{"option": "Tariffa oraria", "currency": "EUR", "amount": 18.5}],
        "service_at_locations": [{"location_id": location}],
    })
}

/// A JSON Schema validator for one of the official compiled HSDS schemas.
fn validator(name: &str) -> jsonschema::Validator {
    let dir = trama_testkit::require_shared_data().join("hsds/3.0/schema/compiled");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not validate: {errors:#?}\n{doc:#}"
    );
}

fn assert_page(v: &Value) {
    for k in ["total_items", "total_pages", "page_number", "size"] {
        assert!(v[k].is_u64(), "{k} in {v}");
    }
    for k in ["first_page", "last_page", "empty"] {
        assert!(v[k].is_boolean(), "{k} in {v}");
    }
    assert!(v["contents"].is_array());
}

both!(
    documents_validate_against_the_official_schemas,
    |app: TestApp| async move {
        let (org, token, locs) = provider(&app).await;
        let r = app
            .send(
                "POST",
                "/api/services",
                Some(&token),
                &service_body(&org, "Assistenza domiciliare", "C1", locs[0]),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();

        let info = app.get("/hsds/").await.json();
        assert_eq!(info["version"], "3.0");
        assert_eq!(app.get("/hsds").await.json(), info);

        let full = app.get(&format!("/hsds/services/{id}")).await;
        assert_eq!(full.status, StatusCode::OK);
        assert_valid(&validator("service.json"), &full.json(), "/services/{id}");
        assert_eq!(full.json()["organization"]["name"], org.name);
        assert_eq!(
            full.json()["service_at_locations"][0]["location"]["name"],
            "Sede Duomo"
        );

        let list = app.get("/hsds/services?per_page=5").await.json();
        assert_page(&list);
        let item_schema = validator("service_list.json");
        for item in list["contents"].as_array().unwrap() {
            assert_valid(&item_schema, item, "/services item");
        }
        let list = app.get("/hsds/services?full=true").await.json();
        for item in list["contents"].as_array().unwrap() {
            assert_valid(&validator("service.json"), item, "/services?full item");
        }

        let orgs = app.get("/hsds/organizations").await.json();
        assert_page(&orgs);
        let s = validator("organization_list.json");
        for item in orgs["contents"].as_array().unwrap() {
            assert_valid(&s, item, "/organizations item");
        }
        let o = app
            .get(&format!("/hsds/organizations/{}", org.id))
            .await
            .json();
        assert_valid(&validator("organization.json"), &o, "/organizations/{id}");
        assert_eq!(o["services"].as_array().unwrap().len(), 1);

        let sals = app.get("/hsds/service_at_locations").await.json();
        assert_page(&sals);
        let s = validator("service_at_location_list.json");
        for item in sals["contents"].as_array().unwrap() {
            assert_valid(&s, item, "/service_at_locations item");
        }
        let sal_id = sals["contents"][0]["id"].as_str().unwrap();
        let sal = app
            .get(&format!("/hsds/service_at_locations/{sal_id}"))
            .await
            .json();
        assert_valid(
            &validator("service_at_location.json"),
            &sal,
            "/service_at_locations/{id}",
        );

        let tax = app.get("/hsds/taxonomies").await.json();
        assert_eq!(
            tax["total_items"], 3,
            "nomenclatore, aree di utenza, aiuti tra vicini"
        );
        let tid = tax["contents"][0]["id"].as_str().unwrap();
        assert_eq!(
            app.get(&format!("/hsds/taxonomies/{tid}")).await.json()["id"],
            tid
        );
        let terms = app
            .get(&format!("/hsds/taxonomy_terms?parent_id={}", term_id("C")))
            .await
            .json();
        assert_eq!(terms["total_items"], 7);
        let top = app
            .get("/hsds/taxonomy_terms?top_only=true&per_page=100")
            .await
            .json();
        assert!(
            top["contents"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t.get("parent_id").is_none())
        );
        assert_eq!(
            app.get(&format!("/hsds/taxonomy_terms/{}", term_id("C1")))
                .await
                .json()["code"],
            "C1"
        );
    }
);

both!(
    near_search_returns_distances_in_order,
    |app: TestApp| async move {
        let (org, token, locs) = provider(&app).await;
        for (name, loc) in [
            ("Assistenza domiciliare Bicocca", locs[1]),
            ("Assistenza domiciliare Duomo", locs[0]),
        ] {
            let r = app
                .send(
                    "POST",
                    "/api/services",
                    Some(&token),
                    &service_body(&org, name, "C1", loc),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let v = app
            .get("/hsds/services?search=assistenza%20domiciliare&lat=45.4642&lon=9.19&radius_km=10")
            .await
            .json();
        let items = v["contents"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["name"], "Assistenza domiciliare Duomo");
        let (d0, d1) = (
            items[0]["distance_km"].as_f64().unwrap(),
            items[1]["distance_km"].as_f64().unwrap(),
        );
        assert!(d0 < 0.3 && d1 > 5.0, "{d0} {d1}");
        assert_eq!(items[0]["open_now"], true);
        let v = app
            .get("/hsds/services?lat=45.4642&lon=9.19&radius_km=2")
            .await
            .json();
        assert_eq!(v["total_items"], 1);
        let v = app
            .get(&format!(
                "/hsds/services?taxonomy_term_id={}&funder=comune%20di%20milano",
                term_id("C")
            ))
            .await
            .json();
        assert_eq!(v["total_items"], 2);
        let v = app.get("/hsds/services?open_now=true").await.json();
        assert_eq!(v["total_items"], 2);
        let v = app.get("/hsds/services?minimal=true").await.json();
        let item = v["contents"][0].as_object().unwrap();
        let keys: Vec<&String> = item.keys().collect();
        assert_eq!(
            keys,
            ["id", "last_modified", "name", "status"],
            "minimal items: what the HSDS schema requires, and the modification time"
        );
    }
);

both!(
    client_mistakes_are_4xx_with_the_envelope,
    |app: TestApp| async move {
        for (uri, field) in [
            ("/hsds/services?page=0", "page"),
            ("/hsds/services?page=-1", "page"),
            ("/hsds/services?page=abc", "page"),
            ("/hsds/services?per_page=100000", "per_page"),
            ("/hsds/services?page=2", "page"),
            ("/hsds/services?lat=north&lon=9", "lat"),
            ("/hsds/services?lat=45", "lon"),
            ("/hsds/services?lat=45&lon=9&radius_km=-4", "radius_km"),
            ("/hsds/services?lat=NaN&lon=9", "lat"),
            (
                "/hsds/services?taxonomy_term_id=not-a-uuid",
                "taxonomy_term_id",
            ),
            ("/hsds/services?organization_id=1", "organization_id"),
            ("/hsds/services?modified_after=ieri", "modified_after"),
            ("/hsds/services?open_now=forse", "open_now"),
            ("/hsds/services?full=maybe", "full"),
            ("/hsds/services?minimal=null", "minimal"),
            ("/hsds/organizations?full_service=null", "full_service"),
            ("/hsds/service_at_locations?full=null", "full"),
            ("/hsds/services/not-a-uuid", "id"),
            ("/hsds/organizations?per_page=0", "per_page"),
            ("/hsds/taxonomy_terms?parent_id=x", "parent_id"),
            ("/hsds/taxonomy_terms?top_only=2", "top_only"),
        ] {
            let r = app.get(uri).await;
            let v = r.assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
            assert_eq!(v["error"]["field"], field, "{uri}: {v}");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(field),
                "{uri}: the message names the field: {v}"
            );
        }
        for uri in [
            format!("/hsds/services/{}", Uuid::now_v7()),
            format!("/hsds/organizations/{}", Uuid::now_v7()),
            format!("/hsds/service_at_locations/{}", Uuid::now_v7()),
            format!("/hsds/taxonomies/{}", Uuid::now_v7()),
            format!("/hsds/taxonomy_terms/{}", Uuid::now_v7()),
            "/hsds/nothing-here".to_string(),
            "/api/nothing-here".to_string(),
        ] {
            app.get(&uri)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
        let r = app.send("POST", "/hsds/services", None, &json!({})).await;
        r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
);
