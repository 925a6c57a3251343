//! `GET observations`: one metric of one sensor in one unit over a range, page after
//! page, with the SDK's verbs. The pages are read and trimmed by `observations_pages`.

use std::marker::PhantomData;
use std::path::Path;

use client_core::decode::NdjsonWriter;
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWrite;

use client_core::{Checkpoint, Checkpointed, Page, RecordStream, RequestPreview, Written};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::observations::{Observation, RawObservation};
use crate::observations_pages::CheckedQuery;
use crate::sensors::Selection;

/// How many observation pages a query keeps in flight by default (see
/// [`ObservationsQuery::concurrency`]).
pub const DEFAULT_PAGE_CONCURRENCY: usize = 4;

/// `GET observations`: one metric of one sensor in one unit over `[from, to)`, built by
/// [`Client::observations`]. Generic over the record type: [`Observation`] by default,
/// [`RawObservation`] for the server's text, or your own type through
/// [`ObservationsQuery::records`].
///
/// Terminals: [`send`](Self::send) (the first page), [`stream`](Self::stream) (every
/// observation of the range, in time order, once), [`pages`](Self::pages) (the same
/// observations, page by page), [`copy_to`](Self::copy_to) / [`write_to`](Self::write_to) (NDJSON of the
/// server's texts) and [`to_request`](Self::to_request).
///
/// ```no_run
/// use sds_client::Client;
/// use sds_client::jiff::{SignedDuration, Timestamp};
/// use sds_client::prelude::*;
///
/// # async fn run() -> Result<(), sds_client::Error> {
/// let client = Client::from_env()?;
/// let to = Timestamp::now();
/// let query = client
///     .observations("28ba3a8e-bf86-47b6-a37c-6600d9e2e328", "sensor-1")
///     .metric("T")
///     .unit("C")
///     .range(to - SignedDuration::from_hours(24), to);
/// println!("{}", query.to_request()?);
/// let mut observations = query.clone().stream();
/// while let Some(o) = observations.try_next().await? {
///     println!("{} {:?}", o.timestamp, o.value);
/// }
/// let written = query.write_to("day.ndjson").await?;
/// println!("{} observations in {} pages", written.records, written.requests);
/// # Ok(()) }
/// ```
#[must_use = "a query does nothing until it is sent or streamed"]
pub struct ObservationsQuery<T = Observation> {
    spec: QuerySpec,
    record: PhantomData<fn() -> T>,
}

/// What an observations query asks for, before it is checked.
#[derive(Clone, Debug)]
struct QuerySpec {
    client: Client,
    itwin_id: String,
    sensor_id: String,
    metric: Option<String>,
    unit: Option<String>,
    range: Option<(Timestamp, Timestamp)>,
    page_size: u32,
    concurrency: usize,
    resume: Option<Checkpoint>,
}

