//! Reading the pages of an observations query through the SDK's paginator, and keeping
//! exactly the range's observations out of them: every terminal of
//! [`ObservationsQuery`](crate::ObservationsQuery) reads [`CheckedQuery::pages`], so
//! `pages()`, `stream()`, `send()` and `copy_to` hold the same observations.

use futures::future::BoxFuture;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use client_core::decode::skip_bom;
use client_core::shape::{Fetched, fingerprint, resume_pages};
use client_core::{Checkpoint, Cursor, Page, PageSource, Paginator, Position, RecordStream, RequestBuilder};

use crate::client::Client;
use crate::error::{Error, Needs, Result, SdsError};
use crate::observations::RawObservation;
use crate::observations_ahead::PagesAhead;
use crate::paging::Pager;
use crate::time::{iso_end, iso_start, just_before};

/// An observations query with everything it needs, checked.
#[derive(Clone)]
pub(crate) struct CheckedQuery {
    pub(crate) client: Client,
    pub(crate) itwin_id: String,
    pub(crate) sensor_id: String,
    pub(crate) metric: String,
    pub(crate) unit: String,
    pub(crate) from: Timestamp,
    pub(crate) to: Timestamp,
    pub(crate) page_size: u32,
    /// Pages in flight at once.
    pub(crate) concurrency: usize,
    /// Where to resume, if the read goes on from a checkpoint.
    pub(crate) resume: Option<Checkpoint>,
}

impl CheckedQuery {
    /// The request for `page` of `size` observations. The range starts one millisecond
    /// early: the pages are trimmed, so the server's reading of the ends does not matter.
    fn request(&self, page: u64, size: u32) -> RequestBuilder {
        let request = self
            .client
            .http
            .get("observations")
            .query("iTwinId", &self.itwin_id)
            .query("sensorId", &self.sensor_id)
            .query("metric", &self.metric)
            .query("unit", &self.unit)
            .query("startDate", iso_start(just_before(self.from)))
            .query("endDate", iso_end(self.to))
            .query("page", page.to_string())
            .query("pageSize", size.to_string());
        Needs::read().on_itwin(&self.itwin_id).attach(request)
    }

    /// The request of the first page.
    pub(crate) fn first_request(&self) -> RequestBuilder {
        let (page, size) = Pager::new(self.page_size).first();
        self.request(page, size)
    }

    /// The name of this read in its checkpoints: every parameter that changes which
    /// observations it yields (not the page size, which only changes how they come).
    pub(crate) fn read_id(&self) -> String {
        Checkpoint::read_id(
            "sds.observations",
            &[
                ("iTwinId", &self.itwin_id),
                ("sensorId", &self.sensor_id),
                ("metric", &self.metric),
                ("unit", &self.unit),
                ("from", &self.from.to_string()),
                ("to", &self.to.to_string()),
            ],
        )
    }

    /// Where the read starts: its checkpoint, or the start with the paging state before
    /// the first page. The checkpoints inside the first page carry that state, so a read
    /// resumed there asks for the page size the first run read it with, whatever the
    /// resumed request asks for (the page size is not part of the read's identity).
    pub(crate) fn start(&self) -> Checkpoint {
        self.resume.clone().unwrap_or_else(|| {
            let before_any_page = State {
                pager: Pager::new(self.page_size),
                last: None,
                last_text: String::new(),
            };
            Checkpoint::new(self.read_id(), Position::Start)
                .with_state(serde_json::to_value(&before_any_page).unwrap_or(Value::Null))
        })
    }

    /// Every page in order, through the paginator, each holding only the observations
    /// of `[from, to)` not yet seen (see [`InRange`]) and the checkpoint after it; the
    /// paging itself reads the pages as sent, and each page's `cursor`, `next` and
    /// `meta` stay as sent. A resumed read starts at its checkpoint's page, without the
    /// observations of it already yielded.
    pub(crate) fn pages(mut self) -> RecordStream<Page<RawObservation>, Error> {
        let read = self.read_id();
        let resume = self.resume.take();
        let source = ObservationPages {
            in_range: InRange::new(self.from, self.to),
            pager: Pager::new(self.page_size),
            previous: None,
            ahead: PagesAhead::new(self.concurrency),
            query: self,
        };
        let paginator = Paginator::new(source).checkpoints(read.clone());
        let Some(checkpoint) = resume else {
            return paginator.pages();
        };
        let paginator = match checkpoint.check(&read) {
            Ok(()) if checkpoint.is_done() => return RecordStream::new(futures::stream::empty()),
            Ok(()) => paginator.resume_from(&checkpoint),
            Err(err) => Err(err),
        };
        match paginator {
            Ok(paginator) => resume_pages(paginator.pages(), Some(&checkpoint)),
            Err(err) => RecordStream::new(futures::stream::iter([Err(Error::from(err))])),
        }
    }
}

