//! E-mail verification: the endpoint that sends a single-use link by e-mail and the one
//! that spends it.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, authz};

use super::{Done, Tag};
use crate::service::IdentityService;

/// `POST /v1/auth/email/verify`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The token from the link the e-mail carried.
    pub token: String,
}

/// A request to send an e-mail was taken.
#[derive(Debug, Clone, Object)]
pub struct EmailRequested {
    /// What to tell the person, in English.
    pub message: String,
}

#[derive(ApiResponse)]
pub enum EmailAccepted {
    /// Taken; an e-mail goes out when there is someone to send it to.
    #[oai(status = 202)]
    Accepted(Json<EmailRequested>),
}

const VERIFICATION_LINK_SENT: &str =
    "A new link to verify the address is on its way; earlier links no longer work.";

/// Links sent by e-mail: address verification.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveryApi;

#[OpenApi]
impl RecoveryApi {
    /// Verifies the account's address with the token of a verification link (422
    /// `invalid_verification_token` when it is unknown, expired or used).
    #[oai(
        path = "/v1/auth/email/verify",
        method = "post",
        operation_id = "verify_email",
        tag = "Tag::Identity"
    )]
    async fn verify_email(
        &self,
        svc: Data<&IdentityService>,
        body: JsonBody<VerifyEmailRequest>,
    ) -> ApiResult<Done> {
        svc.verify_email(&body.0.token).await?;
        Ok(Done::NoContent)
    }

    /// Sends the signed-in user a new verification link (the earlier one stops working);
    /// 409 `already_verified` once verified. At most 3 requests per address and 20 per
    /// client in a burst (429 `email_throttled` with `Retry-After` beyond).
    #[oai(
        path = "/v1/me/email/verification",
        method = "post",
        operation_id = "request_email_verification",
        tag = "Tag::Me"
    )]
    async fn request_email_verification(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
    ) -> ApiResult<EmailAccepted> {
        let ip = req.data::<weft_http::ClientIp>().and_then(|c| c.0);
        svc.resend_email_verification(&authz::signed_in(req)?.id, ip)
            .await?;
        Ok(EmailAccepted::Accepted(Json(EmailRequested {
            message: VERIFICATION_LINK_SENT.to_owned(),
        })))
    }
}