impl<T> Clone for ObservationsQuery<T> {
    fn clone(&self) -> Self {
        ObservationsQuery {
            spec: self.spec.clone(),
            record: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for ObservationsQuery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ObservationsQuery").field(&self.spec).finish()
    }
}

impl Client {
    /// Observations of `sensor_id` in `itwin_id`; give the metric, the unit and the range
    /// before sending.
    pub fn observations(
        &self,
        itwin_id: impl Into<String>,
        sensor_id: impl Into<String>,
    ) -> ObservationsQuery {
        ObservationsQuery {
            spec: QuerySpec {
                client: self.clone(),
                itwin_id: itwin_id.into(),
                sensor_id: sensor_id.into(),
                metric: None,
                unit: None,
                range: None,
                page_size: self.page_size,
                concurrency: DEFAULT_PAGE_CONCURRENCY,
                resume: None,
            },
            record: PhantomData,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> ObservationsQuery<T> {
    /// The metric (`metric`), a key of the sensor's `metricsAndUnits`.
    pub fn metric(mut self, metric: impl Into<String>) -> Self {
        self.spec.metric = Some(metric.into());
        self
    }

    /// The unit (`unit`), one of the metric's units.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.spec.unit = Some(unit.into());
        self
    }

    /// The metric and unit picked with [`crate::Sensor::pick`].
    pub fn selection(self, selection: &Selection<'_>) -> Self {
        self.metric(selection.metric.metric.clone())
            .unit(selection.unit.unit.clone())
    }

    /// The half-open range `[from, to)`. Whatever the server makes of the ends of
    /// `startDate` and `endDate`, the stream holds exactly the observations in the range:
    /// it asks from one millisecond before `from` (from `from` itself at
    /// `Timestamp::MIN`) and trims. The dates are sent to the millisecond, rounded
    /// outward (`startDate` down, `endDate` up), so a sub-millisecond `to` cannot lose
    /// the observation just before it.
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.spec.range = Some((from, to));
        self
    }

    /// How many pages may be in flight at once (default [`DEFAULT_PAGE_CONCURRENCY`],
    /// at most [`MAX_PAGE_CONCURRENCY`](crate::MAX_PAGE_CONCURRENCY), and more is taken
    /// as that); 0 is refused when sent.
    ///
    /// Pages are numbered, so once a page's `pageTotal` bounds how many follow, the
    /// next ones are asked for ahead, while the current one is read: over a network,
    /// a read waits for about one response's latency per `concurrency` pages rather
    /// than per page. Pages still come, and checkpoints still follow them, in order;
    /// besides the page being read, at most `concurrency` bodies are held. A page
    /// fetched ahead that the paging then does not ask for (the server's readings of
    /// `page`, `pageSize` and `pageTotal` differ from the guess) is dropped unread, so
    /// what the read yields never depends on the guess: when `pageTotal` might count
    /// observations or pages, up to `concurrency - 1` requests past the last page can
    /// be spent.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.spec.concurrency = pages;
        self
    }

    /// The page size to ask for (default the client's, 10,000). 0 is refused when sent.
    pub fn page_size(mut self, size: u32) -> Self {
        self.spec.page_size = size;
        self
    }

