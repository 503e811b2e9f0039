//! Test support shared by the crates' test suites.
//!
//! [`postgres_url`] gives each test its own database on a real PostgreSQL server (Debian's
//! `postgresql-15`), which the first call starts in a temporary directory and which stops, and
//! is removed, when the test process exits: the server is started by a small shell supervisor
//! that holds the other end of a pipe from this process and shuts the server down when the pipe
//! closes. Tests run in parallel, each in a database of its own. There is no skipping: if the
//! server binaries are missing, the test fails and says how to install them.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

struct PgServer {
    socket_dir: PathBuf,
    port: u16,
    bin: PathBuf,
    // Held open for the life of the process; dropping it (at exit) stops the server.
    _supervisor: Mutex<Child>,
}

static SERVER: OnceLock<PgServer> = OnceLock::new();

/// Where the PostgreSQL server binaries are: `$TRAMA_PG_BIN`, Debian's version 15, or any
/// Debian version.
pub fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TRAMA_PG_BIN") {
        return Some(PathBuf::from(p));
    }
    let debian15 = Path::new("/usr/lib/postgresql/15/bin");
    if debian15.join("postgres").exists() {
        return Some(debian15.to_path_buf());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

const SUPERVISOR: &str = r#"
set -e
DIR="$1"; BIN="$2"; PORT="$3"
"$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$DIR/initdb.log" 2>&1
"$BIN/postgres" -D "$DIR/data" -k "$DIR" -p "$PORT" -c listen_addresses='' \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
  -c shared_buffers=64MB >"$DIR/postgres.log" 2>&1 &
PID=$!
i=0
until "$BIN/pg_isready" -q -h "$DIR" -p "$PORT"; do
  i=$((i+1)); if [ $i -gt 300 ]; then echo "failed"; cat "$DIR/postgres.log"; kill $PID; exit 1; fi
  sleep 0.1
done
echo ready
cat >/dev/null || true
kill -INT $PID 2>/dev/null || true
wait $PID 2>/dev/null || true
rm -rf "$DIR"
"#;

fn start() -> PgServer {
    let bin = pg_bin_dir().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found (looked in $TRAMA_PG_BIN and /usr/lib/postgresql/*/bin). \
             Install Debian's postgresql-15 (scripts/test does it) to run the PostgreSQL half of the suite."
        )
    });
    let dir = tempfile::Builder::new()
        .prefix("trama-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let root = is_root();
    if root {
        // PostgreSQL refuses to run as root: hand the directory to the postgres user.
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map(|s| s.success());
        assert!(
            matches!(ok, Ok(true)),
            "chown of {dir:?} to postgres failed (is the postgres user there?)"
        );
    }
    let script = dir.join("supervise.sh");
    std::fs::write(&script, SUPERVISOR).expect("write supervisor");
    let port = 5432u16;
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh"]);
        c
    } else {
        Command::new("sh")
    };
    let mut child = cmd
        .arg(&script)
        .arg(&dir)
        .arg(&bin)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the PostgreSQL supervisor");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("read supervisor");
    if line.trim() != "ready" {
        let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
        let initdb = std::fs::read_to_string(dir.join("initdb.log")).unwrap_or_default();
        panic!("PostgreSQL did not start: {line}\n{initdb}\n{log}");
    }
    PgServer {
        socket_dir: dir,
        port,
        bin,
        _supervisor: Mutex::new(child),
    }
}

/// A new, empty database on the test PostgreSQL server, as a URL sqlx understands.
pub fn postgres_url() -> String {
    let server = SERVER.get_or_init(start);
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let out = Command::new(server.bin.join("psql"))
        .args([
            "-q",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-h",
        ])
        .arg(&server.socket_dir)
        .args([
            "-p",
            &server.port.to_string(),
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "CREATE DATABASE failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "postgres://postgres@localhost:{}/{name}?host={}",
        server.port,
        server.socket_dir.display()
    )
}

/// A fresh SQLite database file in its own temporary directory (kept alive by the returned guard).
pub fn sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::Builder::new()
        .prefix("trama-sqlite-")
        .tempdir()
        .expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("trama.db").display());
    (dir, url)
}

/// The shared reference data (`../shared/data` beside the repository), if present.
pub fn shared_data_dir() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var("TRAMA_SHARED_DATA").ok().map(PathBuf::from),
        Some(manifest.join("../../../shared/data")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("MANIFEST.md").exists())
}

/// The shared reference data, or a panic that says plainly it is missing.
pub fn require_shared_data() -> PathBuf {
    shared_data_dir().unwrap_or_else(|| {
        panic!(
            "../shared/data is absent: this test checks Trama against reference material written by others \
             (HSDS schemas and examples). Put the shared folder beside the repository or set TRAMA_SHARED_DATA."
        )
    })
}

/// Writes a line to stderr that cannot be missed in test output.
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "[trama-testkit] {msg}");
}
