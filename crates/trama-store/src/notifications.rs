//! In-app notifications and their e-mail state (the outbox the mail loop sends).

use sqlx::Row;
use time::OffsetDateTime;

use trama_core::ids::{NotificationId, UserId};

use crate::{Result, Store, from_micros, stored_id, to_micros};

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
        .bind(to_micros(self.now()))
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
        rows.iter().map(notification_row).collect()
    }

    /// One of the user's notifications, by id (none for someone else's).
    pub async fn notification(
        &self,
        user: UserId,
        id: NotificationId,
    ) -> Result<Option<NotificationRow>> {
        sqlx::query(
            "SELECT id, at, kind, subject_type, subject_id, text_it, text_en, read_at FROM notifications \
             WHERE user_id = $1 AND id = $2",
        )
        .bind(user.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(notification_row)
        .transpose()
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

    /// Marks as read the user's notifications about one thing (a match she has just acted on).
    pub async fn mark_subject_read(
        &self,
        user: UserId,
        subject_type: &str,
        subject_id: &str,
    ) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND subject_type = $3 \
             AND subject_id = $4 AND read_at IS NULL",
        )
        .bind(to_micros(self.now()))
        .bind(user.to_string())
        .bind(subject_type)
        .bind(subject_id)
        .execute(&self.write)
        .await?
        .rows_affected())
    }

    /// Marks one (or, with `None`, every) notification of the user as read.
    pub async fn mark_notifications_read(
        &self,
        user: UserId,
        id: Option<NotificationId>,
    ) -> Result<u64> {
        let now = to_micros(self.now());
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
        rows.iter()
            .map(|r| {
                Ok(PendingEmail {
                    id: NotificationId(stored_id("notification", r.get(0))?),
                    to: r.get(1),
                    display_name: r.get(2),
                    locale: r.get(3),
                    text_it: r.get(4),
                    text_en: r.get(5),
                    subject_type: r.get(6),
                    subject_id: r.get(7),
                    kind: r.get(8),
                })
            })
            .collect()
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
            .bind(to_micros(self.now()))
            .bind(id.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

fn notification_row(r: &sqlx::any::AnyRow) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: NotificationId(stored_id("notification", r.get(0))?),
        at: from_micros(r.get(1)),
        kind: r.get(2),
        subject_type: r.get(3),
        subject_id: r.get(4),
        text_it: r.get(5),
        text_en: r.get(6),
        read: r.get::<Option<i64>, _>(7).is_some(),
    })
}
