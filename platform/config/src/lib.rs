//! Weft's one typed [`Settings`], layered as compiled defaults → `weft.toml` (or the file
//! named by `--config` / `WEFT_CONFIG`) → `WEFT_*` environment → command-line flags, and
//! validated before anything binds. The defaults alone run the embedded profile: SQLite
//! under `./data`, in-process everything, listening on 127.0.0.1:8000.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting of a `weft` process. Keys are the TOML keys; the environment variable is
/// `WEFT_` + the upper-cased key, with `__` between nested keys
/// (`WEFT_GATEWAY__UPSTREAMS__CATALOG=http://catalog:8002`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Where the embedded profile keeps its SQLite file, search index and keys.
    pub data_dir: PathBuf,
    /// Seed the demo catalog on first start.
    pub demo: bool,
    /// How many products the demo catalog has (the same 17 categories, scaled): 1,088 by
    /// default; benchmarks of big catalogs seed 10,000 or 100,000.
    pub demo_products: u32,
    /// Run only this service (cluster topology); all services when unset.
    pub service: Option<String>,
    /// `postgres://…` for PostgreSQL; unset means SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// Connections per process in the database pool (SQLite: readers; writes take one
    /// more connection of their own).
    pub database_pool_size: u32,
    /// PostgreSQL streaming replicas (`postgres://…`, separated by commas) that reads
    /// which may trail a write use (guests' catalog pages); empty: the primary only.
    pub database_replica_urls: String,
    /// A replica trailing the primary by more than this many milliseconds is skipped.
    pub database_replica_max_lag_ms: u64,
    /// `redis://…` for the shared cache and rate limits; unset means in-process.
    pub redis_url: Option<String>,
    /// `amqp://…` for events between processes; unset means in-process delivery.
    pub amqp_url: Option<String>,
    /// `http://…:9200` to search with Elasticsearch (index `<namespace>-products`); unset
    /// means a tantivy index under `<data_dir>/search`.
    pub elasticsearch_url: Option<String>,
    /// Start even when Redis or RabbitMQ cannot be reached (reported as degraded).
    pub start_degraded: bool,
    /// Prefix of Redis keys and RabbitMQ exchange/queue names, so installations can share them.
    pub namespace: String,
    /// Requests per minute per client IP; 0 turns the per-IP limit off.
    pub rate_limit_per_minute: u32,
    /// Requests per minute per signed-in user; 0 turns it off.
    pub rate_limit_per_user_per_minute: u32,
    /// Requests per minute per third-party app (OAuth client or API key); 0 turns it off.
    pub rate_limit_per_app_per_minute: u32,
    /// Use the first `X-Forwarded-For` address as the client IP (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Origins allowed by CORS, e.g. `["https://shop.example.com"]`; empty disables CORS.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Largest accepted product import file (`POST /v1/admin/products/import`), in bytes.
    pub import_body_limit_bytes: usize,
    /// `auto` (default: `pretty` on a terminal, `json` otherwise), `json` or `pretty`.
    pub log_format: LogFormat,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace_seconds: u64,
    /// Directory of the token signing keys (`*.ed25519`) and field-encryption keys
    /// (`*.aes256`); default `<data_dir>/keys`. In a cluster, mount one Kubernetes Secret
    /// here in every process so they all sign, verify and decrypt alike.
    pub keys_dir: Option<PathBuf>,
    pub graphql: GraphqlSettings,
    pub gateway: GatewaySettings,
    pub cache: CacheSettings,
    pub inventory: InventorySettings,
    pub checkout: CheckoutSettings,
    pub orders: OrdersSettings,
    pub reviews: ReviewsSettings,
    pub webhooks: WebhooksSettings,
    pub notifications: NotificationsSettings,
    pub cart: CartSettings,
    pub tax: TaxSettings,
    /// Shipping methods offered to carts and checkouts.
    pub shipping: ShippingSettings,
    /// Social sign-in providers; a provider is on when it has a `client_id`.
    pub social: SocialSettings,
    /// Where a service process of a cluster reaches the services it does not host.
    pub peers: PeerSettings,
    /// Payment gateways besides the built-in `test` one (Stripe, when its key is set).
    pub payments: PaymentSettings,
}

/// A secret setting (an API key, a signing secret). `Debug` prints `[REDACTED]`, so
/// logging `Settings` never shows it; [`Secret::expose`] is the one way to read it.
/// It serializes as its plain value, which the layering needs, so never print a
/// serialized `Settings`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: hand it to what needs it, never to a log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Payment gateways. The built-in `test` gateway is always on; Stripe is on when
/// `stripe_secret_key` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    /// Stripe's secret (`sk_…`) or restricted (`rk_…`) API key; unset: no `stripe` provider.
    pub stripe_secret_key: Option<Secret>,
    /// The signing secret (`whsec_…`) of the Stripe webhook endpoint pointed at
    /// `/v1/webhooks/stripe`; unset: every Stripe webhook is refused.
    pub stripe_webhook_secret: Option<Secret>,
    /// Base URL of Stripe's API (tests point it at a local server).
    pub stripe_api_base: String,
    /// Oldest a webhook's signed timestamp may be (either way), in seconds.
    pub webhook_tolerance_seconds: u64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_api_base: "https://api.stripe.com".to_owned(),
            webhook_tolerance_seconds: 300,
        }
    }
}

