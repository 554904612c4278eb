//! The GraphQL API: one schema merged from every service's parts, over the same use cases
//! as REST. Every document is costed before it runs ([`limits`]: size, depth, selections
//! with fragments expanded), complexity is limited by async-graphql, and queries have a
//! time budget, so one request cannot ask for the whole database or hold the server.
//! GraphiQL at `GET /graphql` loads its assets from this binary, so the playground works
//! offline.

pub mod federation;
pub mod limits;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::futures_util::stream::{self, BoxStream, StreamExt as _};
use async_graphql::parser::types::OperationType;
use async_graphql::{
    Context, Data, Executor, MergedObject, MergedSubscription, Object, Request, Schema, ServerError,
};
use poem::http::header;
use poem::web::Html;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler};
use weft_http::ApiError;

pub use federation::Federation;
pub use limits::{QueryLimits, QueryRefused};

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
use weft_reviews::ReviewsService;
use weft_reviews::graphql::{ReviewsMutation, ReviewsQuery};
use weft_webhooks::WebhooksService;
use weft_webhooks::graphql::{WebhooksMutation, WebhooksQuery};

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
    ReviewsQuery,
    WebhooksQuery,
);

/// The root mutation: every service's mutation part, merged.
#[derive(MergedObject, Default)]
pub struct Mutation(
    CatalogMutation,
    CartMutation,
    CheckoutMutation,
    OrdersMutation,
    ReviewsMutation,
    WebhooksMutation,
);

/// The root subscription: every service's subscriptions, merged.
#[derive(MergedSubscription, Default)]
pub struct Subscription(CartSubscription);

pub type WeftSchema = Schema<Query, Mutation, Subscription>;

/// What resolvers reach through the context. Only the services in `hosted` are given to
/// the schema: a process asked for another's fields answers an error, never from tables
/// that are not its own.
#[derive(Debug, Clone)]
pub struct Services {
    pub hosted: Vec<&'static str>,
    pub system: SystemState,
    pub identity: IdentityService,
    pub catalog: CatalogService,
    pub inventory: InventoryService,
    pub cart: CartService,
    pub checkout: CheckoutService,
    pub orders: OrderService,
    pub reviews: ReviewsService,
    pub webhooks: WebhooksService,
    /// How `Product.reviews` reaches reviews: in this process, over HTTP, or not at all.
    pub product_reviews: Option<Arc<dyn weft_catalog::ports::ProductReviews>>,
}

/// Builds the schema; `services` is `None` only when exporting the SDL. Depth is not
/// limited here: [`limits`] measures it (async-graphql's measure counts introspection's
/// `ofType` chains as data nesting and refuses the standard introspection query).
pub fn schema(services: Option<Services>, max_complexity: usize) -> WeftSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_complexity(max_complexity);
    if let Some(services) = services {
        let hosts = |name: &str| services.hosted.contains(&name);
        builder = builder.data(services.system);
        if hosts("identity") {
            builder = builder.data(services.identity);
        }
        if hosts("catalog") {
            builder = builder.data(services.catalog);
        }
        if hosts("inventory") {
            builder = builder.data(services.inventory);
        }
        if hosts("cart") {
            builder = builder.data(services.cart);
        }
        if hosts("checkout") {
            builder = builder.data(services.checkout);
        }
        if hosts("orders") {
            builder = builder.data(services.orders);
        }
        if hosts("reviews") {
            builder = builder.data(services.reviews);
        }
        if hosts("webhooks") {
            builder = builder.data(services.webhooks);
        }
        if let Some(port) = services.product_reviews {
            builder = builder.data(port);
        }
    }
    builder.finish()
}

/// The SDL committed as `openapi/schema.graphql`.
pub fn graphql_sdl() -> String {
    schema(None, usize::MAX).sdl()
}

/// The schema behind [`QueryLimits`]: every request, over HTTP or a WebSocket, is parsed
/// and costed here before async-graphql validates or runs it.
#[derive(Clone)]
pub struct GuardedSchema {
    schema: WeftSchema,
    limits: QueryLimits,
}

impl GuardedSchema {
    pub fn new(schema: WeftSchema, limits: QueryLimits) -> Self {
        Self { schema, limits }
    }

