//! Sending token requests: one retry on 5xx or connect errors, errors without secrets.

use std::time::Duration;

use bytes::Bytes;
use secrecy::SecretString;
use serde::Deserialize;

use super::AccessToken;
use crate::error::{Error, ErrorKind, Result, from_reqwest};
use crate::retry::parse_retry_after;
use crate::transport::{ensure_secure, standard_reqwest_client};

/// The largest token response read; real ones are a few KiB.
const MAX_TOKEN_RESPONSE: usize = 256 * 1024;

/// The HTTP side of token requests, shared by every grant.
#[derive(Clone, Debug)]
pub(crate) struct TokenEndpoint {
    http: reqwest::Client,
}

impl TokenEndpoint {
    /// Uses `http` if given, else a client with the workspace defaults; redirects are
    /// always off for token requests (a redirect could carry the secret elsewhere), so a
    /// caller-supplied client must be built with `redirect::Policy::none()`.
    pub(crate) fn new(http: Option<reqwest::Client>) -> Result<Self> {
        let http = match http {
            Some(http) => http,
            None => standard_reqwest_client(Duration::from_secs(10), Some(Duration::from_secs(30)))?,
        };
        Ok(Self::with_client(http))
    }

    /// Uses `http` as it is.
    pub(crate) fn with_client(http: reqwest::Client) -> Self {
        TokenEndpoint { http }
    }

    /// Sends a token request, repeating it once on a connect error or a 5xx without
    /// `Retry-After`; never on 4xx. Returns the body of a 200 response.
    pub(crate) async fn send(&self, request: http::Request<Vec<u8>>) -> Result<Bytes> {
        let (parts, body) = request.into_parts();
        let url = url::Url::parse(&parts.uri.to_string())
            .map_err(|e| Error::config(format!("invalid token URL: {e}")))?;
        ensure_secure(&url)?;
        let body = Bytes::from(body);
        let mut attempt = 1;
        loop {
            let request = self
                .http
                .request(parts.method.clone(), url.clone())
                .headers(parts.headers.clone())
                .body(body.clone());
            let result = self.send_once(request).await;
            match result {
                Err(err) if attempt == 1 && retry_token_request(&err) => {
                    tracing::debug!(error = %err, "token request failed; retrying once");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn send_once(&self, request: reqwest::RequestBuilder) -> Result<Bytes> {
        let response = request
            .send()
            .await
            .map_err(|e| from_reqwest(e, "token request failed"))?;
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let body = read_limited(response).await?;
        if status.is_success() {
            return Ok(body);
        }
        let kind = if status.as_u16() == 429 {
            ErrorKind::Throttled
        } else {
            ErrorKind::Auth
        };
        Err(Error::new(
            kind,
            format!(
                "token endpoint refused the request: {}",
                describe_oauth_error(&body)
            ),
        )
        .with_status(status)
        .with_retry_after(retry_after))
    }
}

/// Token requests are repeated once for connect failures and 5xx, but not when the
/// server asked for a delay (Retry-After) and never for 4xx.
fn retry_token_request(err: &Error) -> bool {
    if err.retry_after().is_some() {
        return false;
    }
    match err.status() {
        Some(status) => status.is_server_error(),
        None => matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout),
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Bytes> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| from_reqwest(e, "reading the token response failed"))?
    {
        if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
            return Err(Error::new(
                ErrorKind::Auth,
                "token response is larger than 256 KiB",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// `error: error_description` from an RFC 6749 error body, else a generic text. The body
/// itself is not kept: token endpoint bodies are not shown to avoid echoing credentials.
fn describe_oauth_error(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(OAuthError {
            error,
            error_description: Some(description),
        }) => {
            let description: String = description.chars().take(300).collect();
            format!("{error}: {description}")
        }
        Ok(OAuthError {
            error,
            error_description: None,
        }) => error,
        Err(_) => "no OAuth2 error document in the response".to_owned(),
    }
}

/// Decodes an RFC 6749 access token response.
pub(crate) fn parse_token_response(body: &[u8]) -> Result<AccessToken> {
    #[derive(Deserialize)]
    struct TokenResponse {
        access_token: String,
        #[serde(default)]
        expires_in: Option<serde_json::Value>,
    }
    // The error is rebuilt without serde's message: it could quote the token.
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Auth,
            format!(
                "the token response is not a valid access token document (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    // Some endpoints send expires_in as a string.
    let expires_in = match parsed.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Ok(AccessToken::new(
        SecretString::from(parsed.access_token),
        expires_in.map(Duration::from_secs),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_with_string_expiry() {
        let token =
            parse_token_response(br#"{"access_token":"abc","token_type":"Bearer","expires_in":"3599"}"#)
                .unwrap();
        assert_eq!(token.expires_in(), Some(Duration::from_secs(3599)));
    }

    #[test]
    fn bad_token_response_does_not_quote_the_body() {
        let err = parse_token_response(br#"{"access_token":12345678}"#).unwrap_err();
        assert!(!err.to_string().contains("12345678"), "{err}");
    }

    #[test]
    fn oauth_error_text() {
        assert_eq!(
            describe_oauth_error(br#"{"error":"invalid_client","error_description":"bad secret"}"#),
            "invalid_client: bad secret"
        );
        assert_eq!(
            describe_oauth_error(b"<html>"),
            "no OAuth2 error document in the response"
        );
    }
}
