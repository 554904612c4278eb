//! The review store's contract, run on every store: SQLite and PostgreSQL (the relational
//! store), and MongoDB when `WEFT_TEST_MONGODB_URL` names a server (none can run on the CI
//! machine: the output says when it was skipped). One suite, so the stores cannot drift.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use weft_kernel::id::PrefixedId;
use weft_reviews::domain::{Review, ReviewId, Sort, Status};
use weft_reviews::store::mongo::MongoReviews;
use weft_reviews::store::sql::SqlReviews;
use weft_reviews::store::{Position, QueueFilter, ReviewStore};
use weft_storage::Db;
use weft_storage::testing::{TestDatabase, postgres_admin_url};

/// A store with the relational database its calls run in, kept alive for one test.
struct Fixture {
    store: Arc<dyn ReviewStore>,
    db: Db,
    _database: TestDatabase,
    mongo: Option<MongoReviews>,
}

async fn relational(database: TestDatabase) -> Fixture {
    let db = database.open(5).await.unwrap();
    weft_storage::migrate::run(&db, &[&weft_reviews::MIGRATIONS])
        .await
        .unwrap();
    Fixture {
        store: Arc::new(SqlReviews),
        db,
        _database: database,
        mongo: None,
    }
}

async fn sqlite() -> Option<Fixture> {
    Some(relational(TestDatabase::sqlite().unwrap()).await)
}

async fn postgres() -> Option<Fixture> {
    let admin = postgres_admin_url()?;
    Some(relational(TestDatabase::postgres(&admin).await.unwrap()).await)
}

async fn mongodb() -> Option<Fixture> {
    let Ok(url) = std::env::var("WEFT_TEST_MONGODB_URL") else {
        // Straight to stderr, past the harness's capture, so a passing run says it.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: WEFT_TEST_MONGODB_URL unset (MongoDB review store contract not run)"
            );
        });
        return None;
    };
    // The calls still get a relational transaction (purchases and ratings live there).
    let mut fixture = relational(TestDatabase::sqlite().unwrap()).await;
    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let name = format!("weft_test_{}", uuid::Uuid::now_v7().simple());
    let store = MongoReviews::open(&client, &name).await.unwrap();
    fixture.store = Arc::new(store.clone());
    fixture.mongo = Some(store);
    Some(fixture)
}

impl Fixture {
    async fn done(self) {
        if let Some(mongo) = &self.mongo {
            mongo.drop_all().await.unwrap();
        }
    }
}

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap() + Duration::minutes(minute)
}

fn review(product: &str, customer: &str, rating: i32, minute: i64) -> Review {
    Review {
        id: ReviewId::generate().to_string(),
        product_id: product.to_owned(),
        customer_id: Some(customer.to_owned()),
        author_name: "Ada".to_owned(),
        rating,
        title: format!("{rating} stars"),
        body: "Soft.".to_owned(),
        size_fit: None,
        photos: vec!["https://cdn.example/a.jpg".to_owned()],
        verified_purchase: true,
        status: Status::Published,
        moderation_note: None,
        reply: None,
        helpful_count: 0,
        report_count: 0,
        created_at: at(minute),
        updated_at: at(minute),
    }
}

