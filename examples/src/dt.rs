//! A DT client from `DT_*`, or the embedded sandbox when neither
//! `DT_SERVICE_ACCOUNT_KEY_ID` nor `DT_CREDENTIALS_FILE` is set; and the options the DT
//! examples share.

use dt_client::{Client, env};

/// The client, and the sandbox it talks to in demo mode (keep it alive as long as the
/// client).
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The embedded sandbox, in demo mode.
    pub sandbox: Option<sandbox::dt::Sandbox>,
}

/// Whether the service account key is set, by its variables or a credentials file.
pub fn configured() -> bool {
    [env::KEY_ID, env::CREDENTIALS_FILE]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// A client from the environment; without `DT_SERVICE_ACCOUNT_KEY_ID` or
/// `DT_CREDENTIALS_FILE`, the embedded sandbox (announced on standard error as
/// `program`).
pub async fn connect(program: &str) -> Result<Connection, String> {
    if configured() {
        let client = Client::from_env().map_err(|e| e.to_string())?;
        return Ok(Connection {
            client,
            sandbox: None,
        });
    }
    let sim = sandbox::dt::Sandbox::start(sandbox::dt::Config::default())
        .await
        .map_err(|e| format!("cannot start the embedded sandbox: {e}"))?;
    eprintln!(
        "{program}: neither DT_SERVICE_ACCOUNT_KEY_ID nor DT_CREDENTIALS_FILE is set: using the embedded DT sandbox at {} (projects {} and {})",
        sim.base_url(),
        sandbox::dt::PROJECT,
        sandbox::dt::OTHER_PROJECT
    );
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).map_err(|e| e.to_string())?;
    Ok(Connection {
        client,
        sandbox: Some(sim),
    })
}

/// Splits a comma-separated option value (`--events a,b`), dropping empty items.
pub fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_lists() {
        assert_eq!(comma_list("a, b,,c"), ["a", "b", "c"]);
        assert!(comma_list("").is_empty());
    }
}