/// The other services of a cluster, as one service process calls them (a cart process
/// pricing its lines asks the catalog and inventory; a checkout process completing a
/// purchase asks carts, inventory, payments and orders; an orders process giving money
/// back asks payments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerSettings {
    /// Base URL of the catalog (`http://catalog:8002`).
    pub catalog: Option<String>,
    /// Base URL of inventory.
    pub inventory: Option<String>,
    /// Base URL of carts.
    pub cart: Option<String>,
    /// Base URL of payments.
    pub payments: Option<String>,
    /// Base URL of orders.
    pub orders: Option<String>,
    /// Base URL of reviews (a catalog process shows products' reviews through it).
    pub reviews: Option<String>,
    /// Base URL of identity. A process that does not host identity and has this set
    /// verifies access tokens with identity's published keys (JWKS) and asks identity
    /// about API keys and apps, instead of reading a shared `keys_dir` and identity's
    /// tables.
    pub identity: Option<String>,
    /// An API key with the scopes the calls need, sent as `X-Api-Key`: `catalog:read`
    /// for a cart process, `internal` for checkout's and orders' calls.
    pub api_key: Option<Secret>,
    /// Seconds before a call is given up on.
    pub timeout_seconds: u64,
}

impl Default for PeerSettings {
    fn default() -> Self {
        Self {
            catalog: None,
            inventory: None,
            cart: None,
            payments: None,
            orders: None,
            reviews: None,
            identity: None,
            api_key: None,
            timeout_seconds: 5,
        }
    }
}

/// Sign-in with Google and Facebook (OAuth 2.0 authorization code with PKCE).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocialSettings {
    pub google: Option<ProviderSettings>,
    pub facebook: Option<ProviderSettings>,
}

/// One provider. The endpoints default to the provider's real ones; set them to point at
/// another OpenID Connect provider (tests use a local one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends the browser back: `https://<shop>/v1/auth/oauth/<provider>/callback`.
    pub redirect_url: String,
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub scopes: Option<Vec<String>>,
}

/// How long each kind of cached value lives, and how much the in-process cache holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// Product details, categories, collections and recommendations.
    pub product_ttl_seconds: u64,
    /// Product listings.
    pub listing_ttl_seconds: u64,
    /// Search answers (`/v1/search/products`, GraphQL `search`).
    pub search_ttl_seconds: u64,
    /// Whole answers to guests' catalog reads, kept as the bytes that went out.
    pub api_response_ttl_seconds: u64,
    /// Bytes the in-process cache keeps (keys and values) before evicting the least
    /// recently used. 32 MiB holds about a thousand pages of 20 products: the pages a
    /// shop's visitors share; a long tail of distinct queries is not worth the memory.
    pub max_bytes: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            product_ttl_seconds: 3600,
            listing_ttl_seconds: 1800,
            search_ttl_seconds: 1800,
            api_response_ttl_seconds: 300,
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines when standard output is a terminal, JSON lines otherwise
    /// (a log collector, a file, a pipe).
    Auto,
    Json,
    Pretty,
}

/// Carts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartSettings {
    /// Most units of one variant in a cart.
    pub max_quantity: i64,
    /// Days a cart lives after its last change.
    pub ttl_days: u64,
    /// How often expired carts are deleted.
    pub sweep_interval_seconds: u64,
    /// Currency of a cart made without one.
    pub default_currency: String,
    /// Keep hot copies of carts' rows in the cache (in-process, or Redis when
    /// `redis_url` is set), so a cart read skips the database.
    pub hot_copy: bool,
    /// A signed-in customer's cart with lines and no change for this long is abandoned
    /// (`cart.abandoned`, a reminder to those who allow marketing); 0: never.
    pub abandoned_after_seconds: u64,
}

impl Default for CartSettings {
    fn default() -> Self {
        Self {
            max_quantity: 99,
            ttl_days: 7,
            sweep_interval_seconds: 300,
            default_currency: "USD".to_owned(),
            hot_copy: true,
            abandoned_after_seconds: 4 * 3600,
        }
    }
}

/// The shipping methods a shop offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShippingSettings {
    pub methods: Vec<ShippingMethodSettings>,
}

/// One shipping method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingMethodSettings {
    /// Stable id clients choose it by (`standard`).
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2 codes it ships to; empty: everywhere.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Price per currency in minor units; a cart in another currency cannot use it.
    pub prices: BTreeMap<String, i64>,
    /// Free when the cart's goods (after discounts) reach this, per currency.
    #[serde(default)]
    pub free_over: BTreeMap<String, i64>,
    /// Shown to the customer, e.g. `3–5 business days`.
    #[serde(default)]
    pub delivery_estimate: String,
}

