//! A DT client from `DT_*`, or the embedded sandbox when `DT_SERVICE_ACCOUNT_KEY_ID` is
//! unset; and the options the DT examples share.

use dt_client::{Client, env};

/// The client, and the sandbox it talks to in demo mode (keep it alive as long as the
/// client).
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The embedded sandbox, in demo mode.
    pub sandbox: Option<sandbox::dt::Sandbox>,
}

/// Whether the service account key is set.
pub fn configured() -> bool {
    std::env::var(env::KEY_ID).is_ok_and(|v| !v.trim().is_empty())
}

/// A client from the environment; without `DT_SERVICE_ACCOUNT_KEY_ID`, the embedded
/// sandbox (announced on standard error as `program`).
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
        "{program}: DT_SERVICE_ACCOUNT_KEY_ID is not set: using the embedded DT sandbox at {} (projects {} and {})",
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
