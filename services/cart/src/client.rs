//! How other services reach carts: one trait, [`Carts`], served in-process by [`Local`]
//! or over HTTP by [`Remote`] (`/v1/internal/carts…`, an API key with the `internal`
//! scope), answering the cart's own refusals (`cart_not_found`, a promotion's reason,
//! `validation_failed`) as [`ClientError::Refused`]. Every call is safe to repeat (codes
//! are counted once per order), so remote calls are retried, three tries at most.

use serde::{Deserialize, Serialize};
use weft_peer_client::{ClientError, Peer, retried, types};

use crate::service::{Cart, CartPatch, CartService};

const SERVICE: &str = "cart";

/// A cart line, priced now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryLine {
    pub variant_id: String,
    pub title: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: Option<i64>,
    pub line_total: i64,
    pub discount: i64,
    pub purchasable: bool,
}

/// A cart priced now, as another service needs it to sell it. (Checkout keeps it with
/// a completion's run: its serialized form is stored.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub cart_id: String,
    pub customer_id: Option<String>,
    pub currency: String,
    pub lines: Vec<SummaryLine>,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub tax_inclusive: bool,
    pub total: i64,
    pub shipping_method_id: Option<String>,
    /// The codes that take something off (what an order placed from it redeems); one
    /// on the cart that takes nothing off is not here.
    #[serde(default)]
    pub promotion_codes: Vec<String>,
}

/// A shipping method offered for the cart's destination, priced for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingChoice {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub delivery_estimate: String,
}

/// Carts, as other services use them. `who` is the customer asking (a guest: `None`);
/// a cart they may not see is `cart_not_found`.
#[async_trait::async_trait]
pub trait Carts: Send + Sync + 'static {
    async fn cart(&self, id: &str, who: Option<&str>) -> Result<Summary, ClientError>;
    /// Sets where the cart ships and, when given, how (`Some(None)` clears the method).
    async fn ship(
        &self,
        id: &str,
        who: Option<&str>,
        country: Option<String>,
        region: Option<String>,
        method: Option<Option<String>>,
    ) -> Result<Summary, ClientError>;
    async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<ShippingChoice>, ClientError>;
    /// Counts the uses of `codes` for `order_id`, once however often it is asked; refused
    /// with the code's reason when one was used up meanwhile.
    async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: &str,
        codes: &[String],
    ) -> Result<(), ClientError>;
    /// Gives back the uses `order_id` took.
    async fn release_redemptions(&self, order_id: &str) -> Result<(), ClientError>;
    /// The cart became an order: it is closed.
    async fn close(&self, cart_id: &str) -> Result<(), ClientError>;
}

/// Carts in this process.
#[derive(Debug, Clone)]
pub struct Local(pub CartService);

fn local_error(err: &crate::CartError) -> ClientError {
    ClientError::of(SERVICE, err)
}

