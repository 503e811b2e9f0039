//! Notifications by e-mail, and the other periodic chores of matching. Notifications are stored
//! first (`notifications`, shown in the app); when SMTP is configured, a background loop mails
//! the pending ones and records `sent` or `failed` for each, so a mail server that is down
//! loses nothing and never blocks a request.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

use crate::state::AppState;

/// Why mailing could not start.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail.smtp_url: {0}")]
    Url(String),
    #[error("mail.from: {0}")]
    From(String),
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer the settings describe, or none when `mail.smtp_url` is unset.
    pub fn from_config(state: &AppState) -> Result<Option<Mailer>, MailError> {
        let Some(url) = &state.config.mail.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = state
            .config
            .mail
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        Ok(Some(Mailer { transport, from }))
    }
}

/// Mails the pending notifications once; returns how many were sent.
pub async fn send_pending(state: &AppState, mailer: &Mailer) -> usize {
    let pending = match state.store.pending_emails(100).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "could not read pending notifications");
            return 0;
        }
    };
    let base = state.config.public_url.clone().unwrap_or_default();
    let mut sent = 0;
    for n in pending {
        let en = n.locale == "en";
        let link = match n.subject_type.as_str() {
            "match" => format!("{base}/aiuto"),
            other => format!("{base}/aiuto?{other}={}", n.subject_id),
        };
        let (subject, text) = if en {
            (
                "Trama: news about your help",
                format!(
                    "Hello {},\n\n{}\n\n{link}\n\n— Trama, {}\n",
                    n.display_name, n.text_en, state.config.territory_name
                ),
            )
        } else {
            (
                "Trama: novità sul tuo aiuto",
                format!(
                    "Ciao {},\n\n{}\n\n{link}\n\n— Trama, {}\n",
                    n.display_name, n.text_it, state.config.territory_name
                ),
            )
        };
        let to: Mailbox = match n.to.parse() {
            Ok(address) => Mailbox::new(Some(n.display_name.clone()), address),
            Err(e) => {
                let e: lettre::address::AddressError = e;
                tracing::warn!(error = %e, "a stored address does not parse; not mailed");
                let _ = state.store.mark_emailed(n.id, "failed").await;
                continue;
            }
        };
        let message = Message::builder()
            .from(mailer.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text);
        let outcome = match message {
            Ok(m) => mailer
                .transport
                .send(m)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let state_name = match outcome {
            Ok(()) => {
                sent += 1;
                "sent"
            }
            Err(e) => {
                tracing::warn!(error = %e, "mailing a notification failed");
                "failed"
            }
        };
        if let Err(e) = state.store.mark_emailed(n.id, state_name).await {
            tracing::warn!(error = %e, "could not record a mailed notification");
        }
    }
    sent
}

/// Starts the periodic chores: mailing notifications (when configured), expiring proposals
/// nobody answered, and once a day the retention rules (`[retention]`).
pub fn spawn_background(state: AppState) -> Result<(), MailError> {
    let mailer = Mailer::from_config(&state)?;
    let every = Duration::from_secs(state.config.mail.interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        let mut retention_due = std::time::Instant::now();
        loop {
            tick.tick().await;
            if std::time::Instant::now() >= retention_due {
                retention_due = std::time::Instant::now() + Duration::from_secs(24 * 3600);
                let r = &state.config.retention;
                match state
                    .store
                    .apply_retention(r.audit_days.max(1), r.closed_needs_days.max(1))
                    .await
                {
                    Ok((0, 0)) => {}
                    Ok((audit, needs)) => {
                        tracing::info!(audit, needs, "retention: old records removed")
                    }
                    Err(e) => tracing::warn!(error = %e, "applying retention failed"),
                }
            }
            if let Some(m) = &mailer {
                send_pending(&state, m).await;
            }
            let ttl = time::Duration::hours(state.config.matching.proposal_ttl_hours.max(1));
            match state.store.expire_stale_proposals(ttl).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "proposals expired"),
                Err(e) => tracing::warn!(error = %e, "expiring proposals failed"),
            }
        }
    });
    Ok(())
}
