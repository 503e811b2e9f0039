//! `trama`: one binary for every job. Errors here are `anyhow` (this is the only place that
//! uses it); library crates return their own typed errors.

mod areas;
mod budget_bench;
mod config;
mod demo;
mod demo_budgets;
mod demo_help;
mod demo_register;
mod help_bench;
mod help_cli;
mod hsds_io;
mod postgis_bench;
mod register_bench;
mod register_cli;
mod search_bench;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use trama_server::{AppState, Config};
use trama_store::{Store, StoreOptions};

#[derive(Parser, Debug)]
#[command(
    name = "trama",
    version,
    about = "Trama: a contributory territory's directory, needs, budgets and register."
)]
struct Cli {
    /// A TOML settings file (default: ./trama.toml when it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Trama keeps its files [default: ./trama-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://... [default: sqlite in the data dir].
    #[arg(long, global = true)]
    database: Option<String>,
    /// Log lines as text or as JSON objects.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Serve the web UI and the APIs.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Build a synthetic Milan (deterministic) and serve it.
    Demo {
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Size of the territory: 1 = 300 organisations, 1,500 services, 120 hubs, 20,000 people.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Seed of the generator: the same seed builds the same territory.
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
        /// Rebuild even if the database already holds the demo.
        #[arg(long)]
        reset: bool,
        /// Build the data, then exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Create or update the database schema.
    Migrate,
    /// Import HSDS data: a data package folder, its datapackage.json, or a JSON file.
    Import { path: PathBuf },
    /// Export the directory as HSDS.
    Export {
        #[arg(long, value_enum, default_value_t = hsds_io::Format::Json)]
        format: hsds_io::Format,
        out_dir: PathBuf,
    },
    /// Settings.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Territorial areas (Municipi, neighbourhoods).
    Areas {
        #[command(subcommand)]
        cmd: AreasCmd,
    },
    /// The address gazetteer (streets and house numbers with coordinates).
    Places {
        #[command(subcommand)]
        cmd: PlacesCmd,
    },
    /// Solve a batch assignment instance offline (docs/MATCHING.md) and print the assignment
    /// and its objective as JSON. `-` reads the instance from stdin.
    Match {
        instance: PathBuf,
        /// Candidates kept per need (0 keeps all); overrides the instance's options.
        #[arg(long)]
        max_candidates: Option<usize>,
        /// Also run the greedy assignment and report the coverage gained (default: the instance's
        /// options, true).
        #[arg(long)]
        greedy: Option<bool>,
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
    },
    /// Benchmark the matching engine on an instance: batch time and memory, suggestions p50/p99,
    /// and the same candidate query in PostGIS when --postgis is given (docs/PERFORMANCE.md).
    BenchMatching {
        instance: PathBuf,
        /// A PostgreSQL database with PostGIS available (postgres://...).
        #[arg(long)]
        postgis: Option<String>,
        #[arg(long, default_value_t = 10_000)]
        queries: usize,
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Solve the batch this many times and report the median and the best time (shared
        /// machines are noisy).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Verify the contribution register: recompute the tree from every entry, check every
    /// checkpoint's signature and the consistency between consecutive ones, and name the
    /// first entry that does not match. Reads the node's database, a node's URL
    /// (`--url https://HOST/register`) or a downloaded copy (`--dir`).
    Verify {
        /// The register's base URL (the prefix of /checkpoint and /tile/...).
        #[arg(long, conflicts_with = "dir")]
        url: Option<String>,
        /// A copy saved with --save.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The territory's verifier key (`name+id+key`, or a file holding it). Required with
        /// --url and --dir; the node's own key otherwise.
        #[arg(long)]
        key: Option<String>,
        /// With --url: also save the copy in this folder (tlog-tiles layout).
        #[arg(long, requires = "url")]
        save: Option<PathBuf>,
        /// Also print the flows and time credits recomputed from the verified entries.
        #[arg(long)]
        flows: bool,
    },
    /// Verify a person's statement offline with the territory's key.
    VerifyStatement {
        file: PathBuf,
        /// The territory's verifier key (`name+id+key`, or a file holding it).
        #[arg(long)]
        key: String,
    },
    /// Print the register's verifier key (to publish, and to give to `verify --key`).
    RegisterKey,
    /// Benchmark the register: durable appends per second, verification of a large log against
    /// the machine's SHA-256 speed, proof latency, bytes per entry (docs/PERFORMANCE.md).
    BenchRegister {
        /// Entries appended to the database.
        #[arg(long, default_value_t = 100_000)]
        appends: usize,
        /// Entries per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Entries in the log verified in memory.
        #[arg(long, default_value_t = 1_000_000)]
        verify: usize,
    },
    /// Benchmark care budgets: booking throughput under concurrency, the consolidated view of
    /// a person with five years of history, the dashboard over a city-scale year
    /// (docs/PERFORMANCE.md).
    BenchBudgets {
        /// Beneficiaries with a year of monthly bookings each (the city-sized table).
        #[arg(long, default_value_t = 2_000)]
        people: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        concurrent: usize,
    },
    /// Benchmark the server's suggestions at Milan scale through HTTP: loads a synthetic Milan
    /// of needs and offers into an empty territory (`--data-dir` a new folder), serves it on a
    /// local port and asks for suggestions as the needs' requesters (docs/PERFORMANCE.md).
    BenchHelp {
        #[arg(long, default_value_t = 100_000)]
        needs: usize,
        #[arg(long, default_value_t = 300_000)]
        offers: usize,
        /// Requests measured (after a warm-up).
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// Requesters asking (one token each); the requests go round them.
        #[arg(long, default_value_t = 2_000)]
        askers: usize,
        /// Offers their owners change each second while the requests are measured.
        #[arg(long, default_value_t = 0)]
        writes_per_second: u32,
    },
    /// Measure the directory search on the judged set of queries (`crates/trama/data/
    /// search-judgements.tsv`): precision at 5 over the territory in the database.
    BenchSearch,
    /// Print who may call each route (the authorisation table of docs/SECURITY.md): JSON, or
    /// the matrix of roles and routes in Markdown.
    Routes {
        #[arg(long)]
        markdown: bool,
    },
    /// Write a synthetic Milan-shaped batch instance (JSON) to stdout.
    MatchInstance {
        #[arg(long, default_value_t = 1000)]
        needs: usize,
        #[arg(long, default_value_t = 3000)]
        offers: usize,
        #[arg(long, default_value_t = demo::DEFAULT_SEED)]
        seed: u64,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// Print a commented example settings file.
    Example,
    /// Print the settings in effect (secrets hidden).
    Show,
}

#[derive(Subcommand, Debug)]
enum AreasCmd {
    /// Import areas from a GeoJSON file of polygons (Milan's NIL or Municipi open data).
    Import {
        file: PathBuf,
        /// The kind of area: municipio, nil, or another name.
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum PlacesCmd {
    /// Import an address gazetteer from CSV: a header with `street`, `number`, `lat`, `lon`
    /// (the territory's open data of house numbers), then one address a row. All or nothing.
    Import { file: PathBuf },
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRAMA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => b.json().flatten_event(true).init(),
        LogFormat::Text => b.init(),
    }
}

/// The services over the configured database: what a subcommand works through.
async fn open_state(cfg: &Config) -> Result<AppState> {
    let store = open_store(cfg).await?;
    AppState::new(store, cfg.clone(), None).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn open_store(cfg: &Config) -> Result<Store> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating the data directory {}", cfg.data_dir.display()))?;
    let url = cfg.database_url();
    let store = Store::connect(
        &url,
        &StoreOptions {
            max_connections: cfg.database_max_connections,
            ..Default::default()
        },
    )
    .await
    .with_context(|| format!("connecting to {}", trama_store::redact_url(&url)))?;
    store.migrate().await.context("migrating the database")?;
    store
        .seed_taxonomies()
        .await
        .context("seeding the taxonomies")?;
    Ok(store)
}

async fn serve(cfg: Config, store: Store) -> Result<()> {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok();
    let listen = cfg.listen;
    // Build the search index while the server starts, so the first search does not wait for it.
    let warm = store.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match warm.warm_search_index().await {
            Ok(n) => tracing::info!(
                services = n,
                seconds = started.elapsed().as_secs_f64(),
                "search index ready"
            ),
            Err(e) => {
                tracing::error!(error = %e, "building the search index failed; searches will retry")
            }
        }
        let started = std::time::Instant::now();
        match warm.warm_offer_index().await {
            Ok(n) => tracing::info!(
                offers = n,
                seconds = started.elapsed().as_secs_f64(),
                "offer index ready"
            ),
            Err(e) => {
                tracing::error!(error = %e, "building the offer index failed; suggestions will retry")
            }
        }
    });
    // The indexes' change logs keep the last 100,000 versions; older ones are forgotten every
    // ten minutes (an index further behind reloads in full).
    let prune = store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            match prune.prune_change_logs(100_000).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "index change logs pruned"),
                Err(e) => tracing::warn!(error = %e, "pruning the index change logs failed"),
            }
        }
    });
    let state = AppState::new(store, cfg, metrics).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The register's writer, and its loop: contributions into the log, checkpoints signed.
    state
        .register
        .start()
        .await
        .context("opening the contribution register")?;
    state.register.spawn_checkpointer();
    // Mailing notifications (when SMTP is configured) and expiring unanswered proposals.
    trama_server::mail::spawn_background(state.clone())?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(address = %listen, "Trama is serving on http://{listen}");
    eprintln!("Trama is serving on http://{listen}  (Ctrl-C to stop)");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    trama_server::serve(listener, state, shutdown).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain of causes, without a backtrace: this is for people.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    // Offline commands that need no settings or database.
    match &cli.cmd {
        Cmd::Routes { markdown } => {
            let (_, table) = trama_server::routes().into_parts();
            if *markdown {
                print!("{}", trama_server::policy::markdown(&table));
            } else {
                println!("{}", serde_json::to_string_pretty(&table)?);
            }
            return Ok(());
        }
        Cmd::Match {
            instance,
            max_candidates,
            greedy,
            pretty,
        } => return help_cli::solve(instance, *max_candidates, *greedy, *pretty),
        Cmd::BenchMatching {
            instance,
            postgis,
            queries,
            k,
            runs,
        } => {
            return help_cli::bench(instance, postgis.as_deref(), *queries, *k, *runs).await;
        }
        Cmd::MatchInstance {
            needs,
            offers,
            seed,
        } => {
            let inst = help_cli::generate(*needs, *offers, *seed);
            println!("{}", serde_json::to_string(&inst)?);
            return Ok(());
        }
        Cmd::Verify {
            url: Some(url),
            key,
            save,
            flows,
            ..
        } => {
            let key = register_cli::parse_key(
                key.as_deref()
                    .context("--key is required with --url: the key is what you trust")?,
            )?;
            let copy = register_cli::from_url(url, key.name(), &key, save.as_deref())?;
            return register_cli::check(&copy, &key, *flows);
        }
        Cmd::Verify {
            dir: Some(dir),
            key,
            flows,
            ..
        } => {
            let key = register_cli::parse_key(
                key.as_deref()
                    .context("--key is required with --dir: the key is what you trust")?,
            )?;
            let copy = register_cli::from_dir(dir)?;
            return register_cli::check(&copy, &key, *flows);
        }
        Cmd::VerifyStatement { file, key } => {
            let key = register_cli::parse_key(key)?;
            return register_cli::verify_statement_file(file, &key);
        }
        _ => {}
    }
    let mut cfg = config::load(
        cli.config.as_deref(),
        cli.data_dir.clone(),
        cli.database.clone(),
    )?;
    match cli.cmd {
        Cmd::Config {
            cmd: ConfigCmd::Example,
        } => {
            print!("{}", trama_server::config::EXAMPLE_TOML);
        }
        Cmd::Config {
            cmd: ConfigCmd::Show,
        } => {
            println!("{cfg:#?}");
        }
        Cmd::Migrate => {
            let store = open_store(&cfg).await?;
            eprintln!("The {} database is up to date.", store.backend().name());
        }
        Cmd::Serve { listen } => {
            if let Some(l) = listen {
                cfg.listen = l;
            }
            let store = open_store(&cfg).await?;
            serve(cfg, store).await?;
        }
        Cmd::Demo {
            listen,
            scale,
            seed,
            reset,
            no_serve,
        } => {
            if let Some(l) = listen {
                cfg.listen = l;
            }
            // The demo mails nothing: its outbox is printed here, so that a sign-up can be
            // confirmed with the link it prints.
            if cfg.mail.smtp_url.is_none() {
                cfg.mail.print_outbox = true;
            }
            anyhow::ensure!(
                scale > 0.0 && scale <= 200.0,
                "--scale must be above 0 and at most 200"
            );
            let store = open_store(&cfg).await?;
            let state = AppState::new(store.clone(), cfg.clone(), None)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let started = Instant::now();
            let report = demo::load(&state, seed, scale, reset).await?;
            eprintln!("{report}");
            eprintln!("{}", demo_budgets::load(&state, seed).await?);
            eprintln!("{}", demo_register::load(&state, seed).await?);
            eprintln!("Demo ready in {:.1} s.", started.elapsed().as_secs_f64());
            if !no_serve {
                eprintln!("{}", demo::LOGINS_HELP);
                serve(cfg, store).await?;
            }
        }
        Cmd::Import { path } => {
            let state = open_state(&cfg).await?;
            hsds_io::import(&state, &path).await?;
        }
        Cmd::Export { format, out_dir } => {
            let state = open_state(&cfg).await?;
            hsds_io::export(&state, format, &out_dir).await?;
        }
        Cmd::Areas {
            cmd: AreasCmd::Import { file, kind },
        } => {
            let state = open_state(&cfg).await?;
            let n = areas::import_geojson(&state, &file, kind.as_deref()).await?;
            eprintln!("Imported {n} areas from {}.", file.display());
        }
        Cmd::Places {
            cmd: PlacesCmd::Import { file },
        } => {
            let state = open_state(&cfg).await?;
            let n = areas::import_places(&state, &file).await?;
            eprintln!("Imported {n} addresses from {}.", file.display());
        }
        Cmd::Verify { key, flows, .. } => {
            let state = open_state(&cfg).await?;
            let key = match key {
                Some(k) => register_cli::parse_key(&k)?,
                None => state.register.verifier().await?,
            };
            let copy = register_cli::from_store(&state).await?;
            register_cli::check(&copy, &key, flows)?;
        }
        Cmd::RegisterKey => {
            let store = open_store(&cfg).await?;
            let state = AppState::new(store, cfg, None).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", state.register.verifier().await?.encode());
        }
        Cmd::BenchRegister {
            appends,
            batch,
            verify,
        } => {
            let store = open_store(&cfg).await?;
            let mut bench = Config::default();
            bench.register.batch_max = batch.max(1);
            let state = AppState::new(store, bench, None).map_err(|e| anyhow::anyhow!("{e}"))?;
            register_bench::run(&state, appends, verify).await?;
        }
        Cmd::BenchBudgets { people, concurrent } => {
            let state = open_state(&cfg).await?;
            budget_bench::run(&state, people, concurrent).await?;
        }
        Cmd::BenchHelp {
            needs,
            offers,
            requests,
            clients,
            askers,
            writes_per_second,
        } => {
            let mut bench = cfg.clone();
            // Each asker asks a few dozen times in a minute: not a probing of where others are.
            bench.matching.suggestions_per_hour = u32::MAX;
            let state = open_state(&bench).await?;
            help_bench::bench(
                state,
                help_bench::HelpBench {
                    needs,
                    offers,
                    requests,
                    clients,
                    askers,
                    writes_per_second,
                },
            )
            .await?;
        }
        Cmd::BenchSearch => {
            let state = open_state(&cfg).await?;
            search_bench::run(&state).await?;
        }
        Cmd::Routes { .. }
        | Cmd::Match { .. }
        | Cmd::MatchInstance { .. }
        | Cmd::BenchMatching { .. }
        | Cmd::VerifyStatement { .. } => {
            unreachable!("handled above")
        }
    }
    Ok(())
}