impl Default for ShippingSettings {
    fn default() -> Self {
        let money = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
            pairs.iter().map(|(c, a)| ((*c).to_owned(), *a)).collect()
        };
        Self {
            methods: vec![
                ShippingMethodSettings {
                    id: "standard".to_owned(),
                    name: "Standard".to_owned(),
                    countries: Vec::new(),
                    prices: money(&[("USD", 500), ("EUR", 500), ("GBP", 450)]),
                    free_over: money(&[("USD", 7500), ("EUR", 7500), ("GBP", 6500)]),
                    delivery_estimate: "3–5 business days".to_owned(),
                },
                ShippingMethodSettings {
                    id: "express".to_owned(),
                    name: "Express".to_owned(),
                    countries: vec!["US".to_owned()],
                    prices: money(&[("USD", 1500)]),
                    free_over: BTreeMap::new(),
                    delivery_estimate: "1–2 business days".to_owned(),
                },
            ],
        }
    }
}

/// Tax: rates by destination, and the currencies whose prices include it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaxSettings {
    /// `"US-CA" = 725` (basis points: 7.25%) or `"DE" = 1900`; a region's rate wins over
    /// its country's. Empty: no tax anywhere.
    pub rates: BTreeMap<String, u32>,
    /// Currencies whose catalog prices already include tax (as EU and UK law asks).
    pub inclusive_currencies: Vec<String>,
}

impl Default for TaxSettings {
    fn default() -> Self {
        Self {
            rates: BTreeMap::new(),
            inclusive_currencies: vec!["EUR".to_owned(), "GBP".to_owned()],
        }
    }
}

/// Stock reservations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InventorySettings {
    /// How long a checkout holds stock before it goes back on sale.
    pub reservation_ttl_seconds: u64,
    /// How often expired reservations are looked for.
    pub sweep_interval_seconds: u64,
}

impl Default for InventorySettings {
    fn default() -> Self {
        Self {
            reservation_ttl_seconds: 900,
            sweep_interval_seconds: 15,
        }
    }
}

/// Completing checkouts (the saga).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckoutSettings {
    /// How long a process's claim on a completion lasts without progress: a completion
    /// whose process died is taken over (resumed or compensated) once it lapses.
    pub saga_lease_seconds: u64,
    /// How often completions left behind by a dead process are looked for.
    pub recovery_interval_seconds: u64,
    /// Test hook: completions wait forever before this step (to kill the process there).
    /// Never set it in production.
    pub pause_before_step: Option<String>,
    /// A completion left waiting for the customer (3-D Secure) this long is undone: its
    /// stock released, its payment voided, promotion uses given back. 0 waits forever.
    pub abandon_after_seconds: u64,
}

impl Default for CheckoutSettings {
    fn default() -> Self {
        Self {
            saga_lease_seconds: 30,
            recovery_interval_seconds: 15,
            pause_before_step: None,
            abandon_after_seconds: 30 * 60,
        }
    }
}

/// Reviews: who may write them, which go live without a moderator, where they are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewsSettings {
    /// Publish verified-purchase reviews without links or blocked words at once; `false`
    /// sends every review to the moderation queue.
    pub auto_publish: bool,
    /// Words (comma-separated, matched whole in any case) that send a review to the queue.
    pub blocked_words: String,
    /// Let customers review products they did not buy (marked unverified, always
    /// moderated); otherwise such a review is refused with 403 `purchase_required`.
    pub allow_unverified: bool,
    /// Reports by different shoppers that send a published review back to the queue.
    pub report_threshold: i64,
    /// Keep reviews in MongoDB (`mongodb://…`) instead of the relational database.
    pub mongodb_url: Option<Secret>,
    /// The MongoDB database of the reviews (with `mongodb_url`).
    pub mongodb_database: String,
}

impl Default for ReviewsSettings {
    fn default() -> Self {
        Self {
            auto_publish: true,
            blocked_words: String::new(),
            allow_unverified: false,
            report_threshold: 3,
            mongodb_url: None,
            mongodb_database: "weft".to_owned(),
        }
    }
}

impl ReviewsSettings {
    /// The blocked words, trimmed, without empty ones.
    pub fn blocked_words(&self) -> Vec<String> {
        self.blocked_words
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Outbound webhooks: where deliveries may go, how long a receiver gets, how failures
/// are retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksSettings {
    /// Deliver to loopback, private and link-local addresses too (development and tests;
    /// otherwise refused after DNS resolution, against SSRF).
    pub allow_private_targets: bool,
    /// Only `https://` targets; `false` lets plain `http://` through (development).
    pub require_https: bool,
    /// A receiver that has not answered by then has failed the attempt.
    pub timeout_seconds: u64,
    /// The wait after the first failed attempt; it doubles (with jitter) after each.
    pub first_retry_seconds: u64,
    /// The longest wait between two attempts.
    pub max_retry_interval_seconds: u64,
    /// How long a delivery is retried before it fails for good and its endpoint is
    /// disabled (3 days).
    pub retry_window_seconds: u64,
    /// Finished deliveries leave the log after this many days.
    pub retention_days: u64,
    /// Deliveries one process sends at once.
    pub concurrency: usize,
}

impl Default for WebhooksSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            require_https: true,
            timeout_seconds: 5,
            first_retry_seconds: 60,
            max_retry_interval_seconds: 6 * 3600,
            retry_window_seconds: 3 * 86_400,
            retention_days: 30,
            concurrency: 16,
        }
    }
}

