//! [`Application`]: settings in, a bound server out.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::http::header;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, IntoResponse, Route, Server, get, handler};
use poem_openapi::OpenApiService;
use weft_config::Settings;
use weft_gateway::Gateway;
use weft_http::HttpStack;
use weft_http::rate_limit::IpRateLimiter;
use weft_storage::Db;

use crate::graphql;
use crate::services;
use crate::system::{Meta, ServiceMeta, SystemApi, SystemState};

/// Every REST API of the binary, merged (a tuple once there are several); the spec at
/// `/v1/openapi.json` is this type's.
pub type RestApis = SystemApi;

fn rest_apis() -> RestApis {
    SystemApi
}

fn api_service() -> OpenApiService<RestApis, ()> {
    OpenApiService::new(rest_apis(), "Weft", env!("CARGO_PKG_VERSION")).description(
        "Headless commerce for clothing brands. Errors are RFC 9457 problem+json; \
             ids are type-prefixed; money is integer minor units.",
    )
}

/// The REST contract as committed in `openapi/v1.json`.
pub fn openapi_json() -> String {
    api_service().spec()
}

/// A bound, ready-to-run `weft` process.
pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    app: poem::endpoint::BoxEndpoint<'static, poem::Response>,
    db: Db,
    rate_limiter: Option<IpRateLimiter>,
    shutdown_grace: Duration,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// Opens the configured database: PostgreSQL when `database_url` is set, else SQLite
/// under the data dir.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    if let Some(url) = &settings.database_url {
        Db::postgres(url, settings.database_pool_size)
            .await
            .context("database_url: cannot connect to PostgreSQL")
    } else {
        let path = settings.sqlite_path();
        Db::sqlite(&path, settings.database_pool_size)
            .await
            .with_context(|| format!("data_dir: cannot open {}", path.display()))
    }
}

impl Application {
    /// Opens storage, migrates (unless this is one service of a cluster, where
    /// `weft migrate` does it), composes the routes and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // Install the recorder before anything records, so no early sample is lost.
        weft_telemetry::prometheus();
        let hosted = services::hosted(settings.service.as_deref());
        let db = open_database(&settings).await?;
        if settings.service.is_none() {
            let applied = weft_storage::migrate::run(&db, &services::migrations(&hosted)).await?;
            tracing::info!(
                applied,
                backend = db.backend().as_str(),
                "database migrated"
            );
        }
        let instance_id = weft_storage::system::get_or_insert(
            &db,
            "instance_id",
            &uuid::Uuid::now_v7().simple().to_string(),
        )
        .await
        .context("database is not migrated: run `weft migrate`")?;

        let meta = Arc::new(Meta {
            name: "weft".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            api_version: "v1".to_owned(),
            topology: if settings.service.is_some() {
                "cluster"
            } else {
                "embedded"
            }
            .to_owned(),
            database: db.backend().as_str().to_owned(),
            instance_id,
            demo: settings.demo,
            services: hosted
                .iter()
                .map(|s| ServiceMeta {
                    name: s.name.to_owned(),
                    description: s.description.to_owned(),
                })
                .collect(),
        });
        let state = SystemState {
            meta,
            db: db.clone(),
        };

        let api = api_service();
        let spec = api.spec_endpoint();
        let docs = api.swagger_ui();
        let schema = graphql::schema(
            Some(state.clone()),
            settings.graphql.max_depth,
            settings.graphql.max_complexity,
        );
        let routes = Route::new()
            .nest("/", api)
            .at("/v1/openapi.json", spec)
            .nest("/docs", docs)
            .at("/metrics", get(prometheus_metrics))
            .nest("/graphql", graphql::endpoint(schema))
            .data(state);

        let gateway = Gateway::new(
            &settings.gateway.upstreams,
            Duration::from_secs(settings.gateway.timeout_seconds),
        )?;
        if !gateway.is_empty() {
            tracing::info!(
                upstreams = settings.gateway.upstreams.len(),
                "gateway routes configured"
            );
        }
        let rate_limiter = IpRateLimiter::per_minute(settings.rate_limit_per_minute);
        let stack = HttpStack {
            body_limit_bytes: settings.body_limit_bytes,
            rate_limiter: rate_limiter.clone(),
            trust_forwarded_for: settings.trust_forwarded_for,
            cors_origins: settings.cors_origins.clone(),
            idempotency: Some(weft_http::Idempotency::new(db.clone())),
        };
        let app = stack.wrap(gateway.in_front_of(routes)).boxed();

        let acceptor = TcpListener::bind((settings.host, settings.port))
            .into_acceptor()
            .await
            .with_context(|| {
                format!("port: cannot listen on {}:{}", settings.host, settings.port)
            })?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().map(std::net::SocketAddr::port))
            .context("listener has no TCP address")?;
        metrics::gauge!("weft_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);

        Ok(Self {
            acceptor,
            port,
            app,
            db,
            rate_limiter,
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then drains in-flight requests for up to the
    /// configured grace period.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let sweeper = self.rate_limiter.clone().map(|limiter| {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(weft_http::stack::RATE_LIMIT_SWEEP);
                loop {
                    every.tick().await;
                    limiter.forget_idle();
                }
            })
        });
        tracing::info!(port = self.port, "weft is serving");
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.app, signal, Some(self.shutdown_grace))
            .await;
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        tracing::info!("weft stopped");
        result
    }
}

#[handler]
fn prometheus_metrics() -> impl IntoResponse {
    weft_telemetry::prometheus().render().with_header(
        header::CONTENT_TYPE,
        "text/plain; version=0.0.4; charset=utf-8",
    )
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
