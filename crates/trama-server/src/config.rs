//! Trama's settings. The binary layers them (defaults, a TOML file, `TRAMA_*` variables) and
//! hands the result down once; nothing reads the environment after start-up.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A secret value (a database URL with a password). `Debug` and `Display` hide it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the server listens on.
    pub listen: SocketAddr,
    /// Where Trama keeps its files (the SQLite database by default).
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; default: `trama.db` in `data_dir`.
    pub database: Option<Secret>,
    /// Most database connections this process opens.
    pub database_max_connections: u32,
    /// The bearer token Prometheus sends to read `/metrics`. Unset: `/metrics` answers 404
    /// (what it tells of traffic is not for everyone).
    pub metrics_token: Option<Secret>,
    /// The public address people reach Trama at (`https://...` turns on Secure cookies).
    pub public_url: Option<String>,
    /// Trust `X-Forwarded-For` and `X-Forwarded-Proto` (only behind a proxy you run).
    pub behind_proxy: bool,
    /// The territory's clock, for "open now" (`Europe/Rome` or `UTC`).
    pub time_zone: String,
    /// The territory's name, shown in the UI.
    pub territory_name: String,
    pub map: MapConfig,
    pub limits: LimitsConfig,
    pub mail: MailConfig,
    pub matching: MatchingConfig,
    pub register: RegisterConfig,
    pub retention: RetentionConfig,
}

/// How long personal data is kept (docs/SECURITY.md, "Retention").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days the audit trail (who read whose data) is kept, then deleted.
    pub audit_days: i64,
    /// Days after a need is closed (fulfilled, cancelled, expired) before its description and
    /// address are wiped.
    pub closed_needs_days: i64,
    /// Years the accounting records of public money (allocations, bookings) are kept, also for
    /// an erased person: said to the person at erasure (Italian civil code art. 2220: ten).
    pub accounting_years: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            audit_days: 5 * 365,
            closed_needs_days: 2 * 365,
            accounting_years: 10,
        }
    }
}

/// The contribution register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterConfig {
    /// The checkpoint origin and key name (C2SP: the scheme-less URL prefix of the log).
    /// Default: the public URL's host and path + `/register`, or `trama.invalid/<territory>`.
    pub origin: Option<String>,
    /// How often a new checkpoint is signed when the log has grown, in milliseconds.
    pub checkpoint_interval_ms: u64,
    /// A file holding the signing key (`PRIVATE+KEY+...`), created on first start when
    /// missing. Unset: the key is kept in the database's settings.
    pub key_file: Option<PathBuf>,
    /// Most entries committed in one transaction when appends queue up.
    pub batch_max: usize,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        Self {
            origin: None,
            checkpoint_interval_ms: 1000,
            key_file: None,
            batch_max: 5000,
        }
    }
}

/// E-mail for notifications. Off unless `smtp_url` is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://HOST:PORT` (plain, for a local relay), `smtp://USER:PASS@HOST:587?tls=required`
    /// (STARTTLS) or `smtps://USER:PASS@HOST:465`. Unset: notifications stay in the app.
    pub smtp_url: Option<Secret>,
    /// The sender of notifications.
    pub from: String,
    /// How often pending notifications are mailed, in seconds.
    pub interval_secs: u64,
    /// With no `smtp_url`, print each pending mail on standard error instead of sending it.
    /// For the demo (`trama demo` turns it on), whose sign-ups are confirmed by the link
    /// printed there: never where real people sign up, since the mails carry their links.
    pub print_outbox: bool,
}

/// Matching housekeeping.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MatchingConfig {
    /// Proposals nobody answered within this many hours expire; their needs re-open.
    pub proposal_ttl_hours: i64,
    /// Needs one person may have open or matched at once (posted by them or for them).
    pub max_open_needs_per_person: usize,
    /// Offers one person may hold (active or paused) at once.
    pub max_offers_per_person: usize,
    /// Suggestion lists (for one's needs and offers together) one person may ask for in an hour.
    pub suggestions_per_hour: u32,
    /// Needs one volunteer may have taken and still be waiting for the person's side to
    /// confirm: nobody takes a board's requests off it, or reads them all, at once.
    pub max_pending_accepts_per_person: usize,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Trama <noreply@trama.invalid>".into(),
            interval_secs: 30,
            print_outbox: false,
        }
    }
}

