//! After the sale, through the SDK: a customer calls off a paid order (money, units and
//! promotion uses come back), returns some units (approved, received, restocked,
//! refunded), the back office refunds in part and in full (once per key, never more than
//! was paid, even when racing), and every order has a real PDF invoice.

use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};
use weft_sdk::types::{
    ApplyCodeRequest, CancelOrderRequest, CreateFulfillmentRequest, CreatePromotionRequest,
    CreateRefundRequest, CreateReturnRequest, Order, ReceiveReturnRequest, ReturnDecisionRequest,
};
use weft_testkit::TestApp;

use crate::purchase::{complete, ready_checkout, shop, stock, variant};
use crate::support::{authed, customer, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn key() -> String {
    format!("key-{}", uuid::Uuid::now_v7().simple())
}

/// Polls `check` until it holds (events are relayed after the answer), for 10 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 10 s");
}

/// A paid order of `lines` for `client`'s cart, applying `code` first if given.
async fn paid_order(client: &weft_sdk::Client, lines: &[(&str, i64)], code: Option<&str>) -> Order {
    let (cart, checkout) = ready_checkout(client, lines).await;
    if let Some(code) = code {
        client
            .apply_cart_promotion()
            .id(&cart)
            .body(body::<ApplyCodeRequest>(json!({ "code": code })))
            .send()
            .await
            .unwrap();
    }
    let done = complete(client, &checkout, "tok_visa", &key())
        .await
        .unwrap()
        .into_inner();
    let order = done.order.unwrap();
    assert_eq!(order.status, "paid");
    order
}

