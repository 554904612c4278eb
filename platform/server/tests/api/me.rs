//! A customer's own data: the address book (validated, encrypted, private), the phone
//! number (encrypted), the export of everything held, and erasure.

use weft_sdk::types::{
    CreateAddressRequest, LoginRequest, RefreshRequest, UpdateAddressRequest, UpdateMeRequest,
};
use weft_testkit::{TestApp, backend_tests};

use crate::support::{authed, customer, enrolled_admin, problem_of, registration, stored_strings};

backend_tests!(
    customers_keep_an_address_book_nobody_else_can_touch,
    phones_are_encrypted_and_validated,
    the_export_holds_everything_and_erasure_forgets_it,
);

fn london() -> CreateAddressRequest {
    CreateAddressRequest {
        name: "Ada Lovelace".into(),
        company: None,
        line1: "12 St James's Square".into(),
        line2: None,
        city: "London".into(),
        region: None,
        postal_code: Some("sw1y4lb".into()),
        country: "gb".into(),
        phone: Some("+44 20 7946 0958".into()),
        is_default: None,
    }
}

fn no_change() -> UpdateAddressRequest {
    UpdateAddressRequest {
        name: None,
        company: None,
        line1: None,
        line2: None,
        city: None,
        region: None,
        postal_code: None,
        country: None,
        phone: None,
        is_default: None,
    }
}

