//! Serves the simulators on loopback and prints how to point a client at them.
//!
//! ```sh
//! cargo run -p sandbox -- conduit
//! cargo run -p sandbox -- dt
//! cargo run -p sandbox -- preventos
//! cargo run -p sandbox -- sds
//! ```

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let which = std::env::args().nth(1).unwrap_or_default();
    match which.as_str() {
        "conduit" => {
            let started = sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default()).await;
            serve(started, sandbox::conduit::Sandbox::env_vars, "Conduit sandbox running (devices 70B3D54990DC01DA ch 1-3, 70B3D54990DC02EB ch 1-2, one value a minute)").await
        }
        "preventos" => {
            let started = sandbox::preventos::Sandbox::start(sandbox::preventos::Config::default()).await;
            serve(
                started,
                sandbox::preventos::Sandbox::env_vars,
                "Preventos sandbox running (environments 100 and 102; see the catalog)",
            )
            .await
        }
        "dt" => {
            let started = sandbox::dt::Sandbox::start(sandbox::dt::Config::default()).await;
            let banner = format!(
                "DT sandbox running (projects {} and {}, 120 devices each, one event per device every 15 minutes since 2025; publish through DT_EMULATOR_URL)",
                sandbox::dt::PROJECT,
                sandbox::dt::OTHER_PROJECT
            );
            serve(started, sandbox::dt::Sandbox::env_vars, &banner).await
        }
        "sds" => {
            let started = sandbox::sds::Sandbox::start(sandbox::sds::Config::default()).await;
            let banner = format!(
                "Sensor Data sandbox running (iTwin {}: sensors sensor-1, sensor-2, sensor-3; metrics f and T; one value a minute in 2025 and 2026)",
                sandbox::sds::ITWIN
            );
            serve(started, sandbox::sds::Sandbox::env_vars, &banner).await
        }
        _ => {
            eprintln!("usage: sandbox conduit|dt|preventos|sds");
            ExitCode::from(2)
        }
    }
}

/// Prints the variables of a started simulator as shell exports, then serves until
/// Ctrl-C.
async fn serve<S>(
    started: std::io::Result<S>,
    env_vars: impl Fn(&S) -> Vec<(&'static str, String)>,
    banner: &str,
) -> ExitCode {
    let sim = match started {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("sandbox: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    for (name, value) in env_vars(&sim) {
        println!("export {name}='{value}'");
    }
    eprintln!("{banner}. Ctrl-C stops it.");
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
