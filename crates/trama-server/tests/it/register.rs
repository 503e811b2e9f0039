//! The register over HTTP, on both databases: flows appended and checkpointed, proofs and tiles
//! that verify with the published key, statements, erasure, and a node that refuses to sign
//! over a database altered under it.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use trama_core::auth::{Role, RoleGrant};
use trama_ledger::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use trama_ledger::note::NoteVerifier;
use trama_ledger::statement::{Statement, verify_statement};
use trama_ledger::tiles::{parse_entry_bundle, parse_tile_hashes};
use trama_ledger::{base64_decode, checkpoint::open_checkpoint};

use crate::{TestApp, both};

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

async fn key(app: &TestApp) -> NoteVerifier {
    let r = app.get("/register/key").await;
    assert_eq!(r.status, StatusCode::OK);
    NoteVerifier::parse(r.text().trim()).unwrap()
}

async fn signed_size(app: &TestApp, key: &NoteVerifier) -> (u64, Hash) {
    let r = app.get("/register/checkpoint").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    let c = open_checkpoint(&r.body, key.name(), key, &[])
        .unwrap()
        .checkpoint;
    (c.size, c.root)
}

async fn admin(app: &TestApp, email: &str) -> String {
    app.user_with_token(
        email,
        &[RoleGrant::new(Role::TerritoryAdmin, None).unwrap()],
    )
    .await
    .1
}

