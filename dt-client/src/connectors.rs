//! Data connectors: list, get, create, partial update, delete, `:sync` and `:metrics`.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use client_core::encode_segment;
use client_core::http::Method;

use crate::client::Client;
use crate::error::Result;
use crate::events::target_part;
use crate::list::List;
use crate::paging::TokenPages;
use crate::redact::redact_url;

client_core::open_enum! {
    /// A data connector's status.
    ConnectorStatus {
        /// Forwarding events.
        Active => "ACTIVE",
        /// Disabled by a user.
        UserDisabled => "USER_DISABLED",
        /// Disabled by DT after 5 days of failed pushes.
        SystemDisabled => "SYSTEM_DISABLED",
    }
}

/// A data connector as the API returns it. `Debug` redacts the signature secret, header
/// values (headers often carry receivers' keys) and the query of the receiver's URL
/// (which can hold one too, as an Azure Function's `?code=` does).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DataConnector {
    /// `projects/{project}/dataconnectors/{id}`.
    pub name: String,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `HTTP_PUSH`.
    #[serde(rename = "type", default)]
    pub connector_type: Option<String>,
    /// The status.
    #[serde(default)]
    pub status: Option<ConnectorStatus>,
    /// The event types forwarded (empty: all).
    #[serde(default)]
    pub events: Vec<String>,
    /// The label keys included with each push.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The HTTP push settings.
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Where and how a connector pushes.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HttpConfig {
    /// The receiver's URL. `Debug` and [`DataConnector::redacted`] show it without its
    /// query, which can hold a key.
    #[serde(default)]
    pub url: Option<String>,
    /// The signature secret, as the API returns it (usually empty or masked).
    #[serde(default)]
    pub signature_secret: Option<String>,
    /// Headers sent with each push.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl DataConnector {
    /// The connector id in `name`.
    pub fn id(&self) -> Option<&str> {
        target_part(&self.name, "dataconnectors")
    }

    /// The connector as JSON with the signature secret, header values and the query of
    /// the receiver's URL replaced by `[REDACTED]`: what may be printed or logged.
    pub fn redacted(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(config) = value.get_mut("httpConfig").and_then(Value::as_object_mut) {
            if let Some(url) = config.get_mut("url") {
                if let Some(text) = url.as_str() {
                    *url = Value::from(redact_url(text));
                }
            }
            if config
                .get("signatureSecret")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
            {
                config.insert("signatureSecret".into(), Value::from("[REDACTED]"));
            }
            if let Some(headers) = config.get_mut("headers").and_then(Value::as_object_mut) {
                for value in headers.values_mut() {
                    *value = Value::from("[REDACTED]");
                }
            }
        }
        value
    }
}

impl fmt::Debug for DataConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataConnector({})", self.redacted())
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field(
                "signature_secret",
                &self.signature_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn expose<S: Serializer>(secret: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

/// The `httpConfig` of a create or an update: only the members given are sent.
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpConfigBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    signature_secret: Option<SecretString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<BTreeMap<String, String>>,
}

impl HttpConfigBody {
    fn is_empty(&self) -> bool {
        self.url.is_none() && self.signature_secret.is_none() && self.headers.is_none()
    }
}

/// A change to a data connector, sent as a PATCH of exactly the fields set (as the
/// document's examples do), so that one change never resets another. `Debug` never
/// shows the secret or header values.
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use = "a change does nothing until it is sent"]
pub struct ConnectorUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ConnectorStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "HttpConfigBody::is_empty")]
    http_config: HttpConfigBody,
}

impl fmt::Debug for ConnectorUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorUpdate")
            .field("display_name", &self.display_name)
            .field("status", &self.status)
            .field("events", &self.events)
            .field("labels", &self.labels)
            .field("url", &self.http_config.url.as_deref().map(redact_url))
            .field(
                "signature_secret",
                &self.http_config.signature_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "headers",
                &self
                    .http_config
                    .headers
                    .as_ref()
                    .map(|h| h.keys().collect::<Vec<_>>()),
            )
            .finish()
    }
}

