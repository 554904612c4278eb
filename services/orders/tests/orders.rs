//! Orders on real databases (SQLite always, PostgreSQL when configured): one order per
//! checkout however many ask at once, moves only by allowed transitions, each recorded,
//! and racing moves settle on one outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use weft_kernel::{Clock, Currency};
use weft_orders::domain::{OrderStatus, Transition};
use weft_orders::{NewOrder, OrderLine, OrderService, OrdersError};
use weft_storage::testing::{TestDatabase, postgres_admin_url};

async fn services() -> Vec<(TestDatabase, OrderService)> {
    let mut dbs = vec![TestDatabase::sqlite().unwrap()];
    if let Some(url) = postgres_admin_url() {
        dbs.push(TestDatabase::postgres(&url).await.unwrap());
    }
    let mut out = Vec::new();
    for t in dbs {
        let db = t.open(8).await.unwrap();
        weft_storage::migrate::run(
            &db,
            &[&weft_storage::migrate::PLATFORM, &weft_orders::MIGRATIONS],
        )
        .await
        .unwrap();
        out.push((t, OrderService::new(db, Clock::system())));
    }
    out
}

fn new_order(checkout: &str) -> NewOrder {
    NewOrder {
        id: format!("ord_{checkout}"),
        checkout_id: checkout.to_owned(),
        customer_id: Some("usr_1".into()),
        email: "ada@example.com".into(),
        currency: Currency::parse("USD").unwrap(),
        lines: vec![OrderLine {
            variant_id: "var_1".into(),
            title: "Tee".into(),
            sku: Some("TEE-M".into()),
            quantity: 2,
            unit_price: 2000,
            line_total: 4000,
        }],
        subtotal: 4000,
        discounts: 0,
        shipping: 500,
        tax: 290,
        total: 4790,
        shipping_address: None,
        billing_address: None,
        shipping_method_id: Some("standard".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_makes_one_order_however_many_ask_at_once() {
    for (_t, orders) in services().await {
        let made = futures::future::join_all((0..20).map(|_| {
            let orders = orders.clone();
            async move { orders.create(new_order("chk_race")).await.unwrap() }
        }))
        .await;
        let ids: std::collections::BTreeSet<&str> = made.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids.len(), 1, "twenty concurrent creates, one order");
        let order = &made[0];
        assert!(order.id.starts_with("ord_"));
        assert_eq!(
            (order.status, order.total, order.lines.len()),
            (OrderStatus::Pending, 4790, 1)
        );
        assert_eq!(order.lines[0].line_total, 4000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_move_only_as_allowed_and_every_move_is_recorded() {
    for (_t, orders) in services().await {
        let order = orders.create(new_order("chk_life")).await.unwrap();
        let err = orders
            .transition(&order.id, Transition::Delivered, "system")
            .await
            .unwrap_err();
        assert!(matches!(err, OrdersError::Illegal(_)), "{err}");
        orders
            .transition(
                &order.id,
                Transition::Paid {
                    payment_ref: "pi_1".into(),
                },
                "system",
            )
            .await
            .unwrap();
        orders
            .transition(
                &order.id,
                Transition::Fulfilled {
                    tracking_number: Some("1Z".into()),
                    carrier: None,
                },
                "user:usr_admin",
            )
            .await
            .unwrap();
        let refunded = orders
            .transition(
                &order.id,
                Transition::Refunded {
                    amount: 1000,
                    refunded_total: 1000,
                    paid_total: 4790,
                },
                "user:usr_admin",
            )
            .await
            .unwrap();
        assert_eq!(
            (refunded.status, refunded.refunded_total),
            (OrderStatus::PartiallyRefunded, 1000)
        );
        let moves: Vec<(OrderStatus, OrderStatus, &str)> = refunded
            .history
            .iter()
            .map(|h| (h.from, h.to, h.actor.as_str()))
            .collect();
        assert_eq!(
            moves,
            [
                (OrderStatus::Pending, OrderStatus::Paid, "system"),
                (OrderStatus::Paid, OrderStatus::Fulfilled, "user:usr_admin"),
                (
                    OrderStatus::Fulfilled,
                    OrderStatus::PartiallyRefunded,
                    "user:usr_admin"
                ),
            ]
        );
        let cancel = Transition::Cancelled {
            reason: "too late".into(),
            restock: true,
        };
        assert!(
            orders
                .transition(&order.id, cancel, "user:usr_1")
                .await
                .is_err(),
            "not after fulfilment"
        );
        assert!(matches!(
            orders
                .transition("ord_nope", Transition::Delivered, "system")
                .await,
            Err(OrdersError::NotFound)
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_moves_settle_on_one_outcome() {
    for (_t, orders) in services().await {
        let order = orders.create(new_order("chk_contest")).await.unwrap();
        // Ten cancels and ten payments race on a pending order: whichever wins first,
        // exactly one move is recorded per status it passed, never a cancelled order
        // that was then paid.
        let results = futures::future::join_all((0..20).map(|i| {
            let (orders, id) = (orders.clone(), order.id.clone());
            async move {
                let t = if i % 2 == 0 {
                    Transition::Cancelled {
                        reason: "race".into(),
                        restock: false,
                    }
                } else {
                    Transition::Paid {
                        payment_ref: format!("pi_{i}"),
                    }
                };
                orders.transition(&id, t, "system").await
            }
        }))
        .await;
        let final_order = orders.get(&order.id).await.unwrap();
        let succeeded = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(final_order.history.len(), succeeded);
        match final_order.status {
            // Paid first, then one cancel (paid orders can be cancelled): two moves.
            OrderStatus::Cancelled if final_order.history[0].to == OrderStatus::Paid => {
                assert_eq!(succeeded, 2);
            }
            // Cancelled first: nothing after.
            OrderStatus::Cancelled => assert_eq!(succeeded, 1),
            // Paid and never cancelled cannot happen: ten cancels raced.
            other => panic!("ended {other:?} after {succeeded} moves"),
        }
    }
}
