//! How services reach each other: the cart's catalog and stock ports, in-process over the
//! catalog and inventory services when this process hosts them, or over HTTP with the
//! SDK when they run elsewhere in the cluster (`[peers]`): a timeout on every call (5 s
//! by default), and retries with backoff — these are reads, safe to repeat — when the
//! peer cannot be reached or answers 5xx.

use std::collections::HashMap;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};

use weft_cart::CartError;
use weft_cart::service::{Availability, Catalog, Stock, VariantInfo};
use weft_catalog::CatalogService;
use weft_inventory::InventoryService;

/// The catalog as the cart sees it.
#[derive(Debug, Clone)]
pub struct LocalCatalog(pub CatalogService);

#[async_trait::async_trait]
impl Catalog for LocalCatalog {
    async fn variants(&self, ids: &[String]) -> Result<Vec<VariantInfo>, CartError> {
        let found = self
            .0
            .variant_summaries(ids)
            .await
            .map_err(|e| CartError::Upstream(format!("catalog: {e}")))?;
        Ok(found
            .into_iter()
            .map(|v| VariantInfo {
                purchasable: v.product_status == "active",
                prices: v
                    .prices
                    .iter()
                    .map(|p| {
                        (
                            p.currency.code().to_owned(),
                            (p.amount, p.compare_at_amount),
                        )
                    })
                    .collect(),
                image_url: v.image.map(|i| i.url),
                variant_id: v.variant_id,
                product_id: v.product_id,
                title: v.product_title,
                handle: v.product_handle,
                sku: v.sku,
                options: v.options,
                category_ids: v.category_ids,
                collection_ids: v.collection_ids,
            })
            .collect())
    }
}

/// Inventory as the cart sees it.
#[derive(Debug, Clone)]
pub struct LocalStock(pub InventoryService);

#[async_trait::async_trait]
impl Stock for LocalStock {
    async fn availability(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Availability>, CartError> {
        let stocks = self
            .0
            .stocks(ids)
            .await
            .map_err(|e| CartError::Upstream(format!("inventory: {e}")))?;
        Ok(stocks
            .into_iter()
            .map(|s| {
                (
                    s.variant_id,
                    Availability {
                        available: s.available,
                        backorder: s.allow_backorder,
                    },
                )
            })
            .collect())
    }
}

/// What one call to a peer may cost before the cart gives up: each attempt is bounded by
/// the client's timeout, and at most three are made.
fn retry_policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_millis(500))
        .with_max_times(2)
        .with_jitter()
}

/// Calls a peer, and again (see [`retry_policy`]) while [`transient`] says it is worth it.
/// Only for calls that are safe to repeat: reads, and writes keyed by what they act for.
pub(crate) async fn retried<T, P, Fut>(call: impl FnMut() -> Fut) -> Result<T, weft_sdk::Error<P>>
where
    Fut: std::future::Future<Output = Result<T, weft_sdk::Error<P>>>,
{
    call.retry(retry_policy()).when(transient).await
}

/// Worth another try: the peer could not be reached, or failed on its side.
/// (Either client's error: both are progenitor's `Error` over their own `Problem`.)
fn transient<P>(err: &weft_sdk::Error<P>) -> bool {
    match err {
        weft_sdk::Error::CommunicationError(_) | weft_sdk::Error::ResponseBodyError(_) => true,
        weft_sdk::Error::ErrorResponse(r) => r.status().is_server_error(),
        weft_sdk::Error::UnexpectedResponse(r) => r.status().is_server_error(),
        _ => false,
    }
}

fn upstream(peer: &str, err: &weft_sdk::Error<weft_sdk::types::Problem>) -> CartError {
    let detail = match err {
        weft_sdk::Error::ErrorResponse(r) => format!("{} {}", r.status(), r.code),
        other => other.to_string(),
    };
    CartError::Upstream(format!("{peer}: {detail}"))
}

/// Another process of the cluster: its base URL, and an HTTP client with the configured
/// timeout and the cluster's API key (`X-Api-Key`) when one is set.
#[derive(Debug, Clone)]
pub struct Peer {
    base_url: String,
    http: reqwest::Client,
}

