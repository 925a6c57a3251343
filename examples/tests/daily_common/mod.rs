//! What the tests of `preventos-daily-export` share: a plan and the daemon's command
//! line, run hermetically against a sandbox.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use sandbox::preventos::Sandbox;

/// A plan of one NDJSON item in UTC.
pub const SOUTH: &str = r#"[{"name": "south", "env": "102", "siteId": "site-south",
  "signalIds": ["Velocity"], "timezone": "UTC", "format": "ndjson"}]"#;

/// The daemon with `args`, run in `cwd`, with the sandbox's `DATA_API_*` variables (none
/// without a sandbox: demo mode) and none of the store variables of the environment the
/// tests run in; its standard output and error are piped.
pub fn daemon(cwd: &Path, args: &[&str], sim: Option<&Sandbox>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_preventos-daily-export"));
    command
        .current_dir(cwd)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    hermetic(&mut command);
    if let Some(sim) = sim {
        for (name, value) in sim.env_vars() {
            command.env(name, value);
        }
    }
    command
}

/// Removes the variables that would reach outside the test: the API's and the stores'.
pub fn hermetic(command: &mut Command) {
    for name in preventos_client::env::ALL {
        command.env_remove(name);
    }
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if ["AWS_", "AZURE_", "AZURITE_", "GOOGLE_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        {
            command.env_remove(name.as_ref());
        }
    }
}

/// Runs `command` to its end off the async runtime's threads.
pub async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap()
}