async fn csv(app: &TestApp, token: &str, body: &str) -> crate::Reply {
    app.request(
        Request::post("/api/register/flows/import")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

both!(
    flows_are_appended_checkpointed_and_proven,
    |app: TestApp| async move {
        let key = key(&app).await;
        // The first checkpoint is of the empty log.
        assert_eq!(signed_size(&app, &key).await.0, 0);
        let admin = admin(&app, "admin@register.test").await;
        let (_, citizen) = app.user_with_token("citizen@register.test", &[]).await;

        let flow = json!({"action": "produce", "resource": "energy", "quantity": 120.5,
        "unit": "kilowattHour", "at": "2026-03-05T12:00:00+01:00",
        });
        // Only operators and admins record flows; anonymous callers are told to sign in.
        app.send("POST", "/api/register/flows", None, &flow)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        app.send("POST", "/api/register/flows", Some(&citizen), &flow)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        let r = app
            .send("POST", "/api/register/flows", Some(&admin), &flow)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["indexes"], json!([0]));
        assert_eq!(
            r.json()["events"][0]["hasPointInTime"],
            "2026-03-05T11:00:00Z"
        );
        // Bad input names the field.
        let v = app
        .send("POST", "/api/register/flows", Some(&admin),
              &json!({"action": "produce", "resource": "energy", "quantity": 1, "unit": "gallon"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "unit");
        app.send(
            "POST",
            "/api/register/flows",
            Some(&admin),
            &json!({"action": "teleport", "resource": "energy", "quantity": 1, "unit": "kWh"}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

        // CSV import is all or nothing and names the line.
        let bad = "action,resource,quantity,unit,at\nproduce,energy,10,kWh,2026-03-06T10:00:00Z\nconsume,energy,lots,kWh,2026-03-06T11:00:00Z\n";
        let v = csv(&app, &admin, bad)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        assert_eq!(v["error"]["field"], "line 3", "{v}");
        let good = "action,resource,quantity,unit,at,note\nproduce,energy,10,kWh,2026-03-06T10:00:00Z,\nconsume,energy,30.5,kWh,2026-03-06T11:00:00Z,\ntransfer,food,12,kilogram,2026-03-07T09:00:00Z,\n";
        let r = csv(&app, &admin, good).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(
            r.json()["indexes"],
            json!([1, 2, 3]),
            "the bad file appended nothing"
        );

        // A checkpoint is signed in the next batch; sign it now.
        app.state.register.checkpoint().await.unwrap();
        let (size, root) = signed_size(&app, &key).await;
        assert_eq!(size, 4);

        // Entries as JSON-LD, and the exact bytes in the entry bundle.
        let page = app.get("/register/entries?from=0&limit=10").await.json();
        assert_eq!(page["entries"].as_array().unwrap().len(), 4);
        assert_eq!(page["@context"], "/register/context.jsonld");
        let ctx = app.get("/register/context.jsonld").await.json();
        assert_eq!(ctx["@context"]["vf"], "https://w3id.org/valueflows/ont/vf#");
        let bundle = app.get("/register/tile/entries/000.p/4").await;
        assert_eq!(bundle.status, StatusCode::OK);
        assert_eq!(
            bundle.headers[header::CONTENT_TYPE],
            "application/octet-stream"
        );
        let entries = parse_entry_bundle(&bundle.body).unwrap();
        assert_eq!(entries.len(), 4);
        let leaves = parse_tile_hashes(&app.get("/register/tile/0/000.p/4").await.body).unwrap();
        for (e, l) in entries.iter().zip(&leaves) {
            assert_eq!(leaf_hash(e), *l);
        }
        assert_eq!(trama_ledger::merkle::root_of_leaves(&leaves), root);
        // Tiles beyond the signed size, and bad paths, are clear errors.
        app.get("/register/tile/0/000.p/5")
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/register/tile/0/000")
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/register/tile/0/1")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");

        // Inclusion proofs verify against the signed root.
        for i in 0..4u64 {
            let p = app
                .get(&format!("/register/proof/inclusion?index={i}"))
                .await
                .json();
            verify_inclusion(
                i,
                size,
                leaf_hash(&entries[i as usize]),
                &hashes(&p["proof"]),
                root,
            )
            .unwrap();
        }
        app.get("/register/proof/inclusion?index=4")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        app.get("/register/proof/inclusion?index=x")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        app.get("/register/proof/inclusion")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");

        // More entries, a second checkpoint, consistent with the first.
        app.send(
            "POST",
            "/api/register/flows",
            Some(&admin),
            &json!({"action": "consume", "resource": "water", "quantity": 500, "unit": "litre"}),
        )
        .await;
        app.state.register.checkpoint().await.unwrap();
        let (size2, root2) = signed_size(&app, &key).await;
        assert_eq!(size2, 5);
        let p = app
            .get(&format!(
                "/register/proof/consistency?from={size}&to={size2}"
            ))
            .await
            .json();
        verify_consistency(size, size2, &hashes(&p["proof"]), root, root2).unwrap();
        app.get("/register/proof/consistency?from=0")
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
        let all: Vec<String> =
            serde_json::from_slice(&app.get("/register/checkpoints").await.body).unwrap();
        assert_eq!(all.len(), 3, "empty, 4 and 5");

        // Flows: the dashboard's numbers are the ones recomputed from the entries.
        let flows = app.get("/register/flows").await.json();
        let energy = flows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "urn:trama:resource:energy" && r["period"] == "2026-03")
            .unwrap();
        assert_eq!(energy["inflow"], 130.5);
        assert_eq!(energy["outflow"], 30.5);
        assert_eq!(energy["balance"], 100.0);
        let events: Vec<_> = entries
            .iter()
            .map(|e| trama_ledger::EconomicEvent::from_canonical_bytes(e).unwrap())
            .collect();
        let recomputed = trama_ledger::accounting::flows(events.iter());
        let r = recomputed
            .iter()
            .find(|r| r.resource == "urn:trama:resource:energy")
            .unwrap();
        assert_eq!(r.inflow, 130.5);

        // The OpenAPI document describes the register.
        let doc = app.get("/api/openapi.json").await.json();
        for path in [
            "/register/checkpoint",
            "/register/proof/inclusion",
            "/register/proof/consistency",
            "/register/tile/{path}",
            "/api/me/statement",
        ] {
            assert!(
                doc["paths"][path].is_object(),
                "{path} missing from OpenAPI"
            );
        }
    }
);

both!(
    a_person_gets_a_statement_and_can_be_unlinked,
    |app: TestApp| async move {
        let key = key(&app).await;
        let (uid, token) = app.user_with_token("volontario@register.test", &[]).await;
        let person = format!("urn:trama:person:{uid}");
        let reg = app.state.register.clone();
        let pseudo = reg
            .agent_iri(&person, trama_server::register::log::Purpose::Help)
            .await
            .unwrap();
        assert!(trama_ledger::pseudonym::is_pseudonym(&pseudo));
        assert_eq!(
            reg.agent_iri(&person, trama_server::register::log::Purpose::Help)
                .await
                .unwrap(),
            pseudo,
            "stable"
        );
        let other = reg
            .agent_iri(
                "urn:trama:person:00000000-0000-7000-8000-000000000001",
                trama_server::register::log::Purpose::Help,
            )
            .await
            .unwrap();
        let mut evs = Vec::new();
        for i in 0..6u32 {
            evs.push(trama_ledger::EconomicEvent {
                id: format!("urn:uuid:00000000-0000-7000-8000-{i:012}"),
                action: trama_ledger::Action::Work,
                provider: if i < 5 { pseudo.clone() } else { other.clone() },
                receiver: if i < 5 { other.clone() } else { pseudo.clone() },
                resource_conforms_to: Some("urn:trama:taxonomy:A2".into()),
                resource_quantity: None,
                effort_quantity: Some(trama_ledger::Measure::hours(1.5).unwrap()),
                has_point_in_time: format!("2026-0{}-10T09:00:00Z", i + 1),
                in_scope_of: reg.territory().to_string(),
                at_location: Some("urn:trama:area:51".into()),
                note: None,
            });
            // One checkpoint after each entry: the statement carries the earlier ones.
            reg.append(vec![evs.last().unwrap().clone()]).await.unwrap();
            reg.checkpoint().await.unwrap();
        }
        // The same event twice is refused.
        assert!(reg.append(vec![evs[0].clone()]).await.is_err());

        let mine = app.get_auth("/api/me/contributions", &token).await.json();
        assert_eq!(mine["pseudonym"], pseudo.as_str());
        assert_eq!(mine["hours_given"], 7.5);
        assert_eq!(mine["hours_received"], 1.5);
        assert_eq!(mine["entries"][0]["area"], "51");

        let r = app.get_auth("/api/me/statement", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(
            r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("attachment")
        );
        let st: Statement = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(st.entries.len(), 6);
        for e in &st.entries {
            assert!(
                !e.entry.contains("urn:trama:person:"),
                "a person named in the log: {}",
                e.entry
            );
        }
        assert!(!st.history.is_empty());
        let report = verify_statement(&st, &key).unwrap();
        assert_eq!(report.credits.hours_given, 7.5);
        // Someone without entries has no statement; nobody signed out gets one.
        let (_, nobody) = app.user_with_token("nessuno@register.test", &[]).await;
        app.get_auth("/api/me/statement", &nobody)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/api/me/statement")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");

        // Erasure: the link goes, the log stays valid, the person is no longer linkable.
        let r = app
            .send("DELETE", "/api/me/pseudonym", Some(&token), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        assert_eq!(
            app.get_auth("/api/me/contributions", &token).await.json()["pseudonym"],
            Value::Null
        );
        let notes: Vec<String> =
            serde_json::from_slice(&app.get("/register/checkpoints").await.body).unwrap();
        let size = reg.size().await.unwrap();
        let entries: Vec<Vec<u8>> = app
            .store()
            .register_entries(0, size)
            .await
            .unwrap()
            .into_iter()
            .map(String::into_bytes)
            .collect();
        trama_ledger::verify::verify_log(key.name(), &key, &entries, None, &notes).unwrap();
        assert_ne!(
            reg.agent_iri(&person, trama_server::register::log::Purpose::Help)
                .await
                .unwrap(),
            pseudo,
            "a new pseudonym, unlinkable to the old"
        );
        let _ = base64_decode;
    }
);

both!(
    the_node_refuses_to_sign_over_an_altered_database,
    |app: TestApp| async move {
        let admin = admin(&app, "admin2@register.test").await;
        for i in 0..5 {
            let r = app.send("POST", "/api/register/flows", Some(&admin),
            &json!({"action": "produce", "resource": "waste-sorted", "quantity": 10 + i, "unit": "kilogram"})).await;
            assert_eq!(r.status, StatusCode::CREATED);
        }
        app.state.register.checkpoint().await.unwrap();
        let key = app.state.register.verifier().await.unwrap();
        let notes: Vec<String> = app
            .store()
            .register_checkpoints()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.note)
            .collect();
        // Someone with database access changes entry 2.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&app.url).await.unwrap();
        let original: Vec<String> = app.store().register_entries(0, 5).await.unwrap();
        let forged = original[2].replace("\"hasNumericalValue\":12", "\"hasNumericalValue\":120");
        assert_ne!(forged, original[2]);
        sqlx::query("UPDATE register_entries SET entry = $1 WHERE idx = 2")
            .bind(forged.clone())
            .execute(&pool)
            .await
            .unwrap();
        // `verify` on the node's copy names it: the stored leaf hashes still reproduce the signed
        // root, so they are authentic, and entry 2 no longer hashes to its leaf.
        let copy_entries: Vec<Vec<u8>> = app
            .store()
            .register_entries(0, 5)
            .await
            .unwrap()
            .into_iter()
            .map(String::into_bytes)
            .collect();
        let (_, stored) = app.store().register_load_hashes().await.unwrap();
        let leaves: Vec<Hash> = (0..5)
            .map(|i| stored[trama_ledger::merkle::stored_hash_index(0, i) as usize])
            .collect();
        let problem = trama_ledger::verify::verify_log(
            key.name(),
            &key,
            &copy_entries,
            Some(&leaves),
            &notes,
        )
        .unwrap_err();
        assert!(
            matches!(
                problem,
                trama_ledger::verify::LogProblem::BadEntry { index: 2, .. }
            ),
            "{problem}"
        );
        // Now the whole tree is recomputed over the forged entry and every stored hash replaced,
        // as a careful forger would.
        let mut forged_tree = trama_ledger::MemoryTree::new();
        for e in &copy_entries {
            forged_tree.push_leaf(leaf_hash(e));
        }
        for (i, h) in forged_tree.hashes().iter().enumerate() {
            sqlx::query("UPDATE register_hashes SET hash = $1 WHERE idx = $2")
                .bind(h.to_base64())
                .bind(i as i64)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
        // A restarted node loads the rewritten tree and refuses to sign anything over it, even
        // after new entries arrive.
        let state =
            trama_server::AppState::new(app.store().clone(), (*app.state.config).clone(), None)
                .unwrap();
        let err = state.register.checkpoint().await.unwrap_err().to_string();
        assert!(err.contains("refused to sign"), "{err}");
        let _ = state.register.append(vec![trama_server::register::service::flow_event(
        &serde_json::from_value(json!({"action": "produce", "resource": "energy", "quantity": 1, "unit": "kWh"})).unwrap(),
        state.register.territory(), state.now()).unwrap()]).await;
        let err = state.register.checkpoint().await.unwrap_err().to_string();
        assert!(err.contains("refused to sign"), "{err}");
    }
);
