//! How other services reach inventory: one trait, [`Inventory`], served in-process by
//! [`Local`] (this process hosts inventory) or over HTTP by [`Remote`] (it runs in another
//! process of the cluster). Both answer inventory's own refusals (`out_of_stock`,
//! `variant_not_found`, `validation_failed`) as [`ClientError::Refused`]; what each
//! consumer makes of them is the consumer's business.
//!
//! Remote calls have the peer's timeout and are retried (three tries at most) only where
//! repeating cannot act twice: reads, and holds keyed by their reference.

use std::collections::HashMap;

use weft_peer_client::{ClientError, Peer, retried};

use crate::service::InventoryService;

const SERVICE: &str = "inventory";
/// Most ids per call (the endpoints' limit).
const BATCH: usize = 100;

/// What can be sold of a variant now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    pub available: i64,
    /// Sold beyond what is on hand.
    pub backorder: bool,
}

/// Inventory, as other services use it. `reference` names a hold (a checkout attempt).
#[async_trait::async_trait]
pub trait Inventory: Send + Sync + 'static {
    /// Availability of each of `ids`; a variant never stocked is absent.
    async fn availability(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Availability>, ClientError>;
    /// Holds every `(variant_id, quantity)` under `reference`, all or none
    /// (`out_of_stock`). Holding again under the same reference holds nothing more.
    async fn hold(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), ClientError>;
    /// Gives back what `reference` holds.
    async fn release(&self, reference: &str) -> Result<(), ClientError>;
    /// The sale happened: what `reference` holds leaves the shelf (a lapsed hold is taken
    /// from what is available, or `out_of_stock`).
    async fn commit(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), ClientError>;
}

/// Inventory in this process.
#[derive(Debug, Clone)]
pub struct Local(pub InventoryService);

fn local_error(err: &crate::InventoryError) -> ClientError {
    ClientError::of(SERVICE, err)
}

#[async_trait::async_trait]
impl Inventory for Local {
    async fn availability(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Availability>, ClientError> {
        let stocks = self.0.stocks(ids).await.map_err(|e| local_error(&e))?;
        Ok(stocks
            .into_iter()
            .map(|s| {
                let availability = Availability {
                    available: s.available,
                    backorder: s.allow_backorder,
                };
                (s.variant_id, availability)
            })
            .collect())
    }

    async fn hold(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), ClientError> {
        self.0
            .reserve_all(lines, reference, None)
            .await
            .map(drop)
            .map_err(|e| local_error(&e))
    }

    async fn release(&self, reference: &str) -> Result<(), ClientError> {
        self.0
            .release_reference(reference)
            .await
            .map(drop)
            .map_err(|e| local_error(&e))
    }

    async fn commit(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), ClientError> {
        self.0
            .commit_reference(reference, lines)
            .await
            .map(drop)
            .map_err(|e| local_error(&e))
    }
}

/// Inventory of another process: `GET /v1/inventory` (public) and the holds at
/// `/v1/internal/holds` (an API key with the `internal` scope).
#[derive(Debug, Clone)]
pub struct Remote(pub Peer);

fn hold_lines(lines: &[(String, i64)]) -> Vec<weft_peer_client::types::HoldLine> {
    lines
        .iter()
        .map(|(variant_id, quantity)| weft_peer_client::types::HoldLine {
            variant_id: variant_id.clone(),
            quantity: *quantity,
        })
        .collect()
}

#[async_trait::async_trait]
impl Inventory for Remote {
    async fn availability(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Availability>, ClientError> {
        let client = self.0.public();
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            let joined = chunk.join(",");
            let found = retried(|| async {
                client
                    .list_variant_stock()
                    .variant_ids(&joined)
                    .send()
                    .await
            })
            .await
            .map_err(|e| ClientError::call(SERVICE, &e))?
            .into_inner();
            out.extend(found.data.into_iter().map(|s| {
                let availability = Availability {
                    available: s.available,
                    backorder: s.allow_backorder,
                };
                (s.variant_id, availability)
            }));
        }
        Ok(out)
    }

    async fn hold(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), ClientError> {
        let client = self.0.internal();
        let body = weft_peer_client::types::HoldRequest {
            reference: reference.to_owned(),
            lines: hold_lines(lines),
        };
        // Keyed by the reference: a reference that holds its lines holds nothing more.
        retried(|| async { client.internal_hold_stock().body(body.clone()).send().await })
            .await
            .map(drop)
            .map_err(|e| ClientError::call(SERVICE, &e))
    }

    async fn release(&self, reference: &str) -> Result<(), ClientError> {
        let client = self.0.internal();
        retried(|| async {
            client
                .internal_release_hold()
                .reference(reference)
                .send()
                .await
        })
        .await
        .map(drop)
        .map_err(|e| ClientError::call(SERVICE, &e))
    }

    async fn commit(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), ClientError> {
        let client = self.0.internal();
        let body = weft_peer_client::types::CommitHoldRequest {
            lines: hold_lines(lines),
        };
        retried(|| async {
            client
                .internal_commit_hold()
                .reference(reference)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(drop)
        .map_err(|e| ClientError::call(SERVICE, &e))
    }
}
