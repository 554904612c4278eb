//! The composition root of Weft: the `weft` binary's CLI, settings, and the
//! [`Application`] that mounts every service (or the one `--service` names) behind the HTTP
//! stack, with the REST contract at `/v1`, GraphQL at `/graphql`, health and metrics.
//!
//! Start-up is a value tests build: [`Application::build`] binds first (port 0 works),
//! then [`Application::run_until_stopped`] serves until SIGTERM/SIGINT and lets in-flight
//! requests finish.

pub mod app;
pub mod banner;
pub mod cli;
pub mod graphql;
pub mod openapi;
pub mod services;
pub mod system;

pub use app::{Application, openapi_internal_json, openapi_json};
pub use graphql::graphql_sdl;
