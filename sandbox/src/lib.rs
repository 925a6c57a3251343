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
//! memory beyond one response, unless a benchmark asks the Preventos simulator to keep
//! the bodies it rendered), follows its API document's rules, counts what it sees,
//! and takes [`Faults`] to make it misbehave on purpose. The `sandbox` binary serves
//! them: `cargo run -p sandbox -- conduit` (or `preventos`, or `sds`).
//!
//! | module | API |
//! |---|---|
//! | [`forward`] | the With the Grid platform delivering forwarded messages, and sinks that check them |
//! | [`preventos`] | Preventos Data API, with an Entra-ID-like token endpoint |
//! | [`conduit`] | AlphaX Conduit HTTP API v6 |
//! | [`dt`] | Disruptive Technologies REST API v2, emulator and identity endpoint |
//! | [`sds`] | Bentley iTwin Sensor Data, both generations, with an IMS-like token endpoint |

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bench;
pub mod conduit;
pub mod dt;
mod entra;
pub mod fast_json;
mod faults;
pub mod forward;
mod in_flight;
mod jws;
pub mod preventos;
pub mod sds;
mod server;

pub use entra::Registration;
pub use faults::Faults;

/// A simulator's variables (`env_vars()`) as the lookup a client's `from_vars` takes.
pub fn env_lookup<'a>(vars: &'a [(&'static str, String)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
}