/// Where notification e-mail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransportKind {
    /// One `.eml` file per message under `mail_dir` (the zero-setup default: nothing
    /// leaves the machine).
    File,
    /// An SMTP server (`smtp_*`).
    Smtp,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// STARTTLS, which the server must offer (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain text: a relay on the same host or a test server only.
    None,
}

/// Notifications: where e-mail goes, what it says about the shop, who the staff are,
/// how a failing provider is retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsSettings {
    pub email_transport: EmailTransportKind,
    /// Where `file` transport writes; default `<data_dir>/mail`.
    pub mail_dir: Option<PathBuf>,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// The sender of every message, `Name <address>`.
    pub from: String,
    pub reply_to: Option<String>,
    /// The shop's name, in every message.
    pub shop_name: String,
    /// Where links in messages lead (its `/account/…` pages).
    pub storefront_url: String,
    /// Where this API is reached from outside: marketing e-mail's one-click unsubscribe
    /// (RFC 8058) POSTs to `<api_url>/v1/notifications/unsubscribe`.
    pub api_url: String,
    /// The merchant area, linked from staff messages.
    pub admin_url: String,
    /// Who gets staff messages: low stock, a disabled webhook endpoint.
    pub staff_emails: Vec<String>,
    /// The locale of customers who chose none (`en` and `fr` are built in).
    pub default_locale: String,
    /// The shop's own templates (`<locale>/<kind>.subject.txt|.txt|.html`), each
    /// replacing the built-in one of the same name.
    pub templates_dir: Option<PathBuf>,
    /// A provider that has not answered by then has failed the attempt.
    pub timeout_seconds: u64,
    /// The wait after the first failed attempt; it doubles (with jitter) after each.
    pub first_retry_seconds: u64,
    /// The longest wait between two attempts.
    pub max_retry_interval_seconds: u64,
    /// Tries before a message is a dead letter.
    pub max_attempts: u32,
    /// Finished messages leave the log after this many days.
    pub retention_days: u64,
    /// Messages one process hands to providers at once.
    pub concurrency: usize,
    /// SMS through Twilio's Messages API: on when the account SID is set (then the token
    /// and `twilio_from` are required).
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<Secret>,
    /// A number of the account (`+1…`) or a Messaging Service SID (`MG…`).
    pub twilio_from: Option<String>,
    pub twilio_api_base: String,
    /// Push through Expo's push service (APNs and FCM behind it).
    pub expo_push: bool,
    /// Needed when the Expo project enforces push security.
    pub expo_access_token: Option<Secret>,
    pub expo_api_base: String,
}

impl NotificationsSettings {
    fn validate(&self, problems: &mut Vec<String>) {
        if self.twilio_account_sid.is_some()
            && (self.twilio_auth_token.is_none() || self.twilio_from.is_none())
        {
            problems.push(
                "notifications.twilio_account_sid: set without twilio_auth_token and twilio_from"
                    .to_owned(),
            );
        }
        for (name, url) in [
            ("api_url", &self.api_url),
            ("storefront_url", &self.storefront_url),
            ("twilio_api_base", &self.twilio_api_base),
            ("expo_api_base", &self.expo_api_base),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                problems.push(format!(
                    "notifications.{name}: `{url}` is not an http(s) URL"
                ));
            }
        }
    }
}

