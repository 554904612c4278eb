//! Webhooks in GraphQL, over the same use cases as REST and behind the same check (an
//! admin, or an app with `webhooks:write` managing its own endpoints): the endpoints and
//! their delivery log as queries; subscribing, changing, deleting, rotating the secret,
//! test events and redelivery as mutations.

use std::time::Duration;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use weft_http::principal::PrincipalKind;
use weft_http::{Principal, authz};
use weft_kernel::PageRequest;

use crate::domain::DeliveryStatus;
use crate::error::WebhooksError;
use crate::http::{DeliveryDto as WebhookDelivery, EndpointDto as WebhookEndpoint};
use crate::service::{Changes, Manager, WebhooksService};

/// An endpoint with its signing secret, shown only in this answer.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: the HMAC-SHA256 key of `Weft-Signature`. Store it now.
    pub secret: String,
}

/// A page of endpoints.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookEndpointConnection {
    pub nodes: Vec<WebhookEndpoint>,
    pub next_cursor: Option<String>,
}

/// A page of deliveries, newest first.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookDeliveryConnection {
    pub nodes: Vec<WebhookDelivery>,
    pub next_cursor: Option<String>,
}

/// A subscription.
#[derive(Debug, Clone, InputObject)]
pub struct CreateWebhookInput {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Changes to an endpoint; what is omitted stays.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateWebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

fn err(e: WebhooksError) -> async_graphql::Error {
    weft_http::gql::error(e)
}

fn manager<'c>(ctx: &'c Context<'_>) -> async_graphql::Result<Manager<'c>> {
    let p = authz::check_staff(ctx.data_opt::<Principal>(), "webhooks:write")
        .map_err(weft_http::gql::error)?;
    Ok(match p.kind {
        PrincipalKind::App => Manager::App {
            id: &p.id,
            scopes: &p.scopes,
        },
        PrincipalKind::User => Manager::Admin,
    })
}

fn page(first: u32, after: Option<&str>) -> async_graphql::Result<PageRequest> {
    PageRequest::from_query(Some(first), after).map_err(|e| err(WebhooksError::Invalid(vec![e])))
}

/// Webhooks' queries.
#[derive(Debug, Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// Webhook endpoints, newest first (an app sees its own).
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: u32,
        after: Option<String>,
    ) -> async_graphql::Result<WebhookEndpointConnection> {
        let who = manager(ctx)?;
        let page = page(first, after.as_deref())?;
        let found = ctx
            .data::<WebhooksService>()?
            .list(who, &page)
            .await
            .map_err(err)?;
        Ok(WebhookEndpointConnection {
            nodes: found.data.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        })
    }

    /// One webhook endpoint.
    async fn webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<WebhookEndpoint> {
        let who = manager(ctx)?;
        Ok(ctx
            .data::<WebhooksService>()?
            .get(who, &id)
            .await
            .map_err(err)?
            .into())
    }

    /// An endpoint's deliveries, newest first, of one `status` when given.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: String,
        status: Option<String>,
        #[graphql(default = 20)] first: u32,
        after: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        let who = manager(ctx)?;
        let status = match status.as_deref() {
            None => None,
            Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
                err(WebhooksError::field(
                    "status",
                    "one of pending, succeeded, failed, cancelled",
                ))
            })?),
        };
        let page = page(first, after.as_deref())?;
        let found = ctx
            .data::<WebhooksService>()?
            .deliveries(who, &endpoint_id, status, &page)
            .await
            .map_err(err)?;
        Ok(WebhookDeliveryConnection {
            nodes: found.data.into_iter().map(Into::into).collect(),
            next_cursor: found.next_cursor,
        })
    }
}

/// Webhooks' mutations.
#[derive(Debug, Default)]
pub struct WebhooksMutation;

#[Object]
impl WebhooksMutation {
    /// Subscribes an HTTPS URL to events; the secret is answered this once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> async_graphql::Result<WebhookEndpointWithSecret> {
        let who = manager(ctx)?;
        let (endpoint, secret) = ctx
            .data::<WebhooksService>()?
            .subscribe(who, &input.url, &input.events, input.description.as_deref())
            .await
            .map_err(err)?;
        Ok(WebhookEndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Changes an endpoint (`enabled: true` resumes a disabled one).
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: UpdateWebhookInput,
    ) -> async_graphql::Result<WebhookEndpoint> {
        let who = manager(ctx)?;
        let changes = Changes {
            url: input.url,
            events: input.events,
            description: input.description,
            enabled: input.enabled,
        };
        Ok(ctx
            .data::<WebhooksService>()?
            .update(who, &id, changes)
            .await
            .map_err(err)?
            .into())
    }

    /// Deletes an endpoint and its delivery log.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<bool> {
        let who = manager(ctx)?;
        ctx.data::<WebhooksService>()?
            .delete(who, &id)
            .await
            .map_err(err)?;
        Ok(true)
    }

    /// A new signing secret (answered once); the old one signs too for `overlapSeconds`
    /// (default a day, at most 7 days).
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: String,
        #[graphql(default = 86_400)] overlap_seconds: u32,
    ) -> async_graphql::Result<WebhookEndpointWithSecret> {
        let who = manager(ctx)?;
        if overlap_seconds > 7 * 86_400 {
            return Err(err(WebhooksError::field(
                "overlapSeconds",
                "at most 604800 (7 days)",
            )));
        }
        let (endpoint, secret) = ctx
            .data::<WebhooksService>()?
            .rotate_secret(who, &id, Duration::from_secs(u64::from(overlap_seconds)))
            .await
            .map_err(err)?;
        Ok(WebhookEndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Sends a `webhook.test` event to the endpoint now.
    async fn send_webhook_test(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<WebhookDelivery> {
        let who = manager(ctx)?;
        Ok(ctx
            .data::<WebhooksService>()?
            .send_test(who, &id)
            .await
            .map_err(err)?
            .into())
    }

    /// Sends a finished delivery again now (one attempt).
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        endpoint_id: String,
        delivery_id: String,
    ) -> async_graphql::Result<WebhookDelivery> {
        let who = manager(ctx)?;
        Ok(ctx
            .data::<WebhooksService>()?
            .redeliver(who, &endpoint_id, &delivery_id)
            .await
            .map_err(err)?
            .into())
    }
}
