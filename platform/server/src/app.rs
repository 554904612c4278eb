//! [`Application`]: settings in, a bound server out.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Route, Server, get, handler};
use poem_openapi::OpenApiService;
use weft_bus::amqp::AmqpTransport;
use weft_bus::memory::MemoryTransport;
use weft_bus::{Bus, BusSettings, Transport};
use weft_cache::memory::MemoryStore;
use weft_cache::redis_store::RedisStore;
use weft_cache::{Cache, CacheStore};
use weft_config::Settings;
use weft_gateway::Gateway;
use weft_http::HttpStack;
use weft_http::Idempotency;
use weft_http::rate_limit::{Budgets, RateLimits};
use weft_search::SearchIndex;
use weft_storage::Db;

use weft_identity::social::{ProviderConfig, ProviderOverrides, Providers};
use weft_identity::{IdentityApi, IdentityService, JwtAuthenticator};

use crate::graphql;
use crate::services;
use crate::system::{Meta, ServiceMeta, SystemApi, SystemState};

/// The public REST APIs: what `openapi/v1.json` describes and the SDKs expose.
pub type PublicApis = (
    SystemApi,
    IdentityApi,
    weft_catalog::CatalogApi,
    weft_inventory::InventoryApi,
    weft_cart::CartApi,
    weft_cart::PromotionApi,
    weft_checkout::CheckoutApi,
    weft_orders::OrderApi,
    weft_payments::PaymentApi,
    weft_payments::WebhookApi,
    weft_reviews::ReviewsApi,
    weft_webhooks::WebhooksApi,
    weft_notifications::NotificationsApi,
);

/// The cluster's own plumbing under `/v1/internal` (the `internal` scope): described
/// apart, in `openapi/internal.json`, for the services' peer client only.
pub type InternalApis = (
    weft_identity::IdentityInternalApi,
    weft_inventory::InventoryInternalApi,
    weft_cart::CartInternalApi,
    weft_payments::PaymentInternalApi,
    weft_orders::OrderInternalApi,
);

fn public_apis() -> PublicApis {
    (
        SystemApi,
        weft_identity::api(),
        weft_catalog::CatalogApi,
        weft_inventory::InventoryApi,
        weft_cart::CartApi,
        weft_cart::PromotionApi,
        weft_checkout::CheckoutApi,
        weft_orders::OrderApi,
        weft_payments::PaymentApi,
        weft_payments::WebhookApi,
        weft_reviews::ReviewsApi,
        weft_webhooks::WebhooksApi,
        weft_notifications::NotificationsApi,
    )
}

fn internal_apis() -> InternalApis {
    (
        weft_identity::IdentityInternalApi,
        weft_inventory::InventoryInternalApi,
        weft_cart::CartInternalApi,
        weft_payments::PaymentInternalApi,
        weft_orders::OrderInternalApi,
    )
}

fn public_service() -> OpenApiService<PublicApis, ()> {
    OpenApiService::new(public_apis(), "Weft", env!("CARGO_PKG_VERSION")).description(
        "Headless commerce for clothing brands. Errors are RFC 9457 problem+json; \
             ids are type-prefixed; money is integer minor units.",
    )
}

/// The REST contract as committed in `openapi/v1.json` and served at `/v1/openapi.json`.
pub fn openapi_json() -> String {
    crate::openapi::contract(&public_service().spec())
}

/// The cluster's internal endpoints as committed in `openapi/internal.json` (not served:
/// only the peer client is generated from it).
pub fn openapi_internal_json() -> String {
    let service = OpenApiService::new(internal_apis(), "Weft internal", env!("CARGO_PKG_VERSION"))
        .description(
            "Service-to-service endpoints of a Weft cluster; every call needs an API key \
             with the `internal` scope. Not part of the public API.",
        );
    crate::openapi::contract(&service.spec())
}

/// A bound, ready-to-run `weft` process.
pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    app: poem::endpoint::BoxEndpoint<'static, poem::Response>,
    db: Db,
    cache: Cache,
    bus: Bus,
    idempotency: Idempotency,
    shutdown_grace: Duration,
    /// Set with `--demo` in a process that hosts the catalog: seeded once, in the background
    /// (and its variants stocked, when this process hosts inventory too).
    demo_catalog: Option<(
        weft_catalog::CatalogService,
        Option<weft_inventory::InventoryService>,
    )>,
    /// The demo catalog's size (`demo_products`).
    demo_products: usize,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// The payment gateways: the built-in `test` one always, `stripe` when its key is set.
