//! GraphQL in a process that does not host every service (a cluster's gateway, or one
//! service's process): each root field is answered by the process hosting its service,
//! reached through the gateway's upstream for that service (its replicas, breaker and
//! timeout). A document of one service goes there whole, with its status and headers; a
//! document spanning services is split and merged ([`weft_gateway::graphql`]). Costing
//! ([`super::limits`]) happens here first, so a refused document never travels.
//! Subscriptions (`/graphql/ws`) go to the process hosting the cart, whose they are.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::{OperationType, TypeKind, TypeSystemDefinition};
use async_graphql::{
    EmptyMutation, EmptySubscription, ObjectType, OutputType, Schema, SubscriptionType,
};
use poem::http::{Method, StatusCode, header};
use poem::web::Data;
use poem::{Body, Endpoint, IntoResponse, Request, Response, handler};
use weft_gateway::Gateway;
use weft_gateway::graphql::{Answer, HERE, Route, route};
use weft_http::{ApiError, ClientIp};
use weft_kernel::ErrorKind;

use super::{
    CartMutation, CartQuery, CartSubscription, CatalogMutation, CatalogQuery, CheckoutMutation,
    CheckoutQuery, GuardedSchema, IdentityQuery, InventoryQuery, OrdersMutation, OrdersQuery,
    ReviewsMutation, ReviewsQuery, SystemQuery, WebhooksMutation, WebhooksQuery, limits,
};
use crate::services;