impl Default for NotificationsSettings {
    fn default() -> Self {
        Self {
            email_transport: EmailTransportKind::File,
            mail_dir: None,
            smtp_host: "localhost".to_owned(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            from: "Weft <no-reply@weft.localhost>".to_owned(),
            reply_to: None,
            shop_name: "Weft".to_owned(),
            storefront_url: "http://localhost:3000".to_owned(),
            admin_url: "http://localhost:3000/admin".to_owned(),
            staff_emails: Vec::new(),
            default_locale: "en".to_owned(),
            templates_dir: None,
            timeout_seconds: 10,
            first_retry_seconds: 30,
            max_retry_interval_seconds: 3600,
            max_attempts: 10,
            retention_days: 90,
            concurrency: 8,
            api_url: "http://localhost:8000".to_owned(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_from: None,
            twilio_api_base: "https://api.twilio.com".to_owned(),
            expo_push: false,
            expo_access_token: None,
            expo_api_base: "https://exp.host".to_owned(),
        }
    }
}

/// Orders after the sale: money going back, and who the invoices are from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrdersSettings {
    /// How often payments of cancelled orders and refunds the gateway did not answer
    /// are asked for again.
    pub settle_interval_seconds: u64,
    /// The seller on invoices.
    pub seller_name: String,
    /// The seller's address on invoices, one line each.
    pub seller_address: Vec<String>,
    /// The seller's VAT or tax number on invoices.
    pub seller_tax_id: Option<String>,
}

impl Default for OrdersSettings {
    fn default() -> Self {
        Self {
            settle_interval_seconds: 30,
            seller_name: "Weft Demo Apparel".to_owned(),
            seller_address: vec![
                "1 Loom Street".to_owned(),
                "London EC1A 1AA".to_owned(),
                "United Kingdom".to_owned(),
            ],
            seller_tax_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphqlSettings {
    /// Deepest field nesting of a query; inside `__schema`/`__type`, `ofType` (a type
    /// reference) does not count, so the standard introspection query fits.
    pub max_depth: usize,
    /// async-graphql's complexity: one per field, multiplied where a field says so.
    pub max_complexity: usize,
    /// Longest query text, in bytes.
    pub max_query_bytes: usize,
    /// Most selections of a document, with every fragment spread counted as the
    /// fragment's selections written out.
    pub max_selections: u64,
    /// Seconds a query may run; then 503 `query_timeout`. Mutations run to the end.
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// Service name → base URLs of its replicas, separated by commas: the gateway
    /// forwards every path the service answers to them.
    pub services: BTreeMap<String, String>,
    /// Path prefix (segments under `/v1`, or an absolute path) → base URLs of the
    /// replicas serving it, separated by commas; wins over `services` for its paths.
    pub upstreams: BTreeMap<String, String>,
    /// Seconds before an upstream answer is given up on (504).
    pub timeout_seconds: u64,
    /// Consecutive failures of an upstream that open its circuit breaker.
    pub breaker_failures: u32,
    /// Seconds an open breaker answers 503 before one request probes the upstream; also
    /// how long a replica that refused a connection is skipped.
    pub breaker_open_seconds: u64,
    /// Longest a guest's `GET` answer is kept at the gateway, in seconds (0: none are
    /// kept). Only answers a service marks with `Weft-Gateway-Cache: max-age=…` are
    /// kept, for the shorter of the two, until a purge on the bus retires them.
    pub cache_seconds: u64,
    /// Most bytes of answers the gateway keeps (least recently used go first).
    pub cache_max_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8000,
            data_dir: PathBuf::from("./data"),
            demo: false,
            demo_products: 1088,
            service: None,
            database_url: None,
            database_pool_size: 10,
            database_replica_urls: String::new(),
            database_replica_max_lag_ms: 1000,
            redis_url: None,
            amqp_url: None,
            elasticsearch_url: None,
            start_degraded: false,
            namespace: "weft".to_owned(),
            rate_limit_per_minute: 100,
            rate_limit_per_user_per_minute: 300,
            rate_limit_per_app_per_minute: 600,
            trust_forwarded_for: false,
            cors_origins: Vec::new(),
            body_limit_bytes: 1024 * 1024,
            import_body_limit_bytes: 64 * 1024 * 1024,
            log_format: LogFormat::Auto,
            shutdown_grace_seconds: 30,
            keys_dir: None,
            graphql: GraphqlSettings::default(),
            gateway: GatewaySettings::default(),
            cache: CacheSettings::default(),
            inventory: InventorySettings::default(),
            checkout: CheckoutSettings::default(),
            orders: OrdersSettings::default(),
            reviews: ReviewsSettings::default(),
            webhooks: WebhooksSettings::default(),
            notifications: NotificationsSettings::default(),
            cart: CartSettings::default(),
            tax: TaxSettings::default(),
            shipping: ShippingSettings::default(),
            social: SocialSettings::default(),
            peers: PeerSettings::default(),
            payments: PaymentSettings::default(),
        }
    }
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 1000,
            max_query_bytes: 32 * 1024,
            max_selections: 2000,
            timeout_seconds: 10,
        }
    }
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            services: BTreeMap::new(),
            upstreams: BTreeMap::new(),
            timeout_seconds: 5,
            breaker_failures: 5,
            breaker_open_seconds: 10,
            cache_seconds: 300,
            cache_max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Values given on the command line; `None` means "not given", so lower layers show through.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
}

/// A configuration problem, worded for one line of output that names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// Top-level keys read from the environment; other `WEFT_*` variables (test harness
/// settings, `WEFT_CONFIG`) are not settings and are ignored here.
const ENV_KEYS: &[&str] = &[
    "host",
    "port",
    "data_dir",
    "demo",
    "demo_products",
    "service",
    "database_url",
    "database_pool_size",
    "database_replica_urls",
    "database_replica_max_lag_ms",
    "redis_url",
    "amqp_url",
    "elasticsearch_url",
    "start_degraded",
    "namespace",
    "cache",
    "inventory",
    "checkout",
    "orders",
    "reviews",
    "webhooks",
    "notifications",
    "cart",
    "tax",
    "shipping",
    "rate_limit_per_minute",
    "rate_limit_per_user_per_minute",
    "rate_limit_per_app_per_minute",
    "trust_forwarded_for",
    "cors_origins",
    "body_limit_bytes",
    "import_body_limit_bytes",
    "log_format",
    "shutdown_grace_seconds",
    "keys_dir",
    "graphql",
    "gateway",
    "peers",
    "social",
    "payments",
];

/// What a demo shop lets call it when `cors_origins` is empty: any origin, so the
/// reference storefront works on whatever port it is started. A demo listens on
/// 127.0.0.1 and people sign in with bearer tokens, which browsers never send on their own.
pub const DEMO_CORS_ORIGINS: [&str; 1] = ["*"];

