//! The cart's use cases. A cart stores only variant ids and quantities; every read asks
//! the catalog for the current prices and recomputes the totals, so a price change shows
//! at once and a client can never set a price.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use tokio::sync::broadcast;
use weft_bus::live::{Fanout, MemoryFanout, Notice};
use weft_cache::Cache;
use weft_kernel::id::PrefixedId;
use weft_kernel::money::{add_amounts, mul_amount, sub_amounts, sum_amounts};
use weft_kernel::{Clock, Currency, FieldError};
use weft_storage::{Db, DbConn, short_reads};

use crate::domain::{
    CartId, CartItemId, PricedLine, PromotionKind, Rejection, apply_promotions, tax_in_gross,
    tax_on_net,
};
use crate::error::CartError;
use crate::store::{self, CartRow, ItemRow, PromotionRow};
use weft_inventory::client::{Availability, Inventory};

/// What a cart needs to know of a variant: the catalog's answer.
pub use weft_catalog::client::Variant as VariantInfo;

/// The catalog's or inventory's trouble, whatever it is, stops a cart change: 503
/// `upstream_unavailable`.
fn upstream(err: &weft_peer_client::ClientError) -> CartError {
    CartError::Upstream(err.to_string())
}

/// Tax rates by destination and which currencies' prices include tax.
#[derive(Debug, Clone, Default)]
pub struct TaxRules {
    /// `"US-CA"` or `"DE"` → basis points (7.25% = 725); a region's rate wins over its
    /// country's.
    pub rates: HashMap<String, u32>,
    /// Currencies whose catalog prices already include tax (`EUR`, `GBP`).
    pub inclusive_currencies: Vec<String>,
}

impl TaxRules {
    fn rate(&self, country: Option<&str>, region: Option<&str>) -> u32 {
        let Some(country) = country else { return 0 };
        region
            .and_then(|r| self.rates.get(&format!("{country}-{r}")))
            .or_else(|| self.rates.get(country))
            .copied()
            .unwrap_or(0)
    }
}

/// A way to ship, as the shop configures it.
#[derive(Debug, Clone, Default)]
pub struct ShippingMethod {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; empty: everywhere.
    pub countries: Vec<String>,
    /// Currency → price in minor units.
    pub prices: HashMap<String, i64>,
    /// Currency → goods total from which it is free.
    pub free_over: HashMap<String, i64>,
    pub delivery_estimate: String,
}

impl ShippingMethod {
    /// What it costs a cart in `currency` shipping to `country` with `goods` worth of
    /// goods, or `None` when it is not offered there (or not in that currency).
    fn price(&self, country: Option<&str>, currency: &str, goods: i64) -> Option<i64> {
        let ships = self.countries.is_empty()
            || country.is_some_and(|c| self.countries.iter().any(|x| x.eq_ignore_ascii_case(c)));
        let price = *self.prices.get(currency)?;
        if !ships {
            return None;
        }
        let free = self.free_over.get(currency).is_some_and(|t| goods >= *t);
        Some(if free { 0 } else { price })
    }
}

/// A shipping method offered to a cart, priced for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingOption {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub delivery_estimate: String,
}

/// Changes to a cart; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct CartPatch {
    pub country: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub shipping_method_id: Option<Option<String>>,
    /// Re-prices the cart in another currency (carts price on every read, so the lines
    /// follow; a line without a price in it stays, unpurchasable).
    pub currency: Option<String>,
}

/// How carts behave.
#[derive(Debug, Clone)]
pub struct CartConfig {
    /// Most units of one variant in a cart.
    pub max_quantity: i64,
    /// How long a cart lives after its last change.
    pub ttl: Duration,
    pub default_currency: String,
    pub tax: TaxRules,
    pub shipping: Vec<ShippingMethod>,
    /// A customer's cart with lines and no change for this long is abandoned
    /// (`cart.abandoned`); `None`: never.
    pub abandoned_after: Option<Duration>,
}

/// A cart as clients see it, priced now.
#[derive(Debug, Clone, PartialEq)]
pub struct Cart {
    pub id: String,
    pub customer_id: Option<String>,
    pub currency: Currency,
    pub country: Option<String>,
    pub region: Option<String>,
    /// The chosen shipping method, while it is offered for the cart's destination.
    pub shipping_method_id: Option<String>,
    pub items: Vec<Line>,
    /// The codes the cart holds, in the order applied, each with what it takes off now.
    pub promotions: Vec<AppliedPromotion>,
    /// Units over every line.
    pub item_count: i64,
    pub subtotal: i64,
    /// Off the goods and off shipping, over every code.
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub tax_rate_bps: u32,
    /// Prices in this currency include tax (then `total` does not add it again).
    pub tax_inclusive: bool,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub id: String,
    pub variant_id: String,
    pub product_id: Option<String>,
    pub title: String,
    pub handle: Option<String>,
    pub sku: Option<String>,
    pub options: BTreeMap<String, String>,
    pub image_url: Option<String>,
    pub quantity: i64,
    /// The catalog's price now; `None` when the line cannot be bought (see `purchasable`).
    pub unit_price: Option<i64>,
    pub compare_at_price: Option<i64>,
    pub line_total: i64,
    /// What the cart's codes take off this line.
    pub discount: i64,
    /// False when the product left sale or has no price in the cart's currency: the line
    /// stays (so the customer sees why) but counts for nothing.
    pub purchasable: bool,
}

/// A code a cart holds and what it does to it now.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedPromotion {
    pub promotion_id: String,
    pub code: String,
    pub description: String,
    pub kind: PromotionKind,
    /// Taken off now (goods and shipping).
    pub amount: i64,
    /// Why it takes nothing now (the cart changed, the code ended…); it stays on the
    /// cart and counts again once it qualifies.
    pub rejection: Option<Rejection>,
}

