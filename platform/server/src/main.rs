//! `weft`: parse the command line, load settings, set up telemetry, run.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use weft::cli::{AdminCommand, Cli, Command, CreateAdminArgs, ImportCommand, ImportProductsArgs};
use weft::{Application, services};
use weft_config::{ConfigError, Settings};

// See the workspace's Cargo.toml: faster than glibc's malloc here, and it returns memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status for invalid configuration (as `sysexits` EX_USAGE-like tools use 2).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi(args) => {
            if args.internal {
                println!("{}", weft::openapi_internal_json());
            } else {
                println!("{}", weft::openapi_json());
            }
            ExitCode::SUCCESS
        }
        Command::GraphqlSchema => {
            print!("{}", weft::graphql_sdl());
            ExitCode::SUCCESS
        }
        Command::Serve(args) => {
            let Some(settings) = load(args.common.config.as_deref(), &args.overrides()) else {
                return ExitCode::from(EXIT_CONFIG);
            };
            run(settings, serve)
        }
        Command::Migrate(args) => {
            let Some(settings) = load(args.config.as_deref(), &args.overrides()) else {
                return ExitCode::from(EXIT_CONFIG);
            };
            run(settings, migrate)
        }
        Command::Import(ImportCommand::Products(args)) => {
            let Some(settings) = load(args.common.config.as_deref(), &args.common.overrides())
            else {
                return ExitCode::from(EXIT_CONFIG);
            };
            run(settings, move |settings| import_products(settings, args))
        }
        Command::Reindex(args) => {
            let Some(settings) = load(args.config.as_deref(), &args.overrides()) else {
                return ExitCode::from(EXIT_CONFIG);
            };
            run(settings, reindex)
        }
        Command::Admin(AdminCommand::Create(args)) => {
            let Some(settings) = load(args.common.config.as_deref(), &args.common.overrides())
            else {
                return ExitCode::from(EXIT_CONFIG);
            };
            run(settings, move |settings| create_admin(settings, args))
        }
    }
}

fn load(file: Option<&std::path::Path>, overrides: &weft_config::Overrides) -> Option<Settings> {
    match Settings::load(file, overrides, &services::names()) {
        Ok(settings) => Some(settings),
        Err(ConfigError(message)) => {
            eprintln!("weft: invalid configuration: {message}");
            None
        }
    }
}

/// The most threads the blocking pool may hold: room for everything that runs there at
/// once. SQLite's statements (one per connection: the readers and the writer), password
/// hashes (one per core, see the identity service), the name lookups of outbound webhook
/// and notification attempts (a lookup of a dead host may take seconds: each attempt in
/// flight keeps its own thread, so they cannot crowd out the database's), and 8 for the
/// rest (the search index's commits, files, other lookups). None of them waits for
/// another blocking task, so past the bound tasks only queue. Tokio's default of 512
/// lets a burst start a thread whenever none is idle at that instant (~90 under a
/// 32-connection load here), each keeping its own allocator pages.
fn blocking_threads(settings: &Settings) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    settings.database_pool_size as usize
        + 1
        + cores
        + settings.webhooks.concurrency.max(1)
        + settings.notifications.concurrency.max(1)
        + 8
}

fn run<F, Fut>(settings: Settings, f: F) -> ExitCode
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    // One TLS provider for the process (ring), before any client exists.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let format = match settings.log_format {
        // A person at a terminal reads lines; a collector, file or pipe parses JSON.
        weft_config::LogFormat::Auto if std::io::stdout().is_terminal() => {
            weft_telemetry::LogFormat::Pretty
        }
        weft_config::LogFormat::Auto | weft_config::LogFormat::Json => {
            weft_telemetry::LogFormat::Json
        }
        weft_config::LogFormat::Pretty => weft_telemetry::LogFormat::Pretty,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(blocking_threads(&settings))
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("weft: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        let _telemetry = weft_telemetry::init(format, settings.service.as_deref().unwrap_or("all"));
        f(settings).await
    });
    // Whatever is left (a request past the shutdown grace period still burning CPU) is
    // not waited for; dropping the runtime would wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "weft failed");
            eprintln!("weft: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let shown = settings.clone();
    let app = Application::build(settings).await?;
    // Someone at a terminal gets where to go next; a log collector gets the log lines.
    if std::io::stderr().is_terminal() {
        let program = std::env::args().next().unwrap_or_else(|| "weft".to_owned());
        eprintln!("{}", weft::banner::render(&shown, app.port(), &program));
    }
    app.run_until_stopped().await?;
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let db = weft::app::open_database(&settings).await?;
    let hosted = services::hosted(settings.service.as_deref());
    let applied = weft_storage::migrate::run(&db, &services::migrations(&hosted)).await?;
    println!(
        "applied {applied} migration(s) on {}",
        db.backend().as_str()
    );
    Ok(())
}