async fn customers_keep_an_address_book_nobody_else_can_touch(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    let ada = authed(&app, &ada.access_token);
    let home = ada
        .create_address()
        .body(london())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(home.id.starts_with("adr_"));
    assert_eq!(home.postal_code.as_deref(), Some("SW1Y 4LB"), "normalised");
    assert_eq!(home.country, "GB");
    assert_eq!(home.phone.as_deref(), Some("+442079460958"));
    assert!(home.is_default, "the first address is the default");

    let mut work = london();
    work.line1 = "350 Fifth Avenue".into();
    work.city = "New York".into();
    work.region = Some("ny".into());
    work.postal_code = Some("10118".into());
    work.country = "US".into();
    work.is_default = Some(true);
    let work = ada
        .create_address()
        .body(work)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(work.region.as_deref(), Some("NY"));
    let list = ada.list_addresses().send().await.unwrap().into_inner().data;
    let defaults: Vec<_> = list
        .iter()
        .filter(|a| a.is_default)
        .map(|a| a.id.clone())
        .collect();
    assert_eq!(
        defaults,
        std::slice::from_ref(&work.id),
        "one default at a time"
    );

    // GraphQL reads the same book.
    let gql: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(ada_token(&app, "ada@example.com").await)
        .json(
            &serde_json::json!({"query": "{ me { email addresses { id postalCode isDefault } } }"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = gql["data"]["me"]["addresses"]
        .as_array()
        .unwrap_or_else(|| panic!("{gql}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [home.id.as_str(), work.id.as_str()]);
    assert_eq!(gql["data"]["me"]["addresses"][0]["postalCode"], "SW1Y 4LB");

    // Invalid addresses name every field at fault and store nothing.
    let mut bad = london();
    bad.country = "US".into();
    bad.postal_code = Some("SW1Y 4LB".into());
    let p = problem_of(ada.create_address().body(bad).send().await).await;
    let fields: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!((p.status, fields), (422, vec!["region", "postal_code"]));
    for (country, postal, region) in [
        ("DE", "1011", None),
        ("FR", "7500", None),
        ("IN", "012345", Some("Goa")),
        ("AU", "20000", Some("NSW")),
        ("JP", "1000", Some("Tokyo")),
        ("CA", "123 456", Some("QC")),
        ("XX", "1", None),
    ] {
        let mut bad = london();
        bad.country = country.into();
        bad.postal_code = Some(postal.into());
        bad.region = region.map(Into::into);
        let p = problem_of(ada.create_address().body(bad).send().await).await;
        assert_eq!(p.status, 422, "{country} {postal}");
    }
    let missing_line = app
        .http
        .post(app.url("/v1/me/addresses"))
        .bearer_auth(&ada_token(&app, "ada@example.com").await)
        .json(&serde_json::json!({"name": "A", "city": "Paris", "country": "FR", "postal_code": "75008"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_line.status(), 422);
    let unknown_field = app
        .http
        .post(app.url("/v1/me/addresses"))
        .bearer_auth(&ada_token(&app, "ada@example.com").await)
        .json(&serde_json::json!({"name": "A", "line1": "1 rue", "city": "Paris", "country": "FR", "postal_code": "75008", "floor": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), 422);
    assert_eq!(
        ada.list_addresses()
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .len(),
        2
    );

    // A bad edit changes nothing; a good one is normalised.
    let mut edit = no_change();
    edit.postal_code = Some("ABC".into());
    let p = problem_of(ada.update_address().id(&home.id).body(edit).send().await).await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "postal_code"));
    let mut edit = no_change();
    edit.postal_code = Some("ec1a1bb".into());
    edit.line2 = Some("Flat 3".into());
    edit.phone = Some(String::new());
    let edited = ada
        .update_address()
        .id(&home.id)
        .body(edit)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.postal_code.as_deref(), Some("EC1A 1BB"));
    assert_eq!(edited.line2.as_deref(), Some("Flat 3"));
    assert_eq!(edited.phone, None, "cleared");
    assert_eq!(edited.line1, "12 St James's Square", "kept");

    // Stored sealed: the street is nowhere in the table in clear.
    let stored = stored_strings(&app, "SELECT sealed AS v FROM identity_addresses").await;
    assert_eq!(stored.len(), 2);
    assert!(
        stored
            .iter()
            .all(|s| !s.contains("James") && !s.contains("Fifth")),
        "{stored:?}"
    );

    // Someone else's address id is a 404, and their own book is empty.
    let eve = customer(&app, "eve@example.com").await;
    let eve = authed(&app, &eve.access_token);
    let p = problem_of(
        eve.update_address()
            .id(&home.id)
            .body(no_change())
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "address_not_found"));
    let p = problem_of(eve.delete_address().id(&home.id).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "address_not_found"));
    assert!(
        eve.list_addresses()
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .is_empty()
    );
    let p = problem_of(app.client.list_addresses().send().await).await;
    assert_eq!(p.status, 401, "a guest");

    ada.delete_address().id(&home.id).send().await.unwrap();
    let p = problem_of(ada.delete_address().id(&home.id).send().await).await;
    assert_eq!(p.status, 404, "already gone");
    assert_eq!(
        ada.list_addresses()
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .len(),
        1
    );
}

async fn ada_token(app: &TestApp, email: &str) -> String {
    app.client
        .login()
        .body(LoginRequest {
            email: email.into(),
            password: "linen-and-wool-2026".into(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .access_token
}

async fn phones_are_encrypted_and_validated(app: TestApp) {
    let session = customer(&app, "phone@example.com").await;
    let me = authed(&app, &session.access_token);
    let updated = me
        .update_me()
        .body(UpdateMeRequest {
            name: None,
            phone: Some("+1 (415) 555-0199".into()),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.phone.as_deref(), Some("+14155550199"));
    assert_eq!(
        me.get_me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .phone
            .as_deref(),
        Some("+14155550199")
    );
    let stored = stored_strings(
        &app,
        "SELECT phone_sealed AS v FROM identity_users WHERE phone_sealed IS NOT NULL",
    )
    .await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains("5550199"), "sealed: {}", stored[0]);
    assert!(
        stored[0].starts_with('k'),
        "carries its key id: {}",
        stored[0]
    );

    for bad in ["415 555 0199", "+12", "+1 415 555 0199 ext 2"] {
        let p = problem_of(
            me.update_me()
                .body(UpdateMeRequest {
                    name: None,
                    phone: Some(bad.into()),
                })
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (p.status, p.errors[0].field.as_str()),
            (422, "phone"),
            "{bad}"
        );
    }
    let cleared = me
        .update_me()
        .body(UpdateMeRequest {
            name: None,
            phone: Some(String::new()),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cleared.phone, None);
}

async fn the_export_holds_everything_and_erasure_forgets_it(app: TestApp) {
    let session = customer(&app, "leaving@example.com").await;
    let me = authed(&app, &session.access_token);
    me.create_address().body(london()).send().await.unwrap();
    me.update_me()
        .body(UpdateMeRequest {
            name: None,
            phone: Some("+33 1 23 45 67 89".into()),
        })
        .send()
        .await
        .unwrap();

    let export = me.export_me().send().await.unwrap().into_inner();
    assert_eq!(export.user.email, "leaving@example.com");
    assert_eq!(export.user.phone.as_deref(), Some("+33123456789"));
    assert_eq!(export.addresses.len(), 1);
    assert_eq!(export.addresses[0].city, "London");
    assert_eq!(export.sessions.len(), 1);
    assert!(export.linked_accounts.is_empty());
    assert_eq!(export.mfa_enabled_at, None);
    let raw = serde_json::to_string(&export).unwrap();
    assert!(
        !raw.contains(&session.refresh_token) && !raw.contains("argon2"),
        "no secrets in the export"
    );

    let p = problem_of(app.client.export_me().send().await).await;
    assert_eq!(p.status, 401, "a guest");

    me.delete_me().send().await.unwrap();
    // Gone: the token, the session, the password, the data; the email is free again.
    let p = problem_of(me.get_me().send().await).await;
    assert_eq!(p.status, 401);
    let p = problem_of(
        app.client
            .refresh()
            .body(RefreshRequest {
                refresh_token: session.refresh_token.clone(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 401);
    let p = problem_of(
        app.client
            .login()
            .body(LoginRequest {
                email: "leaving@example.com".into(),
                password: "linen-and-wool-2026".into(),
                totp_code: None,
            })
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 401);
    assert!(
        stored_strings(&app, "SELECT sealed AS v FROM identity_addresses")
            .await
            .is_empty()
    );
    let left = stored_strings(
        &app,
        &format!(
            "SELECT email || '|' || name AS v FROM identity_users WHERE id = '{}'",
            session.user.id
        ),
    )
    .await;
    assert_eq!(
        left.len(),
        1,
        "the row stays for the orders that refer to it"
    );
    assert!(
        left[0].ends_with("@erased.invalid|Erased customer"),
        "{}",
        left[0]
    );
    assert!(
        stored_strings(
            &app,
            "SELECT phone_sealed AS v FROM identity_users WHERE phone_sealed IS NOT NULL"
        )
        .await
        .is_empty()
    );
    let registered = stored_strings(
        &app,
        "SELECT aggregate_id AS v FROM platform_outbox WHERE event_type = 'user.registered'",
    )
    .await;
    assert!(
        registered.contains(&session.user.id),
        "UserRegistered went out through the outbox"
    );
    let events = stored_strings(
        &app,
        "SELECT aggregate_id AS v FROM platform_outbox WHERE event_type = 'user.erased'",
    )
    .await;
    assert_eq!(events.len(), 1, "UserErased goes out through the outbox");
    app.client
        .register()
        .body(registration("leaving@example.com"))
        .send()
        .await
        .unwrap();

    // Admins are not erased by a click: demote first.
    let (admin, _, _) = enrolled_admin(&app, "staying@example.com").await;
    let p = problem_of(authed(&app, &admin.access_token).delete_me().send().await).await;
    assert_eq!((p.status, p.code.as_str()), (403, "forbidden"));
}
