//! The saga runner on real databases (SQLite always, PostgreSQL when configured): steps
//! run in order, failures undo what ran last-first, waits resume, crashes are recovered
//! by another runner, and one runner at a time moves a run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_kernel::Clock;
use weft_saga::{Outcome, Saga, Step, StepError};
use weft_storage::Db;
use weft_storage::testing::{TestDatabase, postgres_admin_url};

/// What the steps did to the outside world, in order.
type World = Arc<Mutex<Vec<String>>>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Checkout {
    done: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Act {
    Succeed,
    Fail,
    /// Fails transiently this many times first.
    Flaky(usize),
    /// Waits the first time.
    SuspendOnce,
    /// Never returns (the process dies inside it).
    Hang,
    /// Takes 3.5 s (a slow gateway, a peer being retried).
    Slow,
    /// Its undo is refused every time (a clean failure).
    UndoFails,
    /// Its undo fails transiently this many times first (a peer down a while).
    UndoFlaky(usize),
}

struct Probe {
    name: &'static str,
    act: Act,
    world: World,
    tries: Arc<Mutex<usize>>,
    undo_tries: Arc<Mutex<usize>>,
}

#[async_trait::async_trait]
impl Step<Checkout> for Probe {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn run(&self, cx: &mut Checkout) -> Result<Value, StepError> {
        let tries = {
            let mut t = self.tries.lock().unwrap();
            *t += 1;
            *t
        };
        match self.act {
            Act::Fail => return Err(StepError::failed("declined", "no")),
            Act::Flaky(n) if tries <= n => return Err(StepError::Transient("timeout".into())),
            Act::SuspendOnce if tries == 1 => {
                return Err(StepError::Suspend(json!({"next_action": "3ds"})));
            }
            Act::Hang => {
                self.world
                    .lock()
                    .unwrap()
                    .push(format!("began:{}", self.name));
                std::future::pending::<()>().await;
            }
            Act::Slow => {
                self.world
                    .lock()
                    .unwrap()
                    .push(format!("began:{}", self.name));
                tokio::time::sleep(Duration::from_millis(3500)).await;
            }
            _ => {}
        }
        self.world
            .lock()
            .unwrap()
            .push(format!("run:{}", self.name));
        cx.done.push(self.name.to_owned());
        Ok(json!({"undo": self.name}))
    }

    async fn undo(&self, _cx: &mut Checkout, undo: Option<Value>) -> Result<(), StepError> {
        if self.act == Act::UndoFails {
            return Err(StepError::failed("refused", "the peer refuses"));
        }
        if let Act::UndoFlaky(n) = self.act {
            let tries = {
                let mut t = self.undo_tries.lock().unwrap();
                *t += 1;
                *t
            };
            if tries <= n {
                return Err(StepError::Transient("peer down".into()));
            }
        }
        let entry = match undo {
            Some(v) => format!("undo:{}", v["undo"].as_str().unwrap_or("?")),
            None => format!("undo-unknown:{}", self.name),
        };
        self.world.lock().unwrap().push(entry);
        Ok(())
    }
}

async fn databases() -> Vec<(TestDatabase, Db)> {
    let mut out = Vec::new();
    let sqlite = TestDatabase::sqlite().unwrap();
    out.push(sqlite);
    if let Some(url) = postgres_admin_url() {
        out.push(TestDatabase::postgres(&url).await.unwrap());
    }
    let mut ready = Vec::new();
    for t in out {
        let db = t.open(5).await.unwrap();
        weft_storage::migrate::run(&db, &[&weft_storage::migrate::PLATFORM])
            .await
            .unwrap();
        ready.push((t, db));
    }
    ready
}

fn saga(db: &Db, world: &World, acts: &[(&'static str, Act)]) -> Saga<Checkout> {
    let mut saga = Saga::new("test", db.clone(), Clock::system())
        .retry(
            backon::ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(5))
                .with_max_times(3),
        )
        .lease(Duration::from_millis(300));
    for (name, act) in acts {
        saga = saga.step(Probe {
            name,
            act: *act,
            world: Arc::clone(world),
            tries: Arc::default(),
            undo_tries: Arc::default(),
        });
    }
    saga
}

fn log(world: &World) -> Vec<String> {
    world.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_run_in_order_and_a_failure_undoes_what_ran_last_first() {
    for (_t, db) in databases().await {
        let world = World::default();
        let ok = saga(
            &db,
            &world,
            &[
                ("reserve", Act::Succeed),
                ("authorize", Act::Flaky(2)),
                ("order", Act::Succeed),
            ],
        );
        match ok.start("s_ok", Checkout::default()).await.unwrap() {
            Outcome::Completed(cx) => assert_eq!(cx.done, ["reserve", "authorize", "order"]),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            log(&world),
            ["run:reserve", "run:authorize", "run:order"],
            "flaky retried"
        );

        let world = World::default();
        let failing = saga(
            &db,
            &world,
            &[
                ("reserve", Act::Succeed),
                ("authorize", Act::Succeed),
                ("capture", Act::Fail),
                ("never", Act::Succeed),
            ],
        );
        match failing.start("s_fail", Checkout::default()).await.unwrap() {
            Outcome::Compensated { failure, context } => {
                assert_eq!(
                    (failure.step.as_str(), failure.code.as_str()),
                    ("capture", "declined")
                );
                assert_eq!(context.done, ["reserve", "authorize"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            log(&world),
            [
                "run:reserve",
                "run:authorize",
                "undo:authorize",
                "undo:reserve"
            ]
        );
        // Asking again answers the same, and does nothing again.
        assert!(matches!(
            failing.start("s_fail", Checkout::default()).await.unwrap(),
            Outcome::Compensated { .. }
        ));
        assert_eq!(log(&world).len(), 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_step_resumes_and_a_waiting_run_can_be_given_up() {
    for (_t, db) in databases().await {
        let world = World::default();
        let s = saga(
            &db,
            &world,
            &[
                ("reserve", Act::Succeed),
                ("authorize", Act::SuspendOnce),
                ("order", Act::Succeed),
            ],
        );
        match s.start("s_3ds", Checkout::default()).await.unwrap() {
            Outcome::Suspended { step, detail, .. } => {
                assert_eq!(step, "authorize");
                assert_eq!(detail["next_action"], "3ds");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            s.resume("s_3ds").await.unwrap(),
            Outcome::Completed(_)
        ));
        assert_eq!(log(&world), ["run:reserve", "run:authorize", "run:order"]);

        let world = World::default();
        let s = saga(
            &db,
            &world,
            &[("reserve", Act::Succeed), ("authorize", Act::SuspendOnce)],
        );
        assert!(matches!(
            s.start("s_gone", Checkout::default()).await.unwrap(),
            Outcome::Suspended { .. }
        ));
        match s
            .abort("s_gone", "expired", "the customer never confirmed")
            .await
            .unwrap()
        {
            Outcome::Compensated { failure, .. } => assert_eq!(failure.code, "expired"),
            other => panic!("{other:?}"),
        }
        // The waiting step is undone too: it may have left something (a payment waiting
        // for 3-D Secure), which it cancels by the saga's id.
        assert_eq!(
            log(&world),
            ["run:reserve", "undo-unknown:authorize", "undo:reserve"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_runner_died_is_compensated_before_the_pivot_and_finished_after_it() {
    for (_t, db) in databases().await {
        // Died inside `authorize` (before the pivot): what ran is undone, and the step
        // in flight is undone not knowing whether it happened.
        let world = World::default();
        let dying = saga(
            &db,
            &world,
            &[
                ("reserve", Act::Succeed),
                ("authorize", Act::Hang),
                ("order", Act::Succeed),
            ],
        )
        .pivot("order");
        let run = tokio::spawn(async move { dying.start("s_crash", Checkout::default()).await });
        wait_for(&world, "began:authorize").await;
        run.abort();
        let _ = run.await;
        let other = World::default();
        let rescuer = saga(
            &db,
            &other,
            &[
                ("reserve", Act::Succeed),
                ("authorize", Act::Succeed),
                ("order", Act::Succeed),
            ],
        )
        .pivot("order");
        assert!(
            rescuer.recover().await.unwrap().is_empty(),
            "the lease has not lapsed yet"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let recovered = rescuer.recover().await.unwrap();
        assert_eq!(recovered.len(), 1);
        assert!(
            matches!(recovered[0].1, Outcome::Compensated { .. }),
            "{:?}",
            recovered[0].1
        );
        assert_eq!(log(&other), ["undo-unknown:authorize", "undo:reserve"]);

        // Died at the pivot: the run is finished instead.
        let world = World::default();
        let dying = saga(
            &db,
            &world,
            &[
                ("reserve", Act::Succeed),
                ("order", Act::Hang),
                ("clear", Act::Succeed),
            ],
        )
        .pivot("order");
        let run = tokio::spawn(async move { dying.start("s_late", Checkout::default()).await });
        wait_for(&world, "began:order").await;
        run.abort();
        let _ = run.await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let other = World::default();
        let rescuer = saga(
            &db,
            &other,
            &[
                ("reserve", Act::Succeed),
                ("order", Act::Succeed),
                ("clear", Act::Succeed),
            ],
        )
        .pivot("order");
        let recovered = rescuer.recover().await.unwrap();
        match &recovered[..] {
            [(id, Outcome::Completed(cx))] => {
                assert_eq!(id, "s_late");
                assert_eq!(cx.done, ["reserve", "order", "clear"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            log(&other),
            ["run:order", "run:clear"],
            "the step in flight ran again"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_runner_at_a_time_and_a_compensation_that_keeps_failing_is_stuck() {
    for (_t, db) in databases().await {
        let world = World::default();
        let busy = saga(&db, &world, &[("hang", Act::Hang)]);
        let run = tokio::spawn(async move { busy.start("s_busy", Checkout::default()).await });
        wait_for(&world, "began:hang").await;
        let second = saga(&db, &world, &[("hang", Act::Succeed)]);
        assert!(matches!(
            second.resume("s_busy").await.unwrap(),
            Outcome::Busy
        ));
        run.abort();

        let world = World::default();
        let s = saga(
            &db,
            &world,
            &[("reserve", Act::UndoFails), ("capture", Act::Fail)],
        );
        match s.start("s_stuck", Checkout::default()).await.unwrap() {
            Outcome::Stuck { failure, .. } => {
                assert_eq!(
                    (failure.step.as_str(), failure.code.as_str()),
                    ("reserve", "compensation_failed")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            s.resume("s_stuck").await.unwrap(),
            Outcome::Stuck { .. }
        ));
        assert!(s.resume("s_nope").await.is_err(), "no such run");
    }
}

/// A peer away through every retry: past the pivot the run is not undone but deferred,
/// and the next resume finishes it; an undo that cannot reach its peer waits the same
/// way, and the compensation goes on at the next resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_away_defers_a_step_past_the_pivot_and_an_undo_instead_of_giving_up() {
    for (_t, db) in databases().await {
        let world = World::default();
        // Four tries a run (three retries): the fifth succeeds.
        let s = saga(
            &db,
            &world,
            &[
                ("reserve", Act::Succeed),
                ("order", Act::Succeed),
                ("commit", Act::Flaky(5)),
            ],
        )
        .pivot("order");
        match s.start("s_deferred", Checkout::default()).await.unwrap() {
            Outcome::Deferred { failure, context } => {
                assert_eq!(
                    (failure.step.as_str(), failure.code.as_str()),
                    ("commit", "unavailable")
                );
                assert_eq!(context.done, ["reserve", "order"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(log(&world), ["run:reserve", "run:order"], "nothing undone");
        match s.resume("s_deferred").await.unwrap() {
            Outcome::Completed(cx) => assert_eq!(cx.done, ["reserve", "order", "commit"]),
            other => panic!("{other:?}"),
        }

        let world = World::default();
        let s = saga(
            &db,
            &world,
            &[("reserve", Act::UndoFlaky(5)), ("authorize", Act::Fail)],
        );
        assert!(matches!(
            s.start("s_undo_later", Checkout::default()).await.unwrap(),
            Outcome::Deferred { .. }
        ));
        assert!(!log(&world).iter().any(|l| l.starts_with("undo")));
        match s.resume("s_undo_later").await.unwrap() {
            Outcome::Compensated { failure, .. } => {
                assert_eq!(
                    (failure.step.as_str(), failure.code.as_str()),
                    ("authorize", "declined")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(log(&world), ["run:reserve", "undo:reserve"]);
    }
}

/// A recovery that listed a run just before another runner completed it must leave it
/// completed: undoing a paid order from a stale list is the worst a saga can do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_completed_since_it_was_listed_is_left_alone_by_recovery() {
    for (_t, db) in databases().await {
        let world = World::default();
        let s = saga(
            &db,
            &world,
            &[("reserve", Act::Succeed), ("order", Act::Succeed)],
        )
        .pivot("order");
        assert!(matches!(
            s.start("s_done", Checkout::default()).await.unwrap(),
            Outcome::Completed(_)
        ));
        assert!(s.recover_run("s_done").await.unwrap().is_none());
        assert_eq!(log(&world), ["run:reserve", "run:order"], "nothing undone");
        assert!(matches!(
            s.resume("s_done").await.unwrap(),
            Outcome::Completed(_)
        ));
    }
}

/// A step that outlasts the lease keeps it: its runner renews it while the step runs, so
/// no other runner recovers or resumes the run meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_step_keeps_its_lease_and_no_other_runner_takes_the_run() {
    for (_t, db) in databases().await {
        let steps = |slow| {
            [
                ("reserve", Act::Succeed),
                ("authorize", slow),
                ("order", Act::Succeed),
            ]
        };
        let world = World::default();
        let runner = saga(&db, &world, &steps(Act::Slow))
            .pivot("order")
            .lease(Duration::from_secs(1));
        let run = tokio::spawn(async move { runner.start("s_slow", Checkout::default()).await });
        wait_for(&world, "began:authorize").await;
        let other = World::default();
        let rescuer = saga(&db, &other, &steps(Act::Succeed))
            .pivot("order")
            .lease(Duration::from_secs(1));
        for _ in 0..2 {
            // Past the lease the first runner took: it was renewed.
            tokio::time::sleep(Duration::from_millis(1200)).await;
            assert!(rescuer.recover().await.unwrap().is_empty());
            assert!(matches!(
                rescuer.resume("s_slow").await.unwrap(),
                Outcome::Busy
            ));
        }
        match run.await.unwrap().unwrap() {
            Outcome::Completed(cx) => assert_eq!(cx.done, ["reserve", "authorize", "order"]),
            other => panic!("{other:?}"),
        }
        assert!(log(&other).is_empty(), "{:?}", log(&other));
    }
}

async fn wait_for(world: &World, entry: &str) {
    for _ in 0..200 {
        if log(world).iter().any(|e| e == entry) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{entry} never happened: {:?}", log(world));
}
