//! The answer of a call that has nothing to show.

use poem_openapi::ApiResponse;

#[derive(ApiResponse)]
pub enum Done {
    /// Done; nothing to show.
    #[oai(status = 204)]
    NoContent,
}
