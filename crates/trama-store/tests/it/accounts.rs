use time::{Duration, OffsetDateTime};
use trama_core::auth::{Email, Role, RoleGrant};
use trama_core::ids::OrganizationId;
use trama_store::{AuditEntry, NewUser, Store, StoreError};

use crate::both;

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Some(Email::parse(email).unwrap()),
        display_name: "Anna Bianchi".into(),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        locale: "it".into(),
    }
}

both!(users_roles_sessions_tokens, |store: Store| async move {
    let id = store
        .create_user(&new_user("anna@example.it"))
        .await
        .unwrap();
    let e = store
        .create_user(&new_user("ANNA@example.it"))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict { ref field, .. } if field == "email"));
    let u = store
        .user_by_email(&Email::parse("anna@example.it").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.id, id);

    let org = OrganizationId::new();
    store
        .grant_role(
            id,
            &RoleGrant::new(Role::OrganizationAdmin, Some(org)).unwrap(),
        )
        .await
        .unwrap();
    store
        .grant_role(id, &RoleGrant::new(Role::Volunteer, None).unwrap())
        .await
        .unwrap();
    store
        .grant_role(id, &RoleGrant::new(Role::Volunteer, None).unwrap())
        .await
        .unwrap();
    let g = store.grants(id).await.unwrap();
    assert_eq!(g.len(), 2);
    assert!(g.contains(&RoleGrant {
        role: Role::OrganizationAdmin,
        organization_id: Some(org)
    }));

    let now = OffsetDateTime::now_utc();
    store
        .create_session("live", id, "csrf1", now + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session("dead", id, "csrf2", now - Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(
        store.session("live").await.unwrap().unwrap().csrf_token,
        "csrf1"
    );
    assert!(
        store.session("dead").await.unwrap().is_none(),
        "expired sessions are not returned"
    );
    assert_eq!(store.purge_sessions().await.unwrap(), 1);
    store.delete_session("live").await.unwrap();
    assert!(store.session("live").await.unwrap().is_none());

    let t = store
        .create_api_token(id, "script", "hash-of-token")
        .await
        .unwrap();
    assert_eq!(
        store.api_token_user("hash-of-token").await.unwrap(),
        Some(id)
    );
    assert!(
        store.api_tokens(id).await.unwrap()[0]
            .last_used_at
            .is_some()
    );
    assert!(store.revoke_api_token(id, t).await.unwrap());
    assert!(!store.revoke_api_token(id, t).await.unwrap());
    assert_eq!(store.api_token_user("hash-of-token").await.unwrap(), None);

    store
        .audit(&AuditEntry {
            at: now,
            actor_id: Some(id),
            action: "service.update".into(),
            subject_type: "service".into(),
            subject_id: Some("s1".into()),
            detail: None,
            on_behalf_of: None,
        })
        .await
        .unwrap();
    assert_eq!(store.audit_of("service", "s1").await.unwrap().len(), 1);
});
