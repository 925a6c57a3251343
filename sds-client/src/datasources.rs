//! Data sources (`datasources`): an iTwin's link to a bucket of sensors behind a
//! connection, and the connection types and auth types the document lists.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::http::Method;
use client_core::{RequestBuilder, encode_segment, open_enum};
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{Error, Needs, Result};
use crate::list::List;

open_enum! {
    /// A connection's `type`.
    ConnectionType {
        /// `SELF_SERVICE`, the most common.
        SelfService => "SELF_SERVICE",
        /// `EAGLE_IO`.
        EagleIo => "EAGLE_IO",
    }
}

open_enum! {
    /// A connection's `authType`: how Sensor Data authenticates to the data source.
    AuthType {
        /// `NONE`.
        None => "NONE",
        /// `JWT_TOKEN`: a non-expiring JWT sent as a bearer token (needs `authorization`).
        JwtToken => "JWT_TOKEN",
        /// `IMS_TOKEN`: the caller's IMS token, exchanged by a delegation client.
        ImsToken => "IMS_TOKEN",
        /// `HTTP_BASIC`: Basic with `username` and `password`.
        HttpBasic => "HTTP_BASIC",
        /// `API_KEY`: `Authorization: ApiKey` (needs `authorization`).
        ApiKey => "API_KEY",
        /// `CLIENT_CREDENTIALS`: a token from the source's endpoint with `username` and `password`.
        ClientCredentials => "CLIENT_CREDENTIALS",
    }
}

/// The document's table of supported `type` and `authType` combinations.
pub const SUPPORTED_COMBINATIONS: [(ConnectionType, AuthType); 6] = [
    (ConnectionType::SelfService, AuthType::ImsToken),
    (ConnectionType::SelfService, AuthType::HttpBasic),
    (ConnectionType::SelfService, AuthType::ApiKey),
    (ConnectionType::SelfService, AuthType::JwtToken),
    (ConnectionType::SelfService, AuthType::ClientCredentials),
    (ConnectionType::EagleIo, AuthType::ApiKey),
];

impl ConnectionType {
    /// Whether the document lists `auth` as supported with this type. Values this
    /// version does not know are not in the table, so they give `false`.
    pub fn supports(&self, auth: &AuthType) -> bool {
        SUPPORTED_COMBINATIONS.iter().any(|(t, a)| t == self && a == auth)
    }
}

impl AuthType {
    /// The connection properties the document requires with this auth type (`IMS_TOKEN`
    /// needs none; `NONE` and unknown values are not in the table and give none).
    pub fn required_properties(&self) -> &'static [&'static str] {
        match self {
            AuthType::HttpBasic | AuthType::ClientCredentials => &["username", "password"],
            AuthType::ApiKey | AuthType::JwtToken => &["authorization"],
            _ => &[],
        }
    }
}

/// A data source: which bucket of which connection an iTwin sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DataSource {
    /// The data source id.
    pub id: String,
    /// The bucket's id in the external application.
    #[serde(default)]
    pub bucket_id: Option<String>,
    /// The bucket's display name.
    #[serde(default)]
    pub bucket_name: Option<String>,
    /// The iTwin.
    #[serde(rename = "iTwinId", default)]
    pub itwin_id: Option<String>,
    /// The connection the data source points to.
    #[serde(default)]
    pub connection_id: Option<String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The body of a create or an update: the document's four properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewDataSource {
    /// The bucket's id in the external application.
    pub bucket_id: String,
    /// The bucket's display name.
    pub bucket_name: String,
    /// The iTwin.
    #[serde(rename = "iTwinId")]
    pub itwin_id: String,
    /// The connection id Sensor Data's developers issued.
    pub connection_id: String,
}

impl NewDataSource {
    /// A data source mapping `itwin_id` to a bucket of a connection.
    pub fn new(
        bucket_id: impl Into<String>,
        bucket_name: impl Into<String>,
        itwin_id: impl Into<String>,
        connection_id: impl Into<String>,
    ) -> Self {
        NewDataSource {
            bucket_id: bucket_id.into(),
            bucket_name: bucket_name.into(),
            itwin_id: itwin_id.into(),
            connection_id: connection_id.into(),
        }
    }
}

