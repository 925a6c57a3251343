//! Serves the simulators on loopback and prints how to point a client at them.
//!
//! ```sh
//! cargo run -p sandbox -- conduit
//! cargo run -p sandbox -- preventos
//! ```

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let which = std::env::args().nth(1).unwrap_or_default();
    match which.as_str() {
        "conduit" => {
            let sim = match sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default()).await {
                Ok(sim) => sim,
                Err(err) => {
                    eprintln!("sandbox: cannot start: {err}");
                    return ExitCode::FAILURE;
                }
            };
            println!("CONDUIT_BASE_URL={}", sim.base_url());
            println!("CONDUIT_TOKEN={}", sim.token());
            eprintln!(
                "Conduit sandbox running (devices 70B3D54990DC01DA ch 1-3, 70B3D54990DC02EB ch 1-2, one value a minute). Ctrl-C stops it."
            );
            let _ = tokio::signal::ctrl_c().await;
            ExitCode::SUCCESS
        }
        "preventos" => {
            let sim = match sandbox::preventos::Sandbox::start(sandbox::preventos::Config::default()).await {
                Ok(sim) => sim,
                Err(err) => {
                    eprintln!("sandbox: cannot start: {err}");
                    return ExitCode::FAILURE;
                }
            };
            for (name, value) in sim.env_vars() {
                println!("export {name}='{value}'");
            }
            eprintln!(
                "Preventos sandbox running (environments 100 and 102; see the catalog). Ctrl-C stops it."
            );
            let _ = tokio::signal::ctrl_c().await;
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: sandbox conduit|preventos");
            ExitCode::from(2)
        }
    }
}