    /// Parses and costs the request's query, leaving the document in the request so it
    /// is not parsed twice.
    fn admit(&self, request: &mut Request) -> Admission {
        match self.limits.admit(&request.query) {
            Ok((doc, cost)) => {
                let ty = limits::operation_type(&doc, request.operation_name.as_deref());
                tracing::debug!(
                    selections = cost.selections,
                    depth = cost.depth,
                    "graphql document admitted"
                );
                request.set_parsed_query(doc);
                Admission::Run(ty)
            }
            Err(limits::Refusal::Syntax(err)) => {
                Admission::Answer(async_graphql::Response::from_errors(vec![
                    ServerError::from(err),
                ]))
            }
            Err(limits::Refusal::Limit(refused)) => {
                let code = weft_kernel::ServiceError::code(&refused);
                tracing::info!(code, reason = %refused, "graphql document refused");
                Admission::Refuse(refused)
            }
        }
    }

    /// Runs one request: refused over a limit, and a query cut short at the time budget.
    /// Mutations run to the end: stopping one halfway would leave its work half done
    /// (a payment authorized, its order not yet written); they are bounded by the same
    /// costing and by their own storage and peer timeouts.
    pub async fn run(&self, mut request: Request) -> Result<async_graphql::Response, QueryRefused> {
        let ty = match self.admit(&mut request) {
            Admission::Run(ty) => ty,
            Admission::Answer(response) => return Ok(response),
            Admission::Refuse(refused) => return Err(refused),
        };
        if ty == Some(OperationType::Mutation) {
            return Ok(self.schema.execute(request).await);
        }
        tokio::time::timeout(self.limits.timeout, self.schema.execute(request))
            .await
            .map_err(|_| QueryRefused::Timeout {
                seconds: self.limits.timeout.as_secs(),
            })
    }
}

/// What [`GuardedSchema::admit`] decided about a request.
enum Admission {
    /// Within the limits, of this type; the parsed document is in the request.
    Run(Option<OperationType>),
    /// Not GraphQL: answered with GraphQL errors, as async-graphql would.
    Answer(async_graphql::Response),
    /// Over a limit.
    Refuse(QueryRefused),
}

/// A refusal as the one GraphQL error of a response (over a WebSocket, where there is
/// no HTTP status), with the same `code` as the HTTP problem.
fn refused_response(refused: &QueryRefused) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![
        weft_http::gql::error(refused.clone()).into_server_error(async_graphql::Pos::default()),
    ])
}

impl Executor for GuardedSchema {
    async fn execute(&self, request: Request) -> async_graphql::Response {
        match self.run(request).await {
            Ok(response) => response,
            Err(refused) => refused_response(&refused),
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let response = match self.admit(&mut request) {
            Admission::Run(_) => {
                return self
                    .schema
                    .execute_stream_with_session_data(request, session_data.unwrap_or_default());
            }
            Admission::Answer(response) => response,
            Admission::Refuse(refused) => refused_response(&refused),
        };
        stream::once(async move { response }).boxed()
    }
}

/// `GET /graphql` (GraphiQL), `POST /graphql` (queries), and GraphiQL's assets.
pub fn routes(schema: GuardedSchema) -> impl Endpoint {
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
    schema: poem::web::Data<&GuardedSchema>,
    req: &poem::Request,
    query: async_graphql_poem::GraphQLRequest,
) -> Result<async_graphql_poem::GraphQLResponse, ApiError> {
    Ok(schema.run(with_request_data(req, query.0)).await?.into())
}

/// The caller the HTTP stack authenticated, and this request's own loaders.
fn with_request_data(req: &poem::Request, mut request: Request) -> Request {
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
    request
}

/// Subscriptions over a WebSocket (graphql-transport-ws or the older graphql-ws), as
/// the caller the HTTP stack authenticated on the upgrade request (browsers may pass
/// `?access_token=`).
#[handler]
async fn subscriptions(
    schema: poem::web::Data<&GuardedSchema>,
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
pub fn endpoint(schema: GuardedSchema) -> impl Endpoint {
    routes(schema).map_to_response()
}

/// GraphQL in a process that does not host every service: each root field is answered
/// by the process that does ([`federation`]).
pub fn federated_endpoint(schema: GuardedSchema, federation: Federation) -> impl Endpoint {
    Route::new()
        .at("/", get(graphiql).post(federation::execute))
        .at(
            "/ws",
            federation::Subscriptions {
                federation: federation.clone(),
                local: get(subscriptions),
            },
        )
        .at("/assets/:file", get(asset))
        .data(schema)
        .data(federation)
        .map_to_response()
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