impl ConnectorUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `displayName`.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets `status` (`ACTIVE` or `USER_DISABLED`).
    pub fn status(mut self, status: ConnectorStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets `events`, the event types forwarded.
    pub fn events<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.events = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `labels`, the label keys included with each push.
    pub fn labels<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.labels = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `httpConfig.url`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.http_config.url = Some(url.into());
        self
    }

    /// Sets `httpConfig.signatureSecret`.
    pub fn signature_secret(mut self, secret: SecretString) -> Self {
        self.http_config.signature_secret = Some(secret);
        self
    }

    /// Sets `httpConfig.headers`, replacing the connector's headers with these.
    pub fn headers<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
        mut self,
        headers: I,
    ) -> Self {
        self.http_config.headers = Some(headers.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none()
            && self.status.is_none()
            && self.events.is_none()
            && self.labels.is_none()
            && self.http_config.is_empty()
    }
}

/// A new data connector: an HTTP push to `url`, with the optional settings of
/// [`ConnectorUpdate`].
#[derive(Debug)]
#[must_use = "a connector is created only when sent"]
pub struct NewDataConnector {
    display_name: String,
    settings: ConnectorUpdate,
}

impl NewDataConnector {
    /// A connector named `display_name` pushing to `url`.
    pub fn new(display_name: impl Into<String>, url: impl Into<String>) -> Self {
        NewDataConnector {
            display_name: display_name.into(),
            settings: ConnectorUpdate::new().url(url),
        }
    }

    /// The other settings (events, labels, headers, signature secret, status).
    pub fn with(mut self, settings: ConnectorUpdate) -> Self {
        let url = self.settings.http_config.url.take();
        self.settings = settings;
        if self.settings.http_config.url.is_none() {
            self.settings.http_config.url = url;
        }
        self
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    display_name: &'a str,
    #[serde(rename = "type")]
    connector_type: &'static str,
    #[serde(flatten)]
    settings: &'a ConnectorUpdate,
}

/// A connector's delivery figures over the last 3 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConnectorMetrics {
    /// Pushes answered 200.
    #[serde(default)]
    pub success_count: u64,
    /// Pushes that failed.
    #[serde(default)]
    pub error_count: u64,
    /// The 99th percentile of push latency, as sent (`"0.25s"`).
    #[serde(default)]
    pub latency99p: Option<String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Deserialize)]
struct MetricsAnswer {
    metrics: ConnectorMetrics,
}

fn connectors_path(project_id: &str) -> String {
    format!("projects/{}/dataconnectors", encode_segment(project_id))
}

pub(crate) fn connector_path(project_id: &str, connector_id: &str) -> String {
    format!("{}/{}", connectors_path(project_id), encode_segment(connector_id))
}

impl Client {
    /// A project's data connectors (`GET /projects/{p}/dataconnectors`), as a [`List`].
    pub fn data_connectors(&self, project_id: impl Into<String>) -> List<DataConnector> {
        List::new(TokenPages::new(
            &self.http,
            connectors_path(&project_id.into()),
            "dataConnectors",
            self.page_size,
        ))
    }

    /// One data connector.
    pub async fn data_connector(&self, project_id: &str, connector_id: &str) -> Result<DataConnector> {
        Ok(self
            .http
            .get(&connector_path(project_id, connector_id))
            .json_response()
            .await?)
    }

    /// Creates a data connector (`type` `HTTP_PUSH`). Not retried: a repeat could create
    /// two.
    pub async fn create_data_connector(
        &self,
        project_id: &str,
        connector: &NewDataConnector,
    ) -> Result<DataConnector> {
        let body = CreateBody {
            display_name: &connector.display_name,
            connector_type: "HTTP_PUSH",
            settings: &connector.settings,
        };
        Ok(self
            .http
            .post(&connectors_path(project_id))
            .json(&body)
            .json_response()
            .await?)
    }

    /// PATCHes exactly the fields `update` sets. An empty update is
    /// [`ClientError::InvalidRequest`](crate::ClientError::InvalidRequest), not sent.
    pub async fn update_data_connector(
        &self,
        project_id: &str,
        connector_id: &str,
        update: &ConnectorUpdate,
    ) -> Result<DataConnector> {
        if update.is_empty() {
            return Err(crate::Error::invalid_request("the update changes nothing"));
        }
        Ok(self
            .http
            .request(Method::PATCH, &connector_path(project_id, connector_id))
            .json(update)
            // Setting the same fields again gives the same connector.
            .idempotent(true)
            .json_response()
            .await?)
    }

