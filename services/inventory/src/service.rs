//! Inventory's use cases. Every change runs in one transaction that also re-derives the
//! variant's low-stock flag and stock status, writing `InventoryLow` when it falls to the
//! threshold and `StockStatusChanged` when the status changes, to the outbox.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use weft_bus::Bus;
use weft_bus::events::{InventoryLow, StockStatusChanged};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, Cursor, FieldError, Page, PageRequest};
use weft_storage::{Db, DbConn};

use crate::domain::{
    DEFAULT_LOCATION, LocationId, ReservationId, ReservationStatus, StockStatus, parse_units,
    parse_variant_id,
};
use crate::error::InventoryError;
use crate::store::{self, ItemRow, LevelRow, LocationRow, ReservationRow};

/// A variant's stock, summed over locations, and per location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stock {
    pub variant_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub low_stock_threshold: i64,
    pub allow_backorder: bool,
    pub status: StockStatus,
    pub locations: Vec<LocationStock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationStock {
    pub location_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: String,
    pub code: String,
    pub name: String,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: String,
    pub variant_id: String,
    pub location_id: String,
    pub quantity: i64,
    pub reference: String,
    pub status: ReservationStatus,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A new stock count for a variant (at one location).
#[derive(Debug, Clone, Default)]
pub struct SetStock {
    pub on_hand: i64,
    /// The default location when `None`; an id or a code.
    pub location: Option<String>,
    pub low_stock_threshold: Option<i64>,
    pub allow_backorder: Option<bool>,
}

/// Stock to hold for a checkout.
#[derive(Debug, Clone, Default)]
pub struct NewReservation {
    pub variant_id: String,
    pub quantity: i64,
    /// What holds it (a checkout id); reservations are found and released by it.
    pub reference: String,
    /// The configured default when `None`.
    pub ttl: Option<Duration>,
}

/// Longest a reservation may be asked to live.
const MAX_TTL: Duration = Duration::from_hours(24);
/// Reservations released per sweep round.
const SWEEP_BATCH: i64 = 100;

/// The inventory service of this process.
#[derive(Clone)]
pub struct InventoryService {
    db: Db,
    bus: Bus,
    clock: Clock,
    reservation_ttl: Duration,
}

impl std::fmt::Debug for InventoryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InventoryService")
            .field("reservation_ttl", &self.reservation_ttl)
            .finish_non_exhaustive()
    }
}

fn location(row: LocationRow) -> Location {
    Location {
        id: row.id,
        code: row.code,
        name: row.name,
        is_default: row.is_default,
    }
}

fn reservation(row: ReservationRow) -> Reservation {
    Reservation {
        status: ReservationStatus::parse(&row.status).unwrap_or(ReservationStatus::Released),
        id: row.id,
        variant_id: row.variant_id,
        location_id: row.location_id,
        quantity: row.quantity,
        reference: row.reference,
        expires_at: row.expires_at.and_utc(),
        created_at: row.created_at.and_utc(),
    }
}

/// The stock of one variant from its item (if any) and levels.
fn stock(variant_id: &str, item: Option<&ItemRow>, levels: &[LevelRow]) -> Stock {
    let on_hand = levels.iter().map(|l| l.on_hand).sum();
    let reserved = levels.iter().map(|l| l.reserved).sum();
    let available = on_hand - reserved;
    let threshold = item.map_or(0, |i| i.low_stock_threshold);
    let backorder = item.is_some_and(|i| i.allow_backorder);
    Stock {
        variant_id: variant_id.to_owned(),
        on_hand,
        reserved,
        available,
        low_stock_threshold: threshold,
        allow_backorder: backorder,
        status: StockStatus::of(available, threshold, backorder),
        locations: levels
            .iter()
            .map(|l| LocationStock {
                location_id: l.location_id.clone(),
                on_hand: l.on_hand,
                reserved: l.reserved,
                available: l.on_hand - l.reserved,
            })
            .collect(),
    }
}

/// The status of an item before its first count (as a variant inventory never heard of).
const NEVER_STOCKED: &str = "out_of_stock";