fn summary(cart: Cart) -> Summary {
    let promotion_codes = cart
        .promotions
        .iter()
        .filter(|p| p.rejection.is_none() && p.amount > 0)
        .map(|p| p.code.clone())
        .collect();
    Summary {
        promotion_codes,
        cart_id: cart.id,
        customer_id: cart.customer_id,
        currency: cart.currency.code().to_owned(),
        lines: cart
            .items
            .into_iter()
            .map(|l| SummaryLine {
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
impl Carts for Local {
    async fn cart(&self, id: &str, who: Option<&str>) -> Result<Summary, ClientError> {
        self.0
            .get(id, who)
            .await
            .map(summary)
            .map_err(|e| local_error(&e))
    }

    async fn ship(
        &self,
        id: &str,
        who: Option<&str>,
        country: Option<String>,
        region: Option<String>,
        method: Option<Option<String>>,
    ) -> Result<Summary, ClientError> {
        // A destination replaces the cart's (its region with it); none keeps the cart's.
        let patch = CartPatch {
            region: country.as_ref().map(|_| region.clone()),
            country: country.map(Some),
            shipping_method_id: method,
            currency: None,
        };
        self.0
            .update(id, who, patch)
            .await
            .map(summary)
            .map_err(|e| local_error(&e))
    }

    async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<ShippingChoice>, ClientError> {
        Ok(self
            .0
            .shipping_options(id, who)
            .await
            .map_err(|e| local_error(&e))?
            .into_iter()
            .map(|o| ShippingChoice {
                id: o.id,
                name: o.name,
                price: o.price,
                delivery_estimate: o.delivery_estimate,
            })
            .collect())
    }

    async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: &str,
        codes: &[String],
    ) -> Result<(), ClientError> {
        self.0
            .redeem(cart_id, order_id, Some(customer_key), Some(codes))
            .await
            .map(drop)
            .map_err(|e| local_error(&e))
    }

    async fn release_redemptions(&self, order_id: &str) -> Result<(), ClientError> {
        self.0
            .release_redemptions(order_id)
            .await
            .map(drop)
            .map_err(|e| local_error(&e))
    }

    async fn close(&self, cart_id: &str) -> Result<(), ClientError> {
        self.0.close(cart_id).await.map_err(|e| local_error(&e))
    }
}

/// Carts of another process.
#[derive(Debug, Clone)]
pub struct Remote(pub Peer);

fn remote_error(err: &weft_peer_client::Error<types::Problem>) -> ClientError {
    ClientError::call(SERVICE, err)
}

fn summary_of(cart: types::Cart) -> Summary {
    let promotion_codes = cart
        .promotions
        .iter()
        .filter(|p| p.applied && p.amount.amount > 0)
        .map(|p| p.code.clone())
        .collect();
    Summary {
        promotion_codes,
        cart_id: cart.id,
        customer_id: cart.customer_id,
        currency: cart.currency,
        lines: cart
            .items
            .into_iter()
            .map(|l| SummaryLine {
                variant_id: l.variant_id,
                title: l.title,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: l.unit_price.map(|p| p.amount),
                line_total: l.line_total.amount,
                discount: l.discount.amount,
                purchasable: l.purchasable,
            })
            .collect(),
        subtotal: cart.subtotal.amount,
        discounts: cart.discounts.amount,
        shipping: cart.shipping.amount,
        tax: cart.tax.amount,
        tax_inclusive: cart.tax_inclusive,
        total: cart.total.amount,
        shipping_method_id: cart.shipping_method_id,
    }
}

#[async_trait::async_trait]
impl Carts for Remote {
    async fn cart(&self, id: &str, who: Option<&str>) -> Result<Summary, ClientError> {
        let client = self.0.internal();
        let cart = retried(|| async {
            let mut call = client.internal_get_cart().id(id);
            if let Some(who) = who {
                call = call.customer_id(who);
            }
            call.send().await
        })
        .await
        .map_err(|e| remote_error(&e))?;
        Ok(summary_of(cart.into_inner()))
    }

    async fn ship(
        &self,
        id: &str,
        who: Option<&str>,
        country: Option<String>,
        region: Option<String>,
        method: Option<Option<String>>,
    ) -> Result<Summary, ClientError> {
        let client = self.0.internal();
        let body = types::ShipCartRequest {
            country,
            region,
            set_shipping_method: method.is_some(),
            shipping_method_id: method.flatten(),
        };
        // Setting the same destination and method again changes nothing more.
        let cart = retried(|| async {
            let mut call = client.internal_ship_cart().id(id).body(body.clone());
            if let Some(who) = who {
                call = call.customer_id(who);
            }
            call.send().await
        })
        .await
        .map_err(|e| remote_error(&e))?;
        Ok(summary_of(cart.into_inner()))
    }

    async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<ShippingChoice>, ClientError> {
        let client = self.0.internal();
        let list = retried(|| async {
            let mut call = client.internal_list_cart_shipping_methods().id(id);
            if let Some(who) = who {
                call = call.customer_id(who);
            }
            call.send().await
        })
        .await
        .map_err(|e| remote_error(&e))?;
        Ok(list
            .into_inner()
            .data
            .into_iter()
            .map(|m| ShippingChoice {
                id: m.id,
                name: m.name,
                price: m.price.amount,
                delivery_estimate: m.delivery_estimate,
            })
            .collect())
    }

    async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: &str,
        codes: &[String],
    ) -> Result<(), ClientError> {
        let client = self.0.internal();
        let body = types::RedeemCodesRequest {
            order_id: order_id.to_owned(),
            customer_key: customer_key.to_owned(),
            codes: Some(codes.to_vec()),
        };
        // Keyed by the order: counted once however often it is asked.
        retried(|| async {
            client
                .internal_redeem_cart_promotions()
                .id(cart_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(drop)
        .map_err(|e| remote_error(&e))
    }

    async fn release_redemptions(&self, order_id: &str) -> Result<(), ClientError> {
        let client = self.0.internal();
        retried(|| async {
            client
                .internal_release_redemptions()
                .order_id(order_id)
                .send()
                .await
        })
        .await
        .map(drop)
        .map_err(|e| remote_error(&e))
    }

    async fn close(&self, cart_id: &str) -> Result<(), ClientError> {
        let client = self.0.internal();
        retried(|| async { client.internal_close_cart().id(cart_id).send().await })
            .await
            .map(drop)
            .map_err(|e| remote_error(&e))
    }
}
