//! Keeping the in-memory catalog in step with the database, so that requests never wait on it.
//!
//! - At start ([`CatalogSync::prepare`]): the migrations, the seeding of a database that never
//!   held books, and the first load.
//! - After this replica's own write ([`CatalogSync::caught_up`]): the snapshot is reloaded
//!   before the write is answered, so a client reads its own write from this replica.
//! - Every `--catalog-refresh` ([`CatalogSync::watch`]): the catalog's version row is read (one
//!   number); when another replica has written, the catalog is reloaded. The same read tells
//!   whether the database is reachable: a change either way is logged once, and shown by the
//!   `catalog_database_up` gauge. While it is away, reads go on from the snapshot and writes
//!   fail at once with UNAVAILABLE; the pool reconnects by itself when it is back.
//!
//! A reload reads every book and builds a new snapshot beside the one in use, on a blocking
//! thread (a million books take about a second to index), then swaps it in. Reloads run one
//! at a time; callers that waited for another's reload find nothing left to do.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bookstore_layers::Metrics;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio_util::sync::CancellationToken;

use crate::catalog::Catalog;
use crate::database::{BookChanges, BookFields, CatalogStore, StoreError, Written};
use crate::recommender::{CatalogSnapshot, Recommender};

/// How long a check of the version may take before the database counts as unreachable.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a load of every book may take (a million take a few seconds).
const LOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a write may take, waiting for other writers included.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// `operation`, or [`StoreError::TimedOut`] after `limit`: a connection that died without a
/// word would otherwise hold a call (and the reload lock) until TCP gives up, for minutes.
async fn within<T>(
    limit: Duration,
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(limit, operation)
        .await
        .unwrap_or(Err(StoreError::TimedOut(limit)))
}

/// The snapshot's metrics.
#[derive(Clone, Debug, Default)]
struct SyncMetrics {
    database_up: Gauge,
    books: Gauge,
    version: Gauge,
    reloads: Counter,
}

impl SyncMetrics {
    fn register(metrics: &Metrics) -> Self {
        let made = Self::default();
        metrics.register(
            "catalog_database_up",
            "Whether the catalog database answered the last check (1) or not (0)",
            made.database_up.clone(),
        );
        metrics.register(
            "catalog_books",
            "Books in the catalog snapshot being served",
            made.books.clone(),
        );
        metrics.register(
            "catalog_version",
            "Database version of the catalog snapshot being served",
            made.version.clone(),
        );
        metrics.register(
            "catalog_reloads",
            "Times the catalog snapshot was rebuilt from the database",
            made.reloads.clone(),
        );
        made
    }
}

/// Keeps a [`Recommender`]'s snapshot in step with a [`CatalogStore`] (see the module docs).
#[derive(Debug)]
pub struct CatalogSync {
    store: Box<dyn CatalogStore>,
    recommender: Arc<Recommender>,
    /// Held while a reload runs.
    reloading: tokio::sync::Mutex<()>,
    /// What the last access to the database found.
    reachable: AtomicBool,
    metrics: SyncMetrics,
}