/// A cart's rows as stored, ready to be priced (and what the hot copy keeps).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Stored {
    pub cart: CartRow,
    pub items: Vec<ItemRow>,
    pub promotions: Vec<PromotionRow>,
    /// Promotions this cart's customer used as often as they may.
    pub used_up: Vec<String>,
}

/// The cart service of this process.
#[derive(Clone)]
pub struct CartService {
    pub(crate) db: Db,
    catalog: Arc<dyn weft_catalog::client::Catalog>,
    stock: Arc<dyn Inventory>,
    clock: Clock,
    config: Arc<CartConfig>,
    /// Tells watchers of a cart (any process) that it changed.
    live: Arc<dyn Fanout>,
    /// Hot copies of carts' rows (Redis in a cluster); the database stays the truth.
    hot: Option<Cache>,
}

impl std::fmt::Debug for CartService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CartService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Where hot copies live in the cache, and for how long. A generation outlives every
/// copy made under it (and every cart).
const HOT_PREFIX: &str = "cart:hot:";
const HOT_TTL: Duration = Duration::from_mins(5);
const HOT_GENERATION_TTL: Duration = Duration::from_hours(8 * 24);
const PROMOTIONS_GENERATION: &str = "cart:hot:promotions";

/// The generations a hot copy is keyed by: its cart's and the promotions'.
#[derive(Debug, Clone, Copy)]
struct Generations {
    cart: i64,
    promotions: i64,
}

impl Generations {
    /// As they are now (0 for a generation never moved, or a cache that cannot answer).
    async fn read(hot: &Cache, cart_id: &str) -> Self {
        Self {
            cart: hot
                .get_json(&format!("{HOT_PREFIX}gen:{cart_id}"))
                .await
                .unwrap_or_default(),
            promotions: hot
                .get_json(PROMOTIONS_GENERATION)
                .await
                .unwrap_or_default(),
        }
    }

    fn key(self, cart_id: &str) -> String {
        format!("{HOT_PREFIX}{cart_id}:{}:{}", self.cart, self.promotions)
    }
}

/// The live notices' topic for carts.
const LIVE_TOPIC: &str = "cart";

struct Watch {
    next: Option<Cart>,
    rx: broadcast::Receiver<Notice>,
    svc: CartService,
    id: String,
    who: Option<String>,
}

/// Carts deleted per sweep round.
const SWEEP_BATCH: i64 = 500;

impl CartService {
    pub fn new(
        db: Db,
        catalog: Arc<dyn weft_catalog::client::Catalog>,
        stock: Arc<dyn Inventory>,
        clock: Clock,
        config: CartConfig,
    ) -> Self {
        Self {
            db,
            catalog,
            stock,
            clock,
            config: Arc::new(config),
            live: Arc::new(MemoryFanout::default()),
            hot: None,
        }
    }

    /// Keeps hot copies of carts' rows in `cache`, so a read skips the database. Each
    /// copy is keyed by its cart's generation, which every change moves after it commits,
    /// and by the promotions' generation: a reader that loaded the rows before a change
    /// can only store them under a generation nobody asks for again.
    #[must_use]
    pub fn with_hot_copy(mut self, cache: Cache) -> Self {
        self.hot = Some(cache);
        self
    }

    /// Carries change notices through `live` (a cluster's RabbitMQ fanout) instead of
    /// this process alone.
    #[must_use]
    pub fn with_live(mut self, live: Arc<dyn Fanout>) -> Self {
        self.live = live;
        self
    }

    /// Retires the cart's hot copy, then tells its watchers it changed (after the change
    /// committed, so both re-read the new state).
    pub(crate) async fn changed(&self, cart_id: &str) {
        self.changed_to(cart_id, None).await;
    }

    /// [`Self::changed`] by a change that knows the cart's rows as it committed them, read
    /// at generation `read`: they become the new generation's copy, so the next read or
    /// change of the cart skips the database. Only when the generation this change moved
    /// is the one after `read`: no other change was counted between, and one that
    /// committed after this one and is not counted yet moves the generation past this
    /// copy when it is (a reader meanwhile runs alongside that change, whose answer has
    /// not been given).
    async fn changed_to(&self, cart_id: &str, now: Option<(Generations, &Stored)>) {
        if let Some(hot) = &self.hot {
            let moved = hot
                .increment(&format!("{HOT_PREFIX}gen:{cart_id}"), HOT_GENERATION_TTL)
                .await;
            if let (Some(moved), Some((read, stored))) = (moved, now) {
                // Nobody asks for the copy read any more: it goes now, not when its time
                // is up or the cache is full (a copy per change would crowd out answers).
                hot.invalidate(&read.key(cart_id)).await;
                if read.cart.checked_add(1) == Some(moved) {
                    let next = Generations {
                        cart: moved,
                        promotions: read.promotions,
                    };
                    hot.set_json(&next.key(cart_id), stored, HOT_TTL).await;
                }
            }
        }
        self.live
            .publish(Notice {
                topic: LIVE_TOPIC.to_owned(),
                key: cart_id.to_owned(),
            })
            .await;
    }

