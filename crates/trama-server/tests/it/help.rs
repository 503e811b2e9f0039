//! Needs, offers and matches through the JSON API, on both databases: the Giambellino story in
//! assisted mode, privacy on every endpoint that shows a need, the race for the last place,
//! campaigns and the batch assignment.

use axum::http::StatusCode;
use serde_json::{Value, json};
use trama_core::auth::{Role, RoleGrant};
use trama_core::ids::OrganizationId;

use crate::{TestApp, both};

const ADDRESS: &str = "Via Giambellino 58, scala B";
const DESCRIPTION: &str = "Spesa settimanale: pane, frutta, medicine in farmacia";

fn need_body(on_behalf_of: Option<&str>, campaign: Option<&str>) -> Value {
    json!({
        "category": "H1",
        "description": DESCRIPTION,
        "address": ADDRESS,
        "lat": 45.4531, "lon": 9.1402,
        "windows": [{"day": "tue", "from": "09:00", "to": "12:00"}],
        "recurring": true,
        "duration_minutes": 90,
        "urgency": "high",
        "languages": ["it"],
        "people": 1,
        "on_behalf_of": on_behalf_of,
        "campaign_id": campaign,
    })
}

fn offer_body(lat: f64, lon: f64) -> Value {
    json!({
        "categories": ["H1", "H2"],
        "description": "Faccio la spesa e due chiacchiere",
        "lat": lat, "lon": lon, "radius_km": 1.0,
        "availability": [{"day": "tue", "from": "08:30", "to": "13:00"}],
        "hours_per_week": 4, "capacity": 2, "languages": ["it", "en"]
    })
}

/// Does any string in the JSON contain the address or the exact point?
fn leaks(v: &Value) -> bool {
    let s = v.to_string();
    s.contains("Giambellino 58") || s.contains("45.4531") || s.contains(DESCRIPTION)
}

/// A hub's operator and a curious stranger: (operator's token, stranger's token).
async fn desk(app: &TestApp) -> (String, String) {
    let hub_org = OrganizationId::new();
    let (_, operator) = app
        .user_with_token(
            "operatrice@hub.it",
            &[RoleGrant::new(Role::Operator, Some(hub_org)).unwrap()],
        )
        .await;
    let (_, stranger) = app.user_with_token("curioso@example.it", &[]).await;
    (operator, stranger)
}