macro_rules! store_contract {
    ($fixture:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn one_review_per_customer_and_product_and_it_reads_back_whole() {
            let Some(f) = $fixture.await else { return };
            super::one_review_per_customer_and_product(&f).await;
            f.done().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pages_follow_each_sort_without_repeats_or_gaps() {
            let Some(f) = $fixture.await else { return };
            super::pages_follow_each_sort(&f).await;
            f.done().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn votes_and_reports_count_once_per_customer_even_racing() {
            let Some(f) = $fixture.await else { return };
            super::votes_and_reports_count_once(&f).await;
            f.done().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn summaries_queues_erasure_and_deletion() {
            let Some(f) = $fixture.await else { return };
            super::summaries_queues_erasure_and_deletion(&f).await;
            f.done().await;
        }
    };
}

mod on_sqlite {
    store_contract!(super::sqlite());
}

mod on_postgres {
    store_contract!(super::postgres());
}

mod on_mongodb {
    store_contract!(super::mongodb());
}

async fn one_review_per_customer_and_product(f: &Fixture) {
    let mut tx = f.db.conn().await.unwrap();
    let mut first = review("prod_a", "usr_1", 4, 0);
    first.reply = None;
    first.size_fit = Some(weft_reviews::domain::SizeFit::RunsLarge);
    assert!(f.store.insert(&mut tx, &first).await.unwrap());
    assert_eq!(
        f.store.get(&mut tx, &first.id).await.unwrap(),
        Some(first.clone())
    );
    // The same customer again on the same product: refused; on another product: fine.
    assert!(
        !f.store
            .insert(&mut tx, &review("prod_a", "usr_1", 2, 1))
            .await
            .unwrap()
    );
    assert!(
        f.store
            .insert(&mut tx, &review("prod_b", "usr_1", 2, 1))
            .await
            .unwrap()
    );
    // A save changes what may change, and keeps the counters.
    let mut changed = first.clone();
    changed.rating = 2;
    changed.status = Status::Rejected;
    changed.moderation_note = Some("links".to_owned());
    changed.reply = Some(weft_reviews::domain::Reply {
        body: "Thanks".to_owned(),
        at: at(5),
    });
    changed.updated_at = at(5);
    f.store.save(&mut tx, &changed).await.unwrap();
    assert_eq!(
        f.store.get(&mut tx, &first.id).await.unwrap(),
        Some(changed)
    );
    assert_eq!(f.store.get(&mut tx, "rev_missing").await.unwrap(), None);
}

async fn pages_follow_each_sort(f: &Fixture) {
    let mut tx = f.db.conn().await.unwrap();
    // Ties on every key, so the cursor's tie-breakers are exercised.
    let ratings = [5, 3, 5, 1, 3, 5, 2];
    let mut all = Vec::new();
    for (i, rating) in ratings.iter().enumerate() {
        let minute = i64::try_from(i / 2).unwrap();
        let r = review("prod_p", &format!("usr_{i}"), *rating, minute);
        assert!(f.store.insert(&mut tx, &r).await.unwrap());
        all.push(r);
    }
    let mut hidden = review("prod_p", "usr_hidden", 5, 9);
    hidden.status = Status::Pending;
    f.store.insert(&mut tx, &hidden).await.unwrap();
    for (i, r) in all.iter().enumerate().take(3) {
        for v in 0..=i {
            f.store
                .vote(&mut tx, &r.id, &format!("fan_{v}"), at(10))
                .await
                .unwrap();
        }
    }
    for sort in [Sort::Newest, Sort::Helpful, Sort::Highest, Sort::Lowest] {
        let mut seen: Vec<Review> = Vec::new();
        let mut after: Option<Position> = None;
        loop {
            let page = f
                .store
                .published(&mut tx, "prod_p", sort, after.as_ref(), 2)
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|r| Position::of(r, sort));
            seen.extend(page);
        }
        assert_eq!(
            seen.len(),
            ratings.len(),
            "{sort:?}: every published one once"
        );
        let key = |r: &Review| match sort {
            Sort::Newest => (0, r.created_at, r.id.clone()),
            Sort::Helpful => (-r.helpful_count, r.created_at, r.id.clone()),
            Sort::Highest => (-i64::from(r.rating), r.created_at, r.id.clone()),
            Sort::Lowest => (i64::from(r.rating), r.created_at, r.id.clone()),
        };
        for pair in seen.windows(2) {
            let (a, b) = (key(&pair[0]), key(&pair[1]));
            // By key, then newest first, then the larger id first.
            assert!(
                a.0 < b.0 || (a.0 == b.0 && (a.1 > b.1 || (a.1 == b.1 && a.2 > b.2))),
                "{sort:?} out of order: {a:?} before {b:?}"
            );
        }
    }
}

async fn votes_and_reports_count_once(f: &Fixture) {
    let mut tx = f.db.conn().await.unwrap();
    let r = review("prod_v", "usr_author", 5, 0);
    f.store.insert(&mut tx, &r).await.unwrap();
    drop(tx);
    // Twenty racing votes by one customer, each in its own transaction.
    let votes = futures_join(20, |_| {
        let (db, store, id) = (f.db.clone(), Arc::clone(&f.store), r.id.clone());
        async move {
            db.transaction(async |tx: &mut weft_storage::DbConn| {
                store.vote(tx, &id, "usr_fan", at(1)).await
            })
            .await
            .unwrap()
        }
    })
    .await;
    assert_eq!(votes.iter().filter(|counted| **counted).count(), 1);
    let mut tx = f.db.conn().await.unwrap();
    assert_eq!(
        f.store
            .get(&mut tx, &r.id)
            .await
            .unwrap()
            .unwrap()
            .helpful_count,
        1
    );
    assert!(
        f.store
            .vote(&mut tx, &r.id, "usr_other", at(2))
            .await
            .unwrap()
    );
    assert_eq!(
        f.store
            .get(&mut tx, &r.id)
            .await
            .unwrap()
            .unwrap()
            .helpful_count,
        2
    );

    assert_eq!(
        f.store
            .report(&mut tx, &r.id, "usr_a", "rude", at(3))
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        f.store
            .report(&mut tx, &r.id, "usr_a", "rude again", at(4))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        f.store
            .report(&mut tx, &r.id, "usr_b", "spam", at(5))
            .await
            .unwrap(),
        Some(2)
    );
}

async fn futures_join<T, F: std::future::Future<Output = T> + Send + 'static>(
    n: usize,
    make: impl Fn(usize) -> F,
) -> Vec<T>
where
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(make(i))).collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn summaries_queues_erasure_and_deletion(f: &Fixture) {
    let mut tx = f.db.conn().await.unwrap();
    let mut rs = Vec::new();
    for (i, (rating, status)) in [
        (5, Status::Published),
        (5, Status::Published),
        (2, Status::Published),
        (1, Status::Pending),
        (4, Status::Rejected),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = review(
            "prod_s",
            &format!("usr_{i}"),
            rating,
            i64::try_from(i).unwrap(),
        );
        r.status = status;
        f.store.insert(&mut tx, &r).await.unwrap();
        rs.push(r);
    }
    let summary = f.store.summary(&mut tx, "prod_s").await.unwrap();
    assert_eq!(summary.distribution, [0, 1, 0, 0, 2]);
    assert_eq!(summary.average(), Some(4.0));
    assert_eq!(
        f.store.summary(&mut tx, "prod_none").await.unwrap().count(),
        0
    );

    // The queue: oldest first, by status, by reports, paged.
    let pending = QueueFilter {
        status: Some(Status::Pending),
        ..QueueFilter::default()
    };
    let queue = f.store.queue(&mut tx, &pending, None, 10).await.unwrap();
    assert_eq!(
        queue.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        [rs[3].id.clone()]
    );
    let everything = QueueFilter::default();
    let first = f.store.queue(&mut tx, &everything, None, 2).await.unwrap();
    let after = Position::of(&first[1], Sort::Newest);
    let rest = f
        .store
        .queue(&mut tx, &everything, Some(&after), 10)
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 5);
    assert_eq!(first[0].id, rs[0].id);
    f.store
        .report(&mut tx, &rs[1].id, "usr_x", "rude", at(9))
        .await
        .unwrap();
    let reported = QueueFilter {
        reported: true,
        ..QueueFilter::default()
    };
    let queue = f.store.queue(&mut tx, &reported, None, 10).await.unwrap();
    assert_eq!(queue.len(), 1);

    // Erasure: the words stay, nothing of the author does; votes and reports go.
    f.store
        .vote(&mut tx, &rs[1].id, "usr_0", at(9))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .erase_customer(&mut tx, "usr_0", at(10))
            .await
            .unwrap(),
        1
    );
    let erased = f.store.get(&mut tx, &rs[0].id).await.unwrap().unwrap();
    assert_eq!(erased.customer_id, None);
    assert_eq!(erased.author_name, weft_reviews::domain::ERASED);
    assert!(erased.photos.is_empty());
    assert_eq!(erased.title, rs[0].title);
    assert_eq!(
        f.store
            .erase_customer(&mut tx, "usr_0", at(11))
            .await
            .unwrap(),
        0
    );
    // Their vote is forgotten (the count stays), so they could not be traced by it.
    assert!(
        f.store
            .vote(&mut tx, &rs[1].id, "usr_0", at(12))
            .await
            .unwrap()
    );
    // Erased reviews do not collide with each other (both without a customer now).
    f.store
        .erase_customer(&mut tx, "usr_1", at(12))
        .await
        .unwrap();
    let second = f.store.get(&mut tx, &rs[1].id).await.unwrap().unwrap();
    assert_eq!(second.customer_id, None);

    // Deleting takes votes and reports along.
    assert!(f.store.delete(&mut tx, &rs[1].id).await.unwrap());
    assert!(!f.store.delete(&mut tx, &rs[1].id).await.unwrap());
    assert_eq!(f.store.get(&mut tx, &rs[1].id).await.unwrap(), None);
    // The erased author's review still counts; the deleted one does not.
    assert_eq!(
        f.store
            .summary(&mut tx, "prod_s")
            .await
            .unwrap()
            .distribution,
        [0, 1, 0, 0, 1]
    );
}