impl Peer {
    pub fn new(base_url: &str, api_key: Option<&str>, timeout: Duration) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key {
            let mut value = reqwest::header::HeaderValue::from_str(key)
                .map_err(|_| anyhow::anyhow!("peers.api_key: not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .default_headers(headers)
            .build()?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The public API's client (`/v1/admin/…` reads with the key's scopes).
    pub fn public(&self) -> weft_sdk::Client {
        weft_sdk::Client::new_with_client(&self.base_url, self.http.clone())
    }

    /// The internal endpoints' client (`/v1/internal/…`).
    pub fn internal(&self) -> weft_peer_client::Client {
        weft_peer_client::Client::new_with_client(&self.base_url, self.http.clone())
    }
}

/// Most ids per call (the peers' limit).
const BATCH: usize = 100;

/// The catalog of another process, over HTTP (`GET /v1/admin/variants`, which needs
/// `catalog:read`).
#[derive(Debug, Clone)]
pub struct PeerCatalog(pub weft_sdk::Client);

#[async_trait::async_trait]
impl Catalog for PeerCatalog {
    async fn variants(&self, ids: &[String]) -> Result<Vec<VariantInfo>, CartError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let joined = chunk.join(",");
            let found =
                retried(|| async { self.0.list_variant_summaries().ids(&joined).send().await })
                    .await
                    .map_err(|e| upstream("catalog", &e))?
                    .into_inner();
            out.extend(found.data.into_iter().map(|v| {
                VariantInfo {
                    purchasable: v.product_status == "active",
                    prices: v
                        .prices
                        .into_iter()
                        .map(|p| (p.currency, (p.amount, p.compare_at_amount)))
                        .collect(),
                    image_url: v.image.map(|i| i.url),
                    variant_id: v.variant_id,
                    product_id: v.product_id,
                    title: v.product_title,
                    handle: v.product_handle,
                    sku: v.sku,
                    options: v.options.into_iter().collect(),
                    category_ids: v.category_ids,
                    collection_ids: v.collection_ids,
                }
            }));
        }
        Ok(out)
    }
}

/// Inventory of another process, over HTTP (`GET /v1/inventory`, public).
#[derive(Debug, Clone)]
pub struct PeerStock(pub weft_sdk::Client);

#[async_trait::async_trait]
impl Stock for PeerStock {
    async fn availability(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Availability>, CartError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let joined = chunk.join(",");
            let found = retried(|| async {
                self.0
                    .list_variant_stock()
                    .variant_ids(&joined)
                    .send()
                    .await
            })
            .await
            .map_err(|e| upstream("inventory", &e))?
            .into_inner();
            out.extend(found.data.into_iter().map(|s| {
                (
                    s.variant_id,
                    Availability {
                        available: s.available,
                        backorder: s.allow_backorder,
                    },
                )
            }));
        }
        Ok(out)
    }
}

/// Carts as checkout sees them, in this process.
#[derive(Debug, Clone)]
pub struct LocalCarts(pub weft_cart::CartService);

fn cart_error(err: CartError) -> weft_checkout::CheckoutError {
    use weft_checkout::CheckoutError;
    match err {
        CartError::CartNotFound => CheckoutError::CartNotFound,
        // The cart's refusals of what checkout passed on (a method not offered there).
        CartError::Invalid(errors) => CheckoutError::Invalid(errors),
        other => CheckoutError::Upstream(format!("cart: {other}")),
    }
}

fn summary(cart: weft_cart::service::Cart) -> weft_checkout::service::CartSummary {
    let promotion_codes = cart
        .promotions
        .iter()
        .filter(|p| p.rejection.is_none() && p.amount > 0)
        .map(|p| p.code.clone())
        .collect();
    weft_checkout::service::CartSummary {
        promotion_codes,
        cart_id: cart.id,
        customer_id: cart.customer_id,
        currency: cart.currency.code().to_owned(),
        lines: cart
            .items
            .into_iter()
            .map(|l| weft_checkout::service::SummaryLine {
                variant_id: l.variant_id,
                title: l.title,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: l.unit_price,
                line_total: l.line_total,
                discount: l.discount,
                purchasable: l.purchasable,
            })
            .collect(),
        subtotal: cart.subtotal,
        discounts: cart.discounts,
        shipping: cart.shipping,
        tax: cart.tax,
        tax_inclusive: cart.tax_inclusive,
        total: cart.total,
        shipping_method_id: cart.shipping_method_id,
    }
}

#[async_trait::async_trait]
impl weft_checkout::service::Carts for LocalCarts {
    async fn cart(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<weft_checkout::service::CartSummary, weft_checkout::CheckoutError> {
        self.0.get(id, who).await.map(summary).map_err(cart_error)
    }

    async fn ship(
        &self,
        id: &str,
        who: Option<&str>,
        country: Option<String>,
        region: Option<String>,
        method: Option<Option<String>>,
    ) -> Result<weft_checkout::service::CartSummary, weft_checkout::CheckoutError> {
        // A destination replaces the cart's (its region with it); none keeps the cart's.
        let patch = weft_cart::service::CartPatch {
            region: country.as_ref().map(|_| region.clone()),
            country: country.map(Some),
            shipping_method_id: method,
            currency: None,
        };
        self.0
            .update(id, who, patch)
            .await
            .map(summary)
            .map_err(cart_error)
    }

    async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<weft_checkout::service::ShippingChoice>, weft_checkout::CheckoutError> {
        Ok(self
            .0
            .shipping_options(id, who)
            .await
            .map_err(cart_error)?
            .into_iter()
            .map(|o| weft_checkout::service::ShippingChoice {
                id: o.id,
                name: o.name,
                price: o.price,
                delivery_estimate: o.delivery_estimate,
            })
            .collect())
    }
}
