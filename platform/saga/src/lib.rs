//! Sagas: a list of steps, each with its compensation, whose progress is persisted after
//! every step (`platform_sagas`, `platform_saga_steps`), so a crash anywhere leaves a run
//! that is resumed or compensated, never half done.
//!
//! - A [`Step`] runs and returns what undoing it needs; that undo is written before the
//!   next step starts. `undo` gets `None` for a step that was in flight at a crash (it may
//!   or may not have happened), so steps key their effects by the saga id and undo by it.
//! - A step fails cleanly ([`StepError::Failed`]: the steps before it are undone in
//!   reverse), transiently ([`StepError::Transient`]: retried with backoff, then a
//!   failure), or asks to wait ([`StepError::Suspend`]: 3-D Secure; [`Saga::resume`] runs
//!   it again later).
//! - [`Saga::recover`] (at start, then periodically) takes the runs a crash left behind,
//!   once their lease lapsed: before the *pivot*
//!   step they are compensated, from it on they are driven forward (the steps after the
//!   pivot must be able to finish, and are retried until they do).
//! - A step past the pivot that fails transiently through every retry does not undo the
//!   run, and neither does an undo that fails transiently: the run is
//!   [`Outcome::Deferred`], left as it is for the next resume or recovery. Only an undo
//!   that fails cleanly leaves a run [`Outcome::Stuck`] for an operator.
//! - One runner at a time moves a run: a lease in its row (a guarded update) that lapses
//!   if the runner dies. A second caller gets [`Outcome::Busy`].

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_kernel::Clock;
use weft_storage::sagas::{self, SagaRow, StepRow};
use weft_storage::{Db, DbConn, StorageError};

/// Why a step did not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    /// It cannot succeed (declined, out of stock): nothing of it stands; undo the rest.
    #[error("{code}: {message}")]
    Failed { code: String, message: String },
    /// It might succeed if tried again (a peer timed out).
    #[error("transient: {0}")]
    Transient(String),
    /// It waits for something outside (a customer's 3-D Secure); `detail` says what.
    #[error("waiting")]
    Suspend(Value),
}

impl StepError {
    pub fn failed(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Failed {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// One step of a saga over a context `C`.
#[async_trait::async_trait]
pub trait Step<C>: Send + Sync {
    /// The step's name (persisted; keep it stable).
    fn name(&self) -> &'static str;
    /// Does the step, recording what later steps need in `cx`; returns what undoing it
    /// needs. Must be safe to run again for the same saga (after a crash, or a resume).
    async fn run(&self, cx: &mut C) -> Result<Value, StepError>;
    /// Undoes the step: `undo` is what `run` returned, or `None` when the process died
    /// while it ran. Must be safe to run twice.
    async fn undo(&self, cx: &mut C, undo: Option<Value>) -> Result<(), StepError>;
}

/// Why a run was compensated (or could not be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub step: String,
    pub code: String,
    pub message: String,
}

/// Where a run ended up.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<C> {
    /// Every step ran.
    Completed(C),
    /// A step failed and every step before it was undone.
    Compensated { context: C, failure: Failure },
    /// A step waits (see [`StepError::Suspend`]); resume the run later.
    Suspended {
        context: C,
        step: String,
        detail: Value,
    },
    /// Another runner holds the run now.
    Busy,
    /// A compensation failed for good: the run needs an operator (`failure` says where).
    Stuck { context: C, failure: Failure },
    /// A step past the pivot, or an undo, could not be done yet: it failed transiently
    /// through every retry (a peer down). The run stays where it is, running or
    /// compensating, for the next [`Saga::resume`] or [`Saga::recover`] to go on with:
    /// past the pivot a run is finished, never undone, however long a peer is away.
    Deferred { context: C, failure: Failure },
}

#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error("no saga {0}")]
    NotFound(String),
    #[error("saga {0}: stored context does not decode: {1}")]
    Corrupt(String, String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

const RUNNING: &str = "running";
const SUSPENDED: &str = "suspended";
const COMPENSATING: &str = "compensating";
const COMPENSATED: &str = "compensated";
const COMPLETED: &str = "completed";
/// A compensation that kept failing; the run waits for an operator.
const STUCK: &str = "failed";

/// A kind of saga: its steps, in order, and the runner settings.
pub struct Saga<C> {
    kind: &'static str,
    steps: Vec<Arc<dyn Step<C>>>,
    /// Runs interrupted at or after this step are driven forward, not compensated.
    pivot: usize,
    db: Db,
    clock: Clock,
    owner: String,
    lease: Duration,
    retry: ExponentialBuilder,
    /// Test hook: wait forever before running this step (to kill the process there).
    pause_before: Option<String>,
    /// Suspended runs nobody moved on for this long are given up (recovery does it).
    abandon_after: Option<Duration>,
}

impl<C> std::fmt::Debug for Saga<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saga")
            .field("kind", &self.kind)
            .field(
                "steps",
                &self.steps.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("pivot", &self.pivot)
            .finish_non_exhaustive()
    }
}

impl<C> Saga<C>
where
    C: Serialize + DeserializeOwned + Send + Sync,
{
    pub fn new(kind: &'static str, db: Db, clock: Clock) -> Self {
        Self {
            kind,
            steps: Vec::new(),
            pivot: usize::MAX,
            db,
            clock,
            owner: format!("runner-{}", uuid::Uuid::now_v7().simple()),
            lease: Duration::from_secs(30),
            retry: ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(100))
                .with_max_delay(Duration::from_secs(2))
                .with_max_times(3)
                .with_jitter(),
            pause_before: None,
            abandon_after: None,
        }
    }

