//! Today's removal (`DELETE data/observations`): a sensor's data in a range or at
//! timestamps.

use jiff::Timestamp;
use serde::Serialize;

use client_core::http::Method;
use client_core::{RequestBuilder, RequestPreview};

use crate::client::Client;
use crate::error::{Error, Needs, Result};
use crate::time::iso;

/// `DELETE data/observations`: removes a sensor's data in a range or at timestamps;
/// built by [`Client::remove_data`]. Terminals: [`send`](Self::send) and
/// [`to_request`](Self::to_request).
///
/// ```no_run
/// use sds_client::Client;
///
/// # async fn run() -> Result<(), sds_client::Error> {
/// let client = Client::from_env()?;
/// let at: sds_client::jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("a timestamp");
/// let removal = client.remove_data("sensor-1").timestamps([at]);
/// assert_eq!(removal.to_request()?.method, "DELETE");
/// removal.send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a removal does nothing until it is sent"]
pub struct Removal {
    client: Client,
    sensor_id: String,
    range: Option<(Timestamp, Timestamp)>,
    timestamps: Vec<Timestamp>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RemovalBody<'a> {
    sensor_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    timestamps: Vec<String>,
}

impl Removal {
    /// Removes what lies between `from` and `to`, sent as `startDate` and `endDate`.
    /// Which ends the server includes is its own reading: to remove exactly known
    /// observations, use [`Removal::timestamps`].
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.range = Some((from, to));
        self
    }

    /// Removes the observations at exactly these timestamps.
    pub fn timestamps(mut self, timestamps: impl IntoIterator<Item = Timestamp>) -> Self {
        self.timestamps.extend(timestamps);
        self
    }

    /// The request, without sending it. Neither a range nor timestamps, or an empty
    /// range, is refused here as when sent.
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.request()?.to_request()?)
    }

    /// Sends the removal (202 when accepted). Neither a range nor timestamps is
    /// [`Error::InvalidRequest`](crate::ClientError::InvalidRequest): the API might
    /// read it as "everything".
    pub async fn send(self) -> Result<()> {
        self.request()?.send_buffered().await?;
        Ok(())
    }

    fn request(&self) -> Result<RequestBuilder> {
        if self.range.is_none() && self.timestamps.is_empty() {
            return Err(Error::invalid_request(
                "a removal needs a range or timestamps (refusing to send one that could remove everything)",
            ));
        }
        if let Some((from, to)) = self.range {
            if from >= to {
                return Err(Error::invalid_request(format!(
                    "the range is empty: {from} is not before {to}"
                )));
            }
        }
        let body = RemovalBody {
            sensor_id: &self.sensor_id,
            start_date: self.range.map(|(from, _)| iso(from)),
            end_date: self.range.map(|(_, to)| iso(to)),
            timestamps: self.timestamps.iter().map(|t| iso(*t)).collect(),
        };
        let request = self
            .client
            .http
            .request(Method::DELETE, "data/observations")
            .json(&body);
        Ok(Needs::manage().on_sensor(&self.sensor_id).attach(request))
    }
}

impl Client {
    /// Removes a sensor's data; give a range or timestamps before sending.
    pub fn remove_data(&self, sensor_id: impl Into<String>) -> Removal {
        Removal {
            client: self.clone(),
            sensor_id: sensor_id.into(),
            range: None,
            timestamps: Vec::new(),
        }
    }
}

client_core::verbs! {
    impl[] Removal {
        error: Error;
        send: ();
    }
}