impl Default for MatchingConfig {
    fn default() -> Self {
        Self {
            proposal_ttl_hours: 72,
            max_open_needs_per_person: 10,
            max_offers_per_person: 5,
            suggestions_per_hour: 120,
            max_pending_accepts_per_person: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MapConfig {
    /// Leaflet tile URL template; empty for no tiles (the map still shows the points).
    pub tile_url: String,
    pub attribution: String,
    /// Where the map starts when there are no results.
    pub center_lat: f64,
    pub center_lon: f64,
    pub zoom: u8,
    /// Landmarks offered in "near" beside the territory's areas: (name, latitude, longitude).
    pub places: Vec<(String, f64, f64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Login attempts allowed per client address per minute (a hub's desk signs several
    /// people in from behind one router).
    pub login_per_minute: u32,
    /// Failed logins per account from one client before each further try waits (1 s, then
    /// doubling up to 5 minutes); from all clients together, four times as many before waits
    /// of at most 30 s. Nobody is locked out.
    pub login_failures_per_account: u32,
    /// Longest a request may take, in seconds.
    pub request_timeout_secs: u64,
    /// How long a login lasts, in hours.
    pub session_hours: i64,
    /// Sign-ups (`POST /api/auth/signup` and the form) allowed per client address per hour.
    pub signup_per_hour: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            data_dir: PathBuf::from("./trama-data"),
            database: None,
            database_max_connections: 16,
            metrics_token: None,
            public_url: None,
            behind_proxy: false,
            time_zone: "Europe/Rome".into(),
            territory_name: "Milano".into(),
            map: MapConfig::default(),
            limits: LimitsConfig::default(),
            mail: MailConfig::default(),
            matching: MatchingConfig::default(),
            register: RegisterConfig::default(),
            retention: RetentionConfig::default(),
        }
    }
}

impl Default for MapConfig {
    fn default() -> Self {
        Self {
            tile_url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png".into(),
            attribution: "© OpenStreetMap contributors".into(),
            center_lat: 45.4642,
            center_lon: 9.19,
            zoom: 12,
            places: vec![
                ("Piazza del Duomo".into(), 45.4642, 9.1900),
                ("Stazione Centrale".into(), 45.4861, 9.2045),
                ("Stazione Porta Garibaldi".into(), 45.4847, 9.1880),
                ("Piazzale Loreto".into(), 45.4858, 9.2163),
            ],
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            login_per_minute: 60,
            login_failures_per_account: 5,
            request_timeout_secs: 30,
            session_hours: 12,
            signup_per_hour: 20,
        }
    }
}

impl Config {
    /// The database URL: the configured one or a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(s) => s.expose().to_string(),
            None => format!("sqlite://{}", self.data_dir.join("trama.db").display()),
        }
    }

    /// Whether cookies must carry `Secure`: when the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// The commented example printed by `trama config example`.
pub const EXAMPLE_TOML: &str = r#"# Trama configuration. Every setting is optional; shown here with its default.
# Precedence: built-in defaults < this file (--config FILE, or ./trama.toml) < TRAMA_* environment
# variables (nested keys with a double underscore: TRAMA_MAP__TILE_URL, TRAMA_LIMITS__MAX_BODY_BYTES)
# < command-line flags.

# Address the server listens on.
listen = "127.0.0.1:8080"

# Where Trama keeps its files. The SQLite database is created here on first run.
data_dir = "./trama-data"

# The database: sqlite://PATH (default: trama.db in data_dir) or a PostgreSQL URL.
# database = "postgres://trama:secret@localhost/trama"
database_max_connections = 16
# The bearer token Prometheus sends to read /metrics (unset: /metrics answers 404).
# metrics_token = "a long random string"

# The public address people reach Trama at. https:// turns on Secure cookies.
# public_url = "https://trama.comune.example.it"

# Trust X-Forwarded-For / X-Forwarded-Proto (only behind a reverse proxy you run).
behind_proxy = false

# The territory's clock for "open now": Europe/Rome or UTC.
time_zone = "Europe/Rome"

# The territory's name, shown in the UI.
territory_name = "Milano"

[map]
# Leaflet tile URL; leave empty for no tiles (results still show on a plain map and a list).
tile_url = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
attribution = "© OpenStreetMap contributors"
center_lat = 45.4642
center_lon = 9.19
zoom = 12
# Landmarks offered under "near", beside the territory's areas: [name, latitude, longitude].
places = [
  ["Piazza del Duomo", 45.4642, 9.19],
  ["Stazione Centrale", 45.4861, 9.2045],
  ["Stazione Porta Garibaldi", 45.4847, 9.188],
  ["Piazzale Loreto", 45.4858, 9.2163],
]

[limits]
# Largest request body accepted, in bytes.
max_body_bytes = 1048576
# Login attempts per client address per minute (sized for a hub desk behind one router).
login_per_minute = 60
# Failed logins per account and client before each further try waits (1 s doubling to 5 min);
# from all clients, four times as many before waits of at most 30 s. Nobody is locked out.
login_failures_per_account = 5
# Longest a request may take, in seconds.
request_timeout_secs = 30
# How long a login lasts, in hours.
session_hours = 12
# Sign-ups per client address per hour (the API and the form together).
signup_per_hour = 20

[mail]
# Notifications are also e-mailed when this is set: smtp://HOST:PORT (plain, a local relay),
# smtp://USER:PASS@HOST:587?tls=required (STARTTLS) or smtps://USER:PASS@HOST:465.
# smtp_url = "smtp://localhost:25"
from = "Trama <noreply@trama.invalid>"
# How often pending notifications are mailed, in seconds.
interval_secs = 30
# With no smtp_url, print each mail on standard error instead (the demo does; never where real
# people sign up: the mails carry the links that confirm their addresses).
print_outbox = false

[matching]
# Proposals nobody answered within this many hours expire, and their needs re-open.
proposal_ttl_hours = 72
# Needs one person may have open at once, offers one person may hold, and suggestion lists one
# person may ask for in an hour (nobody holds a field of probes: docs/SECURITY.md, "Places").
max_open_needs_per_person = 10
max_offers_per_person = 5
suggestions_per_hour = 120
# Needs one volunteer may have taken while waiting for the person's side to confirm.
max_pending_accepts_per_person = 3

[retention]
# Days the audit trail (who read whose data) is kept.
audit_days = 1825
# Days after a need closes before its description and address are wiped.
closed_needs_days = 730
# Years the accounting records of public money are kept, also for an erased person.
accounting_years = 10
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the example shows is a real setting (the binary's tests also load the example
    /// through the real TOML loader and compare it with the defaults).
    #[test]
    fn every_example_key_is_a_setting() {
        fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
            if let Some(m) = v.as_object() {
                for (k, v) in m {
                    out.push(k.clone());
                    walk(v, out);
                }
            }
        }
        let mut all = vec![];
        walk(&serde_json::to_value(Config::default()).unwrap(), &mut all);
        all.push("database".into());
        all.push("public_url".into());
        all.push("smtp_url".into());
        for line in EXAMPLE_TOML
            .lines()
            .map(|l| l.trim().trim_start_matches("# "))
        {
            if line.is_empty()
                || line.starts_with('#')
                || line.starts_with('[')
                || !line.contains(" = ")
            {
                continue;
            }
            let key = line.split(" = ").next().unwrap().trim();
            if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                assert!(
                    all.iter().any(|k| k == key),
                    "example key {key} is not a setting"
                );
            }
        }
        assert_eq!(
            format!("{:?}", Secret::new("postgres://u:pw@h/db")),
            "Secret(***)"
        );
    }
}
