//! The `weft` command line. Subcommands are thin over the same builders the tests use.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use weft_config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "weft",
    version,
    about = "Headless commerce for clothing brands."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (every service, or the one --service names).
    Serve(ServeArgs),
    /// Apply every pending database migration and exit.
    Migrate(CommonArgs),
    /// Administer the shop from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Load data from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Rebuild the product search index from the catalog (tantivy under the data dir,
    /// or Elasticsearch when `elasticsearch_url` is set). A running shop holds the
    /// embedded index: stop it first.
    Reindex(CommonArgs),
    /// Print the OpenAPI 3 document of the public REST API.
    Openapi(OpenapiArgs),
    /// Print the GraphQL schema (SDL).
    GraphqlSchema,
}

#[derive(Debug, Clone, Args)]
pub struct OpenapiArgs {
    /// Print the cluster's internal endpoints (`/v1/internal/…`) instead.
    #[arg(long)]
    pub internal: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account (there is no default admin, ever).
    Create(CreateAdminArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import products from a CSV or JSON Lines file (columns: docs/catalog.md).
    Products(ImportProductsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ImportProductsArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The file to read.
    pub file: PathBuf,
    /// `csv` or `jsonl`; guessed from the file's extension when omitted.
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CreateAdminArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[arg(long)]
    pub email: String,
    /// Prefer the environment variable, which stays out of shell history.
    #[arg(long, env = "WEFT_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
    #[arg(long, default_value = "Administrator")]
    pub name: String,
}

/// Flags every command that touches storage accepts.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Settings file (TOML); `./weft.toml` is read when present and this is unset.
    #[arg(long, env = "WEFT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the embedded profile keeps its data [env: WEFT_DATA_DIR] [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Run as this one service of a cluster [env: WEFT_SERVICE]
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Port to listen on; 0 picks a free one [env: WEFT_PORT] [default: 8000]
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on [env: WEFT_HOST] [default: 127.0.0.1]
    #[arg(long)]
    pub host: Option<String>,
    /// Seed the demo clothing catalog on first start [env: WEFT_DEMO]
    #[arg(long)]
    pub demo: bool,
    /// Requests per minute per client IP, 0 for no limit [env: WEFT_RATE_LIMIT_PER_MINUTE] [default: 100]
    #[arg(long, value_name = "N")]
    pub rate_limit_per_minute: Option<u32>,
}

impl CommonArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            data_dir: self.data_dir.clone(),
            service: self.service.clone(),
            ..Overrides::default()
        }
    }
}

impl ServeArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            host: self.host.clone(),
            port: self.port,
            demo: self.demo.then_some(true),
            rate_limit_per_minute: self.rate_limit_per_minute,
            ..self.common.overrides()
        }
    }
}