impl Settings {
    /// `database_replica_urls`, one URL each.
    pub fn replica_urls(&self) -> Vec<String> {
        self.database_replica_urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The origins CORS allows: `cors_origins`, or for a `demo` shop that set none, any
    /// (with CORS on, poem refuses an origin it does not allow), so the README's storefront
    /// command works as it is.
    pub fn effective_cors_origins(&self) -> Vec<String> {
        if self.demo && self.cors_origins.is_empty() {
            DEMO_CORS_ORIGINS.map(str::to_owned).to_vec()
        } else {
            self.cors_origins.clone()
        }
    }

    /// Where the key files are: `keys_dir`, or `<data_dir>/keys`.
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }

    /// Layers defaults, the config file, the environment and `overrides`, then validates.
    /// `file` is the explicit `--config`/`WEFT_CONFIG` path (it must exist); without it
    /// `./weft.toml` is read when present.
    pub fn load(
        file: Option<&Path>,
        overrides: &Overrides,
        known_services: &[&str],
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError(format!(
                    "config: file `{}` does not exist",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            // Only the working directory's file: figment's `Toml::file` would also search
            // parent directories, which surprises more than it helps.
            None if Path::new("weft.toml").is_file() => {
                figment = figment.merge(Toml::file_exact("weft.toml"));
            }
            None => {}
        }
        let env = Env::prefixed("WEFT_")
            .filter(|key| {
                let top = key.as_str().split("__").next().unwrap_or_default();
                ENV_KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
            })
            .split("__");
        let settings: Settings = figment
            .merge(env)
            .merge(Serialized::globals(overrides))
            .extract()
            .map_err(|err| ConfigError(describe(&err)))?;
        settings.validate(known_services)?;
        Ok(settings)
    }

    /// Checks what types alone cannot; reports every problem at once.
    pub fn validate(&self, known_services: &[&str]) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if let Some(service) = &self.service
            && !known_services.contains(&service.as_str())
        {
            problems.push(format!(
                "service: `{service}` is not a Weft service (one of: {})",
                known_services.join(", ")
            ));
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            problems.push(
                "database_url: must be a postgres:// URL (leave it unset for SQLite)".to_owned(),
            );
        }
        for url in self.replica_urls() {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                problems.push("database_replica_urls: each must be a postgres:// URL".to_owned());
            }
        }
        if !self.replica_urls().is_empty() && self.database_url.is_none() {
            problems
                .push("database_replica_urls: replicas need a PostgreSQL database_url".to_owned());
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            problems.push("redis_url: must be a redis:// or rediss:// URL".to_owned());
        }
        if let Some(url) = &self.amqp_url
            && !(url.starts_with("amqp://") || url.starts_with("amqps://"))
        {
            problems.push("amqp_url: must be an amqp:// or amqps:// URL".to_owned());
        }
        if self.namespace.is_empty()
            || !self
                .namespace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        {
            problems.push("namespace: letters, digits, `-` and `_` only".to_owned());
        }
        if !(1..=1_000_000).contains(&self.demo_products) {
            problems.push("demo_products: must be 1–1000000".to_owned());
        }
        if self.database_pool_size == 0 {
            problems.push("database_pool_size: must be at least 1".to_owned());
        }
        if self.body_limit_bytes < 1024 {
            problems.push("body_limit_bytes: must be at least 1024".to_owned());
        }
        for origin in &self.cors_origins {
            if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
                problems.push(format!(
                    "cors_origins: `{origin}` is not an http(s) origin or `*`"
                ));
            }
        }
        for (name, url) in [
            ("catalog", &self.peers.catalog),
            ("inventory", &self.peers.inventory),
            ("cart", &self.peers.cart),
            ("payments", &self.peers.payments),
            ("orders", &self.peers.orders),
            ("reviews", &self.peers.reviews),
        ] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                problems.push(format!("peers.{name}: `{url}` is not an http(s) URL"));
            }
        }
        if self.peers.timeout_seconds == 0 {
            problems.push("peers.timeout_seconds: must be at least 1".to_owned());
        }
        for (prefix, url) in &self.gateway.upstreams {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems.push(format!(
                    "gateway.upstreams.{prefix}: `{url}` is not an http(s) URL"
                ));
            }
        }
        self.payments.validate(&mut problems);
        self.notifications.validate(&mut problems);
        let g = &self.graphql;
        if g.max_depth == 0
            || g.max_complexity == 0
            || g.max_query_bytes == 0
            || g.max_selections == 0
            || g.timeout_seconds == 0
        {
            problems.push(
                "graphql: max_depth, max_complexity, max_query_bytes, max_selections and \
                 timeout_seconds must be at least 1"
                    .to_owned(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems.join("; ")))
        }
    }

    /// The SQLite file of the embedded profile.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("weft.db")
    }
}

impl PaymentSettings {
    /// Whether the `stripe` provider is on.
    pub fn stripe_enabled(&self) -> bool {
        self.stripe_secret_key.is_some()
    }