async fn payment_of(admin: &weft_sdk::Client, order: &Order) -> weft_sdk::types::Payment {
    admin
        .get_payment()
        .id(order.payment_id.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner()
}

async fn fulfil(admin: &weft_sdk::Client, order: &str) {
    admin
        .fulfill_order()
        .id(order)
        .body(body::<CreateFulfillmentRequest>(
            json!({"tracking_number": "1Z999AA10123456784", "carrier": "ups"}),
        ))
        .send()
        .await
        .unwrap();
}

weft_testkit::backend_tests!(
    a_customer_cancels_a_paid_order_and_gets_money_units_and_promotion_uses_back,
    returns_are_approved_received_restocked_and_refunded,
    refunds_are_partial_then_full_once_per_key_and_never_more_than_was_paid,
    every_order_has_a_pdf_invoice_its_customer_and_the_back_office_can_read,
    graphql_customers_cancel_orders_and_ask_for_returns,
);

async fn a_customer_cancels_a_paid_order_and_gets_money_units_and_promotion_uses_back(
    app: TestApp,
) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "CAN-1", 5).await;
    let promo = shop
        .admin
        .create_promotion()
        .body(body::<CreatePromotionRequest>(json!({
            "code": "ONCE10", "kind": "percentage", "percentage": 10, "usage_limit": 1
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    let ada = customer(&shop.app, "ada-cancel@example.com").await;
    let bob = customer(&shop.app, "bob-cancel@example.com").await;
    let ada_client = authed(&shop.app, &ada.access_token);
    let bob_client = authed(&shop.app, &bob.access_token);
    let order = paid_order(&ada_client, &[(&shirt, 2)], Some("ONCE10")).await;
    assert_eq!(order.discounts.amount, 400, "10% of 2 × 20.00");
    assert_eq!(stock(&ada_client, &shirt).await, (3, 0));
    let used = |admin: weft_sdk::Client, id: String| async move {
        admin
            .get_promotion()
            .id(&id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .times_used
    };
    assert_eq!(used(shop.admin.clone(), promo.id.clone()).await, 1);

    // Someone else's order is not there to cancel; a malformed body is refused whole.
    let p = problem_of(
        bob_client
            .cancel_my_order()
            .id(&order.id)
            .body(body::<CancelOrderRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "order_not_found"));
    let raw = reqwest::Client::new()
        .post(format!(
            "{}/v1/orders/{}/cancel",
            shop.app.address, order.id
        ))
        .bearer_auth(&ada.access_token)
        .header("content-type", "application/json")
        .body(r#"{"reason": "changed my mind", "refund_to": "elsewhere"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422, "unknown fields are refused");
    let p = problem_of(
        ada_client
            .cancel_my_order()
            .id(&order.id)
            .body(body::<CancelOrderRequest>(json!({"reason": ""})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "reason"));
    assert_eq!(
        payment_of(&shop.admin, &order).await.status,
        "captured",
        "nothing half-done by refused requests"
    );

    let cancelled = ada_client
        .cancel_my_order()
        .id(&order.id)
        .body(body::<CancelOrderRequest>(
            json!({"reason": "changed my mind"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.status, "cancelled");
    let last = cancelled.history.last().unwrap();
    assert_eq!(
        (last.transition.as_str(), last.actor.as_str()),
        ("cancelled", format!("user:{}", ada.user.id).as_str())
    );
    assert_eq!(last.detail["reason"], "changed my mind");
    // The money went back in full (the test gateway answers at once).
    assert_eq!(cancelled.refunded.amount, order.total.amount);
    let payment = payment_of(&shop.admin, &order).await;
    assert_eq!(
        (payment.status.as_str(), payment.refunded),
        ("refunded", order.total.amount)
    );
    // Units go back on the shelf and the code's use comes back, through events.
    let client = shop.app.client.clone();
    let s = shirt.clone();
    eventually("the restock", || {
        let (client, s) = (client.clone(), s.clone());
        async move { stock(&client, &s).await == (5, 0) }
    })
    .await;
    let (admin, id) = (shop.admin.clone(), promo.id.clone());
    eventually("the promotion use given back", || {
        let (admin, id) = (admin.clone(), id.clone());
        async move { used(admin, id).await == 0 }
    })
    .await;

    // Once is enough: a second cancel is a conflict and gives nothing back twice.
    let p = problem_of(
        ada_client
            .cancel_my_order()
            .id(&order.id)
            .body(body::<CancelOrderRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stock(&ada_client, &shirt).await, (5, 0), "restocked once");
    let payment = payment_of(&shop.admin, &order).await;
    assert_eq!(payment.refunded, order.total.amount, "refunded once");

    // A shipped order cannot be called off: it is returned instead.
    let shipped = paid_order(&ada_client, &[(&shirt, 1)], None).await;
    fulfil(&shop.admin, &shipped.id).await;
    let p = problem_of(
        ada_client
            .cancel_my_order()
            .id(&shipped.id)
            .body(body::<CancelOrderRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));
    // The back office can cancel a paid order too.
    let third = paid_order(&ada_client, &[(&shirt, 1)], None).await;
    let by_shop = shop
        .admin
        .cancel_order()
        .id(&third.id)
        .body(body::<CancelOrderRequest>(
            json!({"reason": "fraud check failed"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_shop.status, "cancelled");
    assert!(by_shop.history.last().unwrap().actor.starts_with("user:"));
    let p = problem_of(
        ada_client
            .cancel_order()
            .id(&shipped.id)
            .body(body::<CancelOrderRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 403, "customers do not use the back office");
}

async fn returns_are_approved_received_restocked_and_refunded(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "RET-1", 10).await;
    let socks = variant(&shop.admin, "RET-2", 10).await;
    let other = variant(&shop.admin, "RET-3", 10).await;
    let ada = customer(&shop.app, "ada-return@example.com").await;
    let bob = customer(&shop.app, "bob-return@example.com").await;
    let ada_client = authed(&shop.app, &ada.access_token);
    let bob_client = authed(&shop.app, &bob.access_token);
    let order = paid_order(&ada_client, &[(&shirt, 3), (&socks, 1)], None).await;
    let ask = |client: weft_sdk::Client, order: String, spec: Value| async move {
        client
            .request_return()
            .id(&order)
            .body(body::<CreateReturnRequest>(spec))
            .send()
            .await
    };

    // Not before it ships.
    let p = problem_of(
        ask(
            ada_client.clone(),
            order.id.clone(),
            json!({"items": [{"variant_id": shirt, "quantity": 1}], "reason": "too small"}),
        )
        .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));
    fulfil(&shop.admin, &order.id).await;

    // What cannot be returned is named.
    for (spec, field) in [
        (
            json!({"items": [{"variant_id": shirt, "quantity": 4}], "reason": "too small"}),
            "items[0].quantity",
        ),
        (
            json!({"items": [{"variant_id": other, "quantity": 1}], "reason": "too small"}),
            "items[0].variant_id",
        ),
        (
            json!({"items": [{"variant_id": shirt, "quantity": 1},
                             {"variant_id": shirt, "quantity": 1}], "reason": "x"}),
            "items[1]",
        ),
        (json!({"items": [], "reason": "too small"}), "items"),
        (
            json!({"items": [{"variant_id": shirt, "quantity": 1}], "reason": "  "}),
            "reason",
        ),
    ] {
        let p = problem_of(ask(ada_client.clone(), order.id.clone(), spec).await).await;
        assert_eq!(
            (p.status, p.errors[0].field.as_str()),
            (422, field),
            "{p:?}"
        );
    }
    let p = problem_of(
        ask(
            bob_client.clone(),
            order.id.clone(),
            json!({"items": [{"variant_id": shirt, "quantity": 1}], "reason": "mine now"}),
        )
        .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "order_not_found"));

    let ret = ask(
        ada_client.clone(),
        order.id.clone(),
        json!({"items": [{"variant_id": shirt, "quantity": 2}], "reason": "too small"}),
    )
    .await
    .unwrap();
    assert_eq!(ret.status(), 201);
    let ret = ret.into_inner();
    assert!(ret.id.starts_with("ret_"));
    assert_eq!(ret.status, "requested");
    // Only one unit of the shirt is left to return while this one stands.
    let p = problem_of(
        ask(
            ada_client.clone(),
            order.id.clone(),
            json!({"items": [{"variant_id": shirt, "quantity": 2}], "reason": "again"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "items[0].quantity")
    );

    let queue = shop
        .admin
        .list_returns()
        .status("requested")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queue.data.len(), 1);
    assert_eq!(queue.data[0].id, ret.id);
    // Not received before it is approved; not refunded before it is received.
    let p = problem_of(
        shop.admin
            .receive_return()
            .id(&ret.id)
            .body(body::<ReceiveReturnRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));
    let approved = shop
        .admin
        .approve_return()
        .id(&ret.id)
        .body(body::<ReturnDecisionRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(approved.status, "approved");
    let p = problem_of(
        shop.admin
            .refund_order()
            .id(&order.id)
            .idempotency_key(key())
            .body(body::<CreateRefundRequest>(
                json!({"reason": "returned", "return_id": ret.id}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));

    assert_eq!(stock(&ada_client, &shirt).await, (7, 0));
    let received = shop
        .admin
        .receive_return()
        .id(&ret.id)
        .body(body::<ReceiveReturnRequest>(json!({"restock": true})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(received.status, "received");
    let client = shop.app.client.clone();
    let s = shirt.clone();
    eventually("the returned units back on sale", || {
        let (client, s) = (client.clone(), s.clone());
        async move { stock(&client, &s).await == (9, 0) }
    })
    .await;

    // Refunded at what the two shirts cost (2 × 20.00).
    let refunded = shop
        .admin
        .refund_order()
        .id(&order.id)
        .idempotency_key(key())
        .body(body::<CreateRefundRequest>(
            json!({"reason": "returned: too small", "return_id": ret.id}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refunded.status(), 201);
    let refunded = refunded.into_inner();
    assert_eq!(refunded.refund.amount, 4000);
    assert_eq!(refunded.refund.status, "succeeded");
    assert_eq!(refunded.order.status, "partially_refunded");
    assert_eq!(refunded.order.refunded.amount, 4000);
    assert_eq!(refunded.order.returns[0].status, "refunded");
    assert_eq!(
        refunded.order.returns[0]
            .history
            .iter()
            .map(|m| m.status.as_str())
            .collect::<Vec<_>>(),
        ["requested", "approved", "received", "refunded"]
    );
    assert_eq!(payment_of(&shop.admin, &order).await.refunded, 4000);
    // A return is paid back once.
    let p = problem_of(
        shop.admin
            .refund_order()
            .id(&order.id)
            .idempotency_key(key())
            .body(body::<CreateRefundRequest>(
                json!({"reason": "again", "return_id": ret.id}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));

    // A rejected return holds no units; a damaged one is received without restocking.
    let second = ask(
        ada_client.clone(),
        order.id.clone(),
        json!({"items": [{"variant_id": shirt, "quantity": 1},
                         {"variant_id": socks, "quantity": 1}], "reason": "worn once"}),
    )
    .await
    .unwrap()
    .into_inner();
    let rejected = shop
        .admin
        .reject_return()
        .id(&second.id)
        .body(body::<ReturnDecisionRequest>(
            json!({"note": "worn items cannot be returned"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rejected.status, "rejected");
    assert_eq!(
        rejected.history.last().unwrap().note.as_deref(),
        Some("worn items cannot be returned")
    );
    let third = ask(
        ada_client.clone(),
        order.id.clone(),
        json!({"items": [{"variant_id": socks, "quantity": 1}], "reason": "hole"}),
    )
    .await
    .unwrap()
    .into_inner();
    for step in ["approve", "receive"] {
        let r = if step == "approve" {
            shop.admin
                .approve_return()
                .id(&third.id)
                .body(body::<ReturnDecisionRequest>(json!({})))
                .send()
                .await
        } else {
            shop.admin
                .receive_return()
                .id(&third.id)
                .body(body::<ReceiveReturnRequest>(json!({"restock": false})))
                .send()
                .await
        };
        r.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stock(&ada_client, &socks).await,
        (9, 0),
        "damaged: not restocked"
    );
    let p = problem_of(
        shop.admin
            .approve_return()
            .id("ret_0192d4f6a8e47b4c9a1d2e3f4a5b6c7d")
            .body(body::<ReturnDecisionRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "return_not_found"));
}

async fn refunds_are_partial_then_full_once_per_key_and_never_more_than_was_paid(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "RFD-1", 10).await;
    let ada = customer(&shop.app, "ada-refund@example.com").await;
    let ada_client = authed(&shop.app, &ada.access_token);
    let order = paid_order(&ada_client, &[(&shirt, 2)], None).await;
    let total = order.total.amount;
    let refund = |amount: Option<i64>, key: Option<String>| {
        let admin = shop.admin.clone();
        let id = order.id.clone();
        async move {
            let mut b = admin
                .refund_order()
                .id(&id)
                .body(body::<CreateRefundRequest>(
                    json!({"amount": amount, "reason": "goodwill"}),
                ));
            if let Some(k) = key {
                b = b.idempotency_key(k);
            }
            b.send().await
        }
    };

    let p = problem_of(refund(Some(500), None).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (400, "idempotency_key_required")
    );
    let p = problem_of(refund(None, Some(key())).await).await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "amount"));
    for bad in [0, -5, total + 1] {
        let p = problem_of(refund(Some(bad), Some(key())).await).await;
        assert_eq!(
            (p.status, p.errors[0].field.as_str()),
            (422, "amount"),
            "{bad}"
        );
    }
    let p = problem_of(
        ada_client
            .refund_order()
            .id(&order.id)
            .idempotency_key(key())
            .body(body::<CreateRefundRequest>(
                json!({"amount": 1, "reason": "me"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 403);

    // A partial refund, retried with its key: one refund.
    let k = key();
    let first = refund(Some(500), Some(k.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.order.status, "partially_refunded");
    let again = refund(Some(500), Some(k.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.refund.id, first.refund.id);
    assert_eq!(payment_of(&shop.admin, &order).await.refunded, 500);
    assert_eq!(again.order.refunds.len(), 1);

    // Ten racing refunds of a fifth of the rest each: five go through, never more. A
    // loser that comes while others are pending is told the amount is more than is left
    // (422); one that comes after the fifth has finished finds the order refunded (409).
    let rest = total - 500;
    assert_eq!(rest % 5, 0, "{rest}");
    let fifth = rest / 5;
    let answers =
        futures::future::join_all((0..10).map(|_| refund(Some(fifth), Some(key())))).await;
    let ok = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(ok, 5, "{answers:?}");
    for a in answers.into_iter().filter_map(Result::err) {
        let p = problem_of::<()>(Err(a)).await;
        let field = p.errors.first().map(|e| e.field.as_str());
        assert!(
            matches!(
                (p.status, p.code.as_str(), field),
                (422, _, Some("amount")) | (409, "illegal_transition", None)
            ),
            "{p:?}"
        );
    }
    let seen = shop
        .admin
        .admin_get_order()
        .id(&order.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.status, "refunded");
    assert_eq!(seen.refunded.amount, total);
    assert_eq!(seen.refunds.len(), 6);
    assert!(seen.refunds.iter().all(|r| r.status == "succeeded"));
    let payment = payment_of(&shop.admin, &order).await;
    assert_eq!(
        (payment.status.as_str(), payment.refunded),
        ("refunded", total)
    );
    let p = problem_of(refund(Some(1), Some(key())).await).await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));
}

/// Checks a PDF's skeleton: header, trailer, and a cross-reference table whose every
/// entry points at the object it names.
fn assert_well_formed_pdf(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-1."), "header");
    let text = String::from_utf8_lossy(pdf);
    assert!(text.trim_end().ends_with("%%EOF"), "trailer");
    let start: usize = text
        .rsplit("startxref")
        .next()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Offsets count bytes (the header's binary comment is not UTF-8).
    let xref = std::str::from_utf8(&pdf[start..]).unwrap();
    assert!(xref.starts_with("xref"), "startxref points at the table");
    let mut lines = xref.lines().skip(1);
    let header: Vec<usize> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let (first, count) = (header[0], header[1]);
    for (i, line) in lines.take(count).enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields[2] == "n" {
            let offset: usize = fields[0].parse().unwrap();
            let expected = format!("{} 0 obj", first + i);
            assert!(
                pdf[offset..].starts_with(expected.as_bytes()),
                "object {} is where the table says",
                first + i
            );
        }
    }
}

async fn every_order_has_a_pdf_invoice_its_customer_and_the_back_office_can_read(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "INV-1", 10).await;
    let ada = customer(&shop.app, "ada-invoice@example.com").await;
    let bob = customer(&shop.app, "bob-invoice@example.com").await;
    let ada_client = authed(&shop.app, &ada.access_token);
    let bob_client = authed(&shop.app, &bob.access_token);
    let order = paid_order(&ada_client, &[(&shirt, 3)], None).await;

    let response = reqwest::Client::new()
        .get(format!(
            "{}/v1/orders/{}/invoice",
            shop.app.address, order.id
        ))
        .bearer_auth(&ada.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("invoice-{}.pdf", order.id))
    );
    let pdf = response.bytes().await.unwrap();
    assert_well_formed_pdf(&pdf);
    let text = String::from_utf8_lossy(&pdf);
    // Seller, buyer, lines, taxes, totals, number and date, as drawn on the page.
    for expected in [
        format!("(Invoice number: {})", order.id),
        format!("(Date: {})", order.created_at.format("%Y-%m-%d")),
        "(Weft Demo Apparel)".to_owned(),
        "(Ada Lovelace)".to_owned(),
        "(ada@example.com)".to_owned(),
        "(Linen Shirt INV-1)".to_owned(),
        "(INV-1)".to_owned(),
        "(60.00 USD)".to_owned(),
        "(Tax)".to_owned(),
        format!(
            "({}.{:02} USD)",
            order.tax.amount / 100,
            order.tax.amount % 100
        ),
        format!(
            "({}.{:02} USD)",
            order.total.amount / 100,
            order.total.amount % 100
        ),
    ] {
        assert!(text.contains(&expected), "{expected} is on the invoice");
    }

    // The SDK reads it as bytes; the back office reads any; nobody else does.
    let bytes = ada_client
        .get_order_invoice()
        .id(&order.id)
        .send()
        .await
        .unwrap()
        .into_inner_stream();
    let mut all = Vec::new();
    let mut bytes = bytes;
    while let Some(chunk) = futures::StreamExt::next(&mut bytes).await {
        all.extend_from_slice(&chunk.unwrap());
    }
    assert!(all.starts_with(b"%PDF-"));
    let admin_copy = shop
        .admin
        .admin_get_order_invoice()
        .id(&order.id)
        .send()
        .await
        .unwrap();
    assert_eq!(admin_copy.status(), 200);
    // (The stream has no Debug; what matters is the problem.)
    let status = |r: Result<_, weft_sdk::Error<weft_sdk::types::Problem>>| match r {
        Err(weft_sdk::Error::ErrorResponse(p)) => {
            let p = p.into_inner();
            (p.status, p.code)
        }
        Ok(_) => panic!("an invoice for someone else"),
        Err(other) => panic!("{other}"),
    };
    assert_eq!(
        status(bob_client.get_order_invoice().id(&order.id).send().await),
        (404, "order_not_found".to_owned())
    );
    assert_eq!(
        status(
            shop.app
                .client
                .get_order_invoice()
                .id(&order.id)
                .send()
                .await
        )
        .0,
        401
    );

    // Forty lines run onto a second page.
    let mut lines = Vec::new();
    for i in 0..40 {
        lines.push(variant(&shop.admin, &format!("INV-L{i}"), 5).await);
    }
    let many: Vec<(&str, i64)> = lines.iter().map(|v| (v.as_str(), 1)).collect();
    let big = paid_order(&ada_client, &many, None).await;
    let pdf = reqwest::Client::new()
        .get(format!("{}/v1/orders/{}/invoice", shop.app.address, big.id))
        .bearer_auth(&ada.access_token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_well_formed_pdf(&pdf);
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Count 2"), "two pages");
    assert!(text.contains(&format!("({} - page 2 of 2)", big.id)));
}

/// A completion left at 3-D Secure is undone after `checkout.abandon_after_seconds`:
/// the stock goes back, the payment is voided, and the customer can start again.
async fn a_checkout_left_at_three_d_secure_is_abandoned(backend: weft_testkit::Backend) {
    let Some(app) = weft_testkit::spawn_app_with(backend, |s| {
        s.checkout.abandon_after_seconds = 1;
        s.checkout.recovery_interval_seconds = 1;
    })
    .await
    else {
        return;
    };
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "ABN-1", 3).await;
    let guest = shop.app.client.clone();
    let (_, checkout) = ready_checkout(&guest, &[(&shirt, 1)]).await;
    let answer = complete(&guest, &checkout, "tok_threeDSecureRequired", &key())
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.into_inner().status, "requires_action");
    assert_eq!(
        stock(&guest, &shirt).await,
        (3, 1),
        "held while the customer acts"
    );

    let (client, s) = (guest.clone(), shirt.clone());
    eventually("the abandoned hold released", || {
        let (client, s) = (client.clone(), s.clone());
        async move { stock(&client, &s).await == (3, 0) }
    })
    .await;
    let payments = shop
        .admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (payments[0].status.as_str(), payments[0].captured),
        ("voided", 0)
    );
    let p = problem_of(guest.confirm_checkout().id(&checkout).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (409, "checkout_abandoned"));

    // A new attempt with another card buys it.
    let again = complete(&guest, &checkout, "tok_visa", &key())
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(stock(&guest, &shirt).await, (2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_left_at_three_d_secure_is_abandoned_sqlite() {
    a_checkout_left_at_three_d_secure_is_abandoned(weft_testkit::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_left_at_three_d_secure_is_abandoned_postgres() {
    a_checkout_left_at_three_d_secure_is_abandoned(weft_testkit::Backend::Postgres).await;
}

async fn graphql_customers_cancel_orders_and_ask_for_returns(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "GQA-1", 5).await;
    let ada = customer(&shop.app, "ada-gql@example.com").await;
    let bob = customer(&shop.app, "bob-gql@example.com").await;
    let client = authed(&shop.app, &ada.access_token);
    let gql = |query: String, token: String| {
        let http = shop.app.http.clone();
        let url = shop.app.url("/graphql");
        async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let order = paid_order(&client, &[(&shirt, 2)], None).await;
    let cancel = format!(
        "mutation {{ cancelOrder(id: \"{}\", reason: \"ordered twice\") {{ id status refunded }} }}",
        order.id
    );
    let theirs = gql(cancel.clone(), bob.access_token.clone()).await;
    assert_eq!(
        theirs["errors"][0]["extensions"]["code"], "order_not_found",
        "{theirs}"
    );
    let done = gql(cancel.clone(), ada.access_token.clone()).await;
    assert_eq!(done["data"]["cancelOrder"]["status"], "cancelled", "{done}");
    assert_eq!(done["data"]["cancelOrder"]["refunded"], order.total.amount);
    let again = gql(cancel, ada.access_token.clone()).await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"],
        "illegal_transition"
    );

    let shipped = paid_order(&client, &[(&shirt, 1)], None).await;
    fulfil(&shop.admin, &shipped.id).await;
    let ask = |quantity: i64| {
        format!(
            "mutation {{ requestReturn(orderId: \"{}\", reason: \"too big\", items: [{{variantId: \"{shirt}\", quantity: {quantity}}}]) {{ id status orderId }} }}",
            shipped.id
        )
    };
    let too_many = gql(ask(2), ada.access_token.clone()).await;
    assert_eq!(
        too_many["errors"][0]["extensions"]["code"], "validation_failed",
        "{too_many}"
    );
    let ret = gql(ask(1), ada.access_token.clone()).await;
    assert_eq!(ret["data"]["requestReturn"]["status"], "requested", "{ret}");
    assert_eq!(ret["data"]["requestReturn"]["orderId"], shipped.id.as_str());
}

/// A refund recorded but never answered (the process died while the gateway was asked)
/// is finished by the settler with the same key; meanwhile the order cannot be
/// cancelled, which would race it.
async fn a_refund_left_pending_is_finished_by_the_settler(backend: weft_testkit::Backend) {
    let Some(app) = weft_testkit::spawn_app_with(backend, |s| {
        s.orders.settle_interval_seconds = 1;
    })
    .await
    else {
        return;
    };
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "SET-1", 5).await;
    let ada = customer(&shop.app, "ada-settle@example.com").await;
    let client = authed(&shop.app, &ada.access_token);
    let order = paid_order(&client, &[(&shirt, 1)], None).await;
    let refund_id = "rfd_0192d4f6a8e47b4c9a1d2e3f4a5b6c7d";
    let inserted = crate::support::execute_sql(
        &shop.app,
        &format!(
            "INSERT INTO orders_refunds (id, order_id, return_id, amount, reason, \
             idempotency_key, status, provider_ref, error, actor, created_at, updated_at) \
             VALUES ('{refund_id}', '{}', NULL, 700, 'goodwill', 'lost-answer', 'pending', \
             NULL, NULL, 'system', '2100-01-01 00:00:00', '2100-01-01 00:00:00')",
            order.id
        ),
    )
    .await;
    assert_eq!(inserted, 1);
    let p = problem_of(
        client
            .cancel_my_order()
            .id(&order.id)
            .body(body::<CancelOrderRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "refund_pending"));
    // Stamped in the future, the settler left it alone so far (it takes refunds a
    // minute old, whose request has surely died): now it is old.
    crate::support::execute_sql(
        &shop.app,
        &format!(
            "UPDATE orders_refunds SET updated_at = '2020-01-01 00:00:00' WHERE id = '{refund_id}'"
        ),
    )
    .await;

    let (admin, id) = (shop.admin.clone(), order.id.clone());
    eventually("the pending refund finished", || {
        let (admin, id) = (admin.clone(), id.clone());
        async move {
            let o = admin
                .admin_get_order()
                .id(&id)
                .send()
                .await
                .unwrap()
                .into_inner();
            o.status == "partially_refunded"
        }
    })
    .await;
    let seen = shop
        .admin
        .admin_get_order()
        .id(&order.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.refunded.amount, 700);
    assert_eq!(seen.refunds.len(), 1);
    assert_eq!(seen.refunds[0].status, "succeeded");
    assert!(seen.refunds[0].provider_ref.is_some());
    assert_eq!(payment_of(&shop.admin, &order).await.refunded, 700);
    // The same key through the API answers that refund; nothing is given back twice.
    let again = shop
        .admin
        .refund_order()
        .id(&order.id)
        .idempotency_key("lost-answer")
        .body(body::<CreateRefundRequest>(
            json!({"amount": 700, "reason": "goodwill"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.refund.id, refund_id);
    assert_eq!(payment_of(&shop.admin, &order).await.refunded, 700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_left_pending_is_finished_by_the_settler_sqlite() {
    a_refund_left_pending_is_finished_by_the_settler(weft_testkit::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_left_pending_is_finished_by_the_settler_postgres() {
    a_refund_left_pending_is_finished_by_the_settler(weft_testkit::Backend::Postgres).await;
}