const ONE: &[&str] = &["dataSource", "datasource"];

impl Client {
    /// `GET datasources?iTwinId=`: the iTwin's data sources. An empty list can also mean
    /// that the caller is not a member of the iTwin.
    pub fn datasources(&self, itwin_id: impl Into<String>) -> List<DataSource> {
        List::new(
            self,
            "datasources",
            &["dataSources", "datasources"],
            "data sources",
            itwin_id.into(),
        )
    }

    /// `GET datasources/{id}`.
    pub async fn datasource(&self, id: &str) -> Result<DataSource> {
        one(Needs::read().attach(self.http.get(&path_of(id)))).await
    }

    /// `POST datasources`: registers a data source and returns it with its id.
    pub async fn create_datasource(&self, source: &NewDataSource) -> Result<DataSource> {
        let request = self.http.post("datasources").json(source);
        one(Needs::manage().on_itwin(&source.itwin_id).attach(request)).await
    }

    /// `PUT datasources/{id}`: replaces the data source's properties.
    pub async fn update_datasource(&self, id: &str, source: &NewDataSource) -> Result<DataSource> {
        let request = self.http.request(Method::PUT, &path_of(id)).json(source);
        one(Needs::manage().on_itwin(&source.itwin_id).attach(request)).await
    }

    /// `DELETE datasources/{id}`.
    pub async fn delete_datasource(&self, id: &str) -> Result<()> {
        let request = self.http.request(Method::DELETE, &path_of(id));
        Needs::manage().attach(request).send_buffered().await?;
        Ok(())
    }
}

fn path_of(id: &str) -> String {
    format!("datasources/{}", encode_segment(id))
}

/// The data source a request answers with.
async fn one(request: RequestBuilder) -> Result<DataSource> {
    single(request.json_response().await?, ONE, "data source")
}

/// One resource: the object itself, or the object under one of `keys` (the document
/// does not show which).
fn single<T: DeserializeOwned>(body: Value, keys: &[&str], what: &str) -> Result<T> {
    let body = match body {
        Value::Object(mut object) => match keys
            .iter()
            .find(|k| object.get(**k).is_some_and(Value::is_object))
        {
            Some(key) if object.len() == 1 => object.remove(*key).unwrap_or_default(),
            _ => Value::Object(object),
        },
        other => other,
    };
    serde_json::from_value(body).map_err(|e| Error::decode(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_table_of_combinations() {
        assert!(ConnectionType::SelfService.supports(&AuthType::ImsToken));
        assert!(ConnectionType::EagleIo.supports(&AuthType::ApiKey));
        assert!(!ConnectionType::EagleIo.supports(&AuthType::HttpBasic));
        assert!(!ConnectionType::from("NEW_KIND").supports(&AuthType::ApiKey));
        assert_eq!(
            AuthType::HttpBasic.required_properties(),
            ["username", "password"]
        );
        assert_eq!(AuthType::JwtToken.required_properties(), ["authorization"]);
        assert!(AuthType::ImsToken.required_properties().is_empty());
    }

    #[test]
    fn one_resource_is_read_bare_or_wrapped() {
        let bare: DataSource = single(serde_json::json!({"id": "a"}), ONE, "x").unwrap();
        let wrapped: DataSource = single(serde_json::json!({"dataSource": {"id": "b"}}), ONE, "x").unwrap();
        assert_eq!((bare.id, wrapped.id), ("a".to_owned(), "b".to_owned()));
    }

    #[test]
    fn unknown_values_round_trip() {
        let t: ConnectionType = serde_json::from_str("\"MQTT\"").unwrap();
        assert_eq!(t, ConnectionType::Unknown("MQTT".into()));
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"MQTT\"");
        assert_eq!(serde_json::to_string(&AuthType::ApiKey).unwrap(), "\"API_KEY\"");
    }
}