impl InventoryService {
    pub fn new(db: Db, bus: Bus, clock: Clock, reservation_ttl: Duration) -> Self {
        Self {
            db,
            bus,
            clock,
            reservation_ttl,
        }
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// Re-reads a variant's stock inside a change and keeps its low flag in step,
    /// writing `InventoryLow` when it falls to the threshold.
    async fn settle(
        &self,
        conn: &mut DbConn,
        variant_id: &str,
        now: NaiveDateTime,
    ) -> Result<Stock, InventoryError> {
        let item = store::find_item(conn, variant_id).await?;
        let levels = store::levels_of(conn, &[variant_id.to_owned()]).await?;
        let stock = stock(variant_id, item.as_ref(), &levels);
        if let Some(mut item) = item {
            let low = stock.available <= item.low_stock_threshold;
            let status = stock.status.as_str();
            let fell = low && !item.low;
            let status_changed = item.status != status;
            if low != item.low || status_changed {
                item.low = low;
                item.updated_at = now;
                if status_changed {
                    status.clone_into(&mut item.status);
                    item.status_version += 1;
                }
                store::update_item(conn, &item).await?;
            }
            if fell {
                weft_bus::append(
                    conn,
                    &InventoryLow {
                        variant_id: variant_id.to_owned(),
                        available: stock.available,
                        threshold: item.low_stock_threshold,
                    },
                )
                .await?;
            }
            if status_changed {
                weft_bus::append(
                    conn,
                    &StockStatusChanged {
                        variant_id: variant_id.to_owned(),
                        status: item.status.clone(),
                        available: stock.available,
                        version: item.status_version,
                    },
                )
                .await?;
            }
        }
        Ok(stock)
    }

    /// A variant's stock; a variant never stocked has none.
    pub async fn stock(&self, variant_id: &str) -> Result<Stock, InventoryError> {
        // A path that is not a variant id names nothing: 404, as for any other id.
        let variant_id = parse_variant_id("variant_id", variant_id)
            .map_err(|_| InventoryError::VariantNotFound)?;
        let mut found = self.stocks(std::slice::from_ref(&variant_id)).await?;
        found.pop().ok_or(InventoryError::VariantNotFound)
    }

    /// Stock of many variants at once (a cart's lines), with a constant number of queries.
    pub async fn stocks(&self, variant_ids: &[String]) -> Result<Vec<Stock>, InventoryError> {
        // Rows by key, as many as asked for: read on the task's own thread.
        let (level_rows, item_rows) = weft_storage::short_reads(async {
            let mut conn = self.db.conn().await?;
            let levels = store::levels_of(&mut conn, variant_ids).await?;
            let items = store::items_of(&mut conn, variant_ids).await?;
            Ok::<_, InventoryError>((levels, items))
        })
        .await?;
        let mut levels: HashMap<String, Vec<LevelRow>> = HashMap::new();
        for level in level_rows {
            levels
                .entry(level.variant_id.clone())
                .or_default()
                .push(level);
        }
        let items: HashMap<String, ItemRow> = item_rows
            .into_iter()
            .map(|i| (i.variant_id.clone(), i))
            .collect();
        Ok(variant_ids
            .iter()
            .map(|id| {
                stock(
                    id,
                    items.get(id),
                    levels.get(id).map_or(&[][..], Vec::as_slice),
                )
            })
            .collect())
    }

    /// Sets the count on hand at a location (and the threshold and backorder policy).
    pub async fn set_stock(
        &self,
        variant_id: &str,
        input: SetStock,
    ) -> Result<Stock, InventoryError> {
        let variant_id = parse_variant_id("variant_id", variant_id)
            .map_err(|_| InventoryError::VariantNotFound)?;
        let mut errors = Vec::new();
        if let Err(e) = parse_units("on_hand", input.on_hand, false) {
            errors.push(e);
        }
        if let Some(t) = input.low_stock_threshold
            && let Err(e) = parse_units("low_stock_threshold", t, false)
        {
            errors.push(e);
        }
        if !errors.is_empty() {
            return Err(InventoryError::Invalid(errors));
        }
        let now = self.now();
        let written = self
            .db
            .transaction(async |conn: &mut DbConn| {
                store::lock_item(conn, &variant_id).await?;
                let location = store::find_location(
                    conn,
                    input.location.as_deref().unwrap_or(DEFAULT_LOCATION),
                )
                .await?
                .ok_or(InventoryError::LocationNotFound)?;
                let item = if let Some(mut item) = store::find_item(conn, &variant_id).await? {
                    item.low_stock_threshold = input
                        .low_stock_threshold
                        .unwrap_or(item.low_stock_threshold);
                    item.allow_backorder = input.allow_backorder.unwrap_or(item.allow_backorder);
                    item.updated_at = now;
                    store::update_item(conn, &item).await?;
                    item
                } else {
                    let item = ItemRow {
                        variant_id: variant_id.clone(),
                        low_stock_threshold: input.low_stock_threshold.unwrap_or(0),
                        allow_backorder: input.allow_backorder.unwrap_or(false),
                        // Judged by `settle` below, from the real count.
                        low: false,
                        updated_at: now,
                        status: NEVER_STOCKED.to_owned(),
                        status_version: 0,
                    };
                    store::insert_item(conn, &item).await?;
                    item
                };
                let held = store::levels_of(conn, std::slice::from_ref(&variant_id))
                    .await?
                    .into_iter()
                    .find(|l| l.location_id == location.id)
                    .map_or(0, |l| l.reserved);
                if input.on_hand < held && !item.allow_backorder {
                    return Err(InventoryError::Invalid(vec![FieldError::new(
                        "on_hand",
                        format!("must be at least the {held} unit(s) reserved there"),
                    )]));
                }
                store::set_on_hand(conn, &variant_id, &location.id, input.on_hand, now).await?;
                self.settle(conn, &variant_id, now).await
            })
            .await?;
        self.bus.wake();
        tracing::info!(variant_id = %written.variant_id, on_hand = written.on_hand, "stock set");
        Ok(written)
    }

    /// Sets the default location's count for many variants at once (the demo shop's
    /// stock), in batches of 500 per transaction, for variants not stocked yet. No
    /// `InventoryLow` goes out: nothing *fell* to the threshold. Returns how many were
    /// stocked.
    pub async fn stock_new_variants(
        &self,
        counts: &[(String, i64)],
        low_stock_threshold: i64,
    ) -> Result<usize, InventoryError> {
        let mut stocked = 0;
        for batch in counts.chunks(500) {
            let now = self.now();
            stocked += self
                .db
                .transaction(async |conn: &mut DbConn| {
                    let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
                    let known: std::collections::HashSet<String> = store::items_of(conn, &ids)
                        .await?
                        .into_iter()
                        .map(|i| i.variant_id)
                        .collect();
                    let mut n = 0;
                    for (variant_id, on_hand) in batch {
                        if known.contains(variant_id) {
                            continue;
                        }
                        let on_hand = (*on_hand).clamp(0, crate::domain::MAX_UNITS);
                        let status = StockStatus::of(on_hand, low_stock_threshold, false);
                        store::insert_item(
                            conn,
                            &ItemRow {
                                variant_id: variant_id.clone(),
                                low_stock_threshold,
                                allow_backorder: false,
                                low: on_hand <= low_stock_threshold,
                                updated_at: now,
                                status: status.as_str().to_owned(),
                                status_version: 1,
                            },
                        )
                        .await?;
                        // The catalog learns these variants can be bought.
                        weft_bus::append(
                            conn,
                            &StockStatusChanged {
                                variant_id: variant_id.clone(),
                                status: status.as_str().to_owned(),
                                available: on_hand,
                                version: 1,
                            },
                        )
                        .await?;
                        store::set_on_hand(conn, variant_id, DEFAULT_LOCATION, on_hand, now)
                            .await?;
                        n += 1;
                    }
                    Ok::<_, InventoryError>(n)
                })
                .await?;
        }
        self.bus.wake();
        Ok(stocked)
    }

    /// Announces (`StockStatusChanged`, version 1) every variant whose status never was:
    /// stock that predates the event (an upgraded shop), or an item created at zero that
    /// never moved. Runs at start; idempotent. Returns how many were announced.
    pub async fn announce_unannounced(&self) -> Result<usize, InventoryError> {
        let mut announced = 0;
        loop {
            let now = self.now();
            let n = self
                .db
                .transaction(async |conn: &mut DbConn| {
                    let items = store::unannounced_items(conn, 500).await?;
                    let ids: Vec<String> = items.iter().map(|i| i.variant_id.clone()).collect();
                    let mut levels: HashMap<String, Vec<LevelRow>> = HashMap::new();
                    for level in store::levels_of(conn, &ids).await? {
                        levels
                            .entry(level.variant_id.clone())
                            .or_default()
                            .push(level);
                    }
                    for mut item in items.iter().cloned() {
                        let stock = stock(
                            &item.variant_id,
                            Some(&item),
                            levels.get(&item.variant_id).map_or(&[][..], Vec::as_slice),
                        );
                        stock.status.as_str().clone_into(&mut item.status);
                        item.status_version = 1;
                        item.updated_at = now;
                        store::update_item(conn, &item).await?;
                        weft_bus::append(
                            conn,
                            &StockStatusChanged {
                                variant_id: item.variant_id.clone(),
                                status: item.status.clone(),
                                available: stock.available,
                                version: 1,
                            },
                        )
                        .await?;
                    }
                    Ok::<_, InventoryError>(items.len())
                })
                .await?;
            announced += n;
            if n == 0 {
                break;
            }
        }
        if announced > 0 {
            self.bus.wake();
        }
        Ok(announced)
    }

    /// Sends what is waiting in the outbox now (after a handler's transaction).
    pub fn wake(&self) {
        self.bus.wake();
    }

    /// Puts units back on the shelf (a cancelled order, a return).
    pub async fn restock(
        &self,
        variant_id: &str,
        quantity: i64,
        location: Option<&str>,
    ) -> Result<Stock, InventoryError> {
        let written = self
            .db
            .transaction(async |conn: &mut DbConn| {
                self.restock_in(conn, variant_id, quantity, location).await
            })
            .await?;
        self.bus.wake();
        Ok(written)
    }

    /// [`Self::restock`] in the caller's transaction (an event handler's, so that units
    /// go back once per event).
    pub async fn restock_in(
        &self,
        conn: &mut DbConn,
        variant_id: &str,
        quantity: i64,
        location: Option<&str>,
    ) -> Result<Stock, InventoryError> {
        let variant_id = parse_variant_id("variant_id", variant_id)
            .map_err(|_| InventoryError::VariantNotFound)?;
        parse_units("quantity", quantity, true).map_err(|e| InventoryError::Invalid(vec![e]))?;
        let now = self.now();
        store::lock_item(conn, &variant_id).await?;
        let location = store::find_location(conn, location.unwrap_or(DEFAULT_LOCATION))
            .await?
            .ok_or(InventoryError::LocationNotFound)?;
        if store::find_item(conn, &variant_id).await?.is_none() {
            store::insert_item(
                conn,
                &ItemRow {
                    variant_id: variant_id.clone(),
                    low_stock_threshold: 0,
                    allow_backorder: false,
                    low: false,
                    updated_at: now,
                    status: NEVER_STOCKED.to_owned(),
                    status_version: 0,
                },
            )
            .await?;
        }
        if !store::adjust_level(conn, &variant_id, &location.id, quantity, 0, None, now).await? {
            store::set_on_hand(conn, &variant_id, &location.id, quantity, now).await?;
        }
        self.settle(conn, &variant_id, now).await
    }

    /// Variants in id order; only those at or below their threshold when `low_only`.
    pub async fn list(
        &self,
        low_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Stock>, InventoryError> {
        let after: Option<String> = page
            .cursor
            .as_ref()
            .map(Cursor::decode::<String>)
            .transpose()
            .map_err(|_| InventoryError::field("cursor", "is not a cursor this API issued"))?;
        let mut conn = self.db.conn().await?;
        let rows =
            store::list_items(&mut conn, low_only, after.as_deref(), page.fetch_size()).await?;
        let page = Page::from_rows(rows, page, |r: &ItemRow| r.variant_id.clone());
        let ids: Vec<String> = page.data.iter().map(|i| i.variant_id.clone()).collect();
        let mut levels: HashMap<String, Vec<LevelRow>> = HashMap::new();
        for level in store::levels_of(&mut conn, &ids).await? {
            levels
                .entry(level.variant_id.clone())
                .or_default()
                .push(level);
        }
        Ok(Page {
            data: page
                .data
                .iter()
                .map(|item| {
                    stock(
                        &item.variant_id,
                        Some(item),
                        levels.get(&item.variant_id).map_or(&[][..], Vec::as_slice),
                    )
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    pub async fn locations(&self) -> Result<Vec<Location>, InventoryError> {
        let mut conn = self.db.conn().await?;
        Ok(store::list_locations(&mut conn)
            .await?
            .into_iter()
            .map(location)
            .collect())
    }

    pub async fn create_location(
        &self,
        code: &str,
        name: &str,
    ) -> Result<Location, InventoryError> {
        let mut errors = Vec::new();
        let code = code.trim().to_lowercase();
        if code.is_empty()
            || code.len() > 40
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            errors.push(FieldError::new(
                "code",
                "must be 1–40 letters, digits, `-` or `_`",
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "must be 1–200 characters"));
        }
        if !errors.is_empty() {
            return Err(InventoryError::Invalid(errors));
        }
        let row = LocationRow {
            id: LocationId::generate().to_string(),
            code: code.clone(),
            name: name.to_owned(),
            is_default: false,
            created_at: self.now(),
        };
        self.db
            .transaction(async |conn: &mut DbConn| {
                if store::find_location(conn, &code).await?.is_some() {
                    return Err(InventoryError::CodeTaken(code.clone()));
                }
                store::insert_location(conn, &row).await?;
                Ok(())
            })
            .await?;
        Ok(location(row))
    }

    /// Holds `quantity` units for `reference` at the location with the most available,
    /// or answers `out_of_stock` with what is available; never oversells.
    pub async fn reserve(&self, input: NewReservation) -> Result<Reservation, InventoryError> {
        let mut errors = Vec::new();
        let variant_id = parse_variant_id("variant_id", &input.variant_id)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        if let Err(e) = parse_units("quantity", input.quantity, true) {
            errors.push(e);
        }
        let reference = input.reference.trim().to_owned();
        if reference.is_empty() || reference.len() > 200 {
            errors.push(FieldError::new("reference", "must be 1–200 characters"));
        }
        let ttl = input.ttl.unwrap_or(self.reservation_ttl);
        if ttl.is_zero() || ttl > MAX_TTL {
            errors.push(FieldError::new(
                "ttl_seconds",
                "must be between 1 and 86400",
            ));
        }
        if !errors.is_empty() {
            return Err(InventoryError::Invalid(errors));
        }
        let now = self.now();
        let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or_default();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                self.hold(
                    conn,
                    &variant_id,
                    input.quantity,
                    &reference,
                    expires_at,
                    now,
                )
                .await
            })
            .await?;
        self.bus.wake();
        Ok(reservation(row))
    }

    /// Holds every line for `reference`, all or none, in one transaction (variants locked
    /// in id order, so two checkouts of the same variants cannot deadlock). A line that
    /// cannot be covered answers `out_of_stock` and nothing is held. Asking again for
    /// the same reference answers the reservations it holds.
    pub async fn reserve_all(
        &self,
        lines: &[(String, i64)],
        reference: &str,
        ttl: Option<Duration>,
    ) -> Result<Vec<Reservation>, InventoryError> {
        let mut lines: Vec<(String, i64)> = lines.to_vec();
        lines.sort();
        let reference = reference.trim().to_owned();
        let mut errors = Vec::new();
        if reference.is_empty() || reference.len() > 200 {
            errors.push(FieldError::new("reference", "must be 1–200 characters"));
        }
        for (i, (variant_id, quantity)) in lines.iter().enumerate() {
            if parse_variant_id(&format!("lines[{i}].variant_id"), variant_id).is_err() {
                return Err(InventoryError::VariantNotFound);
            }
            if let Err(e) = parse_units(&format!("lines[{i}].quantity"), *quantity, true) {
                errors.push(e);
            }
        }
        if !errors.is_empty() {
            return Err(InventoryError::Invalid(errors));
        }
        let ttl = ttl.unwrap_or(self.reservation_ttl).min(MAX_TTL);
        let now = self.now();
        let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or_default();
        let rows = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut held = Vec::with_capacity(lines.len());
                for (variant_id, quantity) in &lines {
                    held.push(
                        self.hold(conn, variant_id, *quantity, &reference, expires_at, now)
                            .await?,
                    );
                }
                Ok::<_, InventoryError>(held)
            })
            .await?;
        self.bus.wake();
        Ok(rows.into_iter().map(reservation).collect())
    }

    /// Holds `quantity` of `variant_id` for `reference` inside `conn`'s transaction, at
    /// the location with the most available; `out_of_stock` when none can cover it.
    async fn hold(
        &self,
        conn: &mut DbConn,
        variant_id: &str,
        quantity: i64,
        reference: &str,
        expires_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<ReservationRow, InventoryError> {
        let variant_id = variant_id.to_owned();
        let reference = reference.to_owned();
        store::lock_item(conn, &variant_id).await?;
        // A retried reservation (a saga step run again) is the one it made.
        if let Some(held) = store::active_reservation_of(conn, &variant_id, &reference).await? {
            if held.quantity != quantity {
                return Err(InventoryError::field(
                    "reference",
                    "already holds this variant in another quantity: release it first",
                ));
            }
            return Ok(held);
        }
        let item = store::find_item(conn, &variant_id).await?;
        let backorder = item.as_ref().is_some_and(|i| i.allow_backorder);
        let levels = store::levels_of(conn, std::slice::from_ref(&variant_id)).await?;
        // Most available first: the single location that can cover the line.
        let mut chosen = None;
        for level in &levels {
            let guard = (!backorder).then_some(quantity);
            if store::adjust_level(
                conn,
                &variant_id,
                &level.location_id,
                0,
                quantity,
                guard,
                now,
            )
            .await?
            {
                chosen = Some(level.location_id.clone());
                break;
            }
        }
        let Some(location_id) = chosen else {
            let available = levels.iter().map(|l| l.on_hand - l.reserved).sum();
            return Err(InventoryError::OutOfStock { available });
        };
        let row = ReservationRow {
            id: ReservationId::generate().to_string(),
            variant_id: variant_id.clone(),
            location_id,
            quantity,
            reference: reference.clone(),
            status: ReservationStatus::Active.as_str().to_owned(),
            expires_at,
            created_at: now,
            updated_at: now,
        };
        store::insert_reservation(conn, &row).await?;
        self.settle(conn, &variant_id, now).await?;
        Ok(row)
    }

    pub async fn reservation(&self, id: &str) -> Result<Reservation, InventoryError> {
        let mut conn = self.db.conn().await?;
        store::find_reservation(&mut conn, id)
            .await?
            .map(reservation)
            .ok_or(InventoryError::ReservationNotFound)
    }

    /// Gives the held units back (checkout failed or abandoned).
    pub async fn release(&self, id: &str) -> Result<Reservation, InventoryError> {
        self.finish(id, ReservationStatus::Released).await
    }

    /// The sale happened: the held units leave the shelf.
    pub async fn commit(&self, id: &str) -> Result<Reservation, InventoryError> {
        self.finish(id, ReservationStatus::Committed).await
    }

    /// Gives back every unit `reference` still holds (its checkout failed); returns how
    /// many reservations were released. Asking again releases nothing more.
    pub async fn release_reference(&self, reference: &str) -> Result<usize, InventoryError> {
        let now = self.now();
        let released = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut n = 0;
                for row in store::reservations_by_reference(conn, reference).await? {
                    if row.status != ReservationStatus::Active.as_str() {
                        continue;
                    }
                    store::lock_item(conn, &row.variant_id).await?;
                    if !store::finish_reservation(
                        conn,
                        &row.id,
                        ReservationStatus::Released.as_str(),
                        now,
                    )
                    .await?
                    {
                        continue;
                    }
                    store::adjust_level(
                        conn,
                        &row.variant_id,
                        &row.location_id,
                        0,
                        -row.quantity,
                        None,
                        now,
                    )
                    .await?;
                    self.settle(conn, &row.variant_id, now).await?;
                    n += 1;
                }
                Ok::<_, InventoryError>(n)
            })
            .await?;
        if released > 0 {
            self.bus.wake();
        }
        Ok(released)
    }

    /// The sale of `lines` happened: the units `reference` holds leave the shelf, all in
    /// one transaction. A line whose hold lapsed meanwhile (swept after its expiry) is
    /// taken from what is available now, or nothing is committed and the answer is
    /// `out_of_stock`. Asking again commits nothing twice.
    pub async fn commit_reference(
        &self,
        reference: &str,
        lines: &[(String, i64)],
    ) -> Result<Vec<Reservation>, InventoryError> {
        let mut lines: Vec<(String, i64)> = lines.to_vec();
        lines.sort();
        let now = self.now();
        let committed = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let existing = store::reservations_by_reference(conn, reference).await?;
                let mut out = Vec::with_capacity(lines.len());
                for (variant_id, quantity) in &lines {
                    let mine = || existing.iter().filter(|r| &r.variant_id == variant_id);
                    if let Some(done) =
                        mine().find(|r| r.status == ReservationStatus::Committed.as_str())
                    {
                        out.push(done.clone());
                        continue;
                    }
                    // Takes the active hold, or holds anew what is available now.
                    let mut row = self
                        .hold(conn, variant_id, *quantity, reference, now, now)
                        .await?;
                    store::finish_reservation(
                        conn,
                        &row.id,
                        ReservationStatus::Committed.as_str(),
                        now,
                    )
                    .await?;
                    store::adjust_level(
                        conn,
                        variant_id,
                        &row.location_id,
                        -row.quantity,
                        -row.quantity,
                        None,
                        now,
                    )
                    .await?;
                    self.settle(conn, variant_id, now).await?;
                    ReservationStatus::Committed
                        .as_str()
                        .clone_into(&mut row.status);
                    out.push(row);
                }
                Ok::<_, InventoryError>(out)
            })
            .await?;
        self.bus.wake();
        Ok(committed.into_iter().map(reservation).collect())
    }

    async fn finish(&self, id: &str, to: ReservationStatus) -> Result<Reservation, InventoryError> {
        let now = self.now();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_reservation(conn, id)
                    .await?
                    .ok_or(InventoryError::ReservationNotFound)?;
                store::lock_item(conn, &row.variant_id).await?;
                if !store::finish_reservation(conn, id, to.as_str(), now).await? {
                    return Err(InventoryError::ReservationNotActive(row.status));
                }
                let on_hand = if to == ReservationStatus::Committed {
                    -row.quantity
                } else {
                    0
                };
                store::adjust_level(
                    conn,
                    &row.variant_id,
                    &row.location_id,
                    on_hand,
                    -row.quantity,
                    None,
                    now,
                )
                .await?;
                self.settle(conn, &row.variant_id, now).await?;
                to.as_str().clone_into(&mut row.status);
                row.updated_at = now;
                Ok(row)
            })
            .await?;
        self.bus.wake();
        Ok(reservation(row))
    }

    /// Releases every reservation whose time ran out; returns how many.
    pub async fn sweep_expired(&self) -> Result<usize, InventoryError> {
        let mut released = 0;
        loop {
            let ids = {
                let mut conn = self.db.conn().await?;
                store::expired_reservations(&mut conn, self.now(), SWEEP_BATCH).await?
            };
            if ids.is_empty() {
                return Ok(released);
            }
            for id in &ids {
                match self.finish(id, ReservationStatus::Expired).await {
                    Ok(_) => released += 1,
                    // Committed or released meanwhile: nothing to give back.
                    Err(InventoryError::ReservationNotActive(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// What inventory runs in the process hosting it: the sweeper of expired holds
    /// (every `sweep_every`), a one-off announcement of stock statuses the catalog has not
    /// heard of (an upgraded shop), and the restocker of cancelled orders' and received
    /// returns' units.
    pub fn workers(&self, sweep_every: Duration) -> Vec<weft_bus::Worker> {
        let announcing = self.clone();
        vec![
            weft_bus::Worker::task("inventory-sweeper", self.clone().run_sweeper(sweep_every)),
            weft_bus::Worker::task("stock-announcer", async move {
                match announcing.announce_unannounced().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(variants = n, "stock statuses announced"),
                    Err(err) => {
                        tracing::warn!(error = %err, "announcing stock statuses failed; next start retries");
                    }
                }
            }),
            weft_bus::Worker::consumer(crate::events::Restocker(self.clone())),
        ]
    }

    /// Sweeps expired reservations every `every`, for as long as the process runs.
    pub async fn run_sweeper(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.sweep_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, "expired reservations released"),
                Err(err) => tracing::warn!(error = %err, "reservation sweep failed; will retry"),
            }
        }
    }
}