impl CatalogSync {
    /// Keeps `recommender` in step with `store`, recording into `metrics`.
    pub fn new(
        store: Box<dyn CatalogStore>,
        recommender: Arc<Recommender>,
        metrics: &Metrics,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            recommender,
            reloading: tokio::sync::Mutex::new(()),
            reachable: AtomicBool::new(true),
            metrics: SyncMetrics::register(metrics),
        })
    }

    /// Migrates the database, seeds it with `seed` if it never held books, and loads it.
    pub async fn prepare(&self, seed: &Catalog) -> Result<(), StoreError> {
        let applied = self.observe(self.store.migrate().await)?;
        for migration in applied {
            tracing::info!(%migration, "applied catalog database migration");
        }
        if self.observe(self.store.seed(seed).await)? {
            tracing::info!(books = seed.len(), "seeded the new catalog database");
        }
        self.refresh().await
    }

    /// Retries [`prepare`](Self::prepare) while the database is unreachable (waiting longer
    /// each time, up to five seconds); any other failure is returned.
    pub async fn prepare_when_reachable(&self, seed: &Catalog) -> Result<(), StoreError> {
        let mut pause = Duration::from_millis(250);
        loop {
            match self.prepare(seed).await {
                Err(error) if error.is_unreachable() => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                done => return done,
            }
        }
    }

    /// Brings the snapshot up to the database's version.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let _reloading = self.reloading.lock().await;
        let version = self.observe(within(CHECK_TIMEOUT, self.store.version()).await)?;
        let current = self.recommender.version();
        if current == Some(version) {
            return Ok(());
        }
        if current.is_some_and(|current| version < current) {
            tracing::warn!(
                from = current,
                to = version,
                "the catalog database's version went back (restored from a backup?): serving what it holds now"
            );
        }
        let started = Instant::now();
        let loaded = self.observe(within(LOAD_TIMEOUT, self.store.load()).await)?;
        if let Some(first) = loaded.unreadable.first() {
            tracing::warn!(
                count = loaded.unreadable.len(),
                first = %first,
                "left out books this service cannot read"
            );
        }
        let books = loaded.books.len();
        // Sorting and indexing a large catalog takes a while, and so does freeing the one it
        // replaces: both on a blocking thread, never on one serving calls.
        let recommender = self.recommender.clone();
        tokio::task::spawn_blocking(move || {
            let snapshot = CatalogSnapshot::new(Catalog::from_books(loaded.books), loaded.version);
            drop(recommender.publish(snapshot));
        })
        .await
        .unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()));
        self.metrics
            .books
            .set(i64::try_from(books).unwrap_or(i64::MAX));
        self.metrics.version.set(version);
        self.metrics.reloads.inc();
        tracing::debug!(books, version, elapsed = ?started.elapsed(), "catalog snapshot reloaded");
        Ok(())
    }

    /// Makes sure the snapshot shows a write that left the catalog at `version`. If the
    /// database went away just after the write, the snapshot catches up when it is back.
    async fn caught_up(&self, version: i64) {
        if self.recommender.version() >= Some(version) {
            return;
        }
        if let Err(error) = self.refresh().await {
            tracing::warn!(%error, "a catalog write is stored but not yet served by this replica");
        }
    }

    /// Checks for other replicas' writes every `interval`, on a task of its own, until `stop`.
    pub fn start_watching(self: Arc<Self>, interval: Duration, stop: CancellationToken) {
        tokio::spawn(self.watch(interval, stop));
    }

    async fn watch(self: Arc<Self>, interval: Duration, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.cancelled() => return,
            }
            if let Err(error) = self.refresh().await
                && !error.is_unreachable()
            {
                tracing::error!(%error, "cannot reload the catalog; serving the last one loaded");
            }
        }
    }

    /// Adds a book.
    pub async fn create(&self, fields: &BookFields) -> Result<Written, StoreError> {
        let written = self.write(self.store.create(fields)).await?;
        self.caught_up(written.version).await;
        Ok(written)
    }

    /// Changes book `id` (if its etag is still `etag`).
    pub async fn update(
        &self,
        id: u32,
        changes: &BookChanges,
        etag: Option<&str>,
    ) -> Result<Written, StoreError> {
        let written = self.write(self.store.update(id, changes, etag)).await?;
        self.caught_up(written.version).await;
        Ok(written)
    }

    /// Deletes book `id` (if its etag is still `etag`).
    pub async fn delete(&self, id: u32, etag: Option<&str>) -> Result<Written, StoreError> {
        let written = self.write(self.store.delete(id, etag)).await?;
        self.caught_up(written.version).await;
        Ok(written)
    }

    /// Runs a write, unless the last check found the database away: then it fails at once.
    /// (Only checks of the version and loads decide whether the database is reachable: a write
    /// that fails because the pool is busy must not stop every other write.)
    async fn write<T>(
        &self,
        write: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if !self.reachable.load(Ordering::Relaxed) {
            return Err(StoreError::Away);
        }
        within(WRITE_TIMEOUT, write).await
    }

    /// Notes whether `result` found the database reachable, logging and counting a change.
    fn observe<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let reachable = !matches!(&result, Err(error) if error.is_unreachable());
        let was = self.reachable.swap(reachable, Ordering::Relaxed);
        self.metrics.database_up.set(reachable.into());
        match (&result, was, reachable) {
            (Err(error), true, false) => tracing::warn!(
                %error,
                "the catalog database is unreachable: serving the catalog loaded last, \
                 refusing writes until it is back"
            ),
            (_, false, true) => tracing::info!("the catalog database is reachable again"),
            _ => {}
        }
        result
    }
}
