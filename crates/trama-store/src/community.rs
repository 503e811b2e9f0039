//! Community hubs and their rooms, people registered by operators (assisted mode), emergency
//! campaigns and in-app notifications.

use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use trama_core::geo::Coordinates;
use trama_core::ids::{
    CampaignId, LocationId, NotificationId, OrganizationId, RoomId, TaxonomyTermId, UserId,
};
use trama_core::matching::model::WeekWindow;

use crate::{Result, Store, StoreError, from_micros, json, parse_json, to_micros};

fn uuid(s: String) -> Uuid {
    s.parse().unwrap_or_default()
}

/// What a hub manager sets about a hub.
#[derive(Debug, Clone)]
pub struct HubRecord {
    pub location: LocationId,
    pub functions: Vec<String>,
    pub capacity: u32,
    pub opening_hours: Vec<WeekWindow>,
    pub help_desk: String,
}

#[derive(Debug, Clone)]
pub struct RoomRow {
    pub id: RoomId,
    pub location: LocationId,
    pub name: String,
    pub capacity: u32,
    pub slot_minutes: u16,
}

#[derive(Debug, Clone)]
pub struct HubRow {
    pub location: LocationId,
    pub organization: OrganizationId,
    pub organization_name: String,
    pub name: String,
    pub address: Option<String>,
    pub point: Option<Coordinates>,
    pub functions: Vec<String>,
    pub capacity: u32,
    pub opening_hours: Vec<WeekWindow>,
    pub help_desk: String,
    pub rooms: Vec<RoomRow>,
}

#[derive(Debug, Clone)]
pub struct BookingRow {
    pub room: RoomId,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub booked_by: UserId,
    pub purpose: String,
}

#[derive(Debug, Clone)]
pub struct AssistedPerson {
    pub user: UserId,
    pub display_name: String,
    pub registered_by: UserId,
    pub organization: OrganizationId,
    pub consent_reference: String,
    pub phone: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub kind: String,
    pub description: String,
    pub categories: Vec<TaxonomyTermId>,
    pub created_by: UserId,
    pub ends_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct CampaignRow {
    pub id: CampaignId,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub categories: Vec<TaxonomyTermId>,
    pub state: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: Option<OffsetDateTime>,
}

/// The live count of a campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CampaignCounts {
    pub needs: i64,
    /// Still waiting for a helper.
    pub uncovered: i64,
    /// Of those, high or critical.
    pub uncovered_urgent: i64,
    /// A helper is proposed or agreed.
    pub covered: i64,
    /// The help was given.
    pub fulfilled: i64,
    /// Volunteers with a live match in the campaign.
    pub volunteers: i64,
}

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: NotificationId,
    pub at: OffsetDateTime,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub text_it: String,
    pub text_en: String,
    pub read: bool,
}

/// A notification waiting to be mailed.
#[derive(Debug, Clone)]
pub struct PendingEmail {
    pub id: NotificationId,
    pub to: String,
    pub display_name: String,
    pub locale: String,
    pub text_it: String,
    pub text_en: String,
    pub subject_type: String,
    pub subject_id: String,
    /// What it is (`match.proposed`, `account.verify`, ...).
    pub kind: String,
}