    /// Runs left suspended (waiting for a customer) longer than `after` are undone by
    /// [`Self::run_recovery`], with the code `abandoned`.
    #[must_use]
    pub fn abandon_after(mut self, after: Option<Duration>) -> Self {
        self.abandon_after = after;
        self
    }

    /// Undoes the runs suspended longer than the `abandon_after` setting, as if they
    /// failed with `abandoned` at the step they wait at; returns their ids and outcomes.
    pub async fn abandon_suspended(&self) -> Result<Vec<(String, Outcome<C>)>, SagaError> {
        let Some(after) = self.abandon_after else {
            return Ok(Vec::new());
        };
        let before =
            self.now() - chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
        let ids = {
            let mut conn = self.db.conn().await?;
            sagas::suspended_since(&mut conn, self.kind, before).await?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            tracing::info!(saga = %id, kind = self.kind, "suspended run abandoned");
            let outcome = self
                .abort(
                    &id,
                    "abandoned",
                    "nobody finished it in time; nothing was charged",
                )
                .await?;
            out.push((id, outcome));
        }
        Ok(out)
    }

    /// Appends a step.
    #[must_use]
    pub fn step(mut self, step: impl Step<C> + 'static) -> Self {
        self.steps.push(Arc::new(step));
        self
    }

    /// Runs interrupted at this step or later are finished, not undone (the step where
    /// the outcome is decided, e.g. an order created with its payment authorized).
    #[must_use]
    pub fn pivot(mut self, step: &str) -> Self {
        self.pivot = self
            .steps
            .iter()
            .position(|s| s.name() == step)
            .unwrap_or(usize::MAX);
        self
    }

    /// How long a runner's claim on a run lasts without progress (default 30 s): a run
    /// whose runner died is recovered once it lapses. Longer than any step may take.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How transient failures are retried.
    #[must_use]
    pub fn retry(mut self, retry: ExponentialBuilder) -> Self {
        self.retry = retry;
        self
    }