/// The page document as read off the wire: the observations kept as one text until
/// needed, every other member as sent.
#[derive(Deserialize)]
struct WirePage<'a> {
    #[serde(borrow, default)]
    observations: Option<&'a RawValue>,
    #[serde(flatten)]
    meta: Map<String, Value>,
}

/// One page's envelope, read.
pub(crate) struct PageBody {
    /// The observations, as sent.
    pub(crate) items: Vec<RawObservation>,
    /// The other members (`meta` and the like).
    pub(crate) meta: Map<String, Value>,
    /// The fingerprint of the observations' text (a repeated page has the same).
    pub(crate) print: u64,
}

/// Reads the envelope of observations page `page` (`{"observations":[..], ..}`).
pub(crate) fn read_page(body: &[u8], page: u64) -> Result<PageBody> {
    let wire: WirePage<'_> = serde_json::from_slice(skip_bom(body))
        .map_err(|e| Error::decode(format!("observations page {page}: {e}")))?;
    let texts = wire.observations.map_or("[]", RawValue::get);
    let raws: Vec<Box<RawValue>> =
        serde_json::from_str(texts).map_err(|e| Error::decode(format!("observations page {page}: {e}")))?;
    let mut items = Vec::with_capacity(raws.len());
    for (index, raw) in raws.into_iter().enumerate() {
        items.push(
            RawObservation::new(raw)
                .map_err(|e| Error::decode(format!("observations page {page}, item {index}: {e}")))?,
        );
    }
    Ok(PageBody {
        items,
        meta: wire.meta,
        print: fingerprint(texts.as_bytes()),
    })
}

/// The SDS page source: `page`/`pageSize` as the [`Pager`] decides, each page trimmed
/// to the range.
struct ObservationPages {
    query: CheckedQuery,
    pager: Pager,
    in_range: InRange,
    /// The fingerprint of the page before.
    previous: Option<u64>,
    /// The pages asked for ahead of the paging.
    ahead: PagesAhead,
}

/// What a checkpoint of an observations read holds as its `state`: the pager's state
/// (page size now and first asked for, the first page with data, observations seen,
/// whether an empty page is being confirmed) and the last observation yielded (its
/// timestamp and text, to drop it if the next page repeats it).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct State {
    pager: Pager,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    last_text: String,
}

impl PageSource for ObservationPages {
    type Item = RawObservation;
    type Error = Error;

    fn fetch<'a>(&'a mut self, cursor: Option<&'a Cursor>) -> BoxFuture<'a, Result<Fetched<RawObservation>>> {
        Box::pin(async move {
            let (page, size) = match cursor {
                None => self.pager.first(),
                Some(Cursor::Number { page, size }) => (*page, *size),
                Some(other) => {
                    return Err(Error::invalid_request(format!(
                        "observations are paged by number, not {other:?}"
                    )));
                }
            };
            let query = &self.query;
            let body = self.ahead.body(page, size, || query.request(page, size)).await?;
            let PageBody { items, meta, print } = read_page(&body, page)?;
            let page_total = count(meta.get("pageTotal"));
            let next = self.pager.accept(page, items.len(), page_total);
            if let (Some((next, size)), Some(last)) = (next, self.pager.last_page_bound(page, page_total)) {
                self.ahead
                    .fill(next, size, last, |page, size| query.request(page, size));
            }
            let next = next.map(|(page, size)| Cursor::Number { page, size });
            // The paging reads the page as sent; what it yields is the range's. A page
            // that repeats the one before goes to the paginator as sent, which refuses
            // it (rather than the range calling its observations out of order).
            let repeated = self.previous.replace(print) == Some(print);
            let items = if repeated {
                items
            } else {
                self.in_range.keep(items)?
            };
            let page = Page::new(items).with_next(next).with_meta(meta);
            Ok(Fetched::new(page).with_fingerprint(print))
        })
    }