fn payment_providers(
    settings: &Settings,
    db: &Db,
    clock: &weft_kernel::Clock,
) -> anyhow::Result<Vec<Arc<dyn weft_payments::PaymentProvider>>> {
    let mut providers: Vec<Arc<dyn weft_payments::PaymentProvider>> = vec![Arc::new(
        weft_payments::TestGateway::new(db.clone(), clock.clone()),
    )];
    let p = &settings.payments;
    if let Some(key) = &p.stripe_secret_key {
        let stripe = weft_payments::StripeGateway::new(
            weft_payments::StripeConfig {
                secret_key: key.expose().to_owned(),
                api_base: p.stripe_api_base.clone(),
                webhook_secret: p
                    .stripe_webhook_secret
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
                webhook_tolerance: Duration::from_secs(p.webhook_tolerance_seconds),
            },
            clock.clone(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if p.stripe_webhook_secret.is_none() {
            tracing::warn!(
                "payments.stripe_webhook_secret is not set: POST /v1/webhooks/stripe refuses every event"
            );
        }
        tracing::info!(api_base = %p.stripe_api_base, "stripe payments on");
        providers.push(Arc::new(stripe));
    }
    Ok(providers)
}

/// The cache: Redis when `redis_url` is set (it must answer unless `start_degraded`),
/// else in-process.
pub async fn open_cache(settings: &Settings) -> anyhow::Result<Cache> {
    let c = &settings.cache;
    let store: Arc<dyn CacheStore> = match &settings.redis_url {
        Some(url) => {
            let store = RedisStore::new(url, &format!("{}:", settings.namespace), 16)
                .context("redis_url: invalid")?;
            if let Err(err) = store.ping().await {
                anyhow::ensure!(
                    settings.start_degraded,
                    "redis_url: cannot reach Redis ({err}); set start_degraded = true \
                     (WEFT_START_DEGRADED=true) to start without it"
                );
                tracing::warn!(error = %err, "starting degraded: Redis unreachable, reads go to the database");
            }
            Arc::new(store)
        }
        None => Arc::new(MemoryStore::new(c.max_bytes)),
    };
    Ok(Cache::new(store))
}

/// The event bus: RabbitMQ when `amqp_url` is set (it must answer unless
/// `start_degraded`), else in-process delivery.
pub async fn open_bus(settings: &Settings, db: &Db) -> anyhow::Result<Bus> {
    let transport: Arc<dyn Transport> = match &settings.amqp_url {
        Some(url) => match AmqpTransport::connect(url, &settings.namespace).await {
            Ok(transport) => Arc::new(transport),
            Err(err) => {
                anyhow::ensure!(
                    settings.start_degraded,
                    "amqp_url: cannot reach RabbitMQ ({err}); set start_degraded = true \
                     (WEFT_START_DEGRADED=true) to start without it"
                );
                tracing::warn!(error = %err, "starting degraded: RabbitMQ unreachable, events wait in the outbox");
                Arc::new(AmqpTransport::lazy(url, &settings.namespace))
            }
        },
        None => Arc::new(MemoryTransport::new()),
    };
    Ok(Bus::new(db.clone(), transport, BusSettings::default()))
}

/// The identity service over this process's storage, keys (from `keys_dir`) and
/// social sign-in settings.
pub async fn identity_service(
    settings: &Settings,
    db: &Db,
    bus: &Bus,
    cache: &Cache,
) -> anyhow::Result<IdentityService> {
    let keys_dir = settings.keys_dir();
    let keys = weft_identity::keys::SigningKeys::load_or_create(&keys_dir)
        .with_context(|| format!("keys_dir: {}", keys_dir.display()))?;
    let sealer = weft_secrets::Sealer::load_or_create(&keys_dir)
        .with_context(|| format!("keys_dir: {}", keys_dir.display()))?;
    Ok(IdentityService::new(
        db.clone(),
        bus.clone(),
        cache.clone(),
        keys,
        sealer,
        social_providers(&settings.social),
        weft_kernel::Clock::system(),
    )
    .await?)
}

/// The catalog service over this process's storage, with the configured cache TTLs.
pub fn catalog_service(
    settings: &Settings,
    db: &Db,
    bus: &Bus,
    cache: &Cache,
) -> weft_catalog::CatalogService {
    weft_catalog::CatalogService::new(
        db.clone(),
        bus.clone(),
        cache.clone(),
        weft_catalog::service::CacheTtls {
            product: Duration::from_secs(settings.cache.product_ttl_seconds),
            listing: Duration::from_secs(settings.cache.listing_ttl_seconds),
            search: Duration::from_secs(settings.cache.search_ttl_seconds),
            answer: Duration::from_secs(settings.cache.api_response_ttl_seconds),
        },
        weft_kernel::Clock::system(),
    )
}

/// The product search index: Elasticsearch when `elasticsearch_url` is set, else tantivy
/// under `<data_dir>/search`. The flag is true when the index is empty and should be
/// filled from the catalog.
pub async fn open_search(settings: &Settings) -> anyhow::Result<(Arc<dyn SearchIndex>, bool)> {
    if let Some(url) = &settings.elasticsearch_url {
        let name = format!("{}-products", settings.namespace);
        let (index, fresh) = weft_search::ElasticIndex::open(url, &name)
            .await
            .with_context(|| format!("elasticsearch_url: cannot use index `{name}`"))?;
        Ok((Arc::new(index), fresh))
    } else {
        let dir = settings.data_dir.join("search");
        let (index, fresh) = weft_search::TantivyIndex::open(&dir).with_context(|| {
            format!(
                "data_dir: cannot open the search index in {}",
                dir.display()
            )
        })?;
        Ok((Arc::new(index), fresh))
    }
}

/// Whose search index this catalog process writes. A cluster's catalog replicas on
/// tantivy each keep an index under their own `data_dir`, so each is a replica of its
/// own, named by a file beside the index (made at its first start, kept across restarts
/// so the replica catches up on what it missed while down). Elasticsearch, or an
/// embedded shop, has one index: the catalog's consumers are shared.
fn index_scope(settings: &Settings) -> anyhow::Result<weft_catalog::events::IndexScope> {
    if settings.service.is_none() || settings.elasticsearch_url.is_some() {
        return Ok(weft_catalog::events::IndexScope::Shared);
    }
    let path = settings.data_dir.join("search").join("replica");
    let name = match std::fs::read_to_string(&path) {
        Ok(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => {
            let name = uuid::Uuid::now_v7().simple().to_string();
            std::fs::write(&path, &name)
                .with_context(|| format!("data_dir: cannot write {}", path.display()))?;
            name
        }
    };
    Ok(weft_catalog::events::IndexScope::replica(&name))
}

/// The inventory service over this process's storage.
pub fn inventory_service(
    settings: &Settings,
    db: &Db,
    bus: &Bus,
) -> weft_inventory::InventoryService {
    weft_inventory::InventoryService::new(
        db.clone(),
        bus.clone(),
        weft_kernel::Clock::system(),
        Duration::from_secs(settings.inventory.reservation_ttl_seconds),
    )
}

/// An SDK client for the `service` a `caller` hosted here needs, when this process does
/// not host that service (a cluster's service process); `None` when it runs here, or
/// when the caller does not (its in-process ports then serve nothing). Without the
/// peer's URL the process refuses to start, naming the setting.
fn peer(
    settings: &Settings,
    hosted: &[&'static weft_http::ServiceInfo],
    caller: &str,
    service: &str,
    url: Option<&str>,
) -> anyhow::Result<Option<weft_peer_client::Peer>> {
    let hosts = |name: &str| hosted.iter().any(|s| s.name == name);
    if !hosts(caller) || hosts(service) {
        return Ok(None);
    }
    let url = url.with_context(|| {
        format!("peers.{service}: the {caller} service needs the {service} service's URL")
    })?;
    peer_at(settings, url).map(Some)
}

/// The peer at `url`, with the cluster's API key and timeout from `[peers]`.
fn peer_at(settings: &Settings, url: &str) -> anyhow::Result<weft_peer_client::Peer> {
    weft_peer_client::Peer::new(
        url,
        settings
            .peers
            .api_key
            .as_ref()
            .map(weft_config::Secret::expose),
        Duration::from_secs(settings.peers.timeout_seconds.max(1)),
    )
    .map_err(anyhow::Error::msg)
}

/// The identity peer a process checks credentials with: `peers.identity`, when this
/// process does not host identity itself.
fn identity_peer<'a>(
    settings: &'a Settings,
    hosted: &[&'static weft_http::ServiceInfo],
) -> Option<&'a str> {
    settings
        .peers
        .identity
        .as_deref()
        .filter(|_| !hosts(hosted, &weft_identity::SERVICE))
}

/// Who checks a request's credentials: identity in this process, or, in a process of a
/// cluster that does not host it and has `peers.identity`, identity over HTTP (tokens by
/// its published keys, API keys by asking it). Without `peers.identity` such a process
/// checks them itself, which needs identity's keys (a shared `keys_dir`) and its tables.
fn authenticator(
    settings: &Settings,
    hosted: &[&'static weft_http::ServiceInfo],
    identity: IdentityService,
    cache: &Cache,
) -> anyhow::Result<Arc<dyn weft_http::Authenticator>> {
    Ok(match identity_peer(settings, hosted) {
        Some(url) => Arc::new(weft_identity::client::Remote::new(
            peer_at(settings, url)?,
            cache.clone(),
        )),
        None => Arc::new(JwtAuthenticator(identity)),
    })
}

/// What completing a checkout calls: the services in this process, or over HTTP those
/// a cluster's checkout process does not host (`[peers]`).
fn checkout_ports(
    settings: &Settings,
    hosted: &[&'static weft_http::ServiceInfo],
    cart: &weft_cart::CartService,
    inventory: &weft_inventory::InventoryService,
    payments: &weft_payments::PaymentService,
    orders: &weft_orders::OrderService,
) -> anyhow::Result<weft_checkout::saga::Ports> {
    let peers = &settings.peers;
    let peer = |service: &str, url: Option<&str>| peer(settings, hosted, "checkout", service, url);
    let cart_client: Arc<dyn weft_cart::client::Carts> = match peer("cart", peers.cart.as_deref())?
    {
        Some(peer) => Arc::new(weft_cart::client::Remote(peer)),
        None => Arc::new(weft_cart::client::Local(cart.clone())),
    };
    let carts = Arc::new(weft_checkout::ports::CartsClient(cart_client));
    let stock: Arc<dyn weft_inventory::client::Inventory> =
        match peer("inventory", peers.inventory.as_deref())? {
            Some(peer) => Arc::new(weft_inventory::client::Remote(peer)),
            None => Arc::new(weft_inventory::client::Local(inventory.clone())),
        };
    let payments: Arc<dyn weft_checkout::ports::Payments> =
        match peer("payments", peers.payments.as_deref())? {
            Some(peer) => Arc::new(weft_checkout::ports::PaymentsClient(Arc::new(
                weft_payments::client::Remote(peer),
            ))),
            None => Arc::new(weft_checkout::ports::PaymentsClient(Arc::new(
                weft_payments::client::Local(payments.clone()),
            ))),
        };
    let orders: Arc<dyn weft_checkout::ports::Orders> =
        match peer("orders", peers.orders.as_deref())? {
            Some(peer) => Arc::new(weft_checkout::ports::OrdersClient(Arc::new(
                weft_orders::client::Remote(peer),
            ))),
            None => Arc::new(weft_checkout::ports::OrdersClient(Arc::new(
                weft_orders::client::Local(orders.clone()),
            ))),
        };
    Ok(weft_checkout::saga::Ports {
        carts: carts.clone(),
        cart_orders: carts,
        stock,
        payments,
        orders,
    })
}

/// The reviews service, reaching the catalog in this process when it hosts it, and
/// keeping reviews in MongoDB when `reviews.mongodb_url` is set.
pub async fn reviews_service(
    settings: &Settings,
    db: &Db,
    bus: &Bus,
    catalog: &weft_catalog::CatalogService,
    hosted: &[&'static weft_http::ServiceInfo],
) -> anyhow::Result<weft_reviews::ReviewsService> {
    let catalog: Arc<dyn weft_catalog::client::Catalog> = match peer(
        settings,
        hosted,
        "reviews",
        "catalog",
        settings.peers.catalog.as_deref(),
    )? {
        Some(peer) => Arc::new(weft_catalog::client::Remote(peer)),
        None => Arc::new(weft_catalog::client::Local(catalog.clone())),
    };
    let r = &settings.reviews;
    let store: Arc<dyn weft_reviews::store::ReviewStore> = match &r.mongodb_url {
        Some(url) if hosts(hosted, &weft_reviews::SERVICE) => Arc::new(
            weft_reviews::store::mongo::MongoReviews::connect(url.expose(), &r.mongodb_database)
                .await
                .context("reviews.mongodb_url")?,
        ),
        _ => Arc::new(weft_reviews::store::sql::SqlReviews),
    };
    Ok(weft_reviews::ReviewsService::new(
        db.clone(),
        bus.clone(),
        weft_kernel::Clock::system(),
        store,
        catalog,
        weft_reviews::Rules {
            moderation: weft_reviews::domain::Moderation {
                auto_publish: r.auto_publish,
                blocked_words: r.blocked_words(),
            },
            allow_unverified: r.allow_unverified,
            report_threshold: r.report_threshold.max(1),
        },
    ))
}

/// The webhooks service: its secrets sealed with this process's keys (`keys_dir`), its
/// targets, timeout and retries from `webhooks.*`.
pub fn webhooks_service(
    settings: &Settings,
    db: &Db,
    bus: &Bus,
) -> anyhow::Result<weft_webhooks::WebhooksService> {
    let keys_dir = settings.keys_dir();
    let sealer = weft_secrets::Sealer::load_or_create(&keys_dir)
        .with_context(|| format!("keys_dir: {}", keys_dir.display()))?;
    let w = &settings.webhooks;
    let policy = weft_webhooks::Policy {
        targets: weft_webhooks::target::TargetRules {
            allow_private: w.allow_private_targets,
            require_https: w.require_https,
        },
        timeout: Duration::from_secs(w.timeout_seconds.max(1)),
        retry: weft_webhooks::domain::Retry {
            first: Duration::from_secs(w.first_retry_seconds.max(1)),
            max: Duration::from_secs(w.max_retry_interval_seconds.max(1)),
            window: Duration::from_secs(w.retry_window_seconds),
        },
        retention: Duration::from_secs(w.retention_days.max(1) * 86_400),
        concurrency: w.concurrency.max(1),
    };
    Ok(weft_webhooks::WebhooksService::new(
        db.clone(),
        bus.clone(),
        weft_kernel::Clock::system(),
        Arc::new(sealer),
        policy,
    )?)
}

/// The notifications service: e-mail through `notifications.email_transport` (files
/// under `<data_dir>/mail` by default, or SMTP), templates built in or from
/// `templates_dir`, retries from `notifications.*`.
pub fn notifications_service(
    settings: &Settings,
    db: &Db,
) -> anyhow::Result<weft_notifications::NotificationsService> {
    use weft_config::{EmailTransportKind, SmtpSecurity};
    use weft_notifications::channels::{self, EmailTransport};
    let n = &settings.notifications;
    let timeout = Duration::from_secs(n.timeout_seconds.max(1));
    let transport = match n.email_transport {
        EmailTransportKind::File => EmailTransport::Files(
            n.mail_dir
                .clone()
                .unwrap_or_else(|| settings.data_dir.join("mail")),
        ),
        EmailTransportKind::Smtp => EmailTransport::Smtp {
            host: n.smtp_host.clone(),
            port: n.smtp_port,
            security: match n.smtp_security {
                SmtpSecurity::Starttls => channels::SmtpSecurity::StartTls,
                SmtpSecurity::Tls => channels::SmtpSecurity::Tls,
                SmtpSecurity::None => channels::SmtpSecurity::None,
            },
            username: n.smtp_username.clone(),
            password: n.smtp_password.clone(),
            timeout,
        },
    };
    let email = channels::EmailSender::new(&transport, &n.from, n.reply_to.as_deref())
        .map_err(anyhow::Error::msg)?;
    let policy = weft_notifications::Policy {
        retry: weft_notifications::domain::Retry {
            first: Duration::from_secs(n.first_retry_seconds.max(1)),
            max: Duration::from_secs(n.max_retry_interval_seconds.max(1)),
            attempts: n.max_attempts.max(1),
        },
        concurrency: n.concurrency.max(1),
        timeout,
        retention: Duration::from_secs(n.retention_days.max(1) * 86_400),
        shop_name: n.shop_name.clone(),
        storefront_url: n.storefront_url.clone(),
        api_url: n.api_url.clone(),
        admin_url: n.admin_url.clone(),
        staff_emails: n.staff_emails.clone(),
    };
    let sms = match (&n.twilio_account_sid, &n.twilio_auth_token, &n.twilio_from) {
        (Some(sid), Some(token), Some(from)) => Some(Arc::new(
            channels::SmsSender::new(&channels::TwilioSettings {
                api_base: n.twilio_api_base.clone(),
                account_sid: sid.clone(),
                auth_token: token.expose().to_owned(),
                from: from.clone(),
                timeout,
            })
            .map_err(anyhow::Error::msg)?,
        ) as Arc<dyn channels::Sender>),
        _ => None,
    };
    let push = if n.expo_push {
        Some(Arc::new(
            channels::PushSender::new(&channels::ExpoSettings {
                api_base: n.expo_api_base.clone(),
                access_token: n.expo_access_token.as_ref().map(|t| t.expose().to_owned()),
                timeout,
            })
            .map_err(anyhow::Error::msg)?,
        ) as Arc<dyn channels::Sender>)
    } else {
        None
    };
    let keys_dir = settings.keys_dir();
    let sealer = weft_secrets::Sealer::load_or_create(&keys_dir)
        .with_context(|| format!("keys_dir: {}", keys_dir.display()))?;
    Ok(weft_notifications::NotificationsService::new(
        db.clone(),
        weft_kernel::Clock::system(),
        weft_notifications::templates::Templates::new(n.templates_dir.clone(), &n.default_locale),
        weft_notifications::service::Senders {
            email: Arc::new(email),
            sms,
            push,
        },
        Arc::new(sealer),
        policy,
    ))
}

/// Where notifications fetch the invoices attached to order confirmations: orders in
/// this process, or at `peers.orders`. A notifications process without either sends
/// confirmations without the invoice (and says so once at start).
fn invoices_for_notifications(
    settings: &Settings,
    hosted: &[&'static weft_http::ServiceInfo],
    orders: &weft_orders::OrderService,
) -> anyhow::Result<Option<Arc<dyn weft_orders::client::Orders>>> {
    if !hosts(hosted, &weft_notifications::SERVICE) || hosts(hosted, &weft_orders::SERVICE) {
        return Ok(Some(Arc::new(weft_orders::client::Local(orders.clone()))));
    }
    let Some(url) = settings.peers.orders.as_deref() else {
        tracing::warn!(
            "peers.orders is unset: order confirmations go without their invoice attached"
        );
        return Ok(None);
    };
    Ok(Some(Arc::new(weft_orders::client::Remote(peer_at(
        settings, url,
    )?))))
}

/// How a product's reviews reach its GraphQL `Product`: reviews in this process, or at
/// `peers.reviews` (a catalog process of a cluster); none without either.
fn product_reviews(
    settings: &Settings,
    hosted: &[&'static weft_http::ServiceInfo],
    reviews: &weft_reviews::ReviewsService,
) -> anyhow::Result<Option<Arc<dyn weft_catalog::ports::ProductReviews>>> {
    if hosts(hosted, &weft_reviews::SERVICE) {
        return Ok(Some(Arc::new(weft_reviews::client::Local(reviews.clone()))));
    }
    match settings.peers.reviews.as_deref() {
        Some(url) if hosts(hosted, &weft_catalog::SERVICE) => Ok(Some(Arc::new(
            weft_reviews::client::Remote(peer_at(settings, url)?),
        ))),
        _ => Ok(None),
    }
}

/// The cart service, reaching the catalog and inventory in this process when it hosts
/// them, or over HTTP at `[peers]` when they run elsewhere (a cluster's cart process).
pub fn cart_service(
    settings: &Settings,
    db: &Db,
    catalog: &weft_catalog::CatalogService,
    inventory: &weft_inventory::InventoryService,
    hosted: &[&'static weft_http::ServiceInfo],
) -> anyhow::Result<weft_cart::CartService> {
    let catalog: Arc<dyn weft_catalog::client::Catalog> = match peer(
        settings,
        hosted,
        "cart",
        "catalog",
        settings.peers.catalog.as_deref(),
    )? {
        Some(peer) => Arc::new(weft_catalog::client::Remote(peer)),
        None => Arc::new(weft_catalog::client::Local(catalog.clone())),
    };
    let stock: Arc<dyn weft_inventory::client::Inventory> = match peer(
        settings,
        hosted,
        "cart",
        "inventory",
        settings.peers.inventory.as_deref(),
    )? {
        Some(peer) => Arc::new(weft_inventory::client::Remote(peer)),
        None => Arc::new(weft_inventory::client::Local(inventory.clone())),
    };
    Ok(weft_cart::CartService::new(
        db.clone(),
        catalog,
        stock,
        weft_kernel::Clock::system(),
        weft_cart::service::CartConfig {
            max_quantity: settings.cart.max_quantity.max(1),
            ttl: Duration::from_hours(24 * settings.cart.ttl_days.max(1)),
            abandoned_after: (settings.cart.abandoned_after_seconds > 0)
                .then(|| Duration::from_secs(settings.cart.abandoned_after_seconds)),
            default_currency: settings.cart.default_currency.clone(),
            tax: weft_cart::service::TaxRules {
                rates: settings
                    .tax
                    .rates
                    .iter()
                    .map(|(k, v)| (k.to_uppercase(), *v))
                    .collect(),
                inclusive_currencies: settings.tax.inclusive_currencies.clone(),
            },
            shipping: settings
                .shipping
                .methods
                .iter()
                .map(|m| weft_cart::service::ShippingMethod {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    countries: m.countries.iter().map(|c| c.to_uppercase()).collect(),
                    prices: m
                        .prices
                        .iter()
                        .map(|(c, a)| (c.to_uppercase(), *a))
                        .collect(),
                    free_over: m
                        .free_over
                        .iter()
                        .map(|(c, a)| (c.to_uppercase(), *a))
                        .collect(),
                    delivery_estimate: m.delivery_estimate.clone(),
                })
                .collect(),
        },
    ))
}

/// Where live notices (a cart changed) go: this process alone embedded, every process
/// through RabbitMQ when `amqp_url` is set.
async fn live_fanout(settings: &Settings) -> Arc<dyn weft_bus::live::Fanout> {
    match &settings.amqp_url {
        Some(url) => weft_bus::live::AmqpFanout::start(url, &settings.namespace).await,
        None => Arc::new(weft_bus::live::MemoryFanout::default()),
    }
}

/// Whether this process hosts `service`.
fn hosts(hosted: &[&'static weft_http::ServiceInfo], service: &weft_http::ServiceInfo) -> bool {
    hosted.iter().any(|s| std::ptr::eq(*s, service))
}

/// Starts a service's background work: its consumers subscribed, its tasks spawned.
async fn start_workers(
    bus: &Bus,
    workers: Vec<weft_bus::Worker>,
    start_degraded: bool,
) -> anyhow::Result<()> {
    for worker in workers {
        match worker {
            weft_bus::Worker::Consumer(handler) => subscribe(bus, handler, start_degraded).await?,
            weft_bus::Worker::Task(name, run) => {
                tracing::debug!(worker = name, "started");
                tokio::spawn(run);
            }
        }
    }
    Ok(())
}

/// Retires the gateway's kept answers whenever a service says they are stale; and when
/// notices were missed (this process fell behind), since any of them may have been one.
async fn follow_purges(
    mut notices: tokio::sync::broadcast::Receiver<weft_bus::live::Notice>,
    kept: Arc<weft_gateway::cache::AnswerCache>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match notices.recv().await {
            Ok(notice) if notice.topic == weft_bus::live::PURGE => kept.purge(),
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => kept.purge(),
            Err(RecvError::Closed) => return,
        }
    }
}

/// Subscribes `handler`. When the broker is down and starting degraded is allowed, keeps
/// trying in the background instead, so the consumer joins once the broker is back.
async fn subscribe(
    bus: &Bus,
    handler: Arc<dyn weft_bus::EventHandler>,
    start_degraded: bool,
) -> anyhow::Result<()> {
    let consumer = handler.consumer();
    match bus.subscribe(Arc::clone(&handler)).await {
        Ok(()) => Ok(()),
        Err(err) if start_degraded => {
            tracing::warn!(error = %err, consumer, "cannot subscribe yet; retrying in the background");
            let bus = bus.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    if bus.subscribe(Arc::clone(&handler)).await.is_ok() {
                        tracing::info!(consumer, "subscribed");
                        return;
                    }
                }
            });
            Ok(())
        }
        Err(err) => {
            Err(anyhow::Error::new(err)
                .context(format!("cannot subscribe `{consumer}` to its events")))
        }
    }
}

/// Seeds and stocks the demo catalog, then waits until the catalog has heard every
/// variant's stock status: "demo catalog ready" means a storefront can browse it and
/// filter it by `in_stock`. One progress bar on a terminal (indicatif draws nothing
/// elsewhere), one summary line in the log.
async fn prepare_demo(
    catalog: &weft_catalog::CatalogService,
    inventory: Option<&weft_inventory::InventoryService>,
    db: &Db,
    count: usize,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Drawn from the first product on, once its length is known.
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:<18} {wide_bar} {pos}/{len} [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("demo products");
    let added = weft_catalog::demo::seed(catalog, db, count, &|done, total| {
        if bar.is_hidden() && done == 1 {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.set_length(total);
        bar.set_position(done);
    })
    .await
    .context("seeding the demo catalog")?;
    // The tables grew from nothing: plan the shop's queries on their real sizes.
    db.optimize().await?;
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        added,
        seconds = started.elapsed().as_secs_f32(),
        per_second = (added as u64).saturating_mul(1000) / millis.max(1),
        "demo products written"
    );
    // In a cluster whose catalog process hosts no inventory, stock is the inventory
    // process's to give; the catalog is ready as soon as its products are.
    if let Some(inventory) = inventory {
        stock_demo(catalog, inventory)
            .await
            .context("stocking the demo catalog")?;
        bar.set_message("stock to listings");
        let mut waited = Duration::ZERO;
        let mut warned = false;
        loop {
            let census = catalog.census().await?;
            bar.set_length(census.variants);
            bar.set_position(census.variants_with_stock);
            if census.variants_with_stock >= census.variants {
                break;
            }
            if waited >= Duration::from_mins(5) && !warned {
                warned = true;
                tracing::warn!(
                    variants = census.variants,
                    with_stock = census.variants_with_stock,
                    "the demo's stock is still reaching the catalog; is the event relay running?"
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            waited += Duration::from_millis(250);
        }
    }
    bar.finish_and_clear();
    db.optimize().await?;
    let census = catalog.census().await?;
    tracing::info!(
        products = census.products,
        variants = census.variants,
        added,
        seconds = started.elapsed().as_secs_f32(),
        "demo catalog ready"
    );
    Ok(())
}

/// Gives every demo variant a stock level at the default location, once: 0–39 units,
/// derived from the variant id so every start agrees, about one variant in twelve sold
/// out; low stock at 3. A page of variants at a time, so memory does not grow with the
/// catalog.
async fn stock_demo(
    catalog: &weft_catalog::CatalogService,
    inventory: &weft_inventory::InventoryService,
) -> anyhow::Result<()> {
    const PAGE: i64 = 5_000;
    let mut after: Option<String> = None;
    let mut stocked = 0;
    loop {
        let ids = catalog.variant_ids_after(after.as_deref(), PAGE).await?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        let counts: Vec<(String, i64)> = ids
            .into_iter()
            .map(|id| {
                // FNV-1a over the id: stable and spread out.
                let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
                let on_hand = if hash % 12 == 0 {
                    0
                } else {
                    i64::try_from(hash % 40).unwrap_or_default()
                };
                (id, on_hand)
            })
            .collect();
        stocked += inventory.stock_new_variants(&counts, 3).await?;
        after = Some(last);
    }
    // "demo catalog ready" follows with the totals.
    tracing::debug!(variants = stocked, "demo catalog stocked");
    Ok(())
}

/// The social sign-in providers that have a client id.
fn social_providers(social: &weft_config::SocialSettings) -> Providers {
    let overrides = |p: &weft_config::ProviderSettings| ProviderOverrides {
        auth_url: p.auth_url.clone(),
        token_url: p.token_url.clone(),
        userinfo_url: p.userinfo_url.clone(),
        scopes: p.scopes.clone(),
    };
    let mut providers = std::collections::HashMap::new();
    if let Some(p) = social.google.as_ref().filter(|p| !p.client_id.is_empty()) {
        let config = ProviderConfig::google(
            p.client_id.clone(),
            p.client_secret.clone(),
            p.redirect_url.clone(),
            overrides(p),
        );
        providers.insert("google".to_owned(), config);
    }
    if let Some(p) = social.facebook.as_ref().filter(|p| !p.client_id.is_empty()) {
        let config = ProviderConfig::facebook(
            p.client_id.clone(),
            p.client_secret.clone(),
            p.redirect_url.clone(),
            overrides(p),
        );
        providers.insert("facebook".to_owned(), config);
    }
    Providers::new(providers)
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
        let cache = open_cache(&settings).await?;
        let bus = open_bus(&settings, &db).await?;
        if settings.service.is_none() {
            let applied = weft_storage::migrate::run(&db, &services::migrations(&hosted)).await?;
            tracing::info!(
                applied,
                backend = db.backend().as_str(),
                "database migrated"
            );
        }
        // Statistics for the planner, should this database have none (or stale ones).
        db.optimize().await?;
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
            cache: cache.backend().to_owned(),
            events: bus.transport().name().to_owned(),
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
        let mut state = SystemState {
            meta,
            db: db.clone(),
            cache: cache.clone(),
            bus: bus.clone(),
            search: None,
            search_backend: if settings.elasticsearch_url.is_some() {
                "elasticsearch"
            } else {
                "tantivy"
            },
        };
        let identity = identity_service(&settings, &db, &bus, &cache).await?;
        // Live notices (carts changed, answers to purge) reach every process through it.
        let fanout = live_fanout(&settings).await;
        // Each hosted service's background work, started once every service is built.
        let mut workers: Vec<(&'static weft_http::ServiceInfo, Vec<weft_bus::Worker>)> = Vec::new();
        let mut catalog = catalog_service(&settings, &db, &bus, &cache);
        if hosts(&hosted, &weft_catalog::SERVICE) {
            catalog = catalog.with_purges(Arc::clone(&fanout));
            let replicas = settings.replica_urls();
            if !replicas.is_empty() {
                let max_lag = Duration::from_millis(settings.database_replica_max_lag_ms);
                let reads = weft_storage::replicas::ReadDb::with_replicas(
                    db.clone(),
                    &replicas,
                    settings.database_pool_size,
                    max_lag,
                )?;
                tracing::info!(
                    replicas = replicas.len(),
                    "guests' catalog reads may use replicas"
                );
                catalog = catalog.with_reads(reads, max_lag);
            }
            // Set once search is open: a replica's own index has consumers of its own.
            let mut scope = weft_catalog::events::IndexScope::Shared;
            let mut fresh_index = false;
            match open_search(&settings).await {
                Ok((index, fresh)) => {
                    catalog = catalog.with_search(index);
                    scope = index_scope(&settings)?;
                    fresh_index = fresh;
                }
                Err(err) if settings.start_degraded => {
                    tracing::warn!(error = format!("{err:#}"), "starting without search");
                }
                Err(err) => return Err(err),
            }
            state.search = Some(catalog.search_index().ok().cloned());
            workers.push((&weft_catalog::SERVICE, catalog.workers(scope, fresh_index)));
        }

        let inventory = inventory_service(&settings, &db, &bus);
        workers.push((
            &weft_inventory::SERVICE,
            inventory.workers(Duration::from_secs(
                settings.inventory.sweep_interval_seconds.max(1),
            )),
        ));

        let mut cart = cart_service(&settings, &db, &catalog, &inventory, &hosted)?
            .with_live(Arc::clone(&fanout));
        if settings.cart.hot_copy {
            cart = cart.with_hot_copy(cache.clone());
        }
        workers.push((
            &weft_cart::SERVICE,
            cart.workers(Duration::from_secs(
                settings.cart.sweep_interval_seconds.max(1),
            )),
        ));

        let clock = weft_kernel::Clock::system();
        let payments = weft_payments::PaymentService::new(
            db.clone(),
            clock.clone(),
            payment_providers(&settings, &db, &clock)?,
        );
        let order_payments: Arc<dyn weft_orders::ports::Payments> = match peer(
            &settings,
            &hosted,
            "orders",
            "payments",
            settings.peers.payments.as_deref(),
        )? {
            Some(peer) => Arc::new(weft_orders::ports::PaymentsClient(Arc::new(
                weft_payments::client::Remote(peer),
            ))),
            None => Arc::new(weft_orders::ports::PaymentsClient(Arc::new(
                weft_payments::client::Local(payments.clone()),
            ))),
        };
        let orders = weft_orders::OrderService::new(db.clone(), clock.clone())
            .with_payments(order_payments)
            .with_bus(bus.clone())
            .with_seller(weft_orders::invoice::Seller {
                name: settings.orders.seller_name.clone(),
                address: settings.orders.seller_address.clone(),
                tax_id: settings.orders.seller_tax_id.clone(),
            });
        workers.push((
            &weft_orders::SERVICE,
            orders.workers(Duration::from_secs(
                settings.orders.settle_interval_seconds.max(1),
            )),
        ));
        let checkout = weft_checkout::CheckoutService::new(
            db.clone(),
            checkout_ports(&settings, &hosted, &cart, &inventory, &payments, &orders)?,
            clock,
            &weft_checkout::saga::SagaSettings {
                lease: Duration::from_secs(settings.checkout.saga_lease_seconds.max(1)),
                pause_before: settings.checkout.pause_before_step.clone(),
                abandon_after: (settings.checkout.abandon_after_seconds > 0)
                    .then(|| Duration::from_secs(settings.checkout.abandon_after_seconds)),
            },
        );
        workers.push((
            &weft_checkout::SERVICE,
            checkout.workers(Duration::from_secs(
                settings.checkout.recovery_interval_seconds.max(1),
            )),
        ));
        let reviews = reviews_service(&settings, &db, &bus, &catalog, &hosted).await?;
        workers.push((&weft_reviews::SERVICE, reviews.workers()));
        let webhooks = webhooks_service(&settings, &db, &bus)?;
        workers.push((&weft_webhooks::SERVICE, webhooks.workers()));
        let mut notifications = notifications_service(&settings, &db)?;
        if let Some(invoices) = invoices_for_notifications(&settings, &hosted, &orders)? {
            notifications = notifications.with_invoices(invoices);
        }
        workers.push((&weft_notifications::SERVICE, notifications.workers()));
        for (service, work) in workers {
            if hosts(&hosted, service) {
                start_workers(&bus, work, settings.start_degraded).await?;
            }
        }
        // The served document and the reference page carry the contract (with its
        // nullable marks), not poem-openapi's raw rendering.
        let public = public_service();
        let raw_spec = public.spec();
        let contract = crate::openapi::contract(&raw_spec);
        let docs_html = public.swagger_ui_html().replace(&raw_spec, &contract);
        let spec = poem::endpoint::make_sync(move |_| {
            poem::Response::builder()
                .content_type("application/json")
                .body(contract.clone())
        });
        let docs = Route::new().at(
            "/",
            poem::endpoint::make_sync(move |_| poem::web::Html(docs_html.clone())),
        );
        let upstreams = services::upstreams(&settings.gateway)?;
        let g = &settings.gateway;
        let gateway = Gateway::new(
            &upstreams,
            weft_gateway::Policy {
                timeout: Duration::from_secs(g.timeout_seconds.max(1)),
                breaker_failures: g.breaker_failures.max(1),
                open_for: Duration::from_secs(g.breaker_open_seconds.max(1)),
            },
        )?;
        if !gateway.is_empty() {
            tracing::info!(upstreams = upstreams.len(), "gateway routes configured");
        }
        // Kept answers are purged through the broker: a gateway of a cluster without one
        // would keep them stale for as long as they live.
        let hears_purges = settings.amqp_url.is_some() || settings.service.is_none();
        if !gateway.is_empty() && g.cache_seconds > 0 && !hears_purges {
            tracing::warn!("gateway cache off: without amqp_url this process hears no purges");
        }
        let gateway = if !gateway.is_empty() && g.cache_seconds > 0 && hears_purges {
            let kept = Arc::new(weft_gateway::cache::AnswerCache::new(
                Duration::from_secs(g.cache_seconds),
                g.cache_max_bytes,
            ));
            tokio::spawn(follow_purges(fanout.subscribe(), Arc::clone(&kept)));
            gateway.with_cache(kept)
        } else {
            gateway
        };
        let schema = graphql::schema(
            Some(graphql::Services {
                hosted: hosted.iter().map(|s| s.name).collect(),
                system: state.clone(),
                identity: identity.clone(),
                catalog: catalog.clone(),
                inventory: inventory.clone(),
                cart: cart.clone(),
                checkout: checkout.clone(),
                orders: orders.clone(),
                reviews: reviews.clone(),
                webhooks: webhooks.clone(),
                product_reviews: product_reviews(&settings, &hosted, &reviews)?,
            }),
            settings.graphql.max_complexity,
        );
        let g = &settings.graphql;
        let schema = graphql::GuardedSchema::new(
            schema,
            graphql::QueryLimits {
                max_query_bytes: g.max_query_bytes,
                max_depth: g.max_depth,
                max_selections: g.max_selections,
                timeout: Duration::from_secs(g.timeout_seconds),
            },
        );
        let system = Arc::new(weft_http::rest_endpoint(SystemApi));
        let mut own = Route::new()
            .nest_no_strip("/v1/meta", Arc::clone(&system))
            .nest_no_strip("/health", system)
            .at("/v1/openapi.json", spec)
            .nest("/docs", docs)
            .at("/metrics", get(prometheus_metrics));
        // A process hosting some services answers their fields and reaches the others'
        // through the gateway's routes (a cluster's front door has routes to them all).
        own = if hosted.len() == services::ALL.len() {
            own.nest("/graphql", graphql::endpoint(schema))
        } else {
            let federation = graphql::Federation::new(&hosted, gateway.clone());
            own.nest("/graphql", graphql::federated_endpoint(schema, federation))
        };
        let routes = services::Mounted::new(&hosted, own)
            .data(state)
            .data(identity.clone())
            .data(catalog.clone())
            .data(inventory.clone())
            .data(cart)
            .data(checkout)
            .data(orders)
            .data(payments)
            .data(reviews)
            .data(webhooks)
            .data(notifications);
        let inventory_for_demo = inventory;

        let idempotency = Idempotency::new(db.clone());
        let stack = HttpStack {
            body_limit_bytes: settings.body_limit_bytes,
            large_bodies: vec![(
                "/v1/admin/products/import",
                settings.import_body_limit_bytes,
            )],
            rate_limits: RateLimits::new(
                cache.clone(),
                Budgets {
                    per_ip: settings.rate_limit_per_minute,
                    per_user: settings.rate_limit_per_user_per_minute,
                    per_app: settings.rate_limit_per_app_per_minute,
                },
            ),
            trust_forwarded_for: settings.trust_forwarded_for,
            cors_origins: settings.effective_cors_origins(),
            idempotency: Some(idempotency.clone()),
            authenticator: Some(authenticator(&settings, &hosted, identity, &cache)?),
            front_door: !gateway.is_empty(),
            serves: (hosted.len() < services::ALL.len()).then(|| {
                let (hosted, gateway) = (hosted.clone(), gateway.clone());
                Arc::new(move |path: &str| {
                    services::serves(&hosted, path) || gateway.forwards(path)
                }) as weft_http::stack::Serves
            }),
            refuse_bad_credentials: !gateway.is_empty()
                && identity_peer(&settings, &hosted).is_some(),
            forwards: (!gateway.is_empty()).then(|| {
                let gateway = gateway.clone();
                Arc::new(move |path: &str| gateway.forwards(path)) as weft_http::stack::Serves
            }),
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
            cache,
            bus,
            idempotency,
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
            demo_catalog: (settings.demo && hosts(&hosted, &weft_catalog::SERVICE)).then(|| {
                let demo_stock =
                    hosts(&hosted, &weft_inventory::SERVICE).then(|| inventory_for_demo.clone());
                (catalog, demo_stock)
            }),
            demo_products: settings.demo_products as usize,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Wraps everything this process serves, the HTTP stack included: the testkit checks
    /// every answer against the served contract this way.
    #[must_use]
    pub fn map_endpoint(
        mut self,
        wrap: impl FnOnce(
            poem::endpoint::BoxEndpoint<'static, poem::Response>,
        ) -> poem::endpoint::BoxEndpoint<'static, poem::Response>,
    ) -> Self {
        self.app = wrap(self.app);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish for the grace
    /// period. The signals are watched on a thread of their own, so they are heard even
    /// when every runtime thread is busy, and a second after the grace period that thread
    /// ends the process, whatever still runs.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let signal = shutdown_signal(self.shutdown_grace);
        self.run_until(signal).await
    }

    /// Serves until `signal` completes, then drains in-flight requests for up to the
    /// configured grace period.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let relay = self.bus.spawn_relay();
        let upkeep = tokio::spawn(upkeep(
            self.cache.clone(),
            self.idempotency.clone(),
            self.db.clone(),
        ));
        // Before the seed starts, so its progress bar is not drawn over this line.
        tracing::info!(port = self.port, "weft is serving");
        let count = self.demo_products;
        let seeding = self.demo_catalog.map(|(catalog, inventory)| {
            let db = self.db.clone();
            tokio::spawn(async move {
                if let Err(err) = prepare_demo(&catalog, inventory.as_ref(), &db, count).await {
                    tracing::error!(
                        error = format!("{err:#}"),
                        "could not prepare the demo catalog"
                    );
                }
            })
        });
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.app, signal, Some(self.shutdown_grace))
            .await;
        // In-flight requests are done; events they committed stay in the outbox for the
        // next start if the relay has not published them yet.
        relay.abort();
        upkeep.abort();
        if let Some(seeding) = seeding {
            // An unfinished seed resumes at the next start.
            seeding.abort();
        }
        tracing::info!("weft stopped");
        result
    }
}

/// Background upkeep: rate-limit state every minute; every ten minutes, expired
/// idempotency records, events published over a week ago and inbox rows over a month old.
async fn upkeep(cache: Cache, idempotency: Idempotency, db: Db) {
    let mut minute = tokio::time::interval(Duration::from_mins(1));
    let mut tick: u64 = 0;
    loop {
        minute.tick().await;
        cache.store().housekeeping();
        tick += 1;
        if tick % 10 != 1 {
            continue;
        }
        if let Err(err) = db.optimize().await {
            tracing::warn!(error = %err, "refreshing the query planner's statistics failed");
        }
        match idempotency.sweep().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired idempotency records removed"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "idempotency sweep failed"),
        }
        let now = chrono::Utc::now();
        let week_ago = (now - chrono::Duration::days(7)).naive_utc();
        if let Err(err) = weft_storage::events::delete_published_before(&db, week_ago).await {
            tracing::warn!(error = %err, "outbox cleanup failed");
        }
        // Redeliveries come within minutes; a month of inbox is ample to deduplicate them.
        let month_ago = (now - chrono::Duration::days(30)).naive_utc();
        if let Err(err) = weft_storage::events::delete_inbox_before(&db, month_ago).await {
            tracing::warn!(error = %err, "inbox cleanup failed");
        }
    }
}

/// The Prometheus text format, with its one `Content-Type` (a `String` answer would
/// bring a second, plain one).
#[handler]
fn prometheus_metrics() -> poem::Response {
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(weft_telemetry::prometheus().render())
}

/// Completes at SIGTERM or SIGINT, heard by a thread outside the runtime (see
/// [`watch_signals`]); in the runtime itself if that thread cannot start.
fn shutdown_signal(grace: Duration) -> impl std::future::Future<Output = ()> + Send {
    let (heard, signalled) = tokio::sync::oneshot::channel();
    let watcher = std::thread::Builder::new()
        .name("weft-shutdown".to_owned())
        .spawn(move || watch_signals(heard, grace));
    async move {
        let outside = match watcher {
            Ok(_) => signalled.await.is_ok(),
            Err(err) => {
                tracing::warn!(error = %err, "cannot start the shutdown watcher thread");
                false
            }
        };
        if !outside {
            signal_received().await;
        }
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}

/// Waits for SIGTERM or SIGINT on a small runtime of its own: the server's runtime may
/// have every thread busy (a request burning CPU), and then it neither hears the signal
/// nor finishes draining. So this thread tells the server to drain and, if the process
/// is still alive a second after the grace period, exits it.
fn watch_signals(heard: tokio::sync::oneshot::Sender<()>, grace: Duration) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        // Dropping `heard` makes the server listen for the signals itself.
        Err(err) => {
            tracing::warn!(error = %err, "cannot start the shutdown watcher's runtime");
            return;
        }
    };
    runtime.block_on(signal_received());
    let _ = heard.send(());
    std::thread::sleep(grace + Duration::from_secs(1));
    tracing::error!(
        grace_seconds = grace.as_secs(),
        "shutdown grace period over with requests still running; exiting now"
    );
    std::process::exit(1);
}

async fn signal_received() {
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
}
