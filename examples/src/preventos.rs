//! A Preventos client from `DATA_API_*`, or the embedded sandbox when none is set.

use preventos_client::{Client, env};

/// The client, and the sandbox it talks to when no `DATA_API_*` variable is set (keep it
/// alive as long as the client).
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The embedded sandbox, in demo mode.
    pub sandbox: Option<sandbox::preventos::Sandbox>,
}

/// Whether any `DATA_API_*` variable is set.
pub fn configured() -> bool {
    env::ALL
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()))
}

/// A client from the environment; with no `DATA_API_*` variable at all, the embedded
/// sandbox (announced on standard error). Some but not all variables set is an error
/// naming what is missing.
pub async fn connect() -> Result<Connection, String> {
    if configured() {
        let client = Client::from_env().map_err(|e| e.to_string())?;
        return Ok(Connection {
            client,
            sandbox: None,
        });
    }
    let sim = sandbox::preventos::Sandbox::start(sandbox::preventos::Config::default())
        .await
        .map_err(|e| format!("cannot start the embedded sandbox: {e}"))?;
    eprintln!(
        "No DATA_API_* variables are set: using the embedded Preventos sandbox at {}",
        sim.base_url()
    );
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).map_err(|e| e.to_string())?;
    Ok(Connection {
        client,
        sandbox: Some(sim),
    })
}
