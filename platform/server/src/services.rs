//! The services this binary knows, by `--service` name. Each crate's [`ServiceInfo`] names
//! its migrations; its REST `Api` and GraphQL parts are merged in `app.rs` and `graphql.rs`.

use weft_http::ServiceInfo;
use weft_storage::migrate::{self, MigrationSet};

/// Every service, in start-up order.
pub static ALL: &[&ServiceInfo] = &[
    &weft_identity::SERVICE,
    &weft_catalog::SERVICE,
    &weft_inventory::SERVICE,
    &weft_cart::SERVICE,
    &weft_payments::SERVICE,
    &weft_orders::SERVICE,
    &weft_checkout::SERVICE,
    &weft_gateway::SERVICE,
];

/// `--service` names accepted on the command line.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|s| s.name).collect()
}

/// The services a process with this `--service` value hosts.
pub fn hosted(service: Option<&str>) -> Vec<&'static ServiceInfo> {
    ALL.iter()
        .copied()
        .filter(|s| service.is_none_or(|name| s.name == name))
        .collect()
}

/// Migrations of the platform and of the hosted services.
pub fn migrations(hosted: &[&'static ServiceInfo]) -> Vec<&'static MigrationSet> {
    let mut sets = vec![&migrate::PLATFORM];
    sets.extend(hosted.iter().flat_map(|s| s.migrations.iter().copied()));
    sets
}