    /// The cart now, then again after every change to it (from any process), for as long
    /// as it exists for `who`; the stream ends when the cart is gone (expired, merged,
    /// deleted). 404 at once for a cart `who` may not see. A burst of changes is read
    /// once.
    pub async fn watch(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<impl futures::Stream<Item = Cart> + Send + use<>, CartError> {
        // Subscribed before the first read, so no change falls between the two. Watchers
        // read the database, not the hot copy: the cache fails open, so a change whose
        // generation bump timed out (a slow Redis) would otherwise reach them as the old
        // cart. A notice is rare next to reads; one query set per notice is cheap.
        let rx = self.live.subscribe();
        let first = self.get_from_database(id, who).await?;
        let state = Watch {
            next: Some(first),
            rx,
            svc: self.clone(),
            id: id.to_owned(),
            who: who.map(str::to_owned),
        };
        Ok(futures::stream::unfold(Some(state), |state| async move {
            let mut state = state?;
            if let Some(cart) = state.next.take() {
                return Some((cart, Some(state)));
            }
            loop {
                match state.rx.recv().await {
                    Ok(n) if n.topic == LIVE_TOPIC && n.key == state.id => break,
                    Ok(_) => {}
                    // Fell behind: whatever was missed, the read below is current.
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
            // Coalesce what already queued up behind it: one read covers them all.
            while state.rx.try_recv().is_ok() {}
            let cart = state
                .svc
                .get_from_database(&state.id, state.who.as_deref())
                .await
                .ok()?;
            Some((cart, Some(state)))
        }))
    }

    pub(crate) fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    pub(crate) fn expiry(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + chrono::Duration::from_std(self.config.ttl).unwrap_or_default()
    }

    /// A live cart `who` may use: a guest cart for anyone holding its id, a customer's
    /// for that customer only (404 for anyone else, never revealing it exists).
    pub(crate) async fn owned(
        &self,
        conn: &mut DbConn,
        id: &str,
        who: Option<&str>,
    ) -> Result<CartRow, CartError> {
        let cart = store::find_live_cart(conn, id, self.now())
            .await?
            .ok_or(CartError::CartNotFound)?;
        match &cart.customer_id {
            Some(owner) if Some(owner.as_str()) != who => Err(CartError::CartNotFound),
            _ => Ok(cart),
        }
    }

    /// A new cart — or, for a signed-in customer who has one, theirs (`false`).
    pub async fn create(
        &self,
        who: Option<&str>,
        currency: Option<&str>,
    ) -> Result<(Cart, bool), CartError> {
        let currency = Currency::parse(
            &currency
                .unwrap_or(&self.config.default_currency)
                .trim()
                .to_uppercase(),
        )
        .map_err(|e| CartError::field("currency", e.to_string()))?;
        let now = self.now();
        let (row, created) = self
            .db
            .transaction(async |conn: &mut DbConn| {
                if let Some(customer) = who
                    && let Some(existing) = store::customer_cart(conn, customer, now).await?
                {
                    return Ok::<_, CartError>((existing, false));
                }
                let row = CartRow {
                    id: CartId::generate().to_string(),
                    customer_id: who.map(str::to_owned),
                    currency: currency.code().to_owned(),
                    country: None,
                    region: None,
                    created_at: now,
                    updated_at: now,
                    expires_at: self.expiry(now),
                    shipping_method_id: None,
                };
                store::insert_cart(conn, &row).await?;
                Ok((row, true))
            })
            .await?;
        // A new cart has no lines or codes to read back. Another is read on a connection
        // that goes back before pricing: the catalog takes one of its own, and holding two
        // per request would starve the pool under load.
        let stored = if created {
            Stored {
                cart: row,
                items: Vec::new(),
                promotions: Vec::new(),
                used_up: Vec::new(),
            }
        } else {
            self.load_row(row).await?
        };
        Ok((self.price(stored).await?, created))
    }

    pub async fn get(&self, id: &str, who: Option<&str>) -> Result<Cart, CartError> {
        let Some(hot) = &self.hot else {
            return self.get_from_database(id, who).await;
        };
        let key = Generations::read(hot, id).await.key(id);
        let stored: Stored = hot
            .get_or_load(&key, HOT_TTL, async || {
                short_reads(async {
                    let mut conn = self.db.conn().await?;
                    let cart = store::find_live_cart(&mut conn, id, self.now())
                        .await?
                        .ok_or(CartError::CartNotFound)?;
                    Self::load(&mut conn, cart).await
                })
                .await
            })
            .await?;
        self.check_copy(&stored, who)?;
        self.price(stored).await
    }

    /// The same rules as `owned`, on a hot copy: expired, or someone else's, is 404.
    fn check_copy(&self, stored: &Stored, who: Option<&str>) -> Result<(), CartError> {
        let theirs = stored
            .cart
            .customer_id
            .as_deref()
            .is_some_and(|owner| Some(owner) != who);
        if stored.cart.expires_at <= self.now() || theirs {
            return Err(CartError::CartNotFound);
        }
        Ok(())
    }

    /// The cart's rows for a change, with the generations they were read at when there is
    /// a hot copy: the copy when it is there, else the database. A copy can be behind a
    /// change that committed and is not counted yet; the change's write finds the cart
    /// stamped since and reads it again, so it costs a read, never a wrong answer.
    async fn for_change(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<(Stored, Option<Generations>), CartError> {
        let Some(hot) = &self.hot else {
            return Ok((self.stored(id, who).await?, None));
        };
        let read = Generations::read(hot, id).await;
        let stored = match hot.get_json::<Stored>(&read.key(id)).await {
            Some(copy) => {
                self.check_copy(&copy, who)?;
                copy
            }
            None => self.stored(id, who).await?,
        };
        Ok((stored, Some(read)))
    }

    /// The cart read from the database, never from a hot copy.
    async fn get_from_database(&self, id: &str, who: Option<&str>) -> Result<Cart, CartError> {
        // Released before pricing (see `create`).
        let stored = self.stored(id, who).await?;
        self.price(stored).await
    }

    /// Retires every hot copy's promotions (a promotion changed or went).
    pub(crate) async fn promotions_changed(&self) {
        if let Some(hot) = &self.hot {
            hot.increment(PROMOTIONS_GENERATION, HOT_GENERATION_TTL)
                .await;
        }
    }

    /// The live cart `who` may see, with its lines and codes: a few rows by key, read on
    /// the task's own thread (see [`short_reads`]).
    pub(crate) async fn stored(&self, id: &str, who: Option<&str>) -> Result<Stored, CartError> {
        short_reads(async {
            let mut conn = self.db.conn().await?;
            let cart = self.owned(&mut conn, id, who).await?;
            Self::load(&mut conn, cart).await
        })
        .await
    }

    /// [`Self::load`] of `cart` on a connection of its own, as [`Self::stored`] reads.
    async fn load_row(&self, cart: CartRow) -> Result<Stored, CartError> {
        short_reads(async {
            let mut conn = self.db.conn().await?;
            Self::load(&mut conn, cart).await
        })
        .await
    }

    /// A cart's lines and codes, and which codes its customer has used up.
    pub(crate) async fn load(conn: &mut DbConn, cart: CartRow) -> Result<Stored, CartError> {
        let items = store::items_of(conn, &cart.id).await?;
        let promotions = store::promotions_of_cart(conn, &cart.id).await?;
        let mut used_up = Vec::new();
        if let Some(customer) = &cart.customer_id {
            for p in &promotions {
                if let Some(limit) = p.per_customer_limit
                    && store::uses_by(conn, &p.id, customer).await? >= limit
                {
                    used_up.push(p.id.clone());
                }
            }
        }
        Ok(Stored {
            cart,
            items,
            promotions,
            used_up,
        })
    }

    fn check_quantity(&self, quantity: i64) -> Result<(), CartError> {
        let max = self.config.max_quantity;
        if (1..=max).contains(&quantity) {
            Ok(())
        } else {
            Err(CartError::field(
                "quantity",
                format!("must be between 1 and {max}"),
            ))
        }
    }

    /// Refuses a line of `quantity` units of `variant` in `currency` that cannot be sold.
    async fn check_sellable(
        &self,
        variant_id: &str,
        quantity: i64,
        currency: &str,
        variants: &HashMap<String, VariantInfo>,
    ) -> Result<(), CartError> {
        let info = variants
            .get(variant_id)
            .ok_or_else(|| CartError::field("variant_id", "is not a variant of the catalog"))?;
        if !info.purchasable {
            return Err(CartError::ProductUnavailable);
        }
        if !info.prices.contains_key(currency) {
            return Err(CartError::PriceUnavailable(currency.to_owned()));
        }
        let stock = self
            .stock
            .availability(&[variant_id.to_owned()])
            .await
            .map_err(|e| upstream(&e))?;
        let stock = stock.get(variant_id).copied().unwrap_or(Availability {
            available: 0,
            backorder: false,
        });
        if !stock.backorder && stock.available < quantity {
            return Err(CartError::OutOfStock {
                available: stock.available.max(0),
            });
        }
        Ok(())
    }

    /// Refuses to make the line of `variant_id` hold `quantity` units (a new line when
    /// the cart has none) when the cart could then not be priced: a total out of range
    /// is a 422 naming `quantity`, before anything is stored.
    async fn check_totals(
        &self,
        cart: CartRow,
        variant_id: &str,
        quantity: i64,
    ) -> Result<(), CartError> {
        let mut trial = self.load_row(cart).await?;
        match trial.items.iter_mut().find(|i| i.variant_id == variant_id) {
            Some(line) => line.quantity = quantity,
            None => trial.items.push(ItemRow {
                id: String::new(),
                cart_id: trial.cart.id.clone(),
                variant_id: variant_id.to_owned(),
                quantity,
                created_at: trial.cart.updated_at,
            }),
        }
        match self.price(trial).await {
            Ok(_) => Ok(()),
            Err(CartError::AmountOutOfRange { .. }) => Err(CartError::AmountOutOfRange {
                field: "quantity".to_owned(),
            }),
            Err(other) => Err(other),
        }
    }

    /// Adds units of a variant (to its line, when there is one). The cart is read once
    /// and priced once: the answer is the cart as written, unless another request changed
    /// its lines meanwhile (then it is read again).
    pub async fn add_item(
        &self,
        id: &str,
        who: Option<&str>,
        variant_id: &str,
        quantity: i64,
    ) -> Result<Cart, CartError> {
        use chrono::SubsecRound as _;
        self.check_quantity(quantity)?;
        let variant_id = variant_id.trim().to_owned();
        let (mut trial, read) = self.for_change(id, who).await?;
        let seen = trial.cart.updated_at;
        let existing = trial.items.iter().find(|i| i.variant_id == variant_id);
        let wanted = existing.map_or(0, |i| i.quantity) + quantity;
        if wanted > self.config.max_quantity {
            return Err(CartError::Invalid(vec![FieldError::new(
                "quantity",
                format!(
                    "the line would hold {wanted}; at most {} per line",
                    self.config.max_quantity
                ),
            )]));
        }
        // Stored at the precision every database keeps, so the answer is what a read
        // of the cart gives.
        let now = self.now().trunc_subsecs(6);
        let expires_at = self.expiry(now);
        let mut new_line = None;
        if let Some(line) = trial.items.iter_mut().find(|i| i.variant_id == variant_id) {
            line.quantity = wanted;
        } else {
            let line = ItemRow {
                id: CartItemId::generate().to_string(),
                cart_id: trial.cart.id.clone(),
                variant_id: variant_id.clone(),
                quantity,
                created_at: now,
            };
            trial.items.push(line.clone());
            new_line = Some(line);
        }
        trial.cart.updated_at = now;
        trial.cart.expires_at = expires_at;
        // One catalog lookup for every line: the new one's checks and the pricing.
        let variants = self.variants_of(&trial.items).await?;
        self.check_sellable(&variant_id, wanted, &trial.cart.currency, &variants)
            .await?;
        let cart_id = trial.cart.id.clone();
        // What the copy becomes if the write finds the cart as it was read.
        let written = read.map(|read| (read, trial.clone()));
        let priced = match self.price_with(trial, &variants) {
            Err(CartError::AmountOutOfRange { .. }) => {
                return Err(CartError::AmountOutOfRange {
                    field: "quantity".to_owned(),
                });
            }
            other => other?,
        };
        let max = self.config.max_quantity;
        let unchanged = self
            .db
            .transaction(async |conn: &mut DbConn| {
                // Every change to a cart's lines stamps the cart: unchanged since it was
                // read, the priced trial is the cart as it now is. Stamped first: the row
                // is then this transaction's until it ends (PostgreSQL's adds to one cart
                // take turns), and a cart closed meanwhile (its order placed) is 404, not
                // a line its foreign key refuses.
                let unchanged = store::touch_cart_if(conn, &cart_id, seen, now, expires_at).await?;
                if !unchanged && !store::touch_cart(conn, &cart_id, now, expires_at).await? {
                    return Err(CartError::CartNotFound);
                }
                // Written against the lines as they are now, whatever was read above:
                // another request may have changed them.
                if !store::add_to_line(conn, &cart_id, &variant_id, quantity, max).await? {
                    let line = new_line.clone().unwrap_or_else(|| ItemRow {
                        // The line was removed meanwhile: a new one.
                        id: CartItemId::generate().to_string(),
                        cart_id: cart_id.clone(),
                        variant_id: variant_id.clone(),
                        quantity,
                        created_at: now,
                    });
                    // Not inserted: another add made the line meanwhile (on PostgreSQL, a
                    // change that stamps after its lines): add to it.
                    if !store::insert_item_if_absent(conn, &line).await?
                        && !store::add_to_line(conn, &cart_id, &variant_id, quantity, max).await?
                    {
                        // There is a line, and it would hold too many.
                        return Err(CartError::field(
                            "quantity",
                            format!("at most {max} per line"),
                        ));
                    }
                }
                Ok(unchanged)
            })
            .await?;
        if unchanged {
            self.changed_to(id, written.as_ref().map(|(read, rows)| (*read, rows)))
                .await;
            Ok(priced)
        } else {
            self.changed(id).await;
            self.get(id, who).await
        }
    }

    /// Sets a line's quantity.
    pub async fn update_item(
        &self,
        id: &str,
        who: Option<&str>,
        item_id: &str,
        quantity: i64,
    ) -> Result<Cart, CartError> {
        self.check_quantity(quantity)?;
        let (cart, line) = short_reads(async {
            let mut conn = self.db.conn().await?;
            let cart = self.owned(&mut conn, id, who).await?;
            let line = store::items_of(&mut conn, &cart.id)
                .await?
                .into_iter()
                .find(|i| i.id == item_id)
                .ok_or(CartError::ItemNotFound)?;
            Ok::<_, CartError>((cart, line))
        })
        .await?;
        if quantity > line.quantity {
            let variants = self.variants_of(std::slice::from_ref(&line)).await?;
            self.check_sellable(&line.variant_id, quantity, &cart.currency, &variants)
                .await?;
            self.check_totals(cart.clone(), &line.variant_id, quantity)
                .await?;
        }
        let now = self.now();
        let expires_at = self.expiry(now);
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::set_quantity(conn, &line.id, quantity).await?;
                store::touch_cart(conn, &cart.id, now, expires_at).await?;
                Ok::<_, CartError>(())
            })
            .await?;
        self.changed(id).await;
        self.get(id, who).await
    }

    pub async fn remove_item(
        &self,
        id: &str,
        who: Option<&str>,
        item_id: &str,
    ) -> Result<Cart, CartError> {
        let now = self.now();
        let expires_at = self.expiry(now);
        self.db
            .transaction(async |conn: &mut DbConn| {
                let cart = self.owned(conn, id, who).await?;
                let line = store::items_of(conn, &cart.id)
                    .await?
                    .into_iter()
                    .find(|i| i.id == item_id)
                    .ok_or(CartError::ItemNotFound)?;
                store::delete_item(conn, &line.id).await?;
                store::touch_cart(conn, &cart.id, now, expires_at).await?;
                Ok::<_, CartError>(())
            })
            .await?;
        self.changed(id).await;
        self.get(id, who).await
    }

    /// Moves a guest cart's lines into the signed-in customer's cart (made if they have
    /// none), summing quantities capped by the line limit and by what is available, then
    /// deletes the guest cart. What a storefront calls right after sign-in.
    pub async fn merge(&self, guest_cart_id: &str, customer: &str) -> Result<Cart, CartError> {
        let (guest, guest_lines) = short_reads(async {
            let mut conn = self.db.conn().await?;
            let guest = store::find_live_cart(&mut conn, guest_cart_id, self.now())
                .await?
                .filter(|c| c.customer_id.is_none())
                .ok_or(CartError::CartNotFound)?;
            let lines = store::items_of(&mut conn, &guest.id).await?;
            Ok::<_, CartError>((guest, lines))
        })
        .await?;
        let ids: Vec<String> = guest_lines.iter().map(|l| l.variant_id.clone()).collect();
        let stock = if ids.is_empty() {
            HashMap::new()
        } else {
            self.stock
                .availability(&ids)
                .await
                .map_err(|e| upstream(&e))?
        };
        let (target, _) = self.create(Some(customer), Some(&guest.currency)).await?;
        let now = self.now();
        let expires_at = self.expiry(now);
        let max = self.config.max_quantity;
        self.db
            .transaction(async |conn: &mut DbConn| {
                let existing = store::items_of(conn, &target.id).await?;
                for line in &guest_lines {
                    let cap = match stock.get(&line.variant_id) {
                        Some(s) if s.backorder => max,
                        Some(s) => s.available.clamp(0, max),
                        None => 0,
                    };
                    match existing.iter().find(|e| e.variant_id == line.variant_id) {
                        Some(mine) => {
                            let merged =
                                (mine.quantity + line.quantity).min(cap.max(mine.quantity));
                            if merged != mine.quantity {
                                store::set_quantity(conn, &mine.id, merged).await?;
                            }
                        }
                        None if cap > 0 => {
                            store::insert_item(
                                conn,
                                &ItemRow {
                                    id: CartItemId::generate().to_string(),
                                    cart_id: target.id.clone(),
                                    variant_id: line.variant_id.clone(),
                                    quantity: line.quantity.min(cap),
                                    created_at: now,
                                },
                            )
                            .await?;
                        }
                        None => {}
                    }
                }
                store::move_promotions(conn, &guest.id, &target.id, now).await?;
                store::delete_cart(conn, &guest.id).await?;
                store::touch_cart(conn, &target.id, now, expires_at).await?;
                Ok::<_, CartError>(())
            })
            .await?;
        self.changed(&target.id).await;
        self.changed(&guest.id).await;
        self.get(&target.id, Some(customer)).await
    }

    /// Where the cart ships (which sets the tax rate and the shipping methods offered)
    /// and how.
    pub async fn update(
        &self,
        id: &str,
        who: Option<&str>,
        patch: CartPatch,
    ) -> Result<Cart, CartError> {
        let mut errors = Vec::new();
        let country = patch.country.map(|c| c.map(|c| c.trim().to_uppercase()));
        if let Some(Some(c)) = &country
            && (c.len() != 2 || iso_country::Country::from_str(c).is_err())
        {
            errors.push(FieldError::new(
                "country",
                "must be an ISO 3166-1 alpha-2 country code",
            ));
        }
        let region = patch.region.map(|r| r.map(|r| r.trim().to_uppercase()));
        if let Some(Some(r)) = &region
            && (r.is_empty() || r.len() > 3 || !r.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            errors.push(FieldError::new(
                "region",
                "must be a 1–3 character region code",
            ));
        }
        let currency = match patch
            .currency
            .as_deref()
            .map(|c| Currency::parse(&c.trim().to_uppercase()))
        {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                errors.push(FieldError::new("currency", e.to_string()));
                None
            }
        };
        if !errors.is_empty() {
            return Err(CartError::Invalid(errors));
        }
        let now = self.now();
        let expires_at = self.expiry(now);
        let chosen = patch.shipping_method_id.clone();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut cart = self.owned(conn, id, who).await?;
                if let Some(c) = currency
                    && c.code() != cart.currency
                {
                    store::set_currency(conn, &cart.id, c.code()).await?;
                    c.code().clone_into(&mut cart.currency);
                }
                let country = country.clone().unwrap_or(cart.country.clone());
                let region = region.clone().unwrap_or(cart.region.clone());
                if region.is_some() && country.is_none() {
                    return Err(CartError::field("country", "is required with a region"));
                }
                // A method chosen now must be offered; one chosen before that the new
                // destination lacks just ships nothing (see `price`).
                if let Some(Some(m)) = &chosen {
                    let offered = self.config.shipping.iter().find(|x| &x.id == m).and_then(
                        // Free-over thresholds do not matter to whether it is offered.
                        |x| x.price(country.as_deref(), &cart.currency, 0),
                    );
                    if offered.is_none() {
                        return Err(CartError::field(
                            "shipping_method_id",
                            "is not offered for this cart's destination and currency \
                             (see GET /v1/carts/{id}/shipping-methods)",
                        ));
                    }
                }
                store::set_destination(conn, &cart.id, country.as_deref(), region.as_deref())
                    .await?;
                let method = chosen.clone().unwrap_or(cart.shipping_method_id.clone());
                store::set_shipping_method(conn, &cart.id, method.as_deref()).await?;
                store::touch_cart(conn, &cart.id, now, expires_at).await?;
                Ok(())
            })
            .await?;
        self.changed(id).await;
        self.get(id, who).await
    }

    /// The shipping methods offered for the cart's destination and currency, priced for
    /// it (free-over thresholds applied), cheapest first.
    pub async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<ShippingOption>, CartError> {
        let cart = self.get(id, who).await?;
        // The cart was priced in range, so what its goods cost after discounts is too.
        let goods = sum_amounts(cart.items.iter().map(|l| l.discount))
            .and_then(|off| sub_amounts(cart.subtotal, off))
            .map_err(|_| CartError::AmountOutOfRange {
                field: "total".to_owned(),
            })?;
        let mut options: Vec<ShippingOption> = self
            .config
            .shipping
            .iter()
            .filter_map(|m| {
                Some(ShippingOption {
                    price: m.price(cart.country.as_deref(), cart.currency.code(), goods)?,
                    id: m.id.clone(),
                    name: m.name.clone(),
                    delivery_estimate: m.delivery_estimate.clone(),
                })
            })
            .collect();
        options.sort_by(|a, b| a.price.cmp(&b.price).then_with(|| a.id.cmp(&b.id)));
        Ok(options)
    }

    /// Prices the lines with the catalog's prices now, applies the cart's codes and
    /// computes the totals.
    pub(crate) async fn price(&self, stored: Stored) -> Result<Cart, CartError> {
        let variants = self.variants_of(&stored.items).await?;
        self.price_with(stored, &variants)
    }

    /// What the catalog says now of the lines' variants, by id.
    async fn variants_of(
        &self,
        items: &[ItemRow],
    ) -> Result<HashMap<String, VariantInfo>, CartError> {
        let ids: Vec<String> = items.iter().map(|i| i.variant_id.clone()).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .catalog
            .variants(&ids)
            .await
            .map_err(|e| upstream(&e))?
            .into_iter()
            .map(|v| (v.variant_id.clone(), v))
            .collect())
    }

    /// [`Self::price`] with the lines' variants already looked up.
    fn price_with(
        &self,
        stored: Stored,
        variants: &HashMap<String, VariantInfo>,
    ) -> Result<Cart, CartError> {
        let Stored {
            cart,
            items,
            promotions,
            used_up,
        } = stored;
        let currency = Currency::parse(&cart.currency)
            .map_err(|e| CartError::Upstream(format!("stored currency: {e}")))?;
        let mut lines = Vec::with_capacity(items.len());
        let mut priced = Vec::with_capacity(items.len());
        let mut subtotal: i64 = 0;
        let mut item_count = 0;
        for (index, item) in items.into_iter().enumerate() {
            let info = variants.get(&item.variant_id);
            let price = info
                .filter(|v| v.purchasable)
                .and_then(|v| v.prices.get(currency.code()).copied());
            // Checked: a line or a subtotal out of range is refused, naming the line.
            let out_of_range = |_| CartError::AmountOutOfRange {
                field: format!("items[{index}].quantity"),
            };
            let line_total = match price {
                Some((amount, _)) => mul_amount(amount, item.quantity).map_err(out_of_range)?,
                None => 0,
            };
            subtotal = add_amounts(subtotal, line_total).map_err(out_of_range)?;
            item_count += item.quantity;
            priced.push(PricedLine {
                line_total,
                category_ids: info.map(|v| v.category_ids.clone()).unwrap_or_default(),
                collection_ids: info.map(|v| v.collection_ids.clone()).unwrap_or_default(),
            });
            lines.push(Line {
                id: item.id,
                variant_id: item.variant_id,
                product_id: info.map(|v| v.product_id.clone()),
                title: info.map_or_else(|| "No longer available".to_owned(), |v| v.title.clone()),
                handle: info.map(|v| v.handle.clone()),
                sku: info.map(|v| v.sku.clone()),
                options: info.map(|v| v.options.clone()).unwrap_or_default(),
                image_url: info.and_then(|v| v.image_url.clone()),
                quantity: item.quantity,
                unit_price: price.map(|(amount, _)| amount),
                compare_at_price: price.and_then(|(_, compare)| compare),
                line_total,
                discount: 0,
                purchasable: price.is_some(),
            });
        }
        let rules: Vec<_> = promotions
            .iter()
            .map(crate::promotions::rules_of)
            .collect::<Result<_, _>>()?;
        // A chosen method no longer offered (the destination changed) ships nothing.
        let chosen = cart
            .shipping_method_id
            .as_ref()
            .and_then(|id| self.config.shipping.iter().find(|m| &m.id == id));
        let shipping_for = |goods: i64| {
            chosen.and_then(|m| m.price(cart.country.as_deref(), currency.code(), goods))
        };
        let now = self.clock.now();
        // Goods discounts first (they do not depend on shipping), then shipping priced
        // on what the goods cost after them, then free-shipping codes on that price.
        let first = apply_promotions(&rules, &priced, currency.code(), 0, now);
        // Discounts never exceed what they are taken off, so these stay in range; they
        // are checked all the same, as every amount is.
        let total_out_of_range = |_| CartError::AmountOutOfRange {
            field: "total".to_owned(),
        };
        let goods_discounts =
            sum_amounts(first.iter().flat_map(|o| o.line_discounts.iter().copied()))
                .map_err(total_out_of_range)?;
        // The free-over threshold looks at what the goods cost after their discounts.
        let method =
            shipping_for(sub_amounts(subtotal, goods_discounts).map_err(total_out_of_range)?);
        let shipping = method.unwrap_or(0);
        let outcomes = apply_promotions(&rules, &priced, currency.code(), shipping, now);
        let mut applied = Vec::with_capacity(promotions.len());
        let mut discounts: i64 = 0;
        let mut shipping_discount: i64 = 0;
        for (row, mut outcome) in promotions.into_iter().zip(outcomes) {
            if outcome.rejection.is_none() && used_up.contains(&row.id) {
                outcome = crate::domain::PromotionOutcome {
                    line_discounts: vec![0; lines.len()],
                    shipping_discount: 0,
                    rejection: Some(Rejection::LimitReached),
                };
            }
            for (line, off) in lines.iter_mut().zip(&outcome.line_discounts) {
                line.discount = add_amounts(line.discount, *off).map_err(total_out_of_range)?;
            }
            let amount = outcome.amount().map_err(total_out_of_range)?;
            discounts = add_amounts(discounts, amount).map_err(total_out_of_range)?;
            shipping_discount = add_amounts(shipping_discount, outcome.shipping_discount)
                .map_err(total_out_of_range)?;
            applied.push(AppliedPromotion {
                kind: PromotionKind::parse(&row.kind).unwrap_or(PromotionKind::Percentage),
                amount,
                rejection: outcome.rejection,
                promotion_id: row.id,
                code: row.code,
                description: row.description,
            });
        }
        let goods_discounts =
            sub_amounts(discounts, shipping_discount).map_err(total_out_of_range)?;
        let rate = self
            .config
            .tax
            .rate(cart.country.as_deref(), cart.region.as_deref());
        let inclusive = self
            .config
            .tax
            .inclusive_currencies
            .iter()
            .any(|c| c.eq_ignore_ascii_case(currency.code()));
        let taxable = sub_amounts(subtotal, goods_discounts).map_err(total_out_of_range)?;
        let charged = sub_amounts(shipping, shipping_discount)
            .and_then(|s| add_amounts(taxable, s))
            .map_err(total_out_of_range)?;
        let (tax, total) = if inclusive {
            (
                tax_in_gross(taxable, rate).map_err(total_out_of_range)?,
                charged,
            )
        } else {
            let tax = tax_on_net(taxable, rate).map_err(total_out_of_range)?;
            (tax, add_amounts(charged, tax).map_err(total_out_of_range)?)
        };
        Ok(Cart {
            id: cart.id,
            customer_id: cart.customer_id,
            currency,
            country: cart.country,
            region: cart.region,
            shipping_method_id: method.and(cart.shipping_method_id),
            items: lines,
            promotions: applied,
            item_count,
            subtotal,
            discounts,
            shipping,
            tax,
            tax_rate_bps: rate,
            tax_inclusive: inclusive,
            total,
            created_at: cart.created_at.and_utc(),
            updated_at: cart.updated_at.and_utc(),
            expires_at: cart.expires_at.and_utc(),
        })
    }

    /// Closes a cart whose checkout became an order: it and its lines are gone (its
    /// watchers' streams end), so the customer's next `POST /v1/carts` starts afresh.
    /// Closing a closed cart is fine.
    pub async fn close(&self, id: &str) -> Result<(), CartError> {
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::delete_cart(conn, id).await?;
                Ok::<_, CartError>(())
            })
            .await?;
        self.changed(id).await;
        tracing::info!(cart_id = %id, "cart closed by its order");
        Ok(())
    }

    /// Deletes expired carts; returns how many.
    pub async fn sweep_expired(&self) -> Result<usize, CartError> {
        let mut deleted = 0;
        loop {
            let now = self.now();
            let n = self
                .db
                .transaction(async |conn: &mut DbConn| {
                    Ok::<_, CartError>(store::delete_expired(conn, now, SWEEP_BATCH).await?)
                })
                .await?;
            deleted += n;
            if n == 0 {
                return Ok(deleted);
            }
        }
    }

    /// Reports customers' carts that went quiet with lines in them (`cart.abandoned`,
    /// written to the outbox in the transaction that marks each spell reported, so each
    /// is reported once). Returns how many were.
    pub async fn report_abandoned(&self) -> Result<usize, CartError> {
        let Some(after) = self.config.abandoned_after else {
            return Ok(0);
        };
        let mut reported = 0;
        loop {
            let now = self.now();
            let cutoff =
                now - chrono::Duration::from_std(after).unwrap_or(chrono::Duration::hours(4));
            let (seen, n) = self
                .db
                .transaction(async |conn: &mut DbConn| {
                    let (looked, quiet) =
                        store::take_quiet_carts(conn, cutoff, now, SWEEP_BATCH).await?;
                    let mut n = 0;
                    for cart in quiet.iter().filter(|c| c.units > 0) {
                        weft_bus::append(
                            conn,
                            &weft_bus::events::CartAbandoned {
                                cart_id: cart.id.clone(),
                                customer_id: cart.customer_id.clone(),
                                item_count: cart.units,
                                last_changed_at: cart.changed_at.and_utc(),
                            },
                        )
                        .await?;
                        n += 1;
                    }
                    Ok::<_, CartError>((looked, n))
                })
                .await?;
            reported += n;
            if i64::try_from(seen).unwrap_or(i64::MAX) < SWEEP_BATCH {
                return Ok(reported);
            }
        }
    }

    /// What the cart runs in the process hosting it: the releaser of cancelled orders'
    /// promotion uses, and the sweeper of expired and abandoned carts (every
    /// `sweep_every`).
    pub fn workers(&self, sweep_every: Duration) -> Vec<weft_bus::Worker> {
        vec![
            weft_bus::Worker::consumer(crate::events::UsesReleaser(self.clone())),
            weft_bus::Worker::task("cart-sweeper", self.clone().run_sweeper(sweep_every)),
        ]
    }

    /// Sweeps expired carts every `every`, for as long as the process runs.
    pub async fn run_sweeper(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.sweep_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired carts deleted"),
                Err(err) => tracing::warn!(error = %err, "cart sweep failed; will retry"),
            }
            match self.report_abandoned().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(carts = n, "abandoned carts reported"),
                Err(err) => {
                    tracing::warn!(error = %err, "reporting abandoned carts failed; will retry");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipping_is_offered_by_country_and_currency_and_free_over_its_threshold() {
        let standard = ShippingMethod {
            id: "standard".into(),
            prices: HashMap::from([("USD".into(), 500)]),
            free_over: HashMap::from([("USD".into(), 7500)]),
            ..ShippingMethod::default()
        };
        assert_eq!(standard.price(None, "USD", 1000), Some(500), "everywhere");
        assert_eq!(standard.price(Some("DE"), "USD", 7499), Some(500));
        assert_eq!(
            standard.price(Some("DE"), "USD", 7500),
            Some(0),
            "free from 75.00"
        );
        assert_eq!(
            standard.price(Some("DE"), "EUR", 1000),
            None,
            "no EUR price"
        );
        let express = ShippingMethod {
            countries: vec!["US".into()],
            prices: HashMap::from([("USD".into(), 1500)]),
            ..ShippingMethod::default()
        };
        assert_eq!(express.price(Some("us"), "USD", 10), Some(1500));
        assert_eq!(express.price(Some("CA"), "USD", 10), None);
        assert_eq!(express.price(None, "USD", 10), None, "needs a destination");
    }

    #[test]
    fn a_region_rate_wins_over_its_country() {
        let rules = TaxRules {
            rates: HashMap::from([("US".into(), 100), ("US-CA".into(), 725)]),
            inclusive_currencies: Vec::new(),
        };
        assert_eq!(rules.rate(Some("US"), Some("CA")), 725);
        assert_eq!(rules.rate(Some("US"), Some("OR")), 100);
        assert_eq!(rules.rate(None, Some("CA")), 0);
        assert_eq!(rules.rate(Some("FR"), None), 0);
    }
}
