//! Community hubs (the places where neighbours meet, with their functions and opening
//! hours) and their rooms, booked by slots.

use crate::sql::ReadRows;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use trama_core::geo::Coordinates;
use trama_core::ids::{LocationId, OrganizationId, RoomId, UserId};
use trama_core::matching::model::WeekWindow;

use crate::{Result, Store, StoreError, from_micros, json, parse_json, stored_id, to_micros};

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

impl Store {
    /// Creates or replaces what Trama knows about a hub; the location becomes a hub.
    pub async fn put_hub(&self, h: &HubRecord) -> Result<()> {
        let now = to_micros(self.now());
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
        q.fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| stored_id("service id", r.get::<String, _>(0)))
            .collect()
    }

    /// Every hub, or one organisation's, by name.
    pub async fn hubs(&self, organization: Option<OrganizationId>) -> Result<Vec<HubRow>> {
        self.hubs_where(organization.map(|o| ("h.organization_id", o.to_string())))
            .await
    }

    /// The hubs, all or those whose `column` is the value (one query for the hubs, one for
    /// their rooms).
    async fn hubs_where(&self, filter: Option<(&'static str, String)>) -> Result<Vec<HubRow>> {
        let mut sql = String::from(
            "SELECT h.location_id, h.organization_id, o.name, l.name, l.latitude, l.longitude, \
             h.functions, h.capacity, h.opening_hours, h.help_desk, l.doc FROM hubs h \
             JOIN locations l ON l.id = h.location_id JOIN organizations o ON o.id = h.organization_id",
        );
        let mut rooms_sql =
            String::from("SELECT id, location_id, name, capacity, slot_minutes FROM hub_rooms");
        if let Some((column, _)) = &filter {
            sql.push_str(&format!(" WHERE {column} = $1"));
            if *column == "h.location_id" {
                rooms_sql.push_str(" WHERE location_id = $1");
            }
        }
        sql.push_str(" ORDER BY l.name, h.location_id");
        rooms_sql.push_str(" ORDER BY name, id");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let mut rq = sqlx::query(sqlx::AssertSqlSafe(rooms_sql));
        if let Some((column, value)) = filter {
            q = q.bind(value.clone());
            if column == "h.location_id" {
                rq = rq.bind(value);
            }
        }
        let rows = q.fetch_all(&self.read).await?;
        let rooms = rq.fetch_all(&self.read).await?;
        let rooms: Vec<RoomRow> = rooms.iter().map(room_from_row).collect::<Result<_>>()?;
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
                let location = LocationId(stored_id("hub location", id.clone())?);
                Ok(HubRow {
                    location,
                    organization: OrganizationId(stored_id("hub organisation", r.get(1))?),
                    organization_name: r.get(2),
                    name: r.get::<Option<String>, _>(3).unwrap_or_default(),
                    address,
                    point: match (r.get::<Option<f64>, _>(4), r.get::<Option<f64>, _>(5)) {
                        (Some(a), Some(b)) => {
                            Some(Coordinates::new(a, b).map_err(|_| StoreError::CorruptId {
                                what: "hub point",
                                value: format!("{a}, {b}"),
                            })?)
                        }
                        _ => None,
                    },
                    functions: parse_json("hub functions", &id, &r.get::<String, _>(6))?,
                    capacity: crate::stored_int("hub capacity", r.get(7))?,
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
            .hubs_where(Some(("h.location_id", location.to_string())))
            .await?
            .into_iter()
            .next())
    }

    pub async fn room(&self, id: RoomId) -> Result<Option<RoomRow>> {
        sqlx::query(
            "SELECT id, location_id, name, capacity, slot_minutes FROM hub_rooms WHERE id = $1",
        )
        .bind(id.to_string())
        .one(&self.read, room_from_row)
        .await
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
        .bind(to_micros(self.now()))
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
        rows.iter()
            .map(|r| {
                Ok(BookingRow {
                    room: RoomId(stored_id("room", r.get(0))?),
                    start: from_micros(r.get(1)),
                    end: from_micros(r.get(2)),
                    booked_by: UserId(stored_id("booked by", r.get(3))?),
                    purpose: r.get(4),
                })
            })
            .collect()
    }
}

fn room_from_row(r: &sqlx::any::AnyRow) -> Result<RoomRow> {
    Ok(RoomRow {
        id: RoomId(stored_id("room", r.get(0))?),
        location: LocationId(stored_id("room location", r.get(1))?),
        name: r.get(2),
        capacity: crate::stored_int("room capacity", r.get(3))?,
        slot_minutes: crate::stored_int("room slot", r.get(4))?,
    })
}