/// Which service answers each root field, and whether the field may be null.
#[derive(Debug, Default)]
pub struct Owners(HashMap<(u8, String), (&'static str, bool)>);

/// An operation type as a map key (the parser's type is not `Hash`).
fn kind(ty: OperationType) -> u8 {
    match ty {
        OperationType::Query => 0,
        OperationType::Mutation => 1,
        OperationType::Subscription => 2,
    }
}

impl Owners {
    /// Read from every service's schema parts, so a new field is routed without a list
    /// kept by hand.
    pub fn of_every_service() -> Self {
        use OperationType::{Mutation, Query, Subscription};
        let mut owners = Self::default();
        owners.add::<IdentityQuery, EmptyMutation, EmptySubscription>("identity", Query);
        owners.add::<CatalogQuery, EmptyMutation, EmptySubscription>("catalog", Query);
        owners.add::<SystemQuery, CatalogMutation, EmptySubscription>("catalog", Mutation);
        owners.add::<InventoryQuery, EmptyMutation, EmptySubscription>("inventory", Query);
        owners.add::<CartQuery, EmptyMutation, EmptySubscription>("cart", Query);
        owners.add::<SystemQuery, CartMutation, EmptySubscription>("cart", Mutation);
        owners.add::<SystemQuery, EmptyMutation, CartSubscription>("cart", Subscription);
        owners.add::<CheckoutQuery, EmptyMutation, EmptySubscription>("checkout", Query);
        owners.add::<SystemQuery, CheckoutMutation, EmptySubscription>("checkout", Mutation);
        owners.add::<OrdersQuery, EmptyMutation, EmptySubscription>("orders", Query);
        owners.add::<SystemQuery, OrdersMutation, EmptySubscription>("orders", Mutation);
        owners.add::<ReviewsQuery, EmptyMutation, EmptySubscription>("reviews", Query);
        owners.add::<SystemQuery, ReviewsMutation, EmptySubscription>("reviews", Mutation);
        owners.add::<WebhooksQuery, EmptyMutation, EmptySubscription>("webhooks", Query);
        owners.add::<SystemQuery, WebhooksMutation, EmptySubscription>("webhooks", Mutation);
        owners
    }

    /// The root fields of `ty` in a schema of one service's part.
    fn add<Q, M, S>(&mut self, service: &'static str, ty: OperationType)
    where
        Q: ObjectType + Default + 'static,
        M: ObjectType + Default + 'static,
        S: SubscriptionType + Default + 'static,
    {
        let root = match ty {
            OperationType::Query => <Q as OutputType>::type_name(),
            OperationType::Mutation => <M as OutputType>::type_name(),
            OperationType::Subscription => <S as SubscriptionType>::type_name(),
        };
        let sdl = Schema::build(Q::default(), M::default(), S::default())
            .finish()
            .sdl();
        let Ok(doc) = async_graphql::parser::parse_schema(&sdl) else {
            return;
        };
        for def in doc.definitions {
            if let TypeSystemDefinition::Type(t) = def
                && t.node.name.node.as_str() == root
                && let TypeKind::Object(object) = t.node.kind
            {
                for field in object.fields {
                    let key = (kind(ty), field.node.name.node.to_string());
                    self.0.insert(key, (service, field.node.ty.node.nullable));
                }
            }
        }
    }

    fn service(&self, ty: OperationType, field: &str) -> Option<&'static str> {
        self.0.get(&(kind(ty), field.to_owned())).map(|(s, _)| *s)
    }

    /// The service whose subscriptions these are (one today: the cart's).
    fn of_subscriptions(&self) -> Option<&'static str> {
        self.0
            .iter()
            .find(|((ty, _), _)| *ty == kind(OperationType::Subscription))
            .map(|(_, (service, _))| *service)
    }

    fn non_null(&self, ty: OperationType, field: &str) -> bool {
        self.0
            .get(&(kind(ty), field.to_owned()))
            .is_some_and(|(_, nullable)| !nullable)
    }
}

/// How this process reaches the services it does not host.
#[derive(Clone)]
pub struct Federation {
    owners: Arc<Owners>,
    hosted: Vec<&'static str>,
    gateway: Gateway,
}

impl Federation {
    pub fn new(hosted: &[&'static weft_http::ServiceInfo], gateway: Gateway) -> Self {
        Self {
            owners: Arc::new(Owners::of_every_service()),
            hosted: hosted.iter().map(|s| s.name).collect(),
            gateway,
        }
    }

    /// The owner of a root field: [`HERE`] for this process's own services, the system's
    /// fields (`meta`) and introspection; otherwise the service's name.
    fn owner_of(&self, ty: OperationType, field: &str) -> String {
        match self.owners.service(ty, field) {
            Some(service) if !self.hosted.contains(&service) => service.to_owned(),
            _ => HERE.to_owned(),
        }
    }

    /// Sends `body` as a GraphQL request to the service's process, with the client's
    /// headers (its credentials, request id, trace context).
    async fn send(&self, service: &str, original: &Request, body: Vec<u8>) -> Option<Response> {
        let route = services::ALL
            .iter()
            .find(|s| s.name == service)
            .and_then(|s| s.paths.first())?;
        let mut req = Request::builder()
            .method(Method::POST)
            .uri_str("/graphql")
            .body(body);
        for (name, value) in original.headers() {
            if name != header::CONTENT_LENGTH {
                req.headers_mut().append(name, value.clone());
            }
        }
        req.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        if let Some(ip) = original.data::<ClientIp>() {
            req.set_data(*ip);
        }
        Some(match self.gateway.forward_to(route, req).await? {
            Ok(resp) => resp,
            Err(err) => err.into_response(),
        })
    }
}

fn unreachable_service(service: &str) -> (String, String) {
    (
        "service_not_hosted".to_owned(),
        format!(
            "The {service} service is not hosted by this process, and no gateway route reaches it."
        ),
    )
}

/// `POST /graphql` where some services live in other processes.
#[handler]
pub(super) async fn execute(
    schema: Data<&GuardedSchema>,
    federation: Data<&Federation>,
    req: &Request,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body.into_vec().await.map_err(|e| {
        ApiError::new(
            ErrorKind::BadRequest,
            "bad_request",
            format!("unreadable body: {e}"),
        )
    })?;
    let request: async_graphql::Request = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            ErrorKind::BadRequest,
            "malformed_json",
            format!("The body is not a GraphQL request in JSON: {e}"),
        )
    })?;
    let doc = match schema.limits.admit(&request.query) {
        Ok((doc, _)) => doc,
        // Not GraphQL: this process's schema answers with the parser's errors.
        Err(limits::Refusal::Syntax(_)) => return local(&schema, req, request).await,
        Err(limits::Refusal::Limit(refused)) => return Err(refused.into()),
    };
    let variables = match serde_json::to_value(&request.variables) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let ty = limits::operation_type(&doc, request.operation_name.as_deref());
    let routed = route(
        &doc,
        request.operation_name.as_deref(),
        &variables,
        |ty, f| federation.owner_of(ty, f),
    );
    match routed {
        Route::Whole(owner) if owner == HERE => local(&schema, req, request).await,
        Route::Whole(service) => {
            if let Some(resp) = federation.send(&service, req, bytes).await {
                return Ok(resp);
            }
            let (code, message) = unreachable_service(&service);
            Ok(json(&serde_json::json!({
                "data": null,
                "errors": [{"message": message, "extensions": {"code": code}}]
            })))
        }
        Route::Split(plan) => {
            let answer = |part| answer_part(&schema, &federation, req, part);
            let answers = if plan.serial {
                let mut answers = Vec::with_capacity(plan.parts.len());
                for part in &plan.parts {
                    answers.push(answer(part).await);
                }
                answers
            } else {
                async_graphql::futures_util::future::join_all(plan.parts.iter().map(answer)).await
            };
            let ty = ty.unwrap_or(OperationType::Query);
            let merged = plan.merge(answers, |field| federation.owners.non_null(ty, field));
            Ok(json(&merged))
        }
    }
}