    /// Deletes a data connector.
    pub async fn delete_data_connector(&self, project_id: &str, connector_id: &str) -> Result<()> {
        self.http
            .request(Method::DELETE, &connector_path(project_id, connector_id))
            .send_buffered()
            .await?;
        Ok(())
    }

    /// `:sync`: pushes the latest event of each type of each device to the connector.
    pub async fn sync_data_connector(&self, project_id: &str, connector_id: &str) -> Result<()> {
        self.http
            .post(&format!("{}:sync", connector_path(project_id, connector_id)))
            .json(&serde_json::json!({}))
            .send_buffered()
            .await?;
        Ok(())
    }

    /// `:metrics`: the connector's pushes over the last 3 hours.
    pub async fn data_connector_metrics(
        &self,
        project_id: &str,
        connector_id: &str,
    ) -> Result<ConnectorMetrics> {
        let answer: MetricsAnswer = self
            .http
            .get(&format!("{}:metrics", connector_path(project_id, connector_id)))
            .json_response()
            .await?;
        Ok(answer.metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_sends_only_what_it_sets() {
        let status = ConnectorUpdate::new().status(ConnectorStatus::UserDisabled);
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            serde_json::json!({"status": "USER_DISABLED"})
        );
        let secret = ConnectorUpdate::new().signature_secret(SecretString::from("some-good-secret"));
        assert_eq!(
            serde_json::to_value(&secret).unwrap(),
            serde_json::json!({"httpConfig": {"signatureSecret": "some-good-secret"}})
        );
        assert!(!format!("{secret:?}").contains("some-good-secret"));
        let headers = ConnectorUpdate::new()
            .headers([("my-header", "my-value")])
            .events(["temperature", "humidity"]);
        assert_eq!(
            serde_json::to_value(&headers).unwrap(),
            serde_json::json!({"events": ["temperature", "humidity"], "httpConfig": {"headers": {"my-header": "my-value"}}})
        );
        assert!(ConnectorUpdate::new().is_empty());
    }

    #[test]
    fn a_connector_is_printed_without_secrets() {
        let connector: DataConnector = serde_json::from_value(serde_json::json!({
            "name": "projects/p/dataconnectors/c1", "type": "HTTP_PUSH", "status": "ACTIVE",
            "httpConfig": {"url": "https://example.com", "signatureSecret": "s3cret", "headers": {"x-key": "k3y"}}
        }))
        .unwrap();
        assert_eq!(connector.id(), Some("c1"));
        let shown = format!("{connector:?} {}", connector.redacted());
        assert!(!shown.contains("s3cret") && !shown.contains("k3y"), "{shown}");
        assert!(shown.contains("x-key"));
    }

    #[test]
    fn a_receiver_url_is_shown_without_its_query() {
        let connector: DataConnector = serde_json::from_value(serde_json::json!({
            "name": "projects/p/dataconnectors/c1",
            "httpConfig": {"url": "https://fn.example/api/push?code=fn-k3y"}
        }))
        .unwrap();
        let config = connector.http_config.as_ref().unwrap();
        let new = NewDataConnector::new("r", "https://fn.example/api/push?code=fn-k3y");
        let update = ConnectorUpdate::new().url("https://fn.example/api/push?code=fn-k3y");
        for shown in [
            format!("{connector:?}"),
            format!("{config:?}"),
            connector.redacted().to_string(),
            format!("{new:?}"),
            format!("{update:?}"),
        ] {
            assert!(!shown.contains("fn-k3y"), "{shown}");
            assert!(
                shown.contains("https://fn.example/api/push?[REDACTED]"),
                "{shown}"
            );
        }
        // What is sent keeps the query.
        assert_eq!(
            serde_json::to_value(&update).unwrap()["httpConfig"]["url"],
            "https://fn.example/api/push?code=fn-k3y"
        );
    }
}