    /// Goes on after `checkpoint`, one this query's [`checkpointed`](Self::checkpointed)
    /// or [`pages`](Self::pages) gave (a page's [`Page::checkpoint`]): the read starts at
    /// the checkpoint's page, with the pager's state as it was, and yields the
    /// observations after the checkpoint's, so that a read killed anywhere and resumed
    /// from its last checkpoint yields each observation exactly once across both runs. A
    /// checkpoint of another read (another iTwin, sensor, metric, unit or range) is
    /// refused with [`ClientError::Config`](crate::ClientError::Config) when the read
    /// starts; a [`Position::Done`](client_core::Position::Done) one yields nothing.
    ///
    /// A checkpoint's [`Position`](client_core::Position) is a page (`Cursor::Number`,
    /// the page and the size to ask for) and how many of its observations were
    /// yielded; its `state` holds the pager's state (the page size now and first asked
    /// for, the first page with data, observations seen, whether an empty page is being
    /// confirmed) and the last observation yielded (its timestamp and text: one
    /// observation, so the state stays small).
    ///
    /// **What a resume assumes.** The read resumes at the checkpoint's page and skips
    /// the observations of it already yielded: it assumes the server answers that page
    /// with the same observations in the same order. An observation added or removed
    /// on that page, or on an earlier one (which moves every later page's contents),
    /// between the kill and the resume shifts what the skip counts: the resumed read may
    /// then lose an observation or yield one again. Data received late that falls
    /// before the checkpoint's page is not read.
    ///
    /// Store the checkpoint atomically, after the page's output (a torn checkpoint file
    /// must not be possible), and refuse one that does not parse: only a missing file
    /// means "start", since starting over would yield everything again.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use std::path::Path;
    ///
    /// use sds_client::{Checkpoint, Client};
    /// use sds_client::jiff::Timestamp;
    /// use sds_client::prelude::*;
    ///
    /// /// The stored checkpoint; `None` only if there is none.
    /// fn load(path: &Path) -> Result<Option<Checkpoint>, Box<dyn std::error::Error>> {
    ///     match std::fs::read(path) {
    ///         Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
    ///         Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
    ///         Err(err) => Err(err.into()),
    ///     }
    /// }
    ///
    /// /// Replaces the stored checkpoint: a crash leaves the old one or the new one.
    /// fn store(path: &Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    ///     let temp = path.with_extension("tmp");
    ///     let mut file = std::fs::File::create(&temp)?;
    ///     file.write_all(&serde_json::to_vec(checkpoint)?)?;
    ///     file.sync_all()?;
    ///     std::fs::rename(&temp, path)
    /// }
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::from_env()?;
    /// let path = Path::new("january.checkpoint.json");
    /// let query = client
    ///     .observations("28ba3a8e-bf86-47b6-a37c-6600d9e2e328", "sensor-1")
    ///     .metric("T")
    ///     .unit("C")
    ///     .range("2025-01-01T00:00:00Z".parse()?, "2025-02-01T00:00:00Z".parse()?);
    /// // Resume where the last run stopped, if it stored a checkpoint.
    /// let query = match load(path)? {
    ///     Some(checkpoint) => query.resume_from(checkpoint),
    ///     None => query,
    /// };
    /// let mut pages = query.pages();
    /// while let Some(page) = pages.try_next().await? {
    ///     for observation in &page.items {
    ///         println!("{} {:?}", observation.timestamp, observation.value);
    ///     }
    ///     // Store the checkpoint after the page's output.
    ///     if let Some(checkpoint) = &page.checkpoint {
    ///         store(path, checkpoint)?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.spec.resume = Some(checkpoint);
        self
    }

    /// Every observation of [`stream`](Self::stream) with the checkpoint right after
    /// it: resuming from an observation's checkpoint (see
    /// [`resume_from`](Self::resume_from)) yields the observations after it.
    pub fn checkpointed(self) -> RecordStream<Checkpointed<T>, Error> {
        let start = match self.check() {
            Ok(query) => query.start(),
            Err(err) => return RecordStream::new(futures::stream::iter([Err(err)])),
        };
        client_core::shape::checkpointed(self.pages(), start)
    }

    /// Decodes observations into `U` instead: [`RawObservation`] for the server's text,
    /// or a `Deserialize` type of your own (see the crate docs).
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> ObservationsQuery<U> {
        ObservationsQuery {
            spec: self.spec,
            record: PhantomData,
        }
    }

