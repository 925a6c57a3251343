//! Datapoints queries: one request, or a whole range of any length.

use std::marker::PhantomData;

use client_core::http::StatusCode;
use client_core::{DecodeOptions, RecordStream};
use futures::TryStreamExt;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::client::Client;
use crate::datapoint::Datapoint;
use crate::error::{Error, Result};
use crate::keyed::Keyed;
use crate::windows::{Outcome, Planner};

/// A datapoints query, decoding each datapoint into `T` (by default the crate's
/// [`Datapoint`], which keeps every attribute). Finish with [`DatapointsQuery::send`]
/// (one request) or [`DatapointsQuery::stream`] (a complete range of any length).
#[must_use = "a query does nothing until sent or streamed"]
pub struct DatapointsQuery<T = Datapoint> {
    client: Client,
    ids: Vec<String>,
    channels: Vec<i64>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    _records: PhantomData<fn() -> T>,
}

impl<T> Clone for DatapointsQuery<T> {
    fn clone(&self) -> Self {
        DatapointsQuery {
            client: self.client.clone(),
            ids: self.ids.clone(),
            channels: self.channels.clone(),
            from: self.from,
            to: self.to,
            _records: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for DatapointsQuery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatapointsQuery")
            .field("ids", &self.ids)
            .field("channels", &self.channels)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("record_type", &std::any::type_name::<T>())
            .finish()
    }
}

impl DatapointsQuery<Datapoint> {
    pub(crate) fn new(client: Client) -> Self {
        DatapointsQuery {
            client,
            ids: Vec::new(),
            channels: Vec::new(),
            from: None,
            to: None,
            _records: PhantomData,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> DatapointsQuery<T> {
    /// The same query, decoding each datapoint into your own type `U` (any
    /// `Deserialize` type: a struct of the attributes you need, or
    /// `serde_json::Value` to keep the server's JSON). The window logic reads
    /// `val_date`, `dev_netid` and `dev_chid` from the same element, so `U` need not
    /// have them.
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> DatapointsQuery<U> {
        DatapointsQuery {
            client: self.client,
            ids: self.ids,
            channels: self.channels,
            from: self.from,
            to: self.to,
            _records: PhantomData,
        }
    }

    /// Adds a device network id (`id`). Without any, all devices the user can see.
    pub fn id(mut self, network_id: impl Into<String>) -> Self {
        self.ids.push(network_id.into());
        self
    }

    /// Adds several network ids.
    pub fn ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Adds a channel id (`ch`). Without any, all channels of the devices.
    pub fn channel(mut self, channel: i64) -> Self {
        self.channels.push(channel);
        self
    }

    /// Adds several channel ids.
    pub fn channels<I: IntoIterator<Item = i64>>(mut self, channels: I) -> Self {
        self.channels.extend(channels);
        self
    }

    /// The start of the range (inclusive), sent as `fcdt` epoch seconds.
    pub fn from(mut self, from: Timestamp) -> Self {
        self.from = Some(from);
        self
    }

    /// The end of the range, sent as `tcdt` epoch seconds.
    pub fn to(mut self, to: Timestamp) -> Self {
        self.to = Some(to);
        self
    }

    /// Both ends of the range.
    pub fn range(self, from: Timestamp, to: Timestamp) -> Self {
        self.from(from).to(to)
    }

    fn checked_range(&self) -> Result<Option<(Timestamp, Timestamp)>> {
        match (self.from, self.to) {
            (None, None) => Ok(None),
            (Some(from), Some(to)) if from < to => Ok(Some((from, to))),
            (Some(from), Some(to)) => Err(Error::invalid_request(format!(
                "the range is empty: {from} is not before {to}"
            ))),
            _ => Err(Error::invalid_request(
                "a range needs both ends (fcdt and tcdt); give both, or neither for the last hour",
            )),
        }
    }

    /// One request, exactly as built. Without a range the API returns the last hour. A
    /// response of 10,000 datapoints may be cut off: use [`Self::stream`] for completeness.
    /// A 304 (no data) is an empty list.
    pub async fn send(self) -> Result<Vec<T>> {
        let range = self
            .checked_range()?
            .map(|(from, to)| (from.as_second(), to.as_second()));
        let points = fetch::<T>(&self.client, &self.ids, &self.channels, range).await?;
        Ok(points.into_iter().map(|point| point.record).collect())
    }

    /// Every datapoint created in `[from, to)`, however long the range, each once.
    ///
    /// **What a range means.** `fcdt`/`tcdt` select datapoints by the time the platform
    /// created them, not by `val_date`: a datapoint that arrived late (its `val_date`
    /// long before its creation) belongs to the range it was created in, and is yielded
    /// whatever its `val_date`. Since the API does not say whether its ends are
    /// inclusive, the range is asked for from one second before `from` up to `to`, so
    /// none created inside the range is left out whatever the convention; datapoints
    /// created in the second before `from` may come along. A datapoint is created at or
    /// after its `val_date`, so one whose `val_date` is at or after `to` lies outside the
    /// range and is dropped.
    ///
    /// **Completeness.** The range is cut at 31 days; each window is asked for with an
    /// overlap of its neighbour, and a datapoint seen twice (same `dev_netid`, `dev_chid`
    /// and `val_date`) is yielded once. A response at the 10,000-datapoint cap is never
    /// trusted, since the API does not say which 10,000 it keeps: the window is halved
    /// until every window is answered below the cap. Window lengths follow the density
    /// seen so far. A body cut short is asked for again (the client's retry policy).
    ///
    /// **Order.** Window by window in creation time; within a window by `val_date`,
    /// then `dev_netid`, then `dev_chid`.
    ///
    /// Each request is logged (`tracing`, INFO) with its window and datapoint count.
    pub fn stream(self) -> RecordStream<T, Error> {
        let client = self.client.clone();
        RecordStream::new(async_stream::try_stream! {
            let Some((from, to)) = self.checked_range()? else {
                Err(Error::invalid_request("a complete-range stream needs both ends of the range"))?;
                return;
            };
            let mut planner = Planner::new(from, to);
            // Created at or after its val_date, so at or after `to`: outside the range.
            let outside = |point: &Keyed<T>| point.val_date.is_some_and(|at| at >= to);
            while let Some(window) = planner.next_window() {
                let (fcdt, tcdt) = window.query();
                let response = fetch::<T>(&client, &self.ids, &self.channels, Some((fcdt, tcdt))).await?;
                let received = response.len();
                match planner.assess(window, response)? {
                    Outcome::Split => {
                        tracing::info!(fcdt, tcdt, received, "conduit window at the cap; halving it");
                    }
                    Outcome::Complete(points) => {
                        tracing::info!(fcdt, tcdt, received, kept = points.len(), "conduit window fetched");
                        for point in points.into_iter().filter(|p| !outside(p)) {
                            yield point.record;
                        }
                    }
                }
            }
        })
    }
}

/// One request, read whole inside the retry loop; 304 gives an empty list.
async fn fetch<T: DeserializeOwned>(
    client: &Client,
    ids: &[String],
    channels: &[i64],
    range: Option<(i64, i64)>,
) -> Result<Vec<Keyed<T>>> {
    let mut request = client.http.get("").accept("application/json");
    for id in ids {
        request = request.query("id", id);
    }
    for channel in channels {
        request = request.query("ch", channel.to_string());
    }
    if let Some((from, to)) = range {
        request = request
            .query("fcdt", from.to_string())
            .query("tcdt", to.to_string());
    }
    let response = request.send_buffered().await.map_err(|e| client.map_error(e))?;
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(Vec::new());
    }
    let elements: Vec<Box<RawValue>> = response
        .json_array(None, DecodeOptions::default())
        .try_collect()
        .await?;
    elements
        .iter()
        .enumerate()
        .map(|(index, element)| Keyed::parse(element, index + 1))
        .collect()
}