/// The operator registers Lucia, who has no e-mail or phone, with her consent on file.
async fn register_lucia(app: &TestApp, operator: &str) -> String {
    let r = app
        .send(
            "POST",
            "/api/people",
            Some(operator),
            &json!({"display_name": "Lucia Ferri", "consent_reference": "Prot. 2026/1187"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// The Giambellino story's start: a hub's operator, a curious stranger, Lucia registered at
/// the desk (no e-mail, no phone, consent on file), her need for weekly shopping posted by the
/// operator, and four volunteers with offers (three within a kilometre, one far).
pub(crate) struct Giambellino {
    pub(crate) operator: String,
    pub(crate) stranger: String,
    pub(crate) lucia: String,
    pub(crate) nid: String,
    /// (token, offer id) of each volunteer; the last is the far one.
    pub(crate) volunteers: Vec<(String, String)>,
}

impl Giambellino {
    pub(crate) async fn new(app: &TestApp) -> Self {
        let (operator, stranger) = desk(app).await;
        let lucia = register_lucia(app, &operator).await;
        let r = app
            .send(
                "POST",
                "/api/needs",
                Some(&operator),
                &need_body(Some(&lucia), None),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let nid = r.json()["id"].as_str().unwrap().to_string();
        // Three volunteers within a kilometre, free on Tuesday mornings, speaking Italian; one far.
        let mut volunteers = Vec::new();
        for (i, (lat, lon)) in [
            (45.4560, 9.1380),
            (45.4500, 9.1450),
            (45.4545, 9.1330),
            (45.5000, 9.2100),
        ]
        .iter()
        .enumerate()
        {
            let (_, t) = app
                .user_with_token(
                    &format!("volontario{i}@example.it"),
                    &[RoleGrant::new(Role::Volunteer, None).unwrap()],
                )
                .await;
            let r = app
                .send("POST", "/api/offers", Some(&t), &offer_body(*lat, *lon))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            volunteers.push((t, r.json()["id"].as_str().unwrap().to_string()));
        }
        Self {
            operator,
            stranger,
            lucia,
            nid,
            volunteers,
        }
    }
}

// The desk registers Lucia (her consent reference required) and asks for help for her; nobody
// else can ask in her name.
both!(
    a_desk_registers_a_person_and_asks_for_her,
    |app: TestApp| async move {
        let (operator, stranger) = desk(&app).await;

        // The operator registers Lucia, who has no e-mail or phone, with her consent on file.
        let lucia = register_lucia(&app, &operator).await;
        // Without a consent reference: refused, naming the field.
        let v = app
            .send(
                "POST",
                "/api/people",
                Some(&operator),
                &json!({"display_name": "X", "consent_reference": " "}),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "consent_reference");
        // Someone who is not her operator cannot post for her.
        app.send(
            "POST",
            "/api/needs",
            Some(&stranger),
            &need_body(Some(&lucia), None),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

        let r = app
            .send(
                "POST",
                "/api/needs",
                Some(&operator),
                &need_body(Some(&lucia), None),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let need = r.json();
        let nid = need["id"].as_str().unwrap().to_string();
        assert_eq!(need["access"], "full");
        assert_eq!(need["assisted"], true);
        assert_eq!(need["requester"]["name"], "Lucia Ferri");
        // It is on the desk's list, and only there in full.
        let desk = app
            .get_auth("/api/needs?scope=desk", &operator)
            .await
            .json();
        assert!(
            desk.as_array()
                .unwrap()
                .iter()
                .any(|n| n["id"] == nid.as_str() && n["access"] == "full"),
            "{desk}"
        );
    }
);

// Three volunteers within reach are suggested to Lucia's side only; everyone else sees the
// need's category, area and time, never where she lives.
both!(
    suggestions_go_to_her_side_and_others_see_public_facts,
    |app: TestApp| async move {
        let Giambellino {
            operator,
            stranger,
            nid,
            volunteers,
            ..
        } = Giambellino::new(&app).await;
        let s = app
            .get_auth(&format!("/api/needs/{nid}/suggestions?k=5"), &operator)
            .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text());
        let list = s.json();
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["offer_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 3, "three within reach: {list}");
        assert!(
            !ids.contains(&volunteers[3].1.as_str()),
            "the far volunteer is not suggested"
        );
        // Suggestions name volunteers: only for the person's side.
        app.get_auth(&format!("/api/needs/{nid}/suggestions"), &stranger)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");

        // Privacy: everyone else sees category, area and time only, on every endpoint.
        let public = app.get(&format!("/api/needs/{nid}")).await.json();
        assert_eq!(public["access"], "public");
        assert!(!leaks(&public), "{public}");
        assert_eq!(public["area"]["kind"], "cell");
        let as_stranger = app
            .get_auth(&format!("/api/needs/{nid}"), &stranger)
            .await
            .json();
        assert!(!leaks(&as_stranger), "{as_stranger}");
        let open = app.get("/api/needs?scope=open").await.json();
        assert_eq!(open.as_array().unwrap().len(), 1);
        assert!(!leaks(&open), "{open}");
        let by_area = app.get("/api/needs/areas").await.json();
        assert!(!leaks(&by_area), "{by_area}");
        // One open need: no area is named for it, it is counted among the other areas.
        assert_eq!(
            by_area,
            json!([{"kind": "other", "code": "other", "name": "Altre zone", "open": 1, "urgent": 1}])
        );
        let (marco, marco_offer) = volunteers[0].clone();
        let for_offer = app
            .get_auth(&format!("/api/offers/{marco_offer}/suggestions"), &marco)
            .await;
        assert_eq!(for_offer.status, StatusCode::OK, "{}", for_offer.text());
        assert_eq!(for_offer.json().as_array().unwrap().len(), 1);
        assert!(!leaks(&for_offer.json()), "{}", for_offer.text());
    }
);

// Marco accepts, the desk accepts for Lucia, the help is done and confirmed: the address only
// once both agreed, hours as his contribution, in her budget and the register (pseudonymous),
// every full read in her file's log.
both!(
    assisted_need_is_matched_done_and_confirmed,
    |app: TestApp| async move {
        let Giambellino {
            operator,
            stranger,
            lucia,
            nid,
            volunteers,
        } = Giambellino::new(&app).await;
        let (marco, marco_offer) = volunteers[0].clone();
        // Marco accepts: a party now, he sees the description but not yet the address.
        let r = app
            .send(
                "POST",
                &format!("/api/needs/{nid}/accept"),
                Some(&marco),
                &json!({"offer_id": marco_offer}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let mid = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(r.json()["state"], "accepted_by_volunteer");
        let seen = app
            .get_auth(&format!("/api/needs/{nid}"), &marco)
            .await
            .json();
        assert_eq!(seen["access"], "party");
        assert_eq!(seen["description"], DESCRIPTION);
        assert!(
            seen.get("address").is_none() && seen.get("lat").is_none(),
            "{seen}"
        );
        // The need is covered: a second volunteer cannot take it.
        let (giulia, giulia_offer) = volunteers[1].clone();
        app.send(
            "POST",
            &format!("/api/needs/{nid}/accept"),
            Some(&giulia),
            &json!({"offer_id": giulia_offer}),
        )
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

        // The operator accepts for Lucia; now Marco gets the address.
        let r = app
            .send(
                "POST",
                &format!("/api/matches/{mid}/events"),
                Some(&operator),
                &json!({"event": "accept"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["state"], "accepted");
        assert_eq!(r.json()["your_side"], "requester");
        let full = app
            .get_auth(&format!("/api/needs/{nid}"), &marco)
            .await
            .json();
        assert_eq!(full["access"], "full");
        assert_eq!(full["address"], ADDRESS);
        // Still nothing for others.
        assert!(!leaks(
            &app.get_auth(&format!("/api/needs/{nid}"), &stranger)
                .await
                .json()
        ));

        // An illegal step is refused with the reason.
        let v = app
            .send(
                "POST",
                &format!("/api/matches/{mid}/events"),
                Some(&marco),
                &json!({"event": "done"}),
            )
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("accepted"),
            "{v}"
        );
        // A stranger is not a party.
        app.send(
            "POST",
            &format!("/api/matches/{mid}/events"),
            Some(&stranger),
            &json!({"event": "cancel"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

        // Yesterday's appointment: the help is confirmed once it was due.
        let yesterday = (time::OffsetDateTime::now_utc() - time::Duration::days(1))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        for (who, ev) in [
            (&marco, json!({"event": "schedule", "next_at": yesterday})),
            (&marco, json!({"event": "done"})),
            (&operator, json!({"event": "done"})),
        ] {
            let r = app
                .send(
                    "POST",
                    &format!("/api/matches/{mid}/events"),
                    Some(who),
                    &ev,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{ev}: {}", r.text());
        }
        let m = app
            .get_auth(&format!("/api/matches/{mid}"), &marco)
            .await
            .json();
        assert_eq!(m["state"], "confirmed");
        assert_eq!(m["minutes_confirmed"], 90);
        assert_eq!(
            m["allowed_events"],
            json!(["schedule", "cancel"]),
            "weekly: next Tuesday, or stop"
        );

        // Marco's hours count as his contribution, in the ValueFlows shape.
        let marco_id = m["volunteer"]["id"].as_str().unwrap();
        let events = app
            .store()
            .contributions_of(marco_id.parse().unwrap())
            .await
            .unwrap();
        assert!(
            events
                .iter()
                .any(|e| e["action"] == "work" && e["effortQuantity"]["hasNumericalValue"] == 1.5)
        );
        // Lucia's case manager, with her consent, sees the help in her consolidated budget
        // beside the money: hours received and who gave them.
        let (_, cm) = app
            .user_with_token(
                "casemanager@example.it",
                &[trama_core::auth::RoleGrant::new(
                    trama_core::auth::Role::CaseManager,
                    Some(trama_core::ids::OrganizationId::new()),
                )
                .unwrap()],
            )
            .await;
        let r = app
            .send(
                "POST",
                &format!("/api/people/{lucia}/budget/consent"),
                Some(&cm),
                &json!({"consent_reference": "Prot. 2026/77"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let budget = app
            .get_auth(&format!("/api/people/{lucia}/budget"), &cm)
            .await
            .json();
        assert_eq!(budget["hours_received"], 1.5, "{budget}");
        assert_eq!(
            budget["volunteers"][0]["volunteer_id"], marco_id,
            "{budget}"
        );
        assert_eq!(budget["volunteers"][0]["hours"], 1.5, "{budget}");

        // The register takes them, pseudonymous, with the need's public area; Marco sees
        // them in "my contributions" and nobody else sees who he is.
        let taken = app.state.register.take_contributions().await.unwrap();
        assert_eq!(taken, 2, "work and deliverService");
        assert_eq!(
            app.state.register.take_contributions().await.unwrap(),
            0,
            "taken once"
        );
        app.state.register.checkpoint().await.unwrap();
        let mine = app.get_auth("/api/me/contributions", &marco).await.json();
        assert_eq!(mine["hours_given"], 1.5, "{mine}");
        assert!(
            mine["entries"][0]["area"]
                .as_str()
                .is_some_and(|a| !a.is_empty()),
            "{mine}"
        );
        let page = app.get("/register/entries").await.json();
        let text = page.to_string();
        assert!(text.contains("urn:trama:pseudonym:"), "{text}");
        assert!(
            !text.contains(marco_id),
            "the volunteer's id is in the public register"
        );
        assert!(
            !text.contains(ADDRESS),
            "the address is in the public register"
        );

        // What was done for Lucia is labelled and visible to her (here, at the desk).
        let act = app
            .get_auth(&format!("/api/people/{lucia}/activity"), &operator)
            .await
            .json();
        let actions: Vec<&str> = act
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["on_behalf"] == true)
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        for a in [
            "person.register",
            "need.create",
            "match.accept",
            "match.done",
        ] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        // And every full read of her need by someone else is in her file's log.
        assert!(
            act.as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "need.read")
        );
        // Notifications reached the volunteer.
        let n = app.get_auth("/api/notifications", &marco).await.json();
        assert!(!n.as_array().unwrap().is_empty());
    }
);

both!(
    two_volunteers_accept_at_once_one_wins,
    |app: TestApp| async move {
        let (_, anna) = app.user_with_token("anna@example.it", &[]).await;
        let r = app
            .send("POST", "/api/needs", Some(&anna), &need_body(None, None))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let nid = r.json()["id"].as_str().unwrap().to_string();
        let mut vols = Vec::new();
        for i in 0..6 {
            let (_, t) = app.user_with_token(&format!("v{i}@example.it"), &[]).await;
            let o = app
                .send(
                    "POST",
                    "/api/offers",
                    Some(&t),
                    &offer_body(45.4540, 9.1410),
                )
                .await
                .json();
            vols.push((t, o["id"].as_str().unwrap().to_string()));
        }
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for (t, o) in vols {
            let app = app.clone();
            let uri = format!("/api/needs/{nid}/accept");
            tasks.push(tokio::spawn(async move {
                app.send("POST", &uri, Some(&t), &json!({"offer_id": o}))
                    .await
                    .status
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT)
        );
    }
);

both!(bad_needs_get_clear_errors, |app: TestApp| async move {
    let (_, anna) = app.user_with_token("anna@example.it", &[]).await;
    for (patch, field) in [
        (json!({"lat": 123.0}), "lat"),
        (json!({"category": "not a category!"}), "category"),
        (json!({"category": "ZZ9"}), "category"),
        (
            json!({"windows": [{"day": "xyz", "from": "09:00", "to": "10:00"}]}),
            "windows[0].day",
        ),
        (json!({"urgency": "whenever"}), ""),
        (json!({"languages": ["klingon"]}), "languages"),
        (json!({"address": ""}), "address"),
        (json!({"on_behalf_of": "not-a-uuid"}), "on_behalf_of"),
    ] {
        let mut b = need_body(None, None);
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let r = app.send("POST", "/api/needs", Some(&anna), &b).await;
        assert!(
            r.status.is_client_error(),
            "{patch}: {} {}",
            r.status,
            r.text()
        );
        if !field.is_empty() {
            assert_eq!(r.json()["error"]["field"], field, "{patch}: {}", r.text());
        }
    }
    app.send("POST", "/api/needs", None, &need_body(None, None))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.get("/api/needs/not-a-uuid")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    app.get(&format!("/api/needs/{}", uuid::Uuid::now_v7()))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
});

both!(
    campaign_batch_dispatch_counts_coverage,
    |app: TestApp| async move {
        let (_, admin) = app
            .user_with_token(
                "admin@comune.it",
                &[RoleGrant::new(Role::TerritoryAdmin, None).unwrap()],
            )
            .await;
        let (_, anna) = app.user_with_token("anna@example.it", &[]).await;
        let r = app
        .send("POST", "/api/campaigns", Some(&admin), &json!({"name": "Ondata di calore", "kind": "heatwave", "categories": ["H1", "H2"]}))
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let cid = r.json()["id"].as_str().unwrap().to_string();
        app.send(
            "POST",
            "/api/campaigns",
            Some(&anna),
            &json!({"name": "x", "kind": "heatwave", "categories": ["H1"]}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // A code of the right shape that the taxonomy does not have is no kind of help.
        let v = app
            .send(
                "POST",
                "/api/campaigns",
                Some(&admin),
                &json!({"name": "x", "kind": "heatwave", "categories": ["ZZZ"]}),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        // A need or an offer is a kind of neighbourly help, in the territory: not a category of
        // the directory (C1, home care by a provider), not in Rome.
        let (_, someone) = app.user_with_token("chiunque@example.it", &[]).await;
        let mut directory_kind = need_body(None, None);
        directory_kind["category"] = json!("C1");
        let e = app
            .send("POST", "/api/needs", Some(&someone), &directory_kind)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert!(e.to_string().contains("category"), "{e}");
        let mut rome = need_body(None, None);
        rome["lat"] = json!(41.9028);
        rome["lon"] = json!(12.4964);
        let e = app
            .send("POST", "/api/needs", Some(&someone), &rome)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert!(e.to_string().contains("outside the territory"), "{e}");
        let mut offer = offer_body(41.9028, 12.4964);
        app.send("POST", "/api/offers", Some(&someone), &offer)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        offer = offer_body(45.4531, 9.1402);
        offer["categories"] = json!(["H1", "B2"]);
        app.send("POST", "/api/offers", Some(&someone), &offer)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "categories[0]", "{v}");
        // Three urgent needs, two volunteers with room for one each.
        for _ in 0..3 {
            let r = app
                .send(
                    "POST",
                    "/api/needs",
                    Some(&anna),
                    &need_body(None, Some(&cid)),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        for i in 0..2 {
            let (_, t) = app.user_with_token(&format!("v{i}@example.it"), &[]).await;
            let mut b = offer_body(45.4540, 9.1410);
            b["capacity"] = json!(1);
            app.send("POST", "/api/offers", Some(&t), &b).await;
        }
        let dry = app
            .send(
                "POST",
                &format!("/api/campaigns/{cid}/dispatch"),
                Some(&admin),
                &json!({"dry_run": true}),
            )
            .await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.text());
        assert_eq!(dry.json()["covered_units"], 2);
        assert_eq!(dry.json()["matches_created"], 0);
        let run = app
            .send(
                "POST",
                &format!("/api/campaigns/{cid}/dispatch"),
                Some(&admin),
                &json!({}),
            )
            .await
            .json();
        assert_eq!(run["matches_created"], 2);
        assert_eq!(run["uncovered_units"], 1);
        assert_eq!(run["uncovered_by_urgency"]["high"], 1);
        let c = app.get(&format!("/api/campaigns/{cid}")).await.json();
        assert_eq!(c["counts"]["needs"], 3);
        assert_eq!(c["counts"]["covered"], 2);
        assert_eq!(c["counts"]["uncovered"], 1);
        assert_eq!(c["counts"]["volunteers"], 2);
        // Only the admin runs the batch.
        app.send("POST", "/api/matching/batch", Some(&anna), &json!({}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
);

both!(
    hub_managers_set_hubs_and_rooms_are_booked_once,
    |app: TestApp| async move {
        let (org, loc) = app.hub_place().await;
        let (_, manager) = app
            .user_with_token(
                "hub@rete.it",
                &[RoleGrant::new(Role::HubManager, Some(org)).unwrap()],
            )
            .await;
        let (_, other) = app.user_with_token("altro@example.it", &[]).await;
        let hub = json!({"functions": ["social_centre", "library"], "capacity": 60, "help_desk": "Martedì 9:30–12:30",
        "opening_hours": [{"day": "tue", "from": "09:00", "to": "13:00"}, {"day": "thu", "from": "09:00", "to": "13:00"}]});
        app.send("PUT", &format!("/api/hubs/{loc}"), Some(&other), &hub)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        let mut bad = hub.clone();
        bad["functions"] = json!(["casino"]);
        let v = app
            .send("PUT", &format!("/api/hubs/{loc}"), Some(&manager), &bad)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "functions");
        let r = app
            .send("PUT", &format!("/api/hubs/{loc}"), Some(&manager), &hub)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = app
            .send(
                "POST",
                &format!("/api/hubs/{loc}/rooms"),
                Some(&manager),
                &json!({"name": "Sala grande", "capacity": 30, "slot_minutes": 60}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let room = r.json()["id"].as_str().unwrap().to_string();
        let hubs = app.get("/api/hubs").await.json();
        assert_eq!(hubs[0]["rooms"][0]["name"], "Sala grande");
        // Tuesday 2030-12-03: four one-hour slots from 9 to 13.
        let slots = app
            .get(&format!("/api/rooms/{room}/slots?date=2030-12-03"))
            .await
            .json();
        assert_eq!(slots.as_array().unwrap().len(), 4, "{slots}");
        let book = json!({"start": "2030-12-03T10:00", "purpose": "Corso di italiano"});
        let r = app
            .send(
                "POST",
                &format!("/api/rooms/{room}/bookings"),
                Some(&other),
                &book,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        app.send(
            "POST",
            &format!("/api/rooms/{room}/bookings"),
            Some(&manager),
            &book,
        )
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
        let v = app
            .send(
                "POST",
                &format!("/api/rooms/{room}/bookings"),
                Some(&other),
                &json!({"start": "2030-12-03T10:30", "purpose": "x"}),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "start");
        let slots = app
            .get(&format!("/api/rooms/{room}/slots?date=2030-12-03"))
            .await
            .json();
        assert_eq!(slots[1]["free"], false);
        assert_eq!(slots[0]["free"], true);

        // In search: the hubs page finds it by words and by function, and not by another one.
        let page = app.get("/hub?q=GIAMBELLINO&funzione=library").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text().contains("Casa di quartiere Giambellino"));
        assert!(page.text().contains(r#"<option value="library" selected>"#));
        let page = app.get("/hub?funzione=parish").await.text();
        assert!(!page.contains("Casa di quartiere Giambellino"));
        // A service delivered there is marked as being at a community hub in the directory
        // search; one delivered elsewhere is not.
        let service = |name: &str,
                       at: Option<trama_core::ids::LocationId>|
         -> trama_core::hsds::Service {
            let mut v = json!({"id": uuid::Uuid::new_v4().to_string(), "organization_id": org.to_string(),
                "name": name, "status": "active"});
            if let Some(at) = at {
                v["service_at_locations"] = json!([{"id": uuid::Uuid::new_v4().to_string(), "location_id": at.to_string()}]);
            }
            serde_json::from_value(v).unwrap()
        };
        app.store()
            .put_service(&service("Scuola di italiano per stranieri", Some(loc)))
            .await
            .unwrap();
        app.store()
            .put_service(&service("Scuola di italiano serale", None))
            .await
            .unwrap();
        let page = app.get("/cerca?q=scuola+italiano").await.text();
        assert!(page.contains("Scuola di italiano serale"), "{page}");
        assert_eq!(page.matches(r#"class="badge hub""#).count(), 1, "{page}");
        let hub_at = page.find(r#"class="badge hub""#).unwrap();
        let first = page.find("Scuola di italiano per stranieri").unwrap();
        let second = page.find("Scuola di italiano serale").unwrap();
        // The badge belongs to the service at the hub.
        assert!(if first < second {
            hub_at > first && hub_at < second
        } else {
            hub_at > first
        });
    }
);

both!(
    shared_services_group_neighbours_and_split_the_cost,
    |app: TestApp| async move {
        let org = OrganizationId::new();
        let (_, operator) = app
            .user_with_token(
                "op@hub.it",
                &[RoleGrant::new(Role::Operator, Some(org)).unwrap()],
            )
            .await;
        let mut people = Vec::new();
        for name in ["A", "B", "C"] {
            let r = app.send("POST", "/api/people", Some(&operator), &json!({"display_name": format!("Persona {name}"), "consent_reference": "Prot. 1"})).await;
            people.push(r.json()["id"].as_str().unwrap().to_string());
        }
        // Three neighbours in one building, same kind of help, overlapping mornings.
        for (i, p) in people.iter().enumerate() {
            let mut b = need_body(Some(p), None);
            b["category"] = json!("H10");
            b["lat"] = json!(45.4600 + i as f64 * 0.0001);
            b["lon"] = json!(9.1500);
            b["windows"] = json!([{"day": "mon", "from": format!("0{}:00", 8 + i), "to": "12:00"}]);
            b["duration_minutes"] = json!(60);
            let r = app.send("POST", "/api/needs", Some(&operator), &b).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let need_reads = |p: &String| {
            let id = trama_core::ids::UserId::parse("id", p).unwrap();
            let app = &app;
            async move {
                app.store()
                    .audit_about_person(id, 100)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|e| e.action == "need.read")
                    .count()
            }
        };
        let mut reads_before = Vec::new();
        for p in &people {
            reads_before.push(need_reads(p).await);
        }
        let g = app
            .get_auth(
                "/api/shared-services?hourly_rate=20&extra_percent=25",
                &operator,
            )
            .await;
        assert_eq!(g.status, StatusCode::OK, "{}", g.text());
        let groups = g.json();
        assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
        assert_eq!(groups[0]["needs"].as_array().unwrap().len(), 3);
        // 20 €/h for an hour, +25 % for each of two more people: 30 €, 10 € each (vs 60 € apart).
        assert_eq!(groups[0]["total_cents"], 3000);
        assert_eq!(groups[0]["shares_cents"], json!([1000, 1000, 1000]));
        assert_eq!(groups[0]["separate_cents"], 6000);
        // Each need shown in full is a read of that person's file, which they see.
        for (p, before) in people.iter().zip(&reads_before) {
            assert_eq!(need_reads(p).await, before + 1, "{p}");
        }
        let (_, citizen) = app.user_with_token("c@example.it", &[]).await;
        app.get_auth("/api/shared-services", &citizen)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");

        // The same on the desk's page, in words, at the rate the operator types.
        let csrf = "c".repeat(43);
        let (cookies, _) = crate::web::sign_in(&app, "op@hub.it", &csrf).await;
        let desk = crate::get_with(&app, "/sportello", &cookies).await;
        assert!(
            desk.text().contains(r#"href="/sportello/condivisi""#),
            "{}",
            desk.text()
        );
        let page = crate::get_with(
            &app,
            "/sportello/condivisi?tariffa=20&maggiorazione=25",
            &cookies,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let text = page.text();
        for shown in [
            "Persona A",
            "Persona B",
            "Persona C",
            "€\u{a0}10,00",
            "€\u{a0}30,00",
            "€\u{a0}60,00",
            "Lunedì 10:00–12:00",
            "60 minuti",
            r#"value="20""#,
        ] {
            assert!(text.contains(shown), "{shown}: {text}");
        }
        // A rate that is not one is named, and the proposals are shown at the default rate.
        let bad = crate::get_with(&app, "/sportello/condivisi?tariffa=gratis", &cookies).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text().contains(r##"href="#tariffa""##),
            "{}",
            bad.text()
        );
        assert!(
            bad.text().contains("€\u{a0}33,00"),
            "22 €/h + 50 %: {}",
            bad.text()
        );
        assert!(
            bad.text().contains(r#"value="gratis""#),
            "what was typed stays: {}",
            bad.text()
        );
        assert!(bad.text().contains("Tariffa oraria: "), "{}", bad.text());
        let bad = crate::get_with(&app, "/sportello/condivisi?maggiorazione=300", &cookies).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text().contains("deve essere tra 0 e 100"),
            "{}",
            bad.text()
        );
        // Two neighbours whose visits differ too much in length (15 minutes and 4 hours) would
        // pay more together than apart: not proposed.
        let mut apart = Vec::new();
        for (i, minutes) in [15, 240].into_iter().enumerate() {
            let r = app
                .send(
                    "POST",
                    "/api/people",
                    Some(&operator),
                    &json!({"display_name": format!("Vicino {i}"), "consent_reference": "Prot. 2"}),
                )
                .await;
            let person = r.json()["id"].as_str().unwrap().to_string();
            apart.push(person.clone());
            let mut b = need_body(Some(&person), None);
            b["category"] = json!("H2");
            b["lat"] = json!(45.4700 + i as f64 * 0.0001);
            b["lon"] = json!(9.1600);
            b["windows"] = json!([{"day": "tue", "from": "09:00", "to": "13:00"}]);
            b["duration_minutes"] = json!(minutes);
            let r = app.send("POST", "/api/needs", Some(&operator), &b).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let mut apart_before = Vec::new();
        for p in &apart {
            apart_before.push(need_reads(p).await);
        }
        let groups = app.get_auth("/api/shared-services", &operator).await.json();
        assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
        // A proposal not made reads nobody's file.
        for (p, before) in apart.iter().zip(&apart_before) {
            assert_eq!(need_reads(p).await, *before, "{p}");
        }

        // Someone who is not an operator gets no proposals.
        app.user_with_token(
            "c2@example.it",
            &[RoleGrant::new(Role::Volunteer, None).unwrap()],
        )
        .await;
        let (c_cookies, _) = crate::web::sign_in(&app, "c2@example.it", &csrf).await;
        let r = crate::get_with(&app, "/sportello/condivisi", &c_cookies).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!r.text().contains("Persona A"));
        assert_eq!(
            app.get("/sportello/condivisi").await.status,
            StatusCode::SEE_OTHER,
            "anonymous visitors are sent to sign in"
        );
    }
);

// A volunteer pauses, resumes and withdraws their own offer (API and page); a paused offer is
// suggested to nobody; nobody else can touch it; bad input is named.
both!(
    an_offer_is_paused_resumed_and_withdrawn_by_its_owner,
    |app: TestApp| async move {
        let (_, vol) = app
            .user_with_token(
                "volontaria@example.it",
                &[crate::grant(Role::Volunteer, None)],
            )
            .await;
        let (_, other) = app
            .user_with_token("altro@example.it", &[crate::grant(Role::Volunteer, None)])
            .await;
        let (_, auditor) = app
            .user_with_token("revisore@example.it", &[crate::grant(Role::Auditor, None)])
            .await;
        let (_, requester) = app.user_with_token("chiede@example.it", &[]).await;
        let r = app
            .send(
                "POST",
                "/api/offers",
                Some(&vol),
                &offer_body(45.4531, 9.1402),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let offer = r.json()["id"].as_str().unwrap().to_string();
        let r = app
            .send(
                "POST",
                "/api/needs",
                Some(&requester),
                &need_body(None, None),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let need = r.json()["id"].as_str().unwrap().to_string();
        let suggested = |v: Value| {
            v.as_array()
                .unwrap()
                .iter()
                .any(|s| s["offer_id"].as_str() == Some(offer.as_str()))
        };
        let sugg = format!("/api/needs/{need}/suggestions");
        assert!(suggested(app.get_auth(&sugg, &requester).await.json()));

        // Anonymous: 401; someone else, an auditor: it is not theirs to change.
        let pause = format!("/api/offers/{offer}/pause");
        assert_eq!(
            app.send("POST", &pause, None, &json!({})).await.status,
            StatusCode::UNAUTHORIZED
        );
        app.send("POST", &pause, Some(&other), &json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            app.send("POST", &pause, Some(&auditor), &json!({}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Bad input: not an id, an action that does not exist.
        app.send("POST", "/api/offers/nessuna/pause", Some(&vol), &json!({}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(
            app.send(
                "POST",
                &format!("/api/offers/{offer}/sospendi"),
                Some(&vol),
                &json!({})
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        // Paused: suggested to nobody; resuming twice is a conflict that says why.
        let r = app.send("POST", &pause, Some(&vol), &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["state"], "paused");
        assert!(!suggested(app.get_auth(&sugg, &requester).await.json()));
        let resume = format!("/api/offers/{offer}/resume");
        assert_eq!(
            app.send("POST", &resume, Some(&vol), &json!({}))
                .await
                .json()["state"],
            "active"
        );
        let again = app.send("POST", &resume, Some(&vol), &json!({})).await;
        let e = again.assert_error(StatusCode::CONFLICT, "conflict");
        assert!(e.to_string().contains("cannot resume"), "{e}");
        assert!(suggested(app.get_auth(&sugg, &requester).await.json()));

        // The same through the offer's page, with the words a person reads.
        let csrf = "c".repeat(43);
        let (cookies, token) = crate::web::sign_in(&app, "volontaria@example.it", &csrf).await;
        let page = crate::get_with(&app, &format!("/aiuto/offerte/{offer}"), &cookies)
            .await
            .text();
        assert!(page.contains("Attiva: la proponiamo"), "{page}");
        assert!(page.contains("Metti in pausa"), "{page}");
        let state_url = format!("/aiuto/offerte/{offer}/stato");
        let r = crate::post_form(
            &app,
            &state_url,
            &cookies,
            &[("csrf", &token), ("azione", "sospendi")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains("Qualcosa non va"), "{}", r.text());
        assert!(r.text().contains("non è tra le scelte"), "{}", r.text());
        let r = crate::post_form(
            &app,
            &state_url,
            &cookies,
            &[("csrf", &token), ("azione", "withdraw")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = crate::get_with(&app, &format!("/aiuto/offerte/{offer}"), &cookies)
            .await
            .text();
        assert!(page.contains("Ritirata"), "{page}");
        assert!(!page.contains("Metti in pausa"), "{page}");
        // Someone else's offer page does not exist for them, as its state change answers.
        let (other_c, _) = crate::web::sign_in(&app, "altro@example.it", &csrf).await;
        assert_eq!(
            crate::get_with(&app, &format!("/aiuto/offerte/{offer}"), &other_c)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Withdrawn is for good; and it is gone from the volunteer's list.
        app.send("POST", &resume, Some(&vol), &json!({}))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        let home = crate::get_with(&app, "/aiuto", &cookies).await.text();
        assert!(!home.contains(&format!("/aiuto/offerte/{offer}")), "{home}");
    }
);

// A requester cancels and reopens their need from its page; a need someone has taken on is
// not cancelled until that help is called off; nobody else changes it.
both!(
    a_need_is_cancelled_and_reopened_from_its_page,
    |app: TestApp| async move {
        let (_, requester) = app.user_with_token("chiede@example.it", &[]).await;
        let (_, vol) = app
            .user_with_token(
                "volontaria@example.it",
                &[crate::grant(Role::Volunteer, None)],
            )
            .await;
        let r = app
            .send(
                "POST",
                "/api/needs",
                Some(&requester),
                &need_body(None, None),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let need = r.json()["id"].as_str().unwrap().to_string();
        let page_url = format!("/aiuto/richieste/{need}");
        let state_url = format!("{page_url}/stato");
        let csrf = "c".repeat(43);
        let (cookies, token) = crate::web::sign_in(&app, "chiede@example.it", &csrf).await;
        let page = crate::get_with(&app, &page_url, &cookies).await.text();
        assert!(page.contains("Annulla la richiesta"), "{page}");

        // Someone else: the button is not theirs to press.
        let (other_c, other_t) = crate::web::sign_in(&app, "volontaria@example.it", &csrf).await;
        let r = crate::post_form(
            &app,
            &state_url,
            &other_c,
            &[("csrf", &other_t), ("azione", "cancel")],
        )
        .await;
        assert!(
            matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            r.status
        );
        // A word the form does not offer.
        let r = crate::post_form(
            &app,
            &state_url,
            &cookies,
            &[("csrf", &token), ("azione", "cancella")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

        // Cancelled, then opened again.
        let r = crate::post_form(
            &app,
            &state_url,
            &cookies,
            &[("csrf", &token), ("azione", "cancel")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = crate::get_with(&app, &page_url, &cookies).await.text();
        assert!(page.contains("Annullata"), "{page}");
        assert!(page.contains("Riapri la richiesta"), "{page}");
        let r = crate::post_form(
            &app,
            &state_url,
            &cookies,
            &[("csrf", &token), ("azione", "reopen")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = crate::get_with(&app, &page_url, &cookies).await.text();
        assert!(page.contains("In cerca di aiuto"), "{page}");

        // A volunteer takes it on: cancelling now would leave her waiting, so it is refused
        // with the reason.
        let offer = app
            .send(
                "POST",
                "/api/offers",
                Some(&vol),
                &offer_body(45.4531, 9.1402),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = app
            .send(
                "POST",
                &format!("/api/needs/{need}/accept"),
                Some(&vol),
                &json!({"offer_id": offer}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let page = crate::get_with(&app, &page_url, &cookies).await.text();
        assert!(
            !page.contains("Annulla la richiesta"),
            "no button that cannot work: {page}"
        );
        assert!(
            page.contains("prima annulla qui sotto l'aiuto in corso"),
            "{page}"
        );
        let r = crate::post_form(
            &app,
            &state_url,
            &cookies,
            &[("csrf", &token), ("azione", "cancel")],
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert!(
            r.text().contains("prima annulla l&#39;aiuto in corso"),
            "{}",
            r.text()
        );
    }
);

// The hub manager runs the hub from its page: what it is, its hours (two a day), its desk, a
// room; mistakes keep what was typed; someone of another organisation is refused.
both!(a_hub_is_run_from_its_page, |app: TestApp| async move {
    let (org, loc) = app.hub_place().await;
    let (_, manager) = app
        .user_with_token(
            "hub@rete.it",
            &[RoleGrant::new(Role::HubManager, Some(org)).unwrap()],
        )
        .await;
    app.user_with_token(
        "altrohub@example.it",
        &[RoleGrant::new(Role::HubManager, Some(OrganizationId::new())).unwrap()],
    )
    .await;
    // It becomes a hub (the API), then is run from the page.
    let hub = json!({"functions": ["social_centre"], "capacity": 60, "help_desk": "",
        "opening_hours": [{"day": "tue", "from": "09:00", "to": "13:00"}]});
    let r = app
        .send("PUT", &format!("/api/hubs/{loc}"), Some(&manager), &hub)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let csrf = "c".repeat(43);
    let (cookies, token) = crate::web::sign_in(&app, "hub@rete.it", &csrf).await;
    let list = crate::get_with(&app, "/hub", &cookies).await.text();
    let url = format!("/hub/{loc}/gestione");
    assert!(
        list.contains(&url),
        "the hubs page links the manager to it: {list}"
    );
    let page = crate::get_with(&app, &url, &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains(r#"value="09:00""#), "{}", page.text());

    let form = |capacity: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("functions", "social_centre".to_string()),
            ("functions", "library".to_string()),
            ("capacity", capacity.to_string()),
            ("day", "tue".to_string()),
            ("from", "09:00".to_string()),
            ("to", "12:30".to_string()),
            ("day", "tue".to_string()),
            ("from", "15:00".to_string()),
            ("to", "18:00".to_string()),
            ("day", String::new()),
            ("from", String::new()),
            ("to", String::new()),
            (
                "help_desk",
                "Martedì: pratiche, ISEE, spesa solidale".to_string(),
            ),
        ]
    };
    // Hours backwards: a slip, not an overnight opening.
    let mut backwards = form("80");
    backwards[5].1 = "13:00".into();
    backwards[6].1 = "09:00".into();
    let backwards: Vec<(&str, &str)> = backwards.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::post_form(&app, &url, &cookies, &backwards).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let bad = form("tanti");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::post_form(&app, &url, &cookies, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains(r#"value="tanti""#), "{}", r.text());
    assert!(r.text().contains(r#"value="15:00""#), "{}", r.text());
    let good = form("80");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::post_form(&app, &url, &cookies, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let h = app.store().hub(loc).await.unwrap().unwrap();
    assert_eq!(h.capacity, 80);
    assert_eq!(h.opening_hours.len(), 2);
    assert_eq!(h.functions, vec!["social_centre", "library"]);

    // A room: a slot too short is named; then it is added and bookable.
    let rooms = format!("/hub/{loc}/sale");
    let r = crate::post_form(
        &app,
        &rooms,
        &cookies,
        &[
            ("csrf", &token),
            ("name", "Sala del coro"),
            ("capacity", "25"),
            ("slot_minutes", "5"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains(r#"value="Sala del coro""#),
        "{}",
        r.text()
    );
    // More seats than the hub holds (80).
    let r = crate::post_form(
        &app,
        &rooms,
        &cookies,
        &[
            ("csrf", &token),
            ("name", "Sala enorme"),
            ("capacity", "5000"),
            ("slot_minutes", "60"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("più posti di quanti"), "{}", r.text());
    let r = crate::post_form(
        &app,
        &rooms,
        &cookies,
        &[
            ("csrf", &token),
            ("name", "Sala del coro"),
            ("capacity", "25"),
            ("slot_minutes", "90"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let h = app.store().hub(loc).await.unwrap().unwrap();
    assert_eq!(h.rooms.len(), 1);
    assert_eq!(h.rooms[0].slot_minutes, 90);

    // Another organisation's manager: neither the page nor the forms.
    let (other, other_t) = crate::web::sign_in(&app, "altrohub@example.it", &csrf).await;
    assert_eq!(
        crate::get_with(&app, &url, &other).await.status,
        StatusCode::FORBIDDEN
    );
    let r = crate::post_form(&app, &url, &other, &[("csrf", &other_t), ("capacity", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // A place that is not an id, anonymous.
    assert_eq!(
        crate::get_with(&app, "/hub/nessuno/gestione", &cookies)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.get(&url).await.status, StatusCode::SEE_OTHER);
});

// A volunteer rewrites their own offer (API and page): nobody else can, never below the people
// counting on it, never once withdrawn; a wrong field is named and what was typed is kept.
both!(
    an_offer_is_rewritten_by_its_owner_only,
    |app: TestApp| async move {
        let (_, vol) = app
            .user_with_token(
                "volontaria@example.it",
                &[crate::grant(Role::Volunteer, None)],
            )
            .await;
        let (_, other) = app
            .user_with_token("altro@example.it", &[crate::grant(Role::Volunteer, None)])
            .await;
        let (_, auditor) = app
            .user_with_token("revisore@example.it", &[crate::grant(Role::Auditor, None)])
            .await;
        let r = app
            .send(
                "POST",
                "/api/offers",
                Some(&vol),
                &offer_body(45.4531, 9.1402),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let offer = r.json()["id"].as_str().unwrap().to_string();
        let url = format!("/api/offers/{offer}");
        let mut changed = offer_body(45.4600, 9.1500);
        changed["description"] = json!("Accompagno alle visite, il giovedì");
        changed["categories"] = json!(["H3"]);
        changed["availability"] = json!([{"day": "thu", "from": "14:00", "to": "18:00"}, {"day": "sat", "from": "09:00", "to": "12:00"}]);
        changed["capacity"] = json!(3);

        assert_eq!(
            app.send("PUT", &url, None, &changed).await.status,
            StatusCode::UNAUTHORIZED
        );
        app.send("PUT", &url, Some(&other), &changed)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            app.send("PUT", &url, Some(&auditor), &changed).await.status,
            StatusCode::FORBIDDEN
        );
        app.send("PUT", "/api/offers/nessuna", Some(&vol), &changed)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        let mut bad = changed.clone();
        bad["radius_km"] = json!(0);
        let e = app
            .send("PUT", &url, Some(&vol), &bad)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(e["error"]["field"], "radius_km", "{e}");
        let r = app.send("PUT", &url, Some(&vol), &changed).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        assert_eq!(
            v["description"], "Accompagno alle visite, il giovedì",
            "{v}"
        );
        assert_eq!(v["capacity"], 3);
        assert_eq!(v["availability"].as_array().unwrap().len(), 2, "{v}");

        // Two people count on it: it keeps at least two places.
        for who in ["uno@example.it", "due@example.it"] {
            let (_, t) = app.user_with_token(who, &[]).await;
            let mut need = need_body(None, None);
            need["category"] = json!("H3");
            need["lat"] = json!(45.4600);
            need["lon"] = json!(9.1500);
            need["windows"] = json!([{"day": "thu", "from": "14:00", "to": "18:00"}]);
            let nid = app.send("POST", "/api/needs", Some(&t), &need).await.json()["id"]
                .as_str()
                .unwrap()
                .to_string();
            let r = app
                .send(
                    "POST",
                    &format!("/api/needs/{nid}/accept"),
                    Some(&vol),
                    &json!({"offer_id": offer}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let mut fewer = changed.clone();
        fewer["capacity"] = json!(1);
        let e = app
            .send("PUT", &url, Some(&vol), &fewer)
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        assert_eq!(e["error"]["field"], "capacity", "{e}");

        // The page: the form opens with the offer as it is; a mistake keeps what was typed.
        let csrf = "e".repeat(43);
        let (cookies, token) = crate::web::sign_in(&app, "volontaria@example.it", &csrf).await;
        let edit = format!("/aiuto/offerte/{offer}/modifica");
        assert_eq!(app.get(&edit).await.status, StatusCode::SEE_OTHER);
        let (others, others_t) = crate::web::sign_in(&app, "altro@example.it", &csrf).await;
        assert_eq!(
            crate::get_with(&app, &edit, &others).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            crate::post_form(
                &app,
                &edit,
                &others,
                &[("csrf", &others_t), ("description", "mia")]
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        let page = crate::get_with(&app, &edit, &cookies).await.text();
        assert!(
            page.contains("Accompagno alle visite, il giovedì"),
            "{page}"
        );
        assert!(
            page.contains(r#"value="14:00""#) && page.contains(r#"value="09:00""#),
            "{page}"
        );
        assert!(
            page.contains(r#"<option value="" selected>Dove si trova ora</option>"#),
            "{page}"
        );
        let form = |capacity: &'static str, description: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("category", "H3".to_string()),
                ("description", description.to_string()),
                ("area", String::new()),
                ("radius", "2".to_string()),
                ("day", "thu".to_string()),
                ("from", "14:00".to_string()),
                ("to", "18:00".to_string()),
                ("day", String::new()),
                ("from", String::new()),
                ("to", String::new()),
                ("hours", "4".to_string()),
                ("capacity", capacity.to_string()),
                ("language", "it".to_string()),
            ]
        };
        let f1 = form("1", "Solo il giovedì");
        let f1: Vec<(&str, &str)> = f1.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = crate::post_form(&app, &edit, &cookies, &f1).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains(r##"href="#capacity""##), "{}", r.text());
        assert!(r.text().contains("Solo il giovedì"), "what was typed stays");
        let f2 = form("2", "Solo il giovedì");
        let f2: Vec<(&str, &str)> = f2.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = crate::post_form(&app, &edit, &cookies, &f2).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let o = app.get_auth(&url, &vol).await.json();
        assert_eq!(o["description"], "Solo il giovedì", "{o}");
        assert_eq!(o["radius_km"], 2.0, "{o}");
        assert_eq!(o["availability"].as_array().unwrap().len(), 1, "{o}");
        // Where it is now stayed where it was.
        let page = crate::get_with(
            &app,
            &format!("/aiuto/offerte/{offer}?fatto=modificata"),
            &cookies,
        )
        .await
        .text();
        assert!(page.contains("Offerta modificata."), "{page}");
        assert!(page.contains(&edit), "{page}");
    }
);

// Suggestions come from an in-memory offer index kept current by the offers' change log:
// another process on the same database (a second store) sees every change to an offer that
// decides whether it can be suggested.
both!(
    the_offer_index_follows_every_change_even_from_another_process,
    |app: TestApp| async move {
        let other = trama_store::Store::connect(&app.url, &trama_store::StoreOptions::default())
            .await
            .unwrap();
        let (vol_id, vol) = app
            .user_with_token(
                "volontaria@example.it",
                &[crate::grant(Role::Volunteer, None)],
            )
            .await;
        // What the other process's index holds of the one offer: (description, owner's name).
        let near = |s: &trama_store::Store| {
            let s = s.clone();
            async move {
                s.with_offer_index(|i| {
                    i.all()
                        .iter()
                        .map(|o| {
                            (
                                o.id.to_string(),
                                o.description.clone(),
                                o.owner_name.clone(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap()
            }
        };
        assert!(near(&other).await.is_empty());
        let offer = app
            .send(
                "POST",
                "/api/offers",
                Some(&vol),
                &offer_body(45.4531, 9.1402),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(near(&other).await.len(), 1, "a new offer is seen");
        assert_eq!(near(&other).await[0].0, offer);
        app.send(
            "POST",
            &format!("/api/offers/{offer}/pause"),
            Some(&vol),
            &json!({}),
        )
        .await;
        assert!(near(&other).await.is_empty(), "a paused one is not");
        app.send(
            "POST",
            &format!("/api/offers/{offer}/resume"),
            Some(&vol),
            &json!({}),
        )
        .await;
        assert_eq!(near(&other).await.len(), 1, "nor resumed");
        app.store()
            .set_profile(vol_id, "Volontaria Rinominata", "it")
            .await
            .unwrap();
        assert_eq!(
            near(&other).await[0].2,
            "Volontaria Rinominata",
            "her new name shows"
        );
        // Two people take its two places: full, it is suggested to nobody.
        for who in ["uno@example.it", "due@example.it"] {
            let (_, t) = app.user_with_token(who, &[]).await;
            let nid = app
                .send("POST", "/api/needs", Some(&t), &need_body(None, None))
                .await
                .json()["id"]
                .as_str()
                .unwrap()
                .to_string();
            let r = app
                .send(
                    "POST",
                    &format!("/api/needs/{nid}/accept"),
                    Some(&vol),
                    &json!({"offer_id": offer}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        assert!(near(&other).await.is_empty(), "a full offer is not seen");
        let mut more = offer_body(45.4531, 9.1402);
        more["capacity"] = json!(3);
        more["description"] = json!("Anche la domenica");
        let r = app
            .send("PUT", &format!("/api/offers/{offer}"), Some(&vol), &more)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let seen = near(&other).await;
        assert_eq!(seen.len(), 1, "a place more: seen again");
        assert_eq!(seen[0].1, "Anche la domenica");
        // A wipe empties it.
        app.store().wipe().await.unwrap();
        assert!(near(&other).await.is_empty());
    }
);

// Help moved from another system (and the benches) loads in bulk: each form checked as one
// is, the wrong one named by its position, nothing of the batch kept; what loads is suggested.
both!(
    offers_and_needs_load_in_bulk_all_or_nothing,
    |app: TestApp| async move {
        let people: Vec<_> = (0..3)
            .map(|i| (trama_core::ids::UserId::new(), format!("Persona {i}"), None))
            .collect();
        trama_server::accounts::service::create_people(&app.state, &people)
            .await
            .unwrap();
        let form = |lat: f64| -> trama_core::needs::OfferForm {
            serde_json::from_value(offer_body(lat, 9.1402)).unwrap()
        };
        let mut bad = form(45.4531);
        bad.radius_km = -1.0;
        let e = trama_server::help::service::load_offers(
            &app.state,
            &[(people[0].0, form(45.4531)), (people[1].0, bad)],
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("offers[1].radius_km"), "{e}");
        assert_eq!(
            trama_server::help::service::warm_offer_index(&app.state)
                .await
                .unwrap(),
            0,
            "nothing of a refused batch is kept"
        );
        let ids = trama_server::help::service::load_offers(
            &app.state,
            &[(people[0].0, form(45.4531)), (people[1].0, form(45.4540))],
        )
        .await
        .unwrap();
        assert_eq!(ids.len(), 2);
        let needs = trama_server::help::service::load_needs(
            &app.state,
            &[(
                people[2].0,
                serde_json::from_value(need_body(None, None)).unwrap(),
            )],
        )
        .await
        .unwrap();
        let n = app.store().need(needs[0]).await.unwrap().unwrap();
        assert_eq!(n.requester, people[2].0);
        let p = trama_core::auth::Principal {
            user_id: people[2].0,
            display_name: "Persona 2".into(),
            grants: vec![],
        };
        let s = trama_server::help::service::suggestions_for(&app.state, &p, &n, 5)
            .await
            .unwrap();
        assert_eq!(s.len(), 2, "both loaded offers are suggested");
    }
);

// A person changes their own open request (API and page) while nobody has taken it; nobody
// else can; a wrong field is named and what was typed is kept.
both!(
    a_need_is_rewritten_by_its_person_while_nobody_has_taken_it,
    |app: TestApp| async move {
        let (_, anna) = app.user_with_token("anna@example.it", &[]).await;
        let (_, other) = app.user_with_token("altro@example.it", &[]).await;
        let (_, auditor) = app
            .user_with_token("revisore@example.it", &[crate::grant(Role::Auditor, None)])
            .await;
        let nid = app
            .send("POST", "/api/needs", Some(&anna), &need_body(None, None))
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let url = format!("/api/needs/{nid}");
        let mut changed = need_body(None, None);
        changed["description"] = json!("Spesa il giovedì, non il martedì");
        changed["windows"] = json!([{"day": "thu", "from": "10:00", "to": "12:00"}]);
        assert_eq!(
            app.send("PUT", &url, None, &changed).await.status,
            StatusCode::UNAUTHORIZED
        );
        for who in [&other, &auditor] {
            assert_eq!(
                app.send("PUT", &url, Some(who), &changed).await.status,
                StatusCode::FORBIDDEN
            );
        }
        let mut bad = changed.clone();
        bad["duration_minutes"] = json!(0);
        let e = app
            .send("PUT", &url, Some(&anna), &bad)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert!(
            e["error"]["field"].as_str().unwrap().contains("duration"),
            "{e}"
        );
        let r = app.send("PUT", &url, Some(&anna), &changed).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["description"], "Spesa il giovedì, non il martedì");

        // The page: opens as the need is, keeps its place unless another area is chosen.
        let csrf = "n".repeat(43);
        let (cookies, token) = crate::web::sign_in(&app, "anna@example.it", &csrf).await;
        let edit = format!("/aiuto/richieste/{nid}/modifica");
        assert_eq!(app.get(&edit).await.status, StatusCode::SEE_OTHER);
        let (others, _) = crate::web::sign_in(&app, "altro@example.it", &csrf).await;
        assert_eq!(
            crate::get_with(&app, &edit, &others).await.status,
            StatusCode::NOT_FOUND
        );
        let page = crate::get_with(&app, &edit, &cookies).await.text();
        assert!(page.contains("Spesa il giovedì, non il martedì"), "{page}");
        assert!(page.contains(r#"value="10:00""#), "{page}");
        assert!(
            page.contains(r#"<option value="" selected>Dove si trova ora</option>"#),
            "{page}"
        );
        let form = |duration: &'static str| {
            vec![
                ("csrf", token.as_str()),
                ("category", "H1"),
                ("description", "Spesa il venerdì"),
                ("address", ADDRESS),
                ("area", ""),
                ("day", "fri"),
                ("from", "09:00"),
                ("to", "11:00"),
                ("weekly", "on"),
                ("duration", duration),
                ("urgency", "normal"),
                ("language", "it"),
                ("people", "1"),
            ]
        };
        let r = crate::post_form(&app, &edit, &cookies, &form("0")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(
            r.text().contains("Spesa il venerdì"),
            "what was typed stays"
        );
        let r = crate::post_form(&app, &edit, &cookies, &form("60")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let n = app.get_auth(&url, &anna).await.json();
        assert_eq!(n["description"], "Spesa il venerdì", "{n}");
        let page = crate::get_with(
            &app,
            &format!("/aiuto/richieste/{nid}?fatto=modificata"),
            &cookies,
        )
        .await
        .text();
        assert!(page.contains("Richiesta modificata."), "{page}");

        // Once someone takes it, it stays as they took it.
        let (_, vol) = app.user_with_token("vol@example.it", &[]).await;
        let mut offer = offer_body(45.4531, 9.1402);
        offer["availability"] = json!([{"day": "fri", "from": "08:00", "to": "12:00"}]);
        let oid = app
            .send("POST", "/api/offers", Some(&vol), &offer)
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = app
            .send(
                "POST",
                &format!("/api/needs/{nid}/accept"),
                Some(&vol),
                &json!({"offer_id": oid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        app.send("PUT", &url, Some(&anna), &changed)
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
        let page = crate::get_with(&app, &format!("/aiuto/richieste/{nid}"), &cookies)
            .await
            .text();
        assert!(!page.contains(&edit), "no change link once taken: {page}");
        // Suggestions are for needs still waiting: a taken one is no probe either.
        app.get_auth(&format!("/api/needs/{nid}/suggestions"), &anna)
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
    }
);
