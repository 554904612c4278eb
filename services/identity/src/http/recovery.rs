//! Password reset and e-mail verification: the endpoints that send a single-use link by
//! e-mail and the ones that spend it.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, authz};

use super::{Done, Tag};
use crate::service::IdentityService;

/// `POST /v1/auth/password/forgot`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    pub email: String,
}

/// `POST /v1/auth/password/reset`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The token from the link the e-mail carried.
    pub token: String,
    /// The new password: at least 10 characters, not a common password.
    pub password: String,
}

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

/// The one answer to every accepted `forgot`: it must not tell whether the address has
/// an account.
const RESET_LINK_SENT: &str =
    "If an account uses this address, a link to reset its password is on its way.";
const VERIFICATION_LINK_SENT: &str =
    "A new link to verify the address is on its way; earlier links no longer work.";

/// Links sent by e-mail: password reset and address verification.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveryApi;

#[OpenApi]
impl RecoveryApi {
    /// Sends a password reset link (good once, for 30 minutes) if an account uses the
    /// address. The answer is the same either way; at most 3 requests per address and
    /// 20 per client in a burst (429 `email_throttled` with `Retry-After` beyond).
    #[oai(
        path = "/v1/auth/password/forgot",
        method = "post",
        operation_id = "forgot_password",
        tag = "Tag::Identity"
    )]
    async fn forgot_password(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<ForgotPasswordRequest>,
    ) -> ApiResult<EmailAccepted> {
        let ip = req.data::<weft_http::ClientIp>().and_then(|c| c.0);
        svc.forgot_password(&body.0.email, ip).await?;
        Ok(EmailAccepted::Accepted(Json(EmailRequested {
            message: RESET_LINK_SENT.to_owned(),
        })))
    }

    /// Sets a new password with the token of a reset link (422 `invalid_reset_token` when
    /// it is unknown, expired or used). Every session of the account ends; the address
    /// counts as verified.
    #[oai(
        path = "/v1/auth/password/reset",
        method = "post",
        operation_id = "reset_password",
        tag = "Tag::Identity"
    )]
    async fn reset_password(
        &self,
        svc: Data<&IdentityService>,
        body: JsonBody<ResetPasswordRequest>,
    ) -> ApiResult<Done> {
        svc.reset_password(&body.0.token, &body.0.password).await?;
        Ok(Done::NoContent)
    }

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