    /// Test hook: before running `step`, wait forever, so a test can kill the process
    /// exactly there.
    #[must_use]
    pub fn pause_before(mut self, step: Option<String>) -> Self {
        self.pause_before = step;
        self
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    fn lease_until(&self) -> NaiveDateTime {
        self.now() + chrono::Duration::from_std(self.lease).unwrap_or_default()
    }

    /// Starts run `id` with `context` and drives it as far as it goes. A run with this id
    /// that exists is resumed instead (a retried request), whatever `context` says.
    pub async fn start(&self, id: &str, context: C) -> Result<Outcome<C>, SagaError> {
        let (now, until) = (self.now(), self.lease_until());
        let row = SagaRow {
            id: id.to_owned(),
            kind: self.kind.to_owned(),
            status: RUNNING.to_owned(),
            position: 0,
            context: encode(&context),
            failure: None,
            // Born leased to this runner: no separate claim.
            lease_owner: Some(self.owner.clone()),
            lease_until: Some(until),
            created_at: now,
            updated_at: now,
        };
        // The first step is recorded in flight with the run, in the same transaction.
        let first = self
            .record_ahead(0)
            .then(|| self.step_row(id, 0, RUNNING, None));
        let inserted = self
            .db
            .transaction(async |conn: &mut DbConn| {
                if !sagas::insert(conn, &row).await? {
                    return Ok::<_, SagaError>(false);
                }
                if let Some(first) = &first {
                    sagas::put_step(conn, first).await?;
                }
                Ok(true)
            })
            .await?;
        if !inserted {
            return self.resume(id).await;
        }
        self.forward(id, context, 0, first.is_some()).await
    }

    /// Drives run `id` on from where it is: a suspended step runs again, a run being
    /// compensated goes on compensating, a finished run answers how it finished.
    pub async fn resume(&self, id: &str) -> Result<Outcome<C>, SagaError> {
        let Some((row, steps)) = self.claim(id).await? else {
            return Ok(Outcome::Busy);
        };
        let context: C = decode(id, &row.context)?;
        let failure: Option<Failure> = row
            .failure
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok());
        let outcome = match row.status.as_str() {
            COMPLETED => Outcome::Completed(context),
            COMPENSATED => Outcome::Compensated {
                context,
                failure: failure.unwrap_or_else(|| interrupted("?")),
            },
            STUCK => Outcome::Stuck {
                context,
                failure: failure.unwrap_or_else(|| interrupted("?")),
            },
            COMPENSATING => {
                let failure = failure.unwrap_or_else(|| interrupted("?"));
                return self.compensate(id, context, steps, failure).await;
            }
            // Running (a retry) or suspended: forward.
            _ => {
                return self
                    .forward(id, context, to_index(row.position), false)
                    .await;
            }
        };
        self.unclaim(id).await?;
        Ok(outcome)
    }

    /// Gives up a suspended (or running) run: its steps are undone as if `failure`
    /// happened at the step it is at.
    pub async fn abort(
        &self,
        id: &str,
        code: &str,
        message: &str,
    ) -> Result<Outcome<C>, SagaError> {
        let Some((row, steps)) = self.claim(id).await? else {
            return Ok(Outcome::Busy);
        };
        let context: C = decode(id, &row.context)?;
        let outcome = match row.status.as_str() {
            RUNNING | SUSPENDED | COMPENSATING => {
                let step = self
                    .steps
                    .get(to_index(row.position))
                    .map_or("end", |s| s.name());
                let failure = Failure {
                    step: step.to_owned(),
                    code: code.to_owned(),
                    message: message.to_owned(),
                };
                return self.compensate(id, context, steps, failure).await;
            }
            COMPLETED => Outcome::Completed(context),
            _ => {
                let failure = row
                    .failure
                    .as_deref()
                    .and_then(|f| serde_json::from_str(f).ok())
                    .unwrap_or_else(|| interrupted("?"));
                if row.status == COMPENSATED {
                    Outcome::Compensated { context, failure }
                } else {
                    Outcome::Stuck { context, failure }
                }
            }
        };
        self.unclaim(id).await?;
        Ok(outcome)
    }

    /// Takes the runs of this kind that a crash left mid-way (their lease lapsed): those
    /// interrupted before the pivot are compensated, the others finished. Returns each
    /// run's id and outcome. Call at start.
    pub async fn recover(&self) -> Result<Vec<(String, Outcome<C>)>, SagaError> {
        let ids = {
            let mut conn = self.db.conn().await?;
            sagas::unfinished(&mut conn, self.kind, self.now()).await?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(outcome) = self.recover_run(&id).await? {
                out.push((id, outcome));
            }
        }
        Ok(out)
    }

    /// Recovers run `id` if it still needs it: compensated when interrupted before the
    /// pivot, finished from it on, compensation resumed when it was compensating.
    /// `None` when another runner holds it, or finished it since it was listed (a run
    /// that completed meanwhile must never be undone from a stale list).
    pub async fn recover_run(&self, id: &str) -> Result<Option<Outcome<C>>, SagaError> {
        let Some((row, steps)) = self.claim(id).await? else {
            return Ok(None);
        };
        let context: C = decode(id, &row.context)?;
        let position = to_index(row.position);
        let outcome = if row.status == RUNNING && position < self.pivot {
            let step = self.steps.get(position).map_or("end", |s| s.name());
            tracing::warn!(saga = %id, kind = self.kind, step, "interrupted run compensated");
            self.compensate(id, context, steps, interrupted(step))
                .await?
        } else if row.status == RUNNING {
            tracing::warn!(saga = %id, kind = self.kind, "interrupted run finished");
            self.forward(id, context, position, false).await?
        } else if row.status == COMPENSATING {
            let failure = row
                .failure
                .as_deref()
                .and_then(|f| serde_json::from_str(f).ok())
                .unwrap_or_else(|| interrupted("?"));
            self.compensate(id, context, steps, failure).await?
        } else {
            self.unclaim(id).await?;
            return Ok(None);
        };
        Ok(Some(outcome))
    }