    fn validate(&self, problems: &mut Vec<String>) {
        // Problems name the setting, never its value: these are secrets.
        if let Some(key) = &self.stripe_secret_key
            && !(key.expose().starts_with("sk_") || key.expose().starts_with("rk_"))
        {
            problems.push(
                "payments.stripe_secret_key: must be a Stripe secret (sk_…) or restricted (rk_…) key"
                    .to_owned(),
            );
        }
        if let Some(secret) = &self.stripe_webhook_secret {
            if !secret.expose().starts_with("whsec_") {
                problems.push(
                    "payments.stripe_webhook_secret: must be a Stripe signing secret (whsec_…)"
                        .to_owned(),
                );
            }
            if self.stripe_secret_key.is_none() {
                problems.push(
                    "payments.stripe_webhook_secret: set without payments.stripe_secret_key"
                        .to_owned(),
                );
            }
        }
        let base = &self.stripe_api_base;
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            problems.push(format!(
                "payments.stripe_api_base: `{base}` is not an http(s) URL"
            ));
        }
        if self.webhook_tolerance_seconds == 0 {
            problems.push("payments.webhook_tolerance_seconds: must be at least 1".to_owned());
        }
    }
}

/// One line naming the setting and where its bad value came from.
fn describe(err: &figment::Error) -> String {
    let mut parts = Vec::new();
    for e in err.clone() {
        let key = if e.path.is_empty() {
            "config".to_owned()
        } else {
            e.path.join(".")
        };
        let source = e
            .metadata
            .as_ref()
            .map(|m| {
                if m.name.contains("environment") {
                    format!(
                        " (from environment WEFT_{})",
                        key.to_uppercase().replace('.', "__")
                    )
                } else {
                    m.source
                        .as_ref()
                        .map(|s| format!(" (from {s})"))
                        .unwrap_or_default()
                }
            })
            .unwrap_or_default();
        parts.push(format!("{key}: {}{source}", e.kind));
    }
    parts.join("; ")
}

