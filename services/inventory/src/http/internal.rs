//! What a cluster's checkout process asks of inventory over HTTP (`/v1/internal/…`,
//! an API key with the `internal` scope): hold a checkout attempt's lines all or none,
//! give them back, or sell them, each by the attempt's reference. Each is safe to
//! repeat for the same reference; the embedded profile makes the same calls
//! in-process.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, Done, JsonBody, authz};

use crate::service::InventoryService;

#[derive(Tags)]
enum Tag {
    /// Stock holds, as a cluster's checkout process reaches them.
    InventoryInternal,
}

/// Units of one variant.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldLine {
    pub variant_id: String,
    pub quantity: i64,
}

/// Lines to hold for a reference, all or none.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// What holds them (a checkout attempt).
    pub reference: String,
    pub lines: Vec<HoldLine>,
}

/// The lines a reference sells.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitHoldRequest {
    pub lines: Vec<HoldLine>,
}

fn pairs(lines: Vec<HoldLine>) -> Vec<(String, i64)> {
    lines
        .into_iter()
        .map(|l| (l.variant_id, l.quantity))
        .collect()
}

/// Inventory's cluster-internal endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryInternalApi;

#[OpenApi]
impl InventoryInternalApi {
    /// Holds every line for `reference`, all or none: 409 `out_of_stock` holds
    /// nothing. Again for a reference that holds them: done. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/holds",
        method = "post",
        operation_id = "internal_hold_stock",
        tag = "Tag::InventoryInternal"
    )]
    async fn hold(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        body: JsonBody<HoldRequest>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        let b = body.0;
        svc.reserve_all(&pairs(b.lines), &b.reference, None).await?;
        Ok(Done::NoContent)
    }

    /// Gives back whatever `reference` holds (nothing: done). Needs the `internal`
    /// scope.
    #[oai(
        path = "/v1/internal/holds/:reference/release",
        method = "post",
        operation_id = "internal_release_hold",
        tag = "Tag::InventoryInternal"
    )]
    async fn release(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        reference: Path<String>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        svc.release_reference(&reference.0).await?;
        Ok(Done::NoContent)
    }

    /// The sale happened: what `reference` holds leaves the shelf; a lapsed hold is
    /// taken from what is available, or 409 `out_of_stock`. Again: done. Needs the
    /// `internal` scope.
    #[oai(
        path = "/v1/internal/holds/:reference/commit",
        method = "post",
        operation_id = "internal_commit_hold",
        tag = "Tag::InventoryInternal"
    )]
    async fn commit(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        reference: Path<String>,
        body: JsonBody<CommitHoldRequest>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        svc.commit_reference(&reference.0, &pairs(body.0.lines))
            .await?;
        Ok(Done::NoContent)
    }
}
