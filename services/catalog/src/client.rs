//! How other services reach the catalog: one trait, [`Catalog`], served in-process by
//! [`Local`] or over HTTP by [`Remote`] (`GET /v1/admin/variants`, an API key with
//! `catalog:read`), answering the catalog's own refusals as [`ClientError::Refused`].
//! Reads only: remote calls are retried (three tries at most) when the peer cannot be
//! reached or fails on its side.

use std::collections::{BTreeMap, HashMap};

use weft_peer_client::{ClientError, Peer, retried};

use crate::service::CatalogService;

const SERVICE: &str = "catalog";
/// Most ids per call (the endpoint's limit).
const BATCH: usize = 100;

/// What another service needs to know of a variant to sell it.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub variant_id: String,
    pub product_id: String,
    pub title: String,
    pub handle: String,
    pub sku: String,
    pub options: BTreeMap<String, String>,
    pub image_url: Option<String>,
    /// Whether the product is on sale (active).
    pub purchasable: bool,
    /// Currency → (amount, compare-at amount), minor units.
    pub prices: HashMap<String, (i64, Option<i64>)>,
    /// The product's category and its ancestors, nearest first.
    pub category_ids: Vec<String>,
    pub collection_ids: Vec<String>,
}

/// The catalog, as other services use it.
#[async_trait::async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// The variants among `ids` that exist.
    async fn variants(&self, ids: &[String]) -> Result<Vec<Variant>, ClientError>;
    /// The id of the product `id_or_handle` names, when shoppers can see it (drafts and
    /// archived products are `None`, as unknown ones).
    async fn product_id(&self, id_or_handle: &str) -> Result<Option<String>, ClientError>;
}

/// The catalog in this process.
#[derive(Debug, Clone)]
pub struct Local(pub CatalogService);

#[async_trait::async_trait]
impl Catalog for Local {
    async fn variants(&self, ids: &[String]) -> Result<Vec<Variant>, ClientError> {
        let found = self
            .0
            .variant_summaries(ids)
            .await
            .map_err(|e| ClientError::of(SERVICE, &e))?;
        Ok(found
            .into_iter()
            .map(|v| Variant {
                purchasable: v.product_status == "active",
                prices: v
                    .prices
                    .iter()
                    .map(|p| {
                        let amounts = (p.amount, p.compare_at_amount);
                        (p.currency.code().to_owned(), amounts)
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

    async fn product_id(&self, id_or_handle: &str) -> Result<Option<String>, ClientError> {
        match self.0.product(id_or_handle, false).await {
            Ok(product) => Ok(Some(product.id)),
            Err(crate::CatalogError::ProductNotFound) => Ok(None),
            Err(e) => Err(ClientError::of(SERVICE, &e)),
        }
    }
}

/// The catalog of another process.
#[derive(Debug, Clone)]
pub struct Remote(pub Peer);

#[async_trait::async_trait]
impl Catalog for Remote {
    async fn variants(&self, ids: &[String]) -> Result<Vec<Variant>, ClientError> {
        let client = self.0.public();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let joined = chunk.join(",");
            let found =
                retried(|| async { client.list_variant_summaries().ids(&joined).send().await })
                    .await
                    .map_err(|e| ClientError::call(SERVICE, &e))?
                    .into_inner();
            out.extend(found.data.into_iter().map(|v| {
                Variant {
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

    async fn product_id(&self, id_or_handle: &str) -> Result<Option<String>, ClientError> {
        let client = self.0.public();
        match retried(|| async { client.get_product().id(id_or_handle).send().await }).await {
            Ok(answer) => Ok(Some(answer.into_inner().id)),
            Err(weft_sdk::Error::ErrorResponse(answer)) if answer.status() == 404 => Ok(None),
            Err(e) => Err(ClientError::call(SERVICE, &e)),
        }
    }
}
