//! Inventory's REST endpoints. A variant's stock is public; setting it, locations and
//! reservations are `staff("inventory:write")` (reads: `inventory:read`) — reservations
//! are how checkout holds stock, in this process or from another one over HTTP.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, authz};
use weft_kernel::PageRequest;

use crate::domain::parse_variant_id;
use crate::error::InventoryError;
use crate::service::{
    InventoryService, Location, LocationStock, NewReservation, Reservation, SetStock, Stock,
};

mod internal;
pub use internal::InventoryInternalApi;

#[derive(Tags)]
enum Tag {
    /// Stock levels anyone may read.
    Inventory,
    /// Managing stock and reservations (admins, apps with `inventory:write`).
    #[oai(rename = "Inventory admin")]
    InventoryAdmin,
}

/// A variant's stock at one location.
#[derive(Debug, Clone, Object)]
#[oai(rename = "LocationStock")]
pub struct LocationStockDto {
    pub location_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

/// A variant's stock over every location.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Stock")]
pub struct StockDto {
    pub variant_id: String,
    pub on_hand: i64,
    /// Held by checkouts in progress.
    pub reserved: i64,
    /// On hand minus reserved; below zero only for variants that allow backorders.
    pub available: i64,
    /// `in_stock`, `low_stock` (at or below the threshold), `out_of_stock` or `backorder`.
    pub stock_status: String,
    pub low_stock_threshold: i64,
    pub allow_backorder: bool,
    pub locations: Vec<LocationStockDto>,
}

impl From<Stock> for StockDto {
    fn from(s: Stock) -> Self {
        Self {
            variant_id: s.variant_id,
            on_hand: s.on_hand,
            reserved: s.reserved,
            available: s.available,
            stock_status: s.status.as_str().to_owned(),
            low_stock_threshold: s.low_stock_threshold,
            allow_backorder: s.allow_backorder,
            locations: s
                .locations
                .into_iter()
                .map(|l: LocationStock| LocationStockDto {
                    location_id: l.location_id,
                    on_hand: l.on_hand,
                    reserved: l.reserved,
                    available: l.available,
                })
                .collect(),
        }
    }
}

/// The new count on hand of a variant at a location.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStockRequest {
    /// 0–1,000,000,000; not below what is reserved there (unless backorders are allowed).
    pub on_hand: i64,
    /// Alert (`InventoryLow`) when available falls to this; unchanged when omitted
    /// (0 for a new variant).
    #[serde(default)]
    pub low_stock_threshold: Option<i64>,
    /// A location id or code; the default location when omitted.
    #[serde(default)]
    pub location_id: Option<String>,
    /// Sell past zero; unchanged when omitted (false for a new variant).
    #[serde(default)]
    pub allow_backorder: Option<bool>,
}

/// Units back on the shelf (a cancelled order, a return).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestockRequest {
    pub quantity: i64,
    #[serde(default)]
    pub location_id: Option<String>,
}

