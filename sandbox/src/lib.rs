//! In-process simulators of the APIs this SDK talks to, bound to `127.0.0.1:0`, so that
//! examples, tests and benchmarks run anywhere without credentials or network.
//!
//! ```no_run
//! # async fn run() {
//! let sim = sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default()).await.unwrap();
//! println!("CONDUIT_BASE_URL={} CONDUIT_TOKEN={}", sim.base_url(), sim.token());
//! # }
//! ```
//!
//! Each simulator generates deterministic synthetic data lazily (nothing is held in
//! memory beyond one response), follows its API document's rules, counts what it sees,
//! and takes [`Faults`] to make it misbehave on purpose. The `sandbox` binary serves
//! them: `cargo run -p sandbox -- conduit`.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod conduit;
mod conduit_readings;
mod entra;
mod faults;
pub mod preventos;
mod preventos_readings;
mod server;

pub use entra::Registration;
pub use faults::Faults;