/// `weft import products FILE`: every product in its own transaction, a progress bar on
/// the terminal, and every refused line reported; fails (exit 1) when any line was refused.
async fn import_products(settings: Settings, args: ImportProductsArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let format = match args.format.as_deref() {
        Some("csv") => weft_catalog::import::Format::Csv,
        Some("jsonl") => weft_catalog::import::Format::JsonLines,
        Some(other) => anyhow::bail!("--format: `{other}` is not `csv` or `jsonl`"),
        None => weft_catalog::import::Format::guess(&args.file.to_string_lossy())
            .context("--format: cannot tell from the file name; give csv or jsonl")?,
    };
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let (items, problems) = weft_catalog::import::read(format, &text);
    let db = weft::app::open_database(&settings).await?;
    weft_storage::migrate::run(&db, &services::migrations(&services::hosted(None))).await?;
    let bus = weft::app::open_bus(&settings, &db).await?;
    let cache = weft::app::open_cache(&settings).await?;
    let catalog = weft::app::catalog_service(&settings, &db, &bus, &cache);
    let bar = indicatif::ProgressBar::new(items.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} products ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = catalog
        .import_products(items, problems, |done, _| bar.set_position(u64::from(done)))
        .await;
    bar.finish();
    // The ProductUpdated events stay in the outbox: a shop running on this database
    // publishes them, and its caches (and later its search index) follow.
    for problem in &report.problems {
        eprintln!("line {}: {}", problem.line, problem.reason);
    }
    println!(
        "imported {} product(s); {} line(s) refused",
        report.created,
        report.problems.len()
    );
    anyhow::ensure!(report.problems.is_empty(), "some lines were refused");
    Ok(())
}

/// `weft reindex`: empties the search index and writes every product into it again,
/// with a progress bar.
async fn reindex(settings: Settings) -> anyhow::Result<()> {
    let db = weft::app::open_database(&settings).await?;
    weft_storage::migrate::run(&db, &services::migrations(&services::hosted(None))).await?;
    let bus = weft::app::open_bus(&settings, &db).await?;
    let cache = weft::app::open_cache(&settings).await?;
    let (index, _) = weft::app::open_search(&settings).await?;
    let backend = index.backend();
    let catalog = weft::app::catalog_service(&settings, &db, &bus, &cache).with_search(index);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} products ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let indexed = catalog
        .reindex(true, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish();
    // Guests' cached answers may quote the old index.
    catalog.retire_cached().await;
    println!(
        "indexed {indexed} product(s) into {backend} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn create_admin(settings: Settings, args: CreateAdminArgs) -> anyhow::Result<()> {
    let db = weft::app::open_database(&settings).await?;
    // Tables first, so this works on a fresh data dir or database.
    weft_storage::migrate::run(&db, &services::migrations(&services::hosted(None))).await?;
    let bus = weft::app::open_bus(&settings, &db).await?;
    let cache = weft::app::open_cache(&settings).await?;
    let identity = weft::app::identity_service(&settings, &db, &bus, &cache).await?;
    let admin = identity
        .create_admin(&args.email, &args.password, &args.name)
        .await?;
    println!("created admin {} <{}>", admin.id, admin.email);
    Ok(())
}