/// One page of stock levels.
#[derive(Debug, Clone, Object)]
pub struct StockPage {
    pub data: Vec<StockDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Location")]
pub struct LocationDto {
    /// `loc_…`
    pub id: String,
    pub code: String,
    pub name: String,
    pub is_default: bool,
}

impl From<Location> for LocationDto {
    fn from(l: Location) -> Self {
        Self {
            id: l.id,
            code: l.code,
            name: l.name,
            is_default: l.is_default,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct LocationList {
    pub data: Vec<LocationDto>,
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    /// Letters, digits, `-` and `_` (stored lower case); unique.
    pub code: String,
    pub name: String,
}

/// Stock held for a checkout.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationRequest {
    pub variant_id: String,
    /// 1–1,000,000,000.
    pub quantity: i64,
    /// What holds it (a checkout id).
    pub reference: String,
    /// 1–86400; the configured default (15 min) when omitted.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

#[derive(Debug, Clone, Object)]
#[oai(rename = "Reservation")]
pub struct ReservationDto {
    /// `res_…`
    pub id: String,
    pub variant_id: String,
    /// Where the units are held (the location with the most available).
    pub location_id: String,
    pub quantity: i64,
    pub reference: String,
    /// `active`, `released`, `committed` or `expired`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<Reservation> for ReservationDto {
    fn from(r: Reservation) -> Self {
        Self {
            id: r.id,
            variant_id: r.variant_id,
            location_id: r.location_id,
            quantity: r.quantity,
            reference: r.reference,
            status: r.status.as_str().to_owned(),
            expires_at: r.expires_at,
            created_at: r.created_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum LocationCreated {
    #[oai(status = 201)]
    Created(Json<LocationDto>),
}

#[derive(ApiResponse)]
pub enum ReservationCreated {
    /// Held.
    #[oai(status = 201)]
    Created(Json<ReservationDto>),
}

/// Inventory's endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryApi;

/// Stock of several variants.
#[derive(Debug, Clone, Object)]
pub struct StockList {
    pub data: Vec<StockDto>,
}

/// Most variants one `GET /v1/inventory` reads.
const MAX_BATCH: usize = 100;

#[OpenApi]
impl InventoryApi {
    /// A variant's stock: on hand, reserved and available, summed over locations. A
    /// variant never stocked has none.
    #[oai(
        path = "/v1/inventory/:variant_id",
        method = "get",
        operation_id = "get_inventory",
        tag = "Tag::Inventory"
    )]
    async fn get_inventory(
        &self,
        svc: Data<&InventoryService>,
        /// `var_…`
        variant_id: Path<String>,
    ) -> ApiResult<Json<StockDto>> {
        Ok(Json(svc.stock(&variant_id.0).await?.into()))
    }

    /// Stock of many variants at once (every size of a product page, a cart's lines), in
    /// the order asked; a variant never stocked has none.
    #[oai(
        path = "/v1/inventory",
        method = "get",
        operation_id = "list_variant_stock",
        tag = "Tag::Inventory"
    )]
    async fn list_variant_stock(
        &self,
        svc: Data<&InventoryService>,
        /// Comma-separated `var_…` ids, 1–100.
        variant_ids: Query<String>,
    ) -> ApiResult<Json<StockList>> {
        let mut ids = Vec::new();
        for id in variant_ids
            .0
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let id = parse_variant_id("variant_ids", id)
                .map_err(|e| InventoryError::Invalid(vec![e]))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(InventoryError::field(
                "variant_ids",
                format!("must list 1–{MAX_BATCH} variant ids"),
            )
            .into());
        }
        let data = svc
            .stocks(&ids)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(Json(StockList { data }))
    }

    /// Sets the count on hand at a location (the default one when `location_id` is
    /// omitted), and optionally the low-stock threshold and backorder policy.
    #[oai(
        path = "/v1/admin/inventory/:variant_id",
        method = "put",
        operation_id = "set_inventory",
        tag = "Tag::InventoryAdmin"
    )]
    async fn set_inventory(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        variant_id: Path<String>,
        body: JsonBody<SetStockRequest>,
    ) -> ApiResult<Json<StockDto>> {
        authz::staff(req, "inventory:write")?;
        let body = body.0;
        let stock = svc
            .set_stock(
                &variant_id.0,
                SetStock {
                    on_hand: body.on_hand,
                    location: body.location_id,
                    low_stock_threshold: body.low_stock_threshold,
                    allow_backorder: body.allow_backorder,
                },
            )
            .await?;
        Ok(Json(stock.into()))
    }