    /// Recovers (see [`Saga::recover`]) now and every `every`, for as long as the process
    /// runs: a run whose runner died is taken over once its lease lapses.
    pub async fn run_recovery(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.recover().await {
                tracing::warn!(kind = self.kind, error = %err, "saga recovery failed; will retry");
            }
            if let Err(err) = self.abandon_suspended().await {
                tracing::warn!(kind = self.kind, error = %err, "abandoning suspended runs failed; will retry");
            }
        }
    }

    /// The run's row and steps, with its lease taken (or `None`: someone else holds it).
    async fn claim(&self, id: &str) -> Result<Option<(SagaRow, Vec<StepRow>)>, SagaError> {
        let (now, until) = (self.now(), self.lease_until());
        self.db
            .transaction(async |conn: &mut DbConn| {
                let row = sagas::find(conn, id)
                    .await?
                    .ok_or_else(|| SagaError::NotFound(id.to_owned()))?;
                if !sagas::lease(conn, id, &self.owner, now, until).await? {
                    return Ok(None);
                }
                let steps = sagas::steps_of(conn, id).await?;
                Ok(Some((row, steps)))
            })
            .await
    }

    async fn unclaim(&self, id: &str) -> Result<(), SagaError> {
        self.db
            .transaction(async |conn: &mut DbConn| {
                sagas::release(conn, id).await?;
                Ok::<_, SagaError>(())
            })
            .await
    }

    /// Runs `work` (a step or its undo, with retries) while renewing this runner's lease
    /// on `id` every third of the lease, so that a step held up by a slow gateway or a
    /// peer being retried is not taken over by another process's recovery while this
    /// runner still drives it. A dead process renews nothing: its runs are recovered once
    /// the lease lapses, as before.
    async fn leased<T>(&self, id: &str, work: impl Future<Output = T>) -> T {
        let renewer = tokio::spawn({
            let (db, clock, owner, lease) = (
                self.db.clone(),
                self.clock.clone(),
                self.owner.clone(),
                self.lease,
            );
            let id = id.to_owned();
            async move {
                let mut every = tokio::time::interval((lease / 3).max(Duration::from_millis(10)));
                // The first tick is at once; the lease was just taken or written.
                every.tick().await;
                loop {
                    every.tick().await;
                    let now = clock.now().naive_utc();
                    let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
                    let renewed = match db.conn().await {
                        Ok(mut conn) => sagas::lease(&mut conn, &id, &owner, now, until).await,
                        Err(e) => Err(e),
                    };
                    match renewed {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(saga = %id, "saga lease was taken by another runner");
                        }
                        Err(err) => {
                            tracing::warn!(saga = %id, error = %err, "renewing the saga lease failed; will retry");
                        }
                    }
                }
            }
        });
        // Dropped with `work` too: a cancelled run stops renewing.
        let _stop = AbortOnDrop(renewer.abort_handle());
        work.await
    }

    /// Writes the run's state and `steps`' rows in one transaction, and extends this
    /// runner's lease, or gives it back when `release` (the run stops here).
    #[allow(clippy::too_many_arguments)]
    async fn save(
        &self,
        id: &str,
        status: &str,
        position: usize,
        context: &C,
        failure: Option<&Failure>,
        steps: &[StepRow],
        release: bool,
    ) -> Result<(), SagaError> {
        let (now, until) = (self.now(), self.lease_until());
        let context = encode(context);
        let failure = failure.map(encode);
        self.db
            .transaction(async |conn: &mut DbConn| {
                for step in steps {
                    sagas::put_step(conn, step).await?;
                }
                sagas::save(
                    conn,
                    id,
                    status,
                    to_position(position),
                    &context,
                    failure.as_deref(),
                    now,
                )
                .await?;
                if release {
                    sagas::release(conn, id).await?;
                } else {
                    sagas::lease(conn, id, &self.owner, now, until).await?;
                }
                Ok::<_, SagaError>(())
            })
            .await
    }

    /// Whether step `position` is recorded in flight together with the save before it
    /// (the previous step's "done", or the run's start). Not for a step the test hook
    /// pauses before, so a process killed there has not started it, as before.
    fn record_ahead(&self, position: usize) -> bool {
        self.steps
            .get(position)
            .is_some_and(|step| self.pause_before.as_deref() != Some(step.name()))
    }

    fn step_row(&self, id: &str, position: usize, status: &str, undo: Option<&Value>) -> StepRow {
        StepRow {
            saga_id: id.to_owned(),
            position: to_position(position),
            name: self.steps[position].name().to_owned(),
            status: status.to_owned(),
            undo: undo.map(encode),
            updated_at: self.now(),
        }
    }

    /// Runs the steps from `position` on (`recorded`: that step is already recorded in
    /// flight). Each step's "done" row is written together with the next step's "in
    /// flight" row, or with the run's completion: one transaction between two steps, and
    /// each step still durable before the next runs. Gives the lease back however it ends.
    async fn forward(
        &self,
        id: &str,
        mut context: C,
        mut position: usize,
        mut recorded: bool,
    ) -> Result<Outcome<C>, SagaError> {
        loop {
            let Some(step) = self.steps.get(position).cloned() else {
                self.save(id, COMPLETED, position, &context, None, &[], true)
                    .await?;
                tracing::info!(saga = %id, kind = self.kind, "saga completed");
                return Ok(Outcome::Completed(context));
            };
            if self.pause_before.as_deref() == Some(step.name()) {
                tracing::warn!(saga = %id, step = step.name(), "paused before step (test hook)");
                std::future::pending::<()>().await;
            }
            // Recorded as in flight first: a crash inside `run` leaves this to undo.
            if !recorded {
                let running = self.step_row(id, position, RUNNING, None);
                self.save(id, RUNNING, position, &context, None, &[running], false)
                    .await?;
            }
            let run = (|| async {
                // Each attempt starts from the context as it was.
                let mut attempt: C = decode(id, &encode(&context))
                    .map_err(|e| StepError::Transient(e.to_string()))?;
                let undo = step.run(&mut attempt).await?;
                Ok::<_, StepError>((attempt, undo))
            })
            .retry(self.retry)
            .when(|e| matches!(e, StepError::Transient(_)));
            let result = self.leased(id, run).await;
            match result {
                Ok((next, undo)) => {
                    context = next;
                    position += 1;
                    let done = self.step_row(id, position - 1, "done", Some(&undo));
                    recorded = self.record_ahead(position);
                    if recorded {
                        let running = self.step_row(id, position, RUNNING, None);
                        self.save(
                            id,
                            RUNNING,
                            position,
                            &context,
                            None,
                            &[done, running],
                            false,
                        )
                        .await?;
                    } else if position == self.steps.len() {
                        self.save(id, COMPLETED, position, &context, None, &[done], true)
                            .await?;
                        tracing::info!(saga = %id, kind = self.kind, "saga completed");
                        return Ok(Outcome::Completed(context));
                    } else {
                        self.save(id, RUNNING, position, &context, None, &[done], false)
                            .await?;
                    }
                }
                Err(StepError::Suspend(detail)) => {
                    self.save(id, SUSPENDED, position, &context, None, &[], true)
                        .await?;
                    return Ok(Outcome::Suspended {
                        context,
                        step: step.name().to_owned(),
                        detail,
                    });
                }
                Err(StepError::Transient(message)) if position >= self.pivot => {
                    // The step stays in flight (its row says so); whoever resumes the run
                    // runs it again, keyed as before.
                    tracing::warn!(saga = %id, step = step.name(), error = %message, "step past the pivot deferred; the run goes on later");
                    self.unclaim(id).await?;
                    return Ok(Outcome::Deferred {
                        context,
                        failure: Failure {
                            step: step.name().to_owned(),
                            code: "unavailable".to_owned(),
                            message,
                        },
                    });
                }
                Err(err) => {
                    let (code, message) = match err {
                        StepError::Failed { code, message } => (code, message),
                        other => ("unavailable".to_owned(), other.to_string()),
                    };
                    // A clean failure left nothing of the step standing.
                    let failed = self.step_row(id, position, "failed", None);
                    self.save(id, RUNNING, position, &context, None, &[failed], false)
                        .await?;
                    let steps = {
                        let mut conn = self.db.conn().await?;
                        sagas::steps_of(&mut conn, id).await?
                    };
                    let failure = Failure {
                        step: step.name().to_owned(),
                        code,
                        message,
                    };
                    return self.compensate(id, context, steps, failure).await;
                }
            }
        }
    }

    /// Undoes every step that ran (or was in flight), last first.
    async fn compensate(
        &self,
        id: &str,
        mut context: C,
        steps: Vec<StepRow>,
        failure: Failure,
    ) -> Result<Outcome<C>, SagaError> {
        let top = steps
            .iter()
            .map(|s| to_index(s.position) + 1)
            .max()
            .unwrap_or(0);
        self.save(id, COMPENSATING, top, &context, Some(&failure), &[], false)
            .await?;
        for row in steps.iter().rev() {
            let position = to_index(row.position);
            let Some(step) = self.steps.get(position).cloned() else {
                continue;
            };
            let undo = match row.status.as_str() {
                "done" => Some(
                    row.undo
                        .as_deref()
                        .map(serde_json::from_str)
                        .transpose()
                        .map_err(|e| SagaError::Corrupt(id.to_owned(), e.to_string()))?
                        .unwrap_or(Value::Null),
                ),
                // In flight at a crash: it may or may not have happened.
                RUNNING => None,
                _ => continue,
            };
            let undoing = (|| async {
                let mut attempt: C = decode(id, &encode(&context))
                    .map_err(|e| StepError::Transient(e.to_string()))?;
                step.undo(&mut attempt, undo.clone()).await?;
                Ok::<_, StepError>(attempt)
            })
            .retry(self.retry)
            .when(|e| matches!(e, StepError::Transient(_)));
            let undone = self.leased(id, undoing).await;
            match undone {
                Ok(next) => {
                    context = next;
                    let row = self.step_row(id, position, "undone", undo.as_ref());
                    self.save(
                        id,
                        COMPENSATING,
                        position,
                        &context,
                        Some(&failure),
                        &[row],
                        false,
                    )
                    .await?;
                }
                Err(StepError::Transient(message)) => {
                    // Still compensating from here: the next resume or recovery goes on.
                    tracing::warn!(saga = %id, step = step.name(), error = %message, "undo deferred; compensation goes on later");
                    self.unclaim(id).await?;
                    return Ok(Outcome::Deferred {
                        context,
                        failure: Failure {
                            step: step.name().to_owned(),
                            code: "unavailable".to_owned(),
                            message: format!(
                                "{message} (after {}: {})",
                                failure.step, failure.message
                            ),
                        },
                    });
                }
                Err(err) => {
                    tracing::error!(saga = %id, step = step.name(), error = %err, "compensation failed; the run needs an operator");
                    let stuck = Failure {
                        step: step.name().to_owned(),
                        code: "compensation_failed".to_owned(),
                        message: format!("{err} (after {}: {})", failure.step, failure.message),
                    };
                    self.save(id, STUCK, position, &context, Some(&stuck), &[], true)
                        .await?;
                    return Ok(Outcome::Stuck {
                        context,
                        failure: stuck,
                    });
                }
            }
        }
        self.save(id, COMPENSATED, 0, &context, Some(&failure), &[], true)
            .await?;
        tracing::info!(saga = %id, kind = self.kind, step = %failure.step, code = %failure.code, "saga compensated");
        Ok(Outcome::Compensated { context, failure })
    }
}

fn interrupted(step: &str) -> Failure {
    Failure {
        step: step.to_owned(),
        code: "interrupted".to_owned(),
        message: "the process stopped while this run was in progress".to_owned(),
    }
}

fn encode<T: Serialize + ?Sized>(value: &T) -> String {
    // Serializing plain data to JSON cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn decode<T: DeserializeOwned>(id: &str, json: &str) -> Result<T, SagaError> {
    serde_json::from_str(json).map_err(|e| SagaError::Corrupt(id.to_owned(), e.to_string()))
}

fn to_index(position: i32) -> usize {
    usize::try_from(position).unwrap_or_default()
}

fn to_position(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}