    /// The first request this query sends (page 0), without sending it. A query without
    /// a metric, a unit or a non-empty range, or with page size 0, is refused here as
    /// when sent.
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.check()?.first_request().to_request()?)
    }

    /// One request: the first page (page 0), holding the observations of `[from, to)`
    /// it brought, in time order, as [`pages`](Self::pages) yields it. Its `next` names
    /// the page to ask for next (`None` when this was the last) and its `meta` holds the
    /// page document's other members as sent (`pageTotal`, `pageSize`, `metric`,
    /// `unit`, ...).
    pub async fn send(self) -> Result<Page<T>> {
        let mut pages = self.pages();
        pages
            .try_next()
            .await?
            .ok_or_else(|| Error::decode("the observations query ended without a page"))
    }

    /// Every page, in page order, until the last (see the crate docs on paging), each
    /// holding what [`stream`](Self::stream) yields of it: flattened, the pages are
    /// exactly the stream. Observations outside `[from, to)` and one repeated across a
    /// page boundary are left out, and one that goes back in time is
    /// [`SdsError::OutOfOrder`](crate::SdsError::OutOfOrder); a page may so be empty.
    /// Each page's `cursor`, `next` and `meta` are as the server sent them (`meta` holds
    /// `pageTotal`, `pageSize`, `metric`, `unit`, ... counting the observations it
    /// sent), and its `checkpoint` is where the read stands after it (see
    /// [`resume_from`](Self::resume_from)); a page that repeats the previous one is
    /// [`ClientError::RepeatedPage`](crate::ClientError::RepeatedPage).
    pub fn pages(self) -> RecordStream<Page<T>, Error> {
        RecordStream::new(
            self.raw_pages()
                .map(|page| page?.try_map(|raw| raw.decode_fast::<T>())),
        )
    }

    /// Every observation in `[from, to)`, in time order, each once: observations outside
    /// the range are trimmed, an observation repeated across a page boundary is yielded
    /// once, and one that goes back in time is
    /// [`SdsError::OutOfOrder`](crate::SdsError::OutOfOrder) (never dropped).
    pub fn stream(self) -> RecordStream<T, Error> {
        let mut pages = self.raw_pages();
        RecordStream::new(async_stream::try_stream! {
            while let Some(page) = pages.try_next().await? {
                for observation in page.items {
                    yield observation.decode_fast::<T>()?;
                }
            }
        })
    }

    /// Writes every observation of the range to `writer` as NDJSON: each line is one
    /// observation's JSON text exactly as the server sent it, in time order, each once
    /// (what [`ObservationsQuery::stream`] yields). On an error the writer holds a
    /// partial copy: use [`ObservationsQuery::write_to`] when that must never be visible.
    pub async fn copy_to<W>(self, writer: &mut W) -> Result<Written>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        if self.spec.resume.is_some() {
            return Err(Error::resumed_store(
                "store a resumable file with `pages()` (each page's items, then its checkpoint)",
            ));
        }
        let mut pages = self.raw_pages();
        let mut lines = NdjsonWriter::new(writer);
        while let Some(page) = pages.try_next().await? {
            lines.request();
            for observation in page.items {
                lines.record(observation.as_str()).await?;
            }
        }
        Ok(lines.finish().await?)
    }

    /// Like [`ObservationsQuery::copy_to`], into `path` atomically: the file appears
    /// complete, or not at all (a failed export leaves no file and no temporary file).
    pub async fn write_to(self, path: impl AsRef<Path> + Send) -> Result<Written> {
        client_core::Storable::write_to(self, path).await
    }

    /// The pages of the server's texts, trimmed to the range.
    fn raw_pages(self) -> RecordStream<Page<RawObservation>, Error> {
        match self.check() {
            Ok(query) => query.pages(),
            Err(err) => RecordStream::new(futures::stream::iter([Err(err)])),
        }
    }

    fn check(&self) -> Result<CheckedQuery> {
        let spec = &self.spec;
        let (Some(metric), Some(unit)) = (&spec.metric, &spec.unit) else {
            return Err(Error::invalid_request(
                "an observations query needs a metric and a unit",
            ));
        };
        let Some((from, to)) = spec.range else {
            return Err(Error::invalid_request("an observations query needs a range"));
        };
        if from >= to {
            return Err(Error::invalid_request(format!(
                "the range is empty: {from} is not before {to}"
            )));
        }
        if spec.page_size == 0 {
            return Err(Error::invalid_request("the page size must be at least 1"));
        }
        if spec.concurrency == 0 {
            return Err(Error::invalid_request(
                "an observations query's concurrency must be at least 1 page",
            ));
        }
        Ok(CheckedQuery {
            client: spec.client.clone(),
            itwin_id: spec.itwin_id.clone(),
            sensor_id: spec.sensor_id.clone(),
            metric: metric.clone(),
            unit: unit.clone(),
            from,
            to,
            page_size: spec.page_size,
            concurrency: spec.concurrency,
            resume: spec.resume.clone(),
        })
    }
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] ObservationsQuery<T> {
        error: Error;
        send: Page<T>;
        stream: T;
        pages: Page<T>;
        resume: T;
        store: Written;
    }
}
