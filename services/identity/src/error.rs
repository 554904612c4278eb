//! Everything identity can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Same answer whether the email exists or not.
    #[error("email or password is incorrect")]
    BadCredentials,
    #[error("the refresh token is invalid, expired or revoked")]
    BadRefreshToken,
    #[error("a valid access token is required")]
    Unauthenticated,
    #[error("too many failed sign-ins; try again later")]
    Throttled(std::time::Duration),
    #[error(transparent)]
    Authz(#[from] weft_http::AuthzError),
    #[error("this account signs in with a second factor: send `totp_code`")]
    TotpRequired,
    #[error("the TOTP or recovery code is wrong or was already used")]
    BadTotp,
    #[error("TOTP is already enabled for this account")]
    MfaAlreadyEnabled,
    #[error("start TOTP enrolment first: POST /v1/me/mfa/totp")]
    MfaNotStarted,
    #[error("no such user")]
    UserNotFound,
    #[error("no such address")]
    AddressNotFound,
    #[error("an address book holds at most {0} addresses")]
    AddressLimit(i64),
    #[error("no such app")]
    AppNotFound,
    #[error("no such API key")]
    ApiKeyNotFound,
    #[error("admins cannot change their own role")]
    OwnRole,
    #[error("sign-in with `{0}` is not configured")]
    UnknownProvider(String),
    #[error("the sign-in attempt is unknown, expired or already used; start again")]
    BadOAuthState,
    #[error("the provider refused the sign-in: {0}")]
    OAuthDenied(String),
    #[error("the provider did not confirm the email address")]
    EmailNotVerified,
    #[error("the password reset link is unknown, expired or already used; ask for a new one")]
    BadResetToken,
    #[error("the verification link is unknown, expired or already used; ask for a new one")]
    BadVerificationToken,
    #[error("this account's e-mail address is already verified")]
    AlreadyVerified,
    /// Per address and per client: the e-mails these requests send land in someone's
    /// inbox, so they are rationed whether or not the address has an account.
    #[error("too many e-mails asked for; try again later")]
    EmailThrottled(std::time::Duration),
    #[error("the sign-in provider could not be reached or answered wrongly: {0}")]
    Provider(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("identity internal error: {0}")]
    Internal(String),
}

impl From<weft_secrets::SecretsError> for IdentityError {
    fn from(e: weft_secrets::SecretsError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl ServiceError for IdentityError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) | Self::BadResetToken | Self::BadVerificationToken => {
                ErrorKind::Invalid
            }
            Self::EmailTaken
            | Self::AlreadyVerified
            | Self::MfaAlreadyEnabled
            | Self::MfaNotStarted
            | Self::OwnRole
            | Self::AddressLimit(_) => ErrorKind::Conflict,
            Self::BadCredentials
            | Self::BadRefreshToken
            | Self::Unauthenticated
            | Self::TotpRequired
            | Self::BadTotp
            | Self::BadOAuthState
            | Self::OAuthDenied(_) => ErrorKind::Unauthenticated,
            Self::Throttled(_) | Self::EmailThrottled(_) => ErrorKind::TooManyRequests,
            Self::Authz(e) => e.kind(),
            Self::EmailNotVerified => ErrorKind::Forbidden,
            Self::UserNotFound
            | Self::AddressNotFound
            | Self::AppNotFound
            | Self::ApiKeyNotFound
            | Self::UnknownProvider(_) => ErrorKind::NotFound,
            Self::Provider(_) => ErrorKind::BadGateway,
            Self::Storage(e) => e.kind(),
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::EmailTaken => "email_taken",
            Self::BadCredentials => "invalid_credentials",
            Self::BadRefreshToken => "invalid_refresh_token",
            Self::Unauthenticated => "unauthenticated",
            Self::Throttled(_) => "login_throttled",
            Self::Authz(e) => e.code(),
            Self::TotpRequired => "totp_required",
            Self::BadTotp => "invalid_totp_code",
            Self::MfaAlreadyEnabled => "mfa_already_enabled",
            Self::MfaNotStarted => "mfa_not_started",
            Self::UserNotFound => "user_not_found",
            Self::AddressNotFound => "address_not_found",
            Self::AddressLimit(_) => "address_limit_reached",
            Self::AppNotFound => "app_not_found",
            Self::ApiKeyNotFound => "api_key_not_found",
            Self::OwnRole => "cannot_change_own_role",
            Self::UnknownProvider(_) => "unknown_provider",
            Self::BadOAuthState => "invalid_oauth_state",
            Self::OAuthDenied(_) => "oauth_denied",
            Self::EmailNotVerified => "email_not_verified",
            Self::BadResetToken => "invalid_reset_token",
            Self::BadVerificationToken => "invalid_verification_token",
            Self::AlreadyVerified => "already_verified",
            Self::EmailThrottled(_) => "email_throttled",
            Self::Provider(_) => "provider_error",
            Self::Storage(e) => e.code(),
            Self::Internal(_) => "internal_error",
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Throttled(wait) | Self::EmailThrottled(wait) => Some(*wait),
            _ => None,
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            // A 422 names its field, like every other.
            Self::BadResetToken | Self::BadVerificationToken => vec![FieldError::new(
                "token",
                "is unknown, expired or already used",
            )],
            _ => Vec::new(),
        }
    }
}