#[cfg(test)]
// figment's Jail dictates the closures' (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    #[test]
    fn a_demo_without_cors_origins_lets_any_origin_in_and_nothing_else_changes() {
        let mut s = super::Settings::default();
        assert!(s.effective_cors_origins().is_empty(), "no CORS by default");
        s.demo = true;
        assert_eq!(s.effective_cors_origins(), ["*"]);
        s.cors_origins = vec!["https://shop.example.com".to_owned()];
        assert_eq!(s.effective_cors_origins(), ["https://shop.example.com"]);
        s.demo = false;
        assert_eq!(s.effective_cors_origins(), ["https://shop.example.com"]);
    }

    use super::*;

    const SERVICES: &[&str] = &["gateway", "catalog"];

    fn load_in(
        dir: &Path,
        file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        // figment reads ./weft.toml relative to the cwd; the jail isolates cwd and env.
        let _ = dir;
        Settings::load(file, overrides, SERVICES)
    }

    #[test]
    fn layers_apply_in_order_flag_over_env_over_file_over_default() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "weft.toml",
                "port = 7000\nrate_limit_per_minute = 5\nhost = \"0.0.0.0\"",
            )?;
            jail.set_env("WEFT_PORT", "7100");
            jail.set_env("WEFT_GATEWAY__UPSTREAMS__CATALOG", "http://127.0.0.1:8002");
            jail.set_env("WEFT_TEST_DATABASE_URL", "ignored: not a setting");
            let overrides = Overrides {
                rate_limit_per_minute: Some(9),
                ..Overrides::default()
            };
            let s = load_in(jail.directory(), None, &overrides).map_err(|e| e.0)?;
            assert_eq!(s.port, 7100, "env beats file");
            assert_eq!(s.rate_limit_per_minute, 9, "flag beats file");
            assert_eq!(s.host.to_string(), "0.0.0.0", "file beats default");
            assert_eq!(s.body_limit_bytes, 1024 * 1024, "default shows through");
            assert_eq!(s.gateway.upstreams["catalog"], "http://127.0.0.1:8002");
            let s = load_in(
                jail.directory(),
                None,
                &Overrides {
                    port: Some(1),
                    ..Overrides::default()
                },
            )
            .map_err(|e| e.0)?;
            assert_eq!(s.port, 1, "flag beats env");
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_reported_naming_the_setting() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_PORT", "eighty");
            let err = load_in(jail.directory(), None, &Overrides::default()).unwrap_err();
            assert!(err.0.contains("port"), "{err}");
            assert!(err.0.contains("WEFT_PORT"), "{err}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.create_file("weft.toml", "prot = 1")?;
            let err = load_in(jail.directory(), None, &Overrides::default()).unwrap_err();
            assert!(err.0.contains("prot"), "a typo in the file is named: {err}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_DATABASE_URL", "mysql://x");
            jail.set_env("WEFT_SERVICE", "warehouse");
            let err = load_in(jail.directory(), None, &Overrides::default()).unwrap_err();
            assert!(err.0.contains("database_url"), "{err}");
            assert!(
                err.0.contains("service: `warehouse`"),
                "both problems at once: {err}"
            );
            assert!(!err.0.contains('\n'), "one line: {err}");
            Ok(())
        });
    }

    #[test]
    fn the_peers_key_is_read_from_the_environment_and_never_prints() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_PEERS__API_KEY", "wk_live_peer123");
            jail.set_env("WEFT_PEERS__ORDERS", "http://orders:8006");
            let s = load_in(jail.directory(), None, &Overrides::default()).map_err(|e| e.0)?;
            assert_eq!(
                s.peers.api_key.as_ref().map(Secret::expose),
                Some("wk_live_peer123")
            );
            assert_eq!(s.peers.orders.as_deref(), Some("http://orders:8006"));
            let printed = format!("{s:?}");
            assert!(!printed.contains("peer123"), "{printed}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_PEERS__PAYMENTS", "payments:8005");
            let err = load_in(jail.directory(), None, &Overrides::default()).unwrap_err();
            assert!(err.0.contains("peers.payments"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn stripe_is_off_by_default_and_its_secrets_never_print() {
        assert!(!Settings::default().payments.stripe_enabled());
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "weft.toml",
                "[payments]\nstripe_secret_key = \"sk_test_abc123\"\nwebhook_tolerance_seconds = 60",
            )?;
            jail.set_env("WEFT_PAYMENTS__STRIPE_WEBHOOK_SECRET", "whsec_xyz789");
            let s = load_in(jail.directory(), None, &Overrides::default()).map_err(|e| e.0)?;
            assert!(s.payments.stripe_enabled());
            assert_eq!(
                s.payments
                    .stripe_webhook_secret
                    .as_ref()
                    .map(Secret::expose),
                Some("whsec_xyz789")
            );
            assert_eq!(s.payments.webhook_tolerance_seconds, 60);
            assert_eq!(s.payments.stripe_api_base, "https://api.stripe.com");
            let printed = format!("{s:?}");
            assert!(!printed.contains("abc123"), "{printed}");
            assert!(!printed.contains("xyz789"), "{printed}");
            assert!(printed.contains("[REDACTED]"), "{printed}");
            Ok(())
        });
    }

    #[test]
    fn bad_payment_settings_are_named_without_their_values() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_PAYMENTS__STRIPE_SECRET_KEY", "pk_live_public123");
            jail.set_env("WEFT_PAYMENTS__STRIPE_WEBHOOK_SECRET", "nothex456");
            jail.set_env("WEFT_PAYMENTS__STRIPE_API_BASE", "ftp://stripe");
            jail.set_env("WEFT_PAYMENTS__WEBHOOK_TOLERANCE_SECONDS", "0");
            let err = load_in(jail.directory(), None, &Overrides::default()).unwrap_err();
            for setting in [
                "payments.stripe_secret_key",
                "payments.stripe_webhook_secret",
                "payments.stripe_api_base",
                "payments.webhook_tolerance_seconds",
            ] {
                assert!(err.0.contains(setting), "{setting}: {err}");
            }
            assert!(!err.0.contains("public123"), "{err}");
            assert!(!err.0.contains("nothex456"), "{err}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("WEFT_PAYMENTS__STRIPE_WEBHOOK_SECRET", "whsec_abc");
            let err = load_in(jail.directory(), None, &Overrides::default()).unwrap_err();
            assert!(
                err.0
                    .contains("stripe_webhook_secret: set without payments.stripe_secret_key"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn an_explicit_config_file_must_exist() {
        figment::Jail::expect_with(|jail| {
            let missing = jail.directory().join("nope.toml");
            let err = load_in(jail.directory(), Some(&missing), &Overrides::default()).unwrap_err();
            assert!(err.0.starts_with("config: file"), "{err}");
            Ok(())
        });
    }

    /// `weft.example.toml` is where users learn the settings: as a `weft.toml` it must
    /// load to exactly the defaults, and every key Weft has must appear in it (set, or
    /// commented out when it has no default value).
    #[test]
    fn the_example_file_lists_every_key_with_its_default() {
        fn keys(prefix: &str, value: &toml::Value, out: &mut Vec<String>) {
            if let toml::Value::Table(table) = value {
                for (key, inner) in table {
                    match inner {
                        toml::Value::Table(_) => keys(&format!("{prefix}{key}."), inner, out),
                        _ => out.push(format!("{prefix}{key}")),
                    }
                }
            }
        }
        let example = include_str!("../../../weft.example.toml");
        figment::Jail::expect_with(|jail| {
            jail.create_file("weft.toml", example)?;
            let s = load_in(jail.directory(), None, &Overrides::default()).map_err(|e| e.0)?;
            assert_eq!(s, Settings::default());
            Ok(())
        });
        let mut all = Vec::new();
        keys(
            "",
            &toml::Value::try_from(Settings::default()).unwrap(),
            &mut all,
        );
        let listed = |key: &str| {
            let leaf = key.rsplit('.').next().unwrap_or(key);
            example.lines().any(|line| {
                let line = line.trim_start_matches(['#', ' ']);
                line.starts_with(&format!("{leaf} "))
                    || line.starts_with(&format!("{leaf}="))
                    || line.starts_with(&format!("[[{key}]]"))
            })
        };
        let missing: Vec<&String> = all.iter().filter(|k| !listed(k)).collect();
        assert!(missing.is_empty(), "not in weft.example.toml: {missing:?}");
    }

    #[test]
    fn defaults_need_no_file_and_no_environment() {
        figment::Jail::expect_with(|jail| {
            let s = load_in(jail.directory(), None, &Overrides::default()).map_err(|e| e.0)?;
            assert_eq!(s, Settings::default());
            assert_eq!(s.host.to_string(), "127.0.0.1");
            Ok(())
        });
    }
}
