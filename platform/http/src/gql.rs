//! Service errors on their way out of GraphQL: the same stable `code` as REST in the
//! extensions, and no internal detail (storage, upstream) in the message.

use async_graphql::ErrorExtensions as _;
use weft_kernel::ServiceError;

/// A service error as a GraphQL error; reads as `.map_err(gql::error)`.
#[allow(clippy::needless_pass_by_value)]
pub fn error(e: impl ServiceError) -> async_graphql::Error {
    let code = e.code();
    let message = if e.kind().is_server_error() {
        "internal error".to_owned()
    } else {
        e.to_string()
    };
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// The id of the signed-in person making a GraphQL request, as [`crate::authz::user_id`].
pub fn user_id<'c>(ctx: &'c async_graphql::Context<'_>) -> Option<&'c str> {
    ctx.data_opt::<crate::Principal>()
        .filter(|p| p.kind == crate::PrincipalKind::User)
        .map(|p| p.id.as_str())
}