/// One part of a split document, answered here or by its service's process.
async fn answer_part(
    schema: &GuardedSchema,
    federation: &Federation,
    req: &Request,
    part: &weft_gateway::graphql::Part,
) -> Answer {
    let failed = |message: String| Answer::Failed {
        code: "internal".to_owned(),
        message,
    };
    if part.owner != HERE {
        let bytes = serde_json::to_vec(&part.body).unwrap_or_default();
        let Some(resp) = federation.send(&part.owner, req, bytes).await else {
            let (code, message) = unreachable_service(&part.owner);
            return Answer::Failed { code, message };
        };
        return answer_of(resp).await;
    }
    let request: async_graphql::Request = match serde_json::from_value(part.body.clone()) {
        Ok(request) => request,
        Err(e) => return failed(e.to_string()),
    };
    let request = super::with_request_data(req, request);
    let response = async_graphql::Executor::execute(schema, request).await;
    // Through JSON into a value that keeps the answer's field order.
    serde_json::to_vec(&response)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .map_or_else(
            || failed("The answer could not be encoded.".to_owned()),
            Answer::Response,
        )
}

/// A part's answer: a GraphQL response, or why there is none (the problem's code).
async fn answer_of(resp: Response) -> Answer {
    let status = resp.status();
    let body = resp.into_body().into_vec().await.unwrap_or_default();
    if status == StatusCode::OK
        && let Ok(response) = serde_json::from_slice::<async_graphql::Value>(&body)
    {
        return Answer::Response(response);
    }
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    match parsed {
        Some(problem) => Answer::Failed {
            code: problem["code"]
                .as_str()
                .unwrap_or("upstream_error")
                .to_owned(),
            message: problem["detail"]
                .as_str()
                .or(problem["title"].as_str())
                .unwrap_or("The service refused the request.")
                .to_owned(),
        },
        None => Answer::Failed {
            code: "upstream_error".to_owned(),
            message: format!("The service answered {status}."),
        },
    }
}

async fn local(
    schema: &GuardedSchema,
    req: &Request,
    request: async_graphql::Request,
) -> Result<Response, ApiError> {
    let response = schema.run(super::with_request_data(req, request)).await?;
    Ok(async_graphql_poem::GraphQLResponse::from(response).into_response())
}

fn json(value: &impl serde::Serialize) -> Response {
    Response::builder()
        .content_type("application/json")
        .body(serde_json::to_vec(value).unwrap_or_default())
}

/// `/graphql/ws`: to the cart's process when this one does not host it, else served here.
pub(super) struct Subscriptions<E> {
    pub federation: Federation,
    pub local: E,
}

impl<E: Endpoint> Endpoint for Subscriptions<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let federation = &self.federation;
        if let Some(owner) = federation.owners.of_subscriptions()
            && !federation.hosted.contains(&owner)
            && let Some(route) = services::ALL
                .iter()
                .find(|s| s.name == owner)
                .and_then(|s| s.paths.first())
            && federation.gateway.forwards(route)
        {
            // Upstream at the path the client asked for, not the one nested here.
            let path = req.original_uri().clone();
            *req.uri_mut() = path;
            return match federation.gateway.forward_to(route, req).await {
                Some(answer) => answer,
                None => Err(poem::error::NotFoundError.into()),
            };
        }
        self.local.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A root field no service owns would always be answered here, from nothing.
    #[test]
    fn every_root_field_of_the_schema_has_exactly_one_owner() {
        let owners = Owners::of_every_service();
        let sdl = super::super::graphql_sdl();
        let doc = async_graphql::parser::parse_schema(&sdl).unwrap();
        let mut seen = 0;
        for def in doc.definitions {
            if let TypeSystemDefinition::Type(t) = def
                && let TypeKind::Object(object) = t.node.kind
            {
                let ty = match t.node.name.node.as_str() {
                    "Query" => OperationType::Query,
                    "Mutation" => OperationType::Mutation,
                    "Subscription" => OperationType::Subscription,
                    _ => continue,
                };
                for field in object.fields {
                    let name = field.node.name.node.to_string();
                    seen += 1;
                    if name == "meta" {
                        assert_eq!(owners.service(ty, &name), None);
                        continue;
                    }
                    assert!(owners.service(ty, &name).is_some(), "{ty} {name}");
                }
            }
        }
        assert_eq!(
            seen,
            owners.0.len() + 1,
            "fields owned twice or not in the schema"
        );
        assert_eq!(
            owners.service(OperationType::Query, "products"),
            Some("catalog")
        );
        assert!(owners.non_null(OperationType::Query, "products"));
    }
}
