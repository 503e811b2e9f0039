//! Notifications by e-mail, and the other periodic chores of matching. Notifications are stored
//! first (`notifications`, shown in the app); when SMTP is configured, a background loop mails
//! the pending ones and records `sent` or `failed` for each, so a mail server that is down
//! loses nothing and never blocks a request.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

use crate::state::AppState;
use trama_store::PendingEmail;

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

/// One mail as it leaves: to whom, subject and text.
pub struct Outgoing {
    pub to: Mailbox,
    pub subject: &'static str,
    pub text: String,
}

/// What a pending notification becomes as a mail.
fn compose(state: &AppState, n: &PendingEmail) -> Result<Outgoing, String> {
    let base = state.config.public_url.clone().unwrap_or_default();
    let en = n.locale == "en";
    let account = n.subject_type == "account";
    let link = match n.subject_type.as_str() {
        "match" => format!("{base}/aiuto"),
        // The mail's words carry their own link (the one that confirms an address).
        "account" => format!("{base}/accedi"),
        other => format!("{base}/aiuto?{other}={}", n.subject_id),
    };
    let (subject, hello, body) = match (en, account) {
        (true, true) => ("Trama: your account", "Hello", &n.text_en),
        (true, false) => ("Trama: news about your help", "Hello", &n.text_en),
        (false, true) => ("Trama: il tuo account", "Ciao", &n.text_it),
        (false, false) => ("Trama: novità sul tuo aiuto", "Ciao", &n.text_it),
    };
    // Account mails go to an address whose name anyone who signs up can type: they greet
    // nobody by name.
    // A name stored before names were kept to one plain line loses its control characters
    // here: a header never carries a line break.
    let clean: String = n.display_name.chars().filter(|c| !c.is_control()).collect();
    let name = if account { "" } else { clean.as_str() };
    let text = format!(
        "{hello}{}{name},\n\n{body}\n\n{link}\n\n— Trama, {}\n",
        if name.is_empty() { "" } else { " " },
        state.config.territory_name
    );
    let address: lettre::Address =
        n.to.parse()
            .map_err(|e: lettre::address::AddressError| e.to_string())?;
    Ok(Outgoing {
        to: Mailbox::new((!name.is_empty()).then(|| name.to_string()), address),
        subject,
        text,
    })
}

/// After a mail that carried a link confirming an address left, the notification keeps only
/// a note of it: the link is a secret and the database keeps no copy of it.
async fn forget_secret(state: &AppState, n: &PendingEmail) {
    let (it, en) = match n.kind.as_str() {
        "account.verify" => (
            "Ti abbiamo mandato per e-mail il link per confermare il tuo indirizzo.",
            "We e-mailed you the link that confirms your address.",
        ),
        "account.reset" => (
            "Ti abbiamo mandato per e-mail il link per scegliere una nuova password.",
            "We e-mailed you the link to choose a new password.",
        ),
        _ => return,
    };
    if let Err(e) = state.store.reword_notification(n.id, it, en).await {
        tracing::warn!(error = %e, "could not clear a mailed link");
    }
}

/// Mails the pending notifications once (or, with no mailer, prints them when
/// `mail.print_outbox` is on); returns how many left.
pub async fn send_pending(state: &AppState, mailer: Option<&Mailer>) -> usize {
    let pending = match state.store.pending_emails(100).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "could not read pending notifications");
            return 0;
        }
    };
    let mut sent = 0;
    for n in pending {
        let mail = match compose(state, &n) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "a stored address does not parse; not mailed");
                let _ = state.store.mark_emailed(n.id, "failed").await;
                continue;
            }
        };
        let outcome = match mailer {
            Some(mailer) => {
                let message = Message::builder()
                    .from(mailer.from.clone())
                    .to(mail.to)
                    .subject(mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text);
                match message {
                    Ok(m) => mailer
                        .transport
                        .send(m)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
            None => {
                // The demo's outbox: on standard error, for whoever runs it.
                // The address alone: a name that no longer formats must not stop the outbox.
                eprintln!(
                    "---- mail (not sent: no mail.smtp_url) ----\nTo: {}\nSubject: {}\n\n{}---- end of mail ----",
                    mail.to.email, mail.subject, mail.text
                );
                Ok(())
            }
        };
        let state_name = match outcome {
            Ok(()) => {
                sent += 1;
                forget_secret(state, &n).await;
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
    let print = mailer.is_none() && state.config.mail.print_outbox;
    if mailer.is_none() && !print {
        tracing::warn!(
            "mail.smtp_url is not set: nothing is mailed, so people who sign up get no link to confirm their address and cannot sign in"
        );
    }
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
            if mailer.is_some() || print {
                send_pending(&state, mailer.as_ref()).await;
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
