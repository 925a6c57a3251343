//! Reading the pages of an observations query through the SDK's paginator, and keeping
//! exactly the range's observations out of them: every terminal of
//! [`ObservationsQuery`](crate::ObservationsQuery) reads [`CheckedQuery::pages`], so
//! `pages()`, `stream()`, `send()` and `copy_to` hold the same observations.

use futures::TryStreamExt;
use futures::future::BoxFuture;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use client_core::shape::{Fetched, fingerprint};
use client_core::{Cursor, Page, PageSource, Paginator, RecordStream, RequestBuilder};

use crate::client::Client;
use crate::error::{Error, Needs, Result, SdsError};
use crate::observations::RawObservation;
use crate::paging::Pager;
use crate::time::{iso, just_before};

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
            .query("startDate", iso(just_before(self.from)))
            .query("endDate", iso(self.to))
            .query("page", page.to_string())
            .query("pageSize", size.to_string());
        Needs::read().on_itwin(&self.itwin_id).attach(request)
    }

    /// The request of the first page.
    pub(crate) fn first_request(&self) -> RequestBuilder {
        let (page, size) = Pager::new(self.page_size).first();
        self.request(page, size)
    }

    /// Every page in order, through the paginator, each holding only the observations
    /// of `[from, to)` not yet seen (see [`InRange`]); the paging itself reads the pages
    /// as sent, and each page's `cursor`, `next` and `meta` stay as sent.
    pub(crate) fn pages(self) -> RecordStream<Page<RawObservation>, Error> {
        let mut in_range = InRange::new(self.from, self.to);
        let pager = Pager::new(self.page_size);
        let mut sent = Paginator::new(ObservationPages { query: self, pager }).pages();
        RecordStream::new(async_stream::try_stream! {
            while let Some(mut page) = sent.try_next().await? {
                let items = std::mem::take(&mut page.items);
                page.items = in_range.keep(items)?;
                yield page;
            }
        })
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

/// The SDS page source: `page`/`pageSize` as the [`Pager`] decides.
struct ObservationPages {
    query: CheckedQuery,
    pager: Pager,
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
            let body = self
                .query
                .request(page, size)
                .send_buffered()
                .await?
                .bytes()
                .await?;
            let wire: WirePage<'_> = serde_json::from_slice(&body)
                .map_err(|e| Error::decode(format!("observations page {page}: {e}")))?;
            let texts = wire.observations.map_or("[]", RawValue::get);
            let raws: Vec<Box<RawValue>> = serde_json::from_str(texts)
                .map_err(|e| Error::decode(format!("observations page {page}: {e}")))?;
            let mut items = Vec::with_capacity(raws.len());
            for (index, raw) in raws.into_iter().enumerate() {
                items
                    .push(RawObservation::new(raw).map_err(|e| {
                        Error::decode(format!("observations page {page}, item {index}: {e}"))
                    })?);
            }
            let page_total = count(wire.meta.get("pageTotal"));
            let next = self
                .pager
                .accept(page, items.len(), page_total)
                .map(|(page, size)| Cursor::Number { page, size });
            let page = Page::new(items).with_next(next).with_meta(wire.meta);
            Ok(Fetched::new(page).with_fingerprint(fingerprint(texts.as_bytes())))
        })
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
