//! A Sensor Data client from `SDS_*`, or the embedded sandbox when neither
//! `SDS_CLIENT_ID` nor `SDS_ACCESS_TOKEN` is set.

use sds_client::{Client, Error, MissingPermission, Sensor, TryStreamExt, env};

/// The client, and the sandbox it talks to in demo mode (keep it alive as long as the
/// client).
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The embedded sandbox, in demo mode.
    pub sandbox: Option<sandbox::sds::Sandbox>,
}

/// Whether a credential variable is set.
pub fn configured() -> bool {
    [env::CLIENT_ID, env::ACCESS_TOKEN]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// A client from the environment; without `SDS_CLIENT_ID` and `SDS_ACCESS_TOKEN`, the
/// embedded sandbox (announced on standard error as `program`).
pub async fn connect(program: &str) -> Result<Connection, String> {
    if configured() {
        let client = Client::from_env().map_err(|e| e.to_string())?;
        return Ok(Connection {
            client,
            sandbox: None,
        });
    }
    let sim = sandbox::sds::Sandbox::start(sandbox::sds::Config::default())
        .await
        .map_err(|e| format!("cannot start the embedded sandbox: {e}"))?;
    eprintln!(
        "{program}: neither SDS_CLIENT_ID nor SDS_ACCESS_TOKEN is set: using the embedded Sensor Data sandbox at {} (iTwin {}, sensors sensor-1, sensor-2, sensor-3)",
        sim.base_url(),
        sandbox::sds::ITWIN
    );
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).map_err(|e| e.to_string())?;
    Ok(Connection {
        client,
        sandbox: Some(sim),
    })
}

/// An error on one line, with the permission a 403 lacks when the API refused one.
pub fn explain(err: &Error) -> String {
    match err.detail::<MissingPermission>() {
        Some(missing) => format!("{err}: {missing}"),
        None => err.to_string(),
    }
}

/// The sensor `sensor_id` of `itwin`, or an error that says why it is not there.
pub async fn find_sensor(client: &Client, itwin: &str, sensor_id: &str) -> Result<Sensor, String> {
    let sensors: Vec<Sensor> = client
        .sensors(itwin)
        .stream()
        .try_collect()
        .await
        .map_err(|e| explain(&e))?;
    let known: Vec<String> = sensors.iter().map(|s| s.id.clone()).collect();
    sensors.into_iter().find(|s| s.id == sensor_id).ok_or_else(|| {
        if known.is_empty() {
            format!(
                "iTwin {itwin} lists no sensors (an empty list can also mean that you are not a member of it)"
            )
        } else {
            format!(
                "iTwin {itwin} has no sensor {sensor_id} (it has: {})",
                known.join(", ")
            )
        }
    })
}
