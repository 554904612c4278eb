//! Black-box tests of the `weft` binary's platform: every test talks HTTP to a real
//! application (through weft-sdk where the SDK can express the request) on SQLite and,
//! when `WEFT_TEST_DATABASE_URL` is set, on PostgreSQL.

// Tests assert by unwrapping: a failure should stop the test where it happened.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod account_recovery;
mod after_sale;
mod availability;
mod bad_input;
mod browser;
mod cart;
mod catalog;
mod checkout;
mod cli;
mod cluster;
mod contracts;
mod crash;
mod graphql;
mod identity;
mod inventory;
mod live;
mod me;
mod migrations;
mod money;
// Before `notification_channels`, which runs its scenarios with this module's
// `notification_tests!` (macros are visible only after their module).
#[macro_use]
mod notifications;
mod notification_channels;
mod processes;
mod promotions;
mod purchase;
mod rate_limit;
mod replicas;
mod reviews;
mod saga_peers;
mod search;
mod social;
mod stripe;
mod support;
mod system;
mod webhooks;
mod whole_cluster;