    /// Puts units back on the shelf.
    #[oai(
        path = "/v1/admin/inventory/:variant_id/restock",
        method = "post",
        operation_id = "restock_inventory",
        tag = "Tag::InventoryAdmin"
    )]
    async fn restock(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        variant_id: Path<String>,
        body: JsonBody<RestockRequest>,
    ) -> ApiResult<Json<StockDto>> {
        authz::staff(req, "inventory:write")?;
        let stock = svc
            .restock(
                &variant_id.0,
                body.0.quantity,
                body.0.location_id.as_deref(),
            )
            .await?;
        Ok(Json(stock.into()))
    }

    /// Stocked variants in id order; `low_stock=true` keeps those at or below their
    /// threshold.
    #[oai(
        path = "/v1/admin/inventory",
        method = "get",
        operation_id = "list_inventory",
        tag = "Tag::InventoryAdmin"
    )]
    async fn list_inventory(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        low_stock: Query<Option<bool>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<StockPage>> {
        authz::staff(req, "inventory:read")?;
        let page = PageRequest::from_query(limit.0, cursor.0.as_deref())
            .map_err(|e| InventoryError::Invalid(vec![e]))?;
        let page = svc.list(low_stock.0.unwrap_or(false), &page).await?;
        Ok(Json(StockPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// Every stock location, the default first.
    #[oai(
        path = "/v1/admin/inventory/locations",
        method = "get",
        operation_id = "list_locations",
        tag = "Tag::InventoryAdmin"
    )]
    async fn list_locations(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
    ) -> ApiResult<Json<LocationList>> {
        authz::staff(req, "inventory:read")?;
        let data = svc.locations().await?.into_iter().map(Into::into).collect();
        Ok(Json(LocationList { data }))
    }

    /// Adds a stock location (a warehouse, a store's back room).
    #[oai(
        path = "/v1/admin/inventory/locations",
        method = "post",
        operation_id = "create_location",
        tag = "Tag::InventoryAdmin"
    )]
    async fn create_location(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        body: JsonBody<LocationRequest>,
    ) -> ApiResult<LocationCreated> {
        authz::staff(req, "inventory:write")?;
        let location = svc.create_location(&body.0.code, &body.0.name).await?;
        Ok(LocationCreated::Created(Json(location.into())))
    }

    /// Holds units for a checkout at the location with the most available, until
    /// committed, released or expired. Never oversells: not enough stock is 409
    /// `out_of_stock`.
    #[oai(
        path = "/v1/admin/inventory/reservations",
        method = "post",
        operation_id = "create_reservation",
        tag = "Tag::InventoryAdmin"
    )]
    async fn create_reservation(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        body: JsonBody<ReservationRequest>,
    ) -> ApiResult<ReservationCreated> {
        authz::staff(req, "inventory:write")?;
        let body = body.0;
        let reservation = svc
            .reserve(NewReservation {
                variant_id: body.variant_id,
                quantity: body.quantity,
                reference: body.reference,
                ttl: body.ttl_seconds.map(std::time::Duration::from_secs),
            })
            .await?;
        Ok(ReservationCreated::Created(Json(reservation.into())))
    }

    #[oai(
        path = "/v1/admin/inventory/reservations/:id",
        method = "get",
        operation_id = "get_reservation",
        tag = "Tag::InventoryAdmin"
    )]
    async fn get_reservation(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<ReservationDto>> {
        authz::staff(req, "inventory:read")?;
        Ok(Json(svc.reservation(&id.0).await?.into()))
    }

    /// Gives an active reservation's units back; 409 `reservation_not_active` otherwise.
    #[oai(
        path = "/v1/admin/inventory/reservations/:id/release",
        method = "post",
        operation_id = "release_reservation",
        tag = "Tag::InventoryAdmin"
    )]
    async fn release_reservation(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<ReservationDto>> {
        authz::staff(req, "inventory:write")?;
        Ok(Json(svc.release(&id.0).await?.into()))
    }

    /// Turns an active reservation into a sale: its units leave the shelf.
    #[oai(
        path = "/v1/admin/inventory/reservations/:id/commit",
        method = "post",
        operation_id = "commit_reservation",
        tag = "Tag::InventoryAdmin"
    )]
    async fn commit_reservation(
        &self,
        svc: Data<&InventoryService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<ReservationDto>> {
        authz::staff(req, "inventory:write")?;
        Ok(Json(svc.commit(&id.0).await?.into()))
    }
}
