//! Event history of one device (`GET /projects/{p}/devices/{d}/events`), paged.

use jiff::Timestamp;

use client_core::encode_segment;

use crate::client::Client;
use crate::events::Event;
use crate::paging::List;

/// A device's historical events, built by [`Client::events`]. Without a range the API
/// answers the last 24 hours.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is streamed"]
pub struct EventsQuery {
    client: Client,
    project_id: String,
    device_id: String,
    event_types: Vec<String>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

impl EventsQuery {
    /// Only these event types (`eventTypes`, repeated).
    pub fn event_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.event_types.extend(types.into_iter().map(Into::into));
        self
    }

    /// Events from `start` (`startTime`) to `end` (`endTime`).
    pub fn range(mut self, start: Timestamp, end: Timestamp) -> Self {
        self.start = Some(start);
        self.end = Some(end);
        self
    }

    /// Events from `start` on (`startTime`; the end is the API's default, now).
    pub fn since(mut self, start: Timestamp) -> Self {
        self.start = Some(start);
        self.end = None;
        self
    }

    /// The list request, of [`Event`]s (`records::<RawEvent>()` keeps the server's text).
    pub fn list(self) -> List<Event> {
        let mut query: Vec<(String, String)> = self
            .event_types
            .iter()
            .map(|t| ("eventTypes".to_owned(), t.clone()))
            .collect();
        if let Some(start) = self.start {
            query.push(("startTime".into(), start.to_string()));
        }
        if let Some(end) = self.end {
            query.push(("endTime".into(), end.to_string()));
        }
        List::new(
            self.client.http.clone(),
            format!(
                "projects/{}/devices/{}/events",
                encode_segment(&self.project_id),
                encode_segment(&self.device_id)
            ),
            query,
            self.client.page_size,
        )
    }
}

impl Client {
    /// The historical events of one device.
    pub fn events(&self, project_id: impl Into<String>, device_id: impl Into<String>) -> EventsQuery {
        EventsQuery {
            client: self.clone(),
            project_id: project_id.into(),
            device_id: device_id.into(),
            event_types: Vec::new(),
            start: None,
            end: None,
        }
    }
}