    fn state(&self) -> Value {
        let state = State {
            pager: self.pager.clone(),
            last: self.in_range.last,
            last_text: self.in_range.last_text.clone(),
        };
        serde_json::to_value(&state).unwrap_or(Value::Null)
    }

    fn restore(&mut self, state: &Value) -> client_core::Result<()> {
        if state.is_null() {
            return Ok(());
        }
        let state: State = serde_json::from_value(state.clone()).map_err(|e| {
            client_core::Error::config(format!(
                "the checkpoint's state is not an observations read's: {e}"
            ))
        })?;
        self.pager = state.pager;
        self.in_range.last = state.last;
        self.in_range.last_text = state.last_text;
        Ok(())
    }

    fn metrics_label(&self) -> Option<&'static str> {
        Some(crate::client::METRICS_LABEL)
    }
}

/// A count the server may send as an integer or an integral float.
fn count(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// Keeps the observations of `[from, to)` in time order, each once: observations
/// outside the range are dropped, one repeated across a page boundary (same timestamp,
/// same text) is dropped, and one that goes back in time is an error.
struct InRange {
    from: Timestamp,
    to: Timestamp,
    last: Option<Timestamp>,
    last_text: String,
}

impl InRange {
    fn new(from: Timestamp, to: Timestamp) -> Self {
        InRange {
            from,
            to,
            last: None,
            last_text: String::new(),
        }
    }

    /// The observations of one page the range keeps, in order.
    fn keep(&mut self, observations: Vec<RawObservation>) -> Result<Vec<RawObservation>> {
        let mut kept = Vec::with_capacity(observations.len());
        for observation in observations {
            if let Some(observation) = self.admit(observation)? {
                kept.push(observation);
            }
        }
        Ok(kept)
    }

    /// `observation`, if the range keeps it.
    fn admit(&mut self, observation: RawObservation) -> Result<Option<RawObservation>> {
        let at = observation.timestamp();
        if at < self.from || at >= self.to {
            return Ok(None);
        }
        if let Some(previous) = self.last {
            if at < previous {
                return Err(Error::Api(SdsError::OutOfOrder { previous, got: at }));
            }
            if at == previous && observation.as_str() == self.last_text {
                return Ok(None);
            }
        }
        self.last = Some(at);
        self.last_text.clear();
        self.last_text.push_str(observation.as_str());
        Ok(Some(observation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(text: &str) -> RawObservation {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_range_keeps_its_observations_once_in_order() {
        let at = |ms| Timestamp::from_millisecond(ms).unwrap();
        let mut range = InRange::new(at(10), at(30));
        let admitted = |range: &mut InRange, text: &str| range.admit(observation(text)).unwrap().is_some();
        assert!(!admitted(&mut range, r#"{"timestamp":9,"value":1}"#));
        assert!(admitted(&mut range, r#"{"timestamp":10,"value":1}"#));
        assert!(!admitted(&mut range, r#"{"timestamp":10,"value":1}"#), "repeated");
        assert!(
            admitted(&mut range, r#"{"timestamp":10,"value":2}"#),
            "another value"
        );
        assert!(admitted(&mut range, r#"{"timestamp":29,"value":1}"#));
        assert!(!admitted(&mut range, r#"{"timestamp":30,"value":1}"#));
        assert!(matches!(
            range.admit(observation(r#"{"timestamp":20,"value":1}"#)),
            Err(Error::Api(SdsError::OutOfOrder { .. }))
        ));
    }

    #[test]
    fn counts_are_read_as_integers_or_integral_floats() {
        assert_eq!(count(Some(&serde_json::json!(3))), Some(3));
        assert_eq!(count(Some(&serde_json::json!(3.0))), Some(3));
        assert_eq!(count(Some(&serde_json::json!(3.5))), None);
        assert_eq!(count(Some(&serde_json::json!("3"))), None);
        assert_eq!(count(None), None);
    }
}
