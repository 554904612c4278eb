//! Inventory's GraphQL part: a variant's stock, as `GET /v1/inventory/{variant_id}`.

use async_graphql::{Context, Object, SimpleObject};

use weft_http::gql::Long;

use crate::service::InventoryService;

/// A variant's stock over every location.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Stock")]
pub struct StockObject {
    pub variant_id: String,
    pub on_hand: Long,
    pub reserved: Long,
    pub available: Long,
    /// `in_stock`, `low_stock`, `out_of_stock` or `backorder`.
    pub stock_status: String,
}

/// Inventory's queries.
#[derive(Debug, Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// A variant's stock (none for a variant never stocked).
    async fn inventory(
        &self,
        ctx: &Context<'_>,
        variant_id: String,
    ) -> async_graphql::Result<StockObject> {
        let stock = ctx
            .data::<InventoryService>()?
            .stock(&variant_id)
            .await
            .map_err(weft_http::gql::error)?;
        Ok(StockObject {
            stock_status: stock.status.as_str().to_owned(),
            variant_id: stock.variant_id,
            on_hand: stock.on_hand.into(),
            reserved: stock.reserved.into(),
            available: stock.available.into(),
        })
    }
}
