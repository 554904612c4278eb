//! Product imports, run in the foreground (`weft import products`) or as a background job
//! (`POST /v1/admin/products/import`, progress at `GET /v1/admin/jobs/{id}`). Products are
//! created [`IMPORT_BATCH`] to a transaction; still, a product lands whole or not at all,
//! good ones land whatever the bad ones do, and every refusal is reported with its line.

use chrono::{DateTime, Utc};
use weft_storage::DbConn;

use super::CatalogService;
use crate::error::CatalogError;
use crate::import::{ImportItem, ImportProblem};
use crate::store::{self, JobRow};

/// Products created per transaction by an import.
pub const IMPORT_BATCH: usize = 100;

/// A job lists at most this many refused lines (`failed` counts them all).
pub const MAX_LISTED_PROBLEMS: usize = 1000;

/// Progress and outcome of a background job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub total: u32,
    pub processed: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub problems: Vec<ImportProblem>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<JobRow> for Job {
    type Error = CatalogError;

    fn try_from(r: JobRow) -> Result<Self, CatalogError> {
        Ok(Self {
            problems: super::from_json(&r.problems)?,
            id: r.id,
            kind: r.kind,
            status: r.status,
            total: u32::try_from(r.total).unwrap_or_default(),
            processed: u32::try_from(r.processed).unwrap_or_default(),
            succeeded: u32::try_from(r.succeeded).unwrap_or_default(),
            failed: u32::try_from(r.failed).unwrap_or_default(),
            created_at: r.created_at.and_utc(),
            finished_at: r.finished_at.map(|t| t.and_utc()),
        })
    }
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub created: u32,
    pub problems: Vec<ImportProblem>,
}

/// Why a product was refused, in one line.
fn reason(e: &CatalogError) -> String {
    match e {
        CatalogError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

impl CatalogService {
    /// Creates every item, calling `progress(done, report)` after each batch.
    pub async fn import_products(
        &self,
        items: Vec<ImportItem>,
        read_problems: Vec<ImportProblem>,
        mut progress: impl FnMut(u32, &ImportReport),
    ) -> ImportReport {
        let mut report = ImportReport {
            created: 0,
            problems: read_problems,
        };
        let mut done = 0u32;
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let batch: Vec<ImportItem> = items.by_ref().take(IMPORT_BATCH).collect();
            done += u32::try_from(batch.len()).unwrap_or(u32::MAX);
            let (created, problems) = self.import_batch(batch).await;
            report.created += created;
            report.problems.extend(problems);
            progress(done, &report);
        }
        report.problems.sort_by_key(|p| p.line);
        self.optimize_after_import().await;
        report
    }

    /// The planner's statistics after a bulk write (see `Db::optimize`).
    async fn optimize_after_import(&self) {
        if let Err(err) = self.db.optimize().await {
            tracing::warn!(error = %err, "refreshing the query planner's statistics failed");
        }
    }

    /// Creates a batch of items in one transaction (see [`CatalogService::create_products`]):
    /// how many were created, and the refusals.
    async fn import_batch(&self, batch: Vec<ImportItem>) -> (u32, Vec<ImportProblem>) {
        let lines: Vec<usize> = batch.iter().map(|item| item.line).collect();
        let outcomes = self
            .create_products(batch.into_iter().map(|item| item.product).collect())
            .await;
        let mut created = 0;
        let mut problems = Vec::new();
        for (line, outcome) in lines.into_iter().zip(outcomes) {
            match outcome {
                Ok(_) => created += 1,
                Err(e) => problems.push(ImportProblem {
                    line,
                    reason: reason(&e),
                }),
            }
        }
        (created, problems)
    }

    /// Starts an import in the background; its progress is at [`CatalogService::job`].
    pub async fn start_import(
        &self,
        actor: &str,
        items: Vec<ImportItem>,
        read_problems: Vec<ImportProblem>,
    ) -> Result<Job, CatalogError> {
        let now = self.clock.now().naive_utc();
        let total = items.len() + read_problems.len();
        let row = JobRow {
            id: format!("job_{}", uuid::Uuid::now_v7().simple()),
            kind: "product_import".to_owned(),
            status: "running".to_owned(),
            total: i32::try_from(total).unwrap_or(i32::MAX),
            processed: 0,
            succeeded: 0,
            failed: 0,
            problems: "[]".to_owned(),
            created_by: actor.to_owned(),
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        self.db
            .transaction(async |conn: &mut DbConn| store::insert_job(conn, &row).await)
            .await?;
        let svc = self.clone();
        let mut job = row.clone();
        tokio::spawn(async move {
            let mut problems = read_problems;
            let mut created = 0u32;
            let mut last_saved = std::time::Instant::now();
            let unread = problems.len();
            let mut done = 0usize;
            let mut items = items.into_iter().peekable();
            while items.peek().is_some() {
                let batch: Vec<ImportItem> = items.by_ref().take(IMPORT_BATCH).collect();
                done += batch.len();
                let (made, refused) = svc.import_batch(batch).await;
                created += made;
                problems.extend(refused);
                // Progress is written at most every 250 ms: cheap, and fresh enough.
                if last_saved.elapsed() >= std::time::Duration::from_millis(250) {
                    last_saved = std::time::Instant::now();
                    job.processed = i32::try_from(done + unread).unwrap_or(i32::MAX);
                    job.succeeded = i32::try_from(created).unwrap_or(i32::MAX);
                    job.failed = i32::try_from(problems.len()).unwrap_or(i32::MAX);
                    if let Err(err) = svc.save_job(&job).await {
                        tracing::warn!(error = %err, job_id = %job.id, "could not record import progress");
                    }
                }
            }
            problems.sort_by_key(|p| p.line);
            svc.optimize_after_import().await;
            "done".clone_into(&mut job.status);
            let failed = problems.len();
            // The count is whole; the list keeps the first problems, enough to fix a file.
            problems.truncate(MAX_LISTED_PROBLEMS);
            job.processed = job.total;
            job.succeeded = i32::try_from(created).unwrap_or(i32::MAX);
            job.failed = i32::try_from(failed).unwrap_or(i32::MAX);
            job.problems = serde_json::to_string(&problems).unwrap_or_else(|_| "[]".to_owned());
            job.finished_at = Some(svc.clock.now().naive_utc());
            if let Err(err) = svc.save_job(&job).await {
                tracing::error!(error = %err, job_id = %job.id, "could not record an import's outcome");
            }
            tracing::info!(job_id = %job.id, created, failed = job.failed, "product import finished");
        });
        Job::try_from(row)
    }

    async fn save_job(&self, job: &JobRow) -> Result<(), CatalogError> {
        let mut job = job.clone();
        job.updated_at = self.clock.now().naive_utc();
        self.db
            .transaction(async |conn: &mut DbConn| store::update_job(conn, &job).await)
            .await?;
        Ok(())
    }

    /// A job by id.
    pub async fn job(&self, id: &str) -> Result<Job, CatalogError> {
        let mut conn = self.db.conn().await?;
        store::find_job(&mut conn, id)
            .await?
            .ok_or(CatalogError::JobNotFound)
            .and_then(Job::try_from)
    }
}