impl Store {
    /// Creates or replaces what Trama knows about a hub; the location becomes a hub.
    pub async fn put_hub(&self, h: &HubRecord) -> Result<()> {
        let now = to_micros(OffsetDateTime::now_utc());
        let mut tx = self.write.begin().await?;
        let org = sqlx::query("SELECT organization_id FROM locations WHERE id = $1")
            .bind(h.location.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Reference {
                field: "location_id".into(),
                reason: "no such location".into(),
            })?
            .get::<Option<String>, _>(0)
            .ok_or_else(|| StoreError::Reference {
                field: "location_id".into(),
                reason: "a hub's location must belong to an organisation".into(),
            })?;
        sqlx::query(
            "INSERT INTO hubs (location_id, organization_id, functions, capacity, opening_hours, \
             help_desk, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (location_id) \
             DO UPDATE SET functions = excluded.functions, capacity = excluded.capacity, \
             opening_hours = excluded.opening_hours, help_desk = excluded.help_desk, \
             modified_at = excluded.modified_at",
        )
        .bind(h.location.to_string())
        .bind(org)
        .bind(json(&h.functions))
        .bind(h.capacity as i64)
        .bind(json(&h.opening_hours))
        .bind(h.help_desk.clone())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE locations SET is_hub = 1 WHERE id = $1")
            .bind(h.location.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_room(
        &self,
        hub: LocationId,
        name: &str,
        capacity: u32,
        slot_minutes: u16,
    ) -> Result<RoomId> {
        let id = RoomId::new();
        sqlx::query("INSERT INTO hub_rooms (id, location_id, name, capacity, slot_minutes) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(hub.to_string())
            .bind(name.to_string())
            .bind(capacity as i64)
            .bind(slot_minutes as i64)
            .execute(&self.write)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.message().to_lowercase().contains("foreign") => StoreError::Reference {
                    field: "hub".into(),
                    reason: "no such hub".into(),
                },
                _ => e.into(),
            })?;
        Ok(id)
    }

    /// Which of these services are delivered at a community hub (at least one of their
    /// locations is one), so search results can say so.
    pub async fn services_at_hubs(
        &self,
        services: &[Uuid],
    ) -> Result<std::collections::HashSet<Uuid>> {
        if services.is_empty() {
            return Ok(Default::default());
        }
        let marks: Vec<String> = (1..=services.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT DISTINCT sal.service_id FROM service_at_locations sal \
             JOIN hubs h ON h.location_id = sal.location_id WHERE sal.service_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in services {
            q = q.bind(s.to_string());
        }
        Ok(q.fetch_all(&self.read)
            .await?
            .iter()
            .filter_map(|r| r.get::<String, _>(0).parse().ok())
            .collect())
    }

    /// Every hub, or one organisation's, by name.
    pub async fn hubs(&self, organization: Option<OrganizationId>) -> Result<Vec<HubRow>> {
        let mut sql = String::from(
            "SELECT h.location_id, h.organization_id, o.name, l.name, l.latitude, l.longitude, \
             h.functions, h.capacity, h.opening_hours, h.help_desk, l.doc FROM hubs h \
             JOIN locations l ON l.id = h.location_id JOIN organizations o ON o.id = h.organization_id",
        );
        if organization.is_some() {
            sql.push_str(" WHERE h.organization_id = $1");
        }
        sql.push_str(" ORDER BY l.name, h.location_id");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(o) = organization {
            q = q.bind(o.to_string());
        }
        let rows = q.fetch_all(&self.read).await?;
        let rooms = sqlx::query(
            "SELECT id, location_id, name, capacity, slot_minutes FROM hub_rooms ORDER BY name, id",
        )
        .fetch_all(&self.read)
        .await?;
        let rooms: Vec<RoomRow> = rooms.iter().map(room_from_row).collect();
        rows.iter()
            .map(|r| {
                let id: String = r.get(0);
                let doc: String = r.get(10);
                let address = serde_json::from_str::<serde_json::Value>(&doc)
                    .ok()
                    .and_then(|d| {
                        let a = d.get("addresses")?.get(0)?;
                        Some(format!(
                            "{}, {}",
                            a.get("address_1")?.as_str()?,
                            a.get("city").and_then(|c| c.as_str()).unwrap_or("")
                        ))
                    });
                let location = LocationId(uuid(id.clone()));
                Ok(HubRow {
                    location,
                    organization: OrganizationId(uuid(r.get(1))),
                    organization_name: r.get(2),
                    name: r.get::<Option<String>, _>(3).unwrap_or_default(),
                    address,
                    point: match (r.get::<Option<f64>, _>(4), r.get::<Option<f64>, _>(5)) {
                        (Some(a), Some(b)) => Coordinates::new(a, b).ok(),
                        _ => None,
                    },
                    functions: parse_json("hub functions", &id, &r.get::<String, _>(6))?,
                    capacity: r.get::<i64, _>(7) as u32,
                    opening_hours: parse_json("hub hours", &id, &r.get::<String, _>(8))?,
                    help_desk: r.get(9),
                    rooms: rooms
                        .iter()
                        .filter(|x| x.location == location)
                        .cloned()
                        .collect(),
                })
            })
            .collect()
    }

    pub async fn hub(&self, location: LocationId) -> Result<Option<HubRow>> {
        Ok(self
            .hubs(None)
            .await?
            .into_iter()
            .find(|h| h.location == location))
    }

    pub async fn room(&self, id: RoomId) -> Result<Option<RoomRow>> {
        Ok(sqlx::query(
            "SELECT id, location_id, name, capacity, slot_minutes FROM hub_rooms WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(room_from_row))
    }

    /// Books one slot. A slot already taken is a conflict (the primary key decides, so two
    /// people booking the same slot at once cannot both get it).
    pub async fn book_slot(
        &self,
        room: RoomId,
        start: OffsetDateTime,
        end: OffsetDateTime,
        by: UserId,
        purpose: &str,
    ) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO room_bookings (room_id, slot_start, slot_end, booked_by, purpose, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(room.to_string())
        .bind(to_micros(start))
        .bind(to_micros(end))
        .bind(by.to_string())
        .bind(purpose.to_string())
        .bind(to_micros(OffsetDateTime::now_utc()))
        .execute(&self.write)
        .await;
        match r {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(d))
                if d.message().to_lowercase().contains("unique")
                    || d.message().contains("duplicate key") =>
            {
                Err(StoreError::Conflict {
                    field: "start".into(),
                    reason: "this slot is already booked".into(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn bookings(
        &self,
        room: RoomId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<BookingRow>> {
        let rows = sqlx::query(
            "SELECT room_id, slot_start, slot_end, booked_by, purpose FROM room_bookings \
             WHERE room_id = $1 AND slot_start >= $2 AND slot_start < $3 ORDER BY slot_start",
        )
        .bind(room.to_string())
        .bind(to_micros(from))
        .bind(to_micros(to))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| BookingRow {
                room: RoomId(uuid(r.get(0))),
                start: from_micros(r.get(1)),
                end: from_micros(r.get(2)),
                booked_by: UserId(uuid(r.get(3))),
                purpose: r.get(4),
            })
            .collect())
    }

    /// Registers a person who has no e-mail or phone of their own: an account nobody can log in
    /// to, the citizen role, and the consent on file.
    pub async fn register_assisted(
        &self,
        display_name: &str,
        locale: &str,
        registered_by: UserId,
        organization: OrganizationId,
        consent_reference: &str,
        phone: Option<&str>,
    ) -> Result<UserId> {
        let id = UserId::new();
        let now = to_micros(OffsetDateTime::now_utc());
        let mut tx = self.write.begin().await?;
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash, locale, created_at, verified_at) VALUES ($1, NULL, $2, NULL, $3, $4, $4)")
            .bind(id.to_string())
            .bind(display_name.to_string())
            .bind(locale.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO role_grants (user_id, role, organization_id, created_at) VALUES ($1, 'citizen', '', $2)")
            .bind(id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO assisted_people (user_id, registered_by, organization_id, consent_reference, phone, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(registered_by.to_string())
        .bind(organization.to_string())
        .bind(consent_reference.to_string())
        .bind(phone.map(str::to_string))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn assisted(&self, user: UserId) -> Result<Option<AssistedPerson>> {
        Ok(sqlx::query(
            "SELECT a.user_id, u.display_name, a.registered_by, a.organization_id, a.consent_reference, \
             a.phone, a.created_at FROM assisted_people a JOIN users u ON u.id = a.user_id WHERE a.user_id = $1",
        )
        .bind(user.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(assisted_from_row))
    }

    /// People followed by these organisations, by name.
    pub async fn assisted_people(
        &self,
        organizations: &[OrganizationId],
    ) -> Result<Vec<AssistedPerson>> {
        let mut out = Vec::new();
        for o in organizations {
            let rows = sqlx::query(
                "SELECT a.user_id, u.display_name, a.registered_by, a.organization_id, a.consent_reference, \
                 a.phone, a.created_at FROM assisted_people a JOIN users u ON u.id = a.user_id \
                 WHERE a.organization_id = $1 ORDER BY u.display_name, a.user_id LIMIT 1000",
            )
            .bind(o.to_string())
            .fetch_all(&self.read)
            .await?;
            out.extend(rows.iter().map(assisted_from_row));
        }
        Ok(out)
    }

    pub async fn create_campaign(&self, c: &NewCampaign) -> Result<CampaignId> {
        let id = CampaignId::new();
        let now = to_micros(OffsetDateTime::now_utc());
        sqlx::query(
            "INSERT INTO campaigns (id, name, kind, description, categories, state, created_by, starts_at, ends_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $7)",
        )
        .bind(id.to_string())
        .bind(c.name.clone())
        .bind(c.kind.clone())
        .bind(c.description.clone())
        .bind(json(&c.categories))
        .bind(c.created_by.to_string())
        .bind(now)
        .bind(c.ends_at.map(to_micros))
        .execute(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn campaigns(&self) -> Result<Vec<CampaignRow>> {
        let rows = sqlx::query(
            "SELECT id, name, kind, description, categories, state, starts_at, ends_at FROM campaigns \
             ORDER BY starts_at DESC, id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(campaign_from_row).collect()
    }

    pub async fn campaign(&self, id: CampaignId) -> Result<Option<CampaignRow>> {
        sqlx::query(
            "SELECT id, name, kind, description, categories, state, starts_at, ends_at FROM campaigns WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(campaign_from_row)
        .transpose()
    }

    pub async fn close_campaign(&self, id: CampaignId) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE campaigns SET state = 'closed', ends_at = $1 WHERE id = $2 AND state = 'open'",
        )
        .bind(to_micros(OffsetDateTime::now_utc()))
        .bind(id.to_string())
        .execute(&self.write)
        .await?
        .rows_affected()
            == 1)
    }

    pub async fn campaign_counts(&self, id: CampaignId) -> Result<CampaignCounts> {
        let r = sqlx::query(
            "SELECT COUNT(*), \
             SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state = 'open' AND urgency IN ('high', 'critical') THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state = 'matched' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state = 'fulfilled' THEN 1 ELSE 0 END) FROM needs WHERE campaign_id = $1",
        )
        .bind(id.to_string())
        .fetch_one(&self.read)
        .await?;
        let v = sqlx::query(
            "SELECT COUNT(DISTINCT m.volunteer_id) FROM matches m JOIN needs n ON n.id = m.need_id \
             WHERE n.campaign_id = $1 AND (m.live = 1 OR m.occurrences > 0)",
        )
        .bind(id.to_string())
        .fetch_one(&self.read)
        .await?;
        let g = |i: usize| r.get::<Option<i64>, _>(i).unwrap_or(0);
        Ok(CampaignCounts {
            needs: r.get::<i64, _>(0),
            uncovered: g(1),
            uncovered_urgent: g(2),
            covered: g(3),
            fulfilled: g(4),
            volunteers: v.get::<i64, _>(0),
        })
    }

    /// Adds a notification; it is mailed later when `email` and the person has an address.
    #[allow(clippy::too_many_arguments)]
    pub async fn notify(
        &self,
        user: UserId,
        kind: &str,
        subject_type: &str,
        subject_id: &str,
        text_it: &str,
        text_en: &str,
        email: bool,
    ) -> Result<NotificationId> {
        let id = NotificationId::new();
        let has_email = email
            && sqlx::query("SELECT email FROM users WHERE id = $1")
                .bind(user.to_string())
                .fetch_optional(&self.read)
                .await?
                .and_then(|r| r.get::<Option<String>, _>(0))
                .is_some();
        sqlx::query(
            "INSERT INTO notifications (id, user_id, at, kind, subject_type, subject_id, text_it, text_en, email_state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(to_micros(OffsetDateTime::now_utc()))
        .bind(kind.to_string())
        .bind(subject_type.to_string())
        .bind(subject_id.to_string())
        .bind(text_it.to_string())
        .bind(text_en.to_string())
        .bind(if has_email { "pending" } else { "none" })
        .execute(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn notifications(&self, user: UserId, limit: i64) -> Result<Vec<NotificationRow>> {
        let rows = sqlx::query(
            "SELECT id, at, kind, subject_type, subject_id, text_it, text_en, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(user.to_string())
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| NotificationRow {
                id: NotificationId(uuid(r.get(0))),
                at: from_micros(r.get(1)),
                kind: r.get(2),
                subject_type: r.get(3),
                subject_id: r.get(4),
                text_it: r.get(5),
                text_en: r.get(6),
                read: r.get::<Option<i64>, _>(7).is_some(),
            })
            .collect())
    }

    pub async fn unread_notifications(&self, user: UserId) -> Result<i64> {
        Ok(
            sqlx::query(
                "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
            )
            .bind(user.to_string())
            .fetch_one(&self.read)
            .await?
            .get::<i64, _>(0),
        )
    }

    /// Marks one (or, with `None`, every) notification of the user as read.
    pub async fn mark_notifications_read(
        &self,
        user: UserId,
        id: Option<NotificationId>,
    ) -> Result<u64> {
        let now = to_micros(OffsetDateTime::now_utc());
        let q = match id {
            Some(id) => sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND id = $3 AND read_at IS NULL")
                .bind(now)
                .bind(user.to_string())
                .bind(id.to_string()),
            None => sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
                .bind(now)
                .bind(user.to_string()),
        };
        Ok(q.execute(&self.write).await?.rows_affected())
    }

    pub async fn pending_emails(&self, limit: i64) -> Result<Vec<PendingEmail>> {
        let rows = sqlx::query(
            "SELECT n.id, u.email, u.display_name, u.locale, n.text_it, n.text_en, n.subject_type, n.subject_id, n.kind \
             FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE n.email_state = 'pending' AND u.email IS NOT NULL ORDER BY n.at, n.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| PendingEmail {
                id: NotificationId(uuid(r.get(0))),
                to: r.get(1),
                display_name: r.get(2),
                locale: r.get(3),
                text_it: r.get(4),
                text_en: r.get(5),
                subject_type: r.get(6),
                subject_id: r.get(7),
                kind: r.get(8),
            })
            .collect())
    }

    /// Replaces the words of a notification once mailed (a mail that carried a secret link
    /// keeps only a note that it was sent).
    pub async fn reword_notification(
        &self,
        id: NotificationId,
        text_it: &str,
        text_en: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE notifications SET text_it = $1, text_en = $2 WHERE id = $3")
            .bind(text_it.to_string())
            .bind(text_en.to_string())
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Records the outcome of mailing a notification (`sent` or `failed`).
    pub async fn mark_emailed(&self, id: NotificationId, state: &str) -> Result<()> {
        sqlx::query("UPDATE notifications SET email_state = $1, emailed_at = $2 WHERE id = $3")
            .bind(state.to_string())
            .bind(to_micros(OffsetDateTime::now_utc()))
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

fn room_from_row(r: &sqlx::any::AnyRow) -> RoomRow {
    RoomRow {
        id: RoomId(uuid(r.get(0))),
        location: LocationId(uuid(r.get(1))),
        name: r.get(2),
        capacity: r.get::<i64, _>(3) as u32,
        slot_minutes: r.get::<i64, _>(4) as u16,
    }
}

fn assisted_from_row(r: &sqlx::any::AnyRow) -> AssistedPerson {
    AssistedPerson {
        user: UserId(uuid(r.get(0))),
        display_name: r.get(1),
        registered_by: UserId(uuid(r.get(2))),
        organization: OrganizationId(uuid(r.get(3))),
        consent_reference: r.get(4),
        phone: r.get(5),
        created_at: from_micros(r.get(6)),
    }
}

fn campaign_from_row(r: &sqlx::any::AnyRow) -> Result<CampaignRow> {
    let id: String = r.get(0);
    let cats: Vec<Uuid> = parse_json("campaign categories", &id, &r.get::<String, _>(4))?;
    Ok(CampaignRow {
        id: CampaignId(uuid(id.clone())),
        name: r.get(1),
        kind: r.get(2),
        description: r.get(3),
        categories: cats.into_iter().map(TaxonomyTermId).collect(),
        state: r.get(5),
        starts_at: from_micros(r.get(6)),
        ends_at: r.get::<Option<i64>, _>(7).map(from_micros),
    })
}
