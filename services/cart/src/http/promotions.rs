//! The merchant's promotions (`promotions:read` / `promotions:write`), and the use counts
//! checkout takes when an order is placed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, authz};
use weft_kernel::PageRequest;

use crate::error::CartError;
use crate::promotions::{Promotion, PromotionPatch, Redemption};
use crate::service::CartService;

#[derive(Tags)]
enum Tag {
    /// Promotion codes: percentage, fixed amount or free shipping, with dates, minimums,
    /// scopes and usage limits.
    PromotionAdmin,
}

/// A promotion code and its rules.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Promotion")]
pub struct PromotionDto {
    /// `promo_…`
    pub id: String,
    /// Upper-case; shoppers may type it in any case.
    pub code: String,
    pub description: String,
    /// `percentage`, `fixed_amount` or `free_shipping`.
    pub kind: String,
    /// 1–100, for `percentage`.
    pub percentage: Option<i64>,
    /// Currency → minor units off, for `fixed_amount`.
    pub amounts: BTreeMap<String, i64>,
    /// Currency → the least subtotal; a cart in an unlisted currency does not qualify.
    pub minimum_subtotal: BTreeMap<String, i64>,
    /// `all`, `categories` (and their subcategories) or `collections`.
    pub scope: String,
    pub scope_ids: Vec<String>,
    /// Whether it may share a cart with other codes (both must be combinable).
    pub combinable: bool,
    pub active: bool,
    pub starts_at: Option<DateTime<Utc>>,
    /// Exclusive: the code stops working at this instant.
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// Orders placed with it.
    pub times_used: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Promotion> for PromotionDto {
    fn from(p: Promotion) -> Self {
        Self {
            kind: p.kind.as_str().to_owned(),
            scope: p.scope.name().to_owned(),
            scope_ids: p.scope.ids().to_vec(),
            id: p.id,
            code: p.code,
            description: p.description,
            percentage: p.percentage,
            amounts: p.amounts,
            minimum_subtotal: p.minimum_subtotal,
            combinable: p.combinable,
            active: p.active,
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            usage_limit: p.usage_limit,
            per_customer_limit: p.per_customer_limit,
            times_used: p.times_used,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A new promotion: `code` and `kind` are required; the rest has defaults (scope `all`,
/// active, not combinable, no dates, no limits).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePromotionRequest {
    /// 3–40 letters, digits, `-` or `_`.
    pub code: String,
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub percentage: Option<i64>,
    #[serde(default)]
    pub amounts: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    pub minimum_subtotal: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub scope_ids: Option<Vec<String>>,
    #[serde(default)]
    pub combinable: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub usage_limit: Option<i64>,
    #[serde(default)]
    pub per_customer_limit: Option<i64>,
}

/// Changes to a promotion: an omitted field stays, `null` clears a nullable one.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePromotionRequest {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub percentage: MaybeUndefined<i64>,
    #[serde(default)]
    pub amounts: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    pub minimum_subtotal: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub scope_ids: Option<Vec<String>>,
    #[serde(default)]
    pub combinable: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub starts_at: MaybeUndefined<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: MaybeUndefined<DateTime<Utc>>,
    #[serde(default)]
    pub usage_limit: MaybeUndefined<i64>,
    #[serde(default)]
    pub per_customer_limit: MaybeUndefined<i64>,
}

#[derive(Debug, Clone, Object)]
pub struct PromotionPage {
    pub data: Vec<PromotionDto>,
    pub next_cursor: Option<String>,
}

/// Count a cart's codes for an order.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    pub cart_id: String,
    pub order_id: String,
    /// Whose use it is for per-customer limits: a customer id, or a guest's e-mail. The
    /// cart's customer when omitted.
    #[serde(default)]
    pub customer_key: Option<String>,
    /// The codes the order was priced with (those that took something off when the
    /// cart was priced for it): only these are counted, and a code on the cart that took
    /// nothing off neither counts nor refuses. Omitted: every code that applies now, or
    /// is refused only because it is used up (which then refuses the order, since a use
    /// taken meanwhile cannot be told from one taken before).
    #[serde(default)]
    pub codes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Object)]
pub struct RedemptionDto {
    pub promotion_id: String,
    pub code: String,
    pub order_id: String,
    pub customer_key: Option<String>,
}

impl From<Redemption> for RedemptionDto {
    fn from(r: Redemption) -> Self {
        Self {
            promotion_id: r.promotion_id,
            code: r.code,
            order_id: r.order_id,
            customer_key: r.customer_key,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct RedemptionList {
    pub data: Vec<RedemptionDto>,
}

#[derive(Debug, Clone, Object)]
pub struct ReleasedUses {
    /// Uses given back (0 when the order had none, or they were given back already).
    pub released: u64,
}

#[derive(ApiResponse)]
pub enum PromotionCreated {
    #[oai(status = 201)]
    Created(Json<PromotionDto>),
}

#[derive(ApiResponse)]
pub enum Deleted {
    #[oai(status = 204)]
    NoContent,
}

/// The promotions endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct PromotionApi;

#[OpenApi]
impl PromotionApi {
    /// Creates a promotion. 409 `promotion_code_taken` when the code exists.
    #[oai(
        path = "/v1/admin/promotions",
        method = "post",
        operation_id = "create_promotion",
        tag = "Tag::PromotionAdmin"
    )]
    async fn create(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        body: JsonBody<CreatePromotionRequest>,
    ) -> ApiResult<PromotionCreated> {
        authz::staff(req, "promotions:write")?;
        let b = body.0;
        let patch = PromotionPatch {
            code: Some(b.code),
            kind: Some(b.kind),
            description: b.description,
            percentage: Some(b.percentage),
            amounts: b.amounts,
            minimum_subtotal: b.minimum_subtotal,
            scope: b.scope,
            scope_ids: b.scope_ids,
            combinable: b.combinable,
            active: b.active,
            starts_at: Some(b.starts_at),
            ends_at: Some(b.ends_at),
            usage_limit: Some(b.usage_limit),
            per_customer_limit: Some(b.per_customer_limit),
        };
        let promotion = svc.create_promotion(patch).await?;
        Ok(PromotionCreated::Created(Json(promotion.into())))
    }

    /// Promotions, oldest first.
    #[oai(
        path = "/v1/admin/promotions",
        method = "get",
        operation_id = "list_promotions",
        tag = "Tag::PromotionAdmin"
    )]
    async fn list(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<PromotionPage>> {
        authz::staff(req, "promotions:read")?;
        let page = PageRequest::from_query(limit.0, cursor.0.as_deref())
            .map_err(|e| CartError::Invalid(vec![e]))?;
        let page = svc.promotions(&page).await?;
        Ok(Json(PromotionPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    #[oai(
        path = "/v1/admin/promotions/:id",
        method = "get",
        operation_id = "get_promotion",
        tag = "Tag::PromotionAdmin"
    )]
    async fn get(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<PromotionDto>> {
        authz::staff(req, "promotions:read")?;
        Ok(Json(svc.promotion(&id.0).await?.into()))
    }

    /// Changes a promotion; carts holding it are priced by the new rules at their next
    /// read.
    #[oai(
        path = "/v1/admin/promotions/:id",
        method = "patch",
        operation_id = "update_promotion",
        tag = "Tag::PromotionAdmin"
    )]
    async fn update(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<UpdatePromotionRequest>,
    ) -> ApiResult<Json<PromotionDto>> {
        authz::staff(req, "promotions:write")?;
        let b = body.0;
        let patch = PromotionPatch {
            code: b.code,
            kind: b.kind,
            description: b.description,
            percentage: b.percentage.into(),
            amounts: b.amounts,
            minimum_subtotal: b.minimum_subtotal,
            scope: b.scope,
            scope_ids: b.scope_ids,
            combinable: b.combinable,
            active: b.active,
            starts_at: b.starts_at.into(),
            ends_at: b.ends_at.into(),
            usage_limit: b.usage_limit.into(),
            per_customer_limit: b.per_customer_limit.into(),
        };
        Ok(Json(svc.update_promotion(&id.0, patch).await?.into()))
    }

    /// Deletes a promotion and takes it off every cart; placed orders keep their
    /// discount. To stop a code but keep its history, set `active: false` instead.
    #[oai(
        path = "/v1/admin/promotions/:id",
        method = "delete",
        operation_id = "delete_promotion",
        tag = "Tag::PromotionAdmin"
    )]
    async fn delete(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Deleted> {
        authz::staff(req, "promotions:write")?;
        svc.delete_promotion(&id.0).await?;
        Ok(Deleted::NoContent)
    }

    /// Counts one use of every code that takes something off the cart, for an order
    /// being placed (checkout's step): all or none, never past a limit however many
    /// orders race — 422 `promotion_exhausted` or `promotion_limit_reached` otherwise. A
    /// code that takes nothing off (used up before) is not counted.
    /// Repeating it for the same order changes nothing.
    #[oai(
        path = "/v1/admin/promotions/redemptions",
        method = "post",
        operation_id = "redeem_promotions",
        tag = "Tag::PromotionAdmin"
    )]
    async fn redeem(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        body: JsonBody<RedeemRequest>,
    ) -> ApiResult<Json<RedemptionList>> {
        authz::staff(req, "promotions:write")?;
        let b = body.0;
        let data = svc
            .redeem(
                &b.cart_id,
                &b.order_id,
                b.customer_key.as_deref(),
                b.codes.as_deref(),
            )
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(Json(RedemptionList { data }))
    }

    /// Gives back the uses an order took (its checkout failed, or it was cancelled
    /// before payment).
    #[oai(
        path = "/v1/admin/promotions/redemptions/:order_id/release",
        method = "post",
        operation_id = "release_promotion_redemptions",
        tag = "Tag::PromotionAdmin"
    )]
    async fn release(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        order_id: Path<String>,
    ) -> ApiResult<Json<ReleasedUses>> {
        authz::staff(req, "promotions:write")?;
        let released = svc.release_redemptions(&order_id.0).await?;
        Ok(Json(ReleasedUses {
            released: released as u64,
        }))
    }
}
