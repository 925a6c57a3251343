//! `GET /data-catalog` as a request builder: [`Client::catalog`], filtered to some
//! environments with [`CatalogRequest::environments`] (which a root-level application
//! must do).

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use client_core::RequestPreview;

use crate::catalog::Catalog;
use crate::client::Client;
use crate::error::{Error, Result};

/// A data catalog request: `GET /data-catalog`, or `GET
/// /data-catalog?environments=100,102` with [`environments`](Self::environments).
///
/// Await it (or call [`send`](Self::send)) for the [`Catalog`]. The document says that
/// an application with root-level permission **must** name the environments it reads
/// (the API refuses its unfiltered catalog); other applications may omit the filter to
/// receive every environment their permission set allows.
///
/// ```no_run
/// # async fn run(client: preventos_client::Client) -> Result<(), preventos_client::Error> {
/// // A non-root application: every environment it may read.
/// let all = client.catalog().await?;
/// // A root-level application: only the environments of its plan.
/// let planned = client.catalog().environments(["100", "102"]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a catalog request does nothing until awaited or sent"]
pub struct CatalogRequest {
    client: Client,
    environments: Vec<String>,
}

impl Client {
    /// `GET /data-catalog`: the environments, sites and signals this application may
    /// read, and the fetch limits. A root-level application must filter it with
    /// [`CatalogRequest::environments`].
    pub fn catalog(&self) -> CatalogRequest {
        CatalogRequest {
            client: self.clone(),
            environments: Vec::new(),
        }
    }

    /// `GET /data-catalog?environments=100,102`: the same as
    /// `client.catalog().environments(environments).send()`.
    pub async fn catalog_for<I, S>(&self, environments: I) -> Result<Catalog>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.catalog().environments(environments).send().await
    }
}

impl CatalogRequest {
    /// Only these environments (`?environments=100,102`, one comma-separated
    /// parameter, as the document writes it). Ids are added to those already given; an
    /// empty list sends no filter. An empty id, or one holding a comma, is refused when
    /// the request is sent (`InvalidRequest`).
    pub fn environments<I, S>(mut self, environments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.environments
            .extend(environments.into_iter().map(|e| e.as_ref().to_owned()));
        self
    }

    /// The request as it would be sent (method, URL, query; no credentials), after the
    /// same checks.
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.prepare()?.to_request()?)
    }

    /// Sends the request and decodes the catalog.
    pub async fn send(self) -> Result<Catalog> {
        Ok(self.prepare()?.json_response().await?)
    }

    fn prepare(&self) -> Result<client_core::RequestBuilder> {
        if let Some(bad) = self
            .environments
            .iter()
            .find(|e| e.trim().is_empty() || e.contains(','))
        {
            return Err(Error::invalid_request(format!(
                "`{bad}` is not an environment id for `?environments=` (empty, or holds a comma)"
            )));
        }
        let request = self.client.http.get("data-catalog").accept("application/json");
        Ok(if self.environments.is_empty() {
            request
        } else {
            request.query("environments", self.environments.join(","))
        })
    }
}

impl IntoFuture for CatalogRequest {
    type Output = Result<Catalog>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Catalog>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

client_core::verbs! {
    impl[] CatalogRequest {
        error: Error;
        send: Catalog;
    }
}
