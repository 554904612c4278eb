//! The GraphQL API: one schema merged from every service's parts, over the same use cases
//! as REST. Depth and complexity are limited from settings so one query cannot ask for
//! the whole database. GraphiQL at `GET /graphql` loads its assets from this binary, so
//! the playground works offline.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, MergedObject, MergedSubscription, Object, Schema};
use poem::http::header;
use poem::web::Html;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler};

use weft_cart::CartService;
use weft_cart::graphql::{CartMutation, CartQuery, CartSubscription};
use weft_catalog::CatalogService;
use weft_catalog::graphql::{CatalogMutation, CatalogQuery, CategoryLoader};
use weft_checkout::CheckoutService;
use weft_checkout::graphql::{CheckoutMutation, CheckoutQuery};
use weft_http::Principal;
use weft_identity::{IdentityQuery, IdentityService};
use weft_inventory::InventoryService;
use weft_inventory::graphql::InventoryQuery;
use weft_orders::OrderService;
use weft_orders::graphql::{OrdersMutation, OrdersQuery};

use crate::system::{Meta, SystemState};

/// Queries about this process.
#[derive(Debug, Default)]
pub struct SystemQuery;

#[Object]
impl SystemQuery {
    /// Version, topology and hosted services of this process (as `GET /v1/meta`).
    async fn meta(&self, ctx: &Context<'_>) -> async_graphql::Result<Meta> {
        Ok(ctx.data::<SystemState>()?.meta.as_ref().clone())
    }
}

/// The root query: every service's query part, merged.
#[derive(MergedObject, Default)]
pub struct Query(
    SystemQuery,
    IdentityQuery,
    CatalogQuery,
    InventoryQuery,
    CartQuery,
    CheckoutQuery,
    OrdersQuery,
);

/// The root mutation: every service's mutation part, merged.
#[derive(MergedObject, Default)]
pub struct Mutation(
    CatalogMutation,
    CartMutation,
    CheckoutMutation,
    OrdersMutation,
);

/// The root subscription: every service's subscriptions, merged.
#[derive(MergedSubscription, Default)]
pub struct Subscription(CartSubscription);

pub type WeftSchema = Schema<Query, Mutation, Subscription>;

/// What resolvers reach through the context.
#[derive(Debug, Clone)]
pub struct Services {
    pub system: SystemState,
    pub identity: IdentityService,
    pub catalog: CatalogService,
    pub inventory: InventoryService,
    pub cart: CartService,
    pub checkout: CheckoutService,
    pub orders: OrderService,
}

/// Builds the schema; `services` is `None` only when exporting the SDL.
pub fn schema(services: Option<Services>, max_depth: usize, max_complexity: usize) -> WeftSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(max_depth)
    .limit_complexity(max_complexity);
    if let Some(services) = services {
        builder = builder
            .data(services.system)
            .data(services.identity)
            .data(services.catalog)
            .data(services.inventory)
            .data(services.cart)
            .data(services.checkout)
            .data(services.orders);
    }
    builder.finish()
}

/// The SDL committed as `openapi/schema.graphql`.
pub fn graphql_sdl() -> String {
    schema(None, usize::MAX, usize::MAX).sdl()
}

/// `GET /graphql` (GraphiQL), `POST /graphql` (queries), and GraphiQL's assets.
pub fn routes(schema: WeftSchema) -> impl Endpoint {
    Route::new()
        .at("/", get(graphiql).post(execute))
        .at("/ws", get(subscriptions))
        .at("/assets/:file", get(asset))
        .data(schema)
}

/// Runs a query as the caller the HTTP stack authenticated (resolvers read the
/// `Principal` from the context).
#[handler]
async fn execute(
    schema: poem::web::Data<&WeftSchema>,
    req: &poem::Request,
    query: async_graphql_poem::GraphQLRequest,
) -> async_graphql_poem::GraphQLResponse {
    let mut request = query.0;
    if let Some(principal) = req.data::<Principal>() {
        request = request.data(principal.clone());
    }
    // Loaders live for one request: they batch within it and never serve another's data.
    if let Some(catalog) = req.data::<CatalogService>() {
        request = request.data(DataLoader::new(
            CategoryLoader(catalog.clone()),
            tokio::spawn,
        ));
    }
    schema.execute(request).await.into()
}

/// Subscriptions over a WebSocket (graphql-transport-ws or the older graphql-ws), as
/// the caller the HTTP stack authenticated on the upgrade request (browsers may pass
/// `?access_token=`).
#[handler]
async fn subscriptions(
    schema: poem::web::Data<&WeftSchema>,
    protocol: async_graphql_poem::GraphQLProtocol,
    ws: poem::web::websocket::WebSocket,
    req: &poem::Request,
) -> impl IntoResponse {
    let mut data = async_graphql::Data::default();
    if let Some(principal) = req.data::<Principal>() {
        data.insert(principal.clone());
    }
    let schema = schema.clone();
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            async_graphql_poem::GraphQLWebSocket::new(stream, schema, protocol)
                .with_data(data)
                .serve()
        })
}

#[handler]
fn graphiql() -> Html<&'static str> {
    Html(GRAPHIQL_HTML)
}

#[handler]
fn asset(poem::web::Path(file): poem::web::Path<String>) -> poem::Result<Response> {
    let (body, content_type): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (
            include_bytes!("../assets/graphiql/graphiql.min.js"),
            "text/javascript",
        ),
        "graphiql.min.css" => (
            include_bytes!("../assets/graphiql/graphiql.min.css"),
            "text/css",
        ),
        "react.production.min.js" => (
            include_bytes!("../assets/graphiql/react.production.min.js"),
            "text/javascript",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../assets/graphiql/react-dom.production.min.js"),
            "text/javascript",
        ),
        _ => return Err(poem::error::NotFoundError.into()),
    };
    Ok(body
        .with_header(header::CONTENT_TYPE, content_type)
        .with_header(header::CACHE_CONTROL, "public, max-age=86400")
        .into_response())
}

/// Lets the composition root mount GraphQL with `Route::nest`.
pub fn endpoint(schema: WeftSchema) -> impl Endpoint {
    routes(schema).map_to_response()
}

const GRAPHIQL_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Weft GraphQL</title>
  <link rel="stylesheet" href="/graphql/assets/graphiql.min.css">
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading the playground…</div>
  <script src="/graphql/assets/react.production.min.js"></script>
  <script src="/graphql/assets/react-dom.production.min.js"></script>
  <script src="/graphql/assets/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: "/graphql" });
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolbarOpen: true,
      defaultQuery: "{\n  meta {\n    name\n    version\n    topology\n    services { name }\n  }\n}\n",
    }));
  </script>
</body>
</html>
"#;
