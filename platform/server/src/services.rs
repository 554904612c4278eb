//! The services this binary knows, by `--service` name. Each crate's [`ServiceInfo`] names
//! its migrations; its REST `Api` and GraphQL parts are merged in `app.rs` and `graphql.rs`.

use poem::endpoint::BoxEndpoint;
use poem::{Endpoint, IntoResponse};
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
    &weft_reviews::SERVICE,
    &weft_webhooks::SERVICE,
    &weft_notifications::SERVICE,
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

/// Whether a process hosting `hosted` serves `path`: a path of one of them, or of no
/// service at all (health, metrics, docs, an unknown path's 404).
pub fn serves(hosted: &[&'static ServiceInfo], path: &str) -> bool {
    weft_http::owner_of(ALL, path).is_none_or(|owner| hosted.iter().any(|s| s.name == owner.name))
}

/// The REST endpoints of the hosted services, each at its own paths only, in front of the
/// process's own routes (health, metrics, docs): a process asked for a service it does
/// not host answers 404, never from empty tables of its own.
pub struct Mounted<E> {
    services: Vec<(&'static ServiceInfo, BoxEndpoint<'static>)>,
    own: E,
}

impl<E> Mounted<E> {
    pub fn new(hosted: &[&'static ServiceInfo], own: E) -> Self {
        let services = hosted
            .iter()
            .filter_map(|s| s.rest.map(|rest| (*s, rest())))
            .collect();
        Self { services, own }
    }
}

impl<E: Endpoint> Endpoint for Mounted<E> {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<poem::Response> {
        let path = req.uri().path();
        // The longest claim wins (reviews' `/v1/products/*/reviews` over the catalog's
        // `/v1/products`).
        let owner = self
            .services
            .iter()
            .filter_map(|(s, rest)| s.claim(path).map(|n| (n, rest)))
            .max_by_key(|(n, _)| *n);
        match owner {
            Some((_, rest)) => rest.call(req).await,
            None => self.own.call(req).await.map(IntoResponse::into_response),
        }
    }
}

/// The gateway's routing table: every path of each service in `gateway.services`, then
/// the explicit `gateway.upstreams` over them.
pub fn upstreams(
    gateway: &weft_config::GatewaySettings,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut table = std::collections::BTreeMap::new();
    for (name, urls) in &gateway.services {
        let service = ALL
            .iter()
            .find(|s| s.name == name.as_str())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "gateway.services.{name}: no such service (one of {})",
                    names().join(", ")
                )
            })?;
        for path in service.paths {
            table.insert((*path).to_owned(), urls.clone());
        }
    }
    for (prefix, urls) in &gateway.upstreams {
        // In the services' absolute form, so an explicit prefix replaces theirs.
        let absolute = if prefix.starts_with('/') {
            prefix.clone()
        } else {
            format!("/v1/{}", prefix.trim_matches('/'))
        };
        table.insert(absolute, urls.clone());
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Routes are mounted per service, so an operation no service claims could never be
    /// reached, and one two services claim would be served by whichever mounted first.
    #[test]
    fn every_path_of_the_contracts_belongs_to_exactly_one_service() {
        let system = ["/v1/meta", "/health/live", "/health/ready"];
        for doc in [crate::openapi_json(), crate::openapi_internal_json()] {
            let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
            for path in doc["paths"].as_object().unwrap().keys() {
                // The longest claim owns a path: two claims of one length would be a tie.
                let claims: Vec<(usize, &str)> = ALL
                    .iter()
                    .filter_map(|s| s.claim(path).map(|n| (n, s.name)))
                    .collect();
                let longest = claims.iter().map(|(n, _)| *n).max();
                let owners: Vec<&str> = claims
                    .iter()
                    .filter(|(n, _)| Some(*n) == longest)
                    .map(|(_, name)| *name)
                    .collect();
                if system.contains(&path.as_str()) {
                    assert!(owners.is_empty(), "{path}: {owners:?}");
                } else {
                    assert_eq!(owners.len(), 1, "{path}: {owners:?}");
                }
            }
        }
        assert!(weft_catalog::SERVICE.claims("/v1/products/prod_1"));
        assert!(!weft_catalog::SERVICE.claims("/v1/productsx"));
        let owner = |path| weft_http::owner_of(ALL, path).map(|s| s.name);
        assert_eq!(owner("/v1/products/prod_1/reviews"), Some("reviews"));
        assert_eq!(
            owner("/v1/products/prod_1/reviews/summary"),
            Some("reviews")
        );
        assert_eq!(
            owner("/v1/products/prod_1/recommendations"),
            Some("catalog")
        );
        assert_eq!(owner("/v1/products//reviews"), Some("catalog"));
    }

    /// Diesel records applied migrations by version alone, across every set: a version
    /// two services share would run for one and be silently skipped for the other.
    #[test]
    fn no_two_migrations_share_a_version() {
        use diesel::migration::MigrationSource;
        let mut seen = std::collections::HashMap::new();
        for set in migrations(&hosted(None)) {
            let sqlite =
                MigrationSource::<diesel::sqlite::Sqlite>::migrations(&set.sqlite).unwrap();
            let postgres = MigrationSource::<diesel::pg::Pg>::migrations(&set.postgres).unwrap();
            assert_eq!(
                sqlite.len(),
                postgres.len(),
                "{}: one set per database",
                set.owner
            );
            for m in sqlite {
                let version = m.name().version().to_string();
                if let Some(other) = seen.insert(version.clone(), set.owner) {
                    panic!("{version}: both {other} and {}", set.owner);
                }
            }
        }
    }

    #[test]
    fn the_gateway_routes_a_service_s_paths_and_explicit_prefixes_win() {
        let settings = weft_config::GatewaySettings {
            services: [("catalog".to_owned(), "http://c1,http://c2".to_owned())].into(),
            upstreams: [("products".to_owned(), "http://other".to_owned())].into(),
            ..weft_config::GatewaySettings::default()
        };
        let table = upstreams(&settings).unwrap();
        assert_eq!(table["/v1/search"], "http://c1,http://c2");
        assert_eq!(table["/media/demo"], "http://c1,http://c2");
        assert_eq!(table["/v1/products"], "http://other");
        let unknown = weft_config::GatewaySettings {
            services: [("catalogue".to_owned(), "http://c".to_owned())].into(),
            ..weft_config::GatewaySettings::default()
        };
        let err = upstreams(&unknown).unwrap_err().to_string();
        assert!(err.contains("gateway.services.catalogue"), "{err}");
    }
}
