//! Prints the Preventos data catalog as a table: environments, sites, signals, units,
//! base intervals and active ranges.
//!
//! ```sh
//! cargo run -p examples --bin preventos-catalog            # embedded sandbox
//! DATA_API_TENANT_ID=... cargo run -p examples --bin preventos-catalog -- 100,102
//! ```
//!
//! The optional argument is the environment filter root-level applications must give.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use examples::cli::Failure;
use examples::preventos::connect;

/// Prints the Preventos data catalog as a table: environments, sites, signals, units,
/// base intervals and active ranges. Without the DATA_API_* variables it reads the
/// embedded sandbox.
#[derive(Debug, Parser)]
#[command(name = "preventos-catalog", version)]
struct Cli {
    /// The environments to list, comma-separated (root-level applications must give
    /// them).
    #[arg(value_name = "ENV,ENV")]
    environments: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = examples::cli::parse();
    examples::cli::run("preventos-catalog", print(cli)).await
}

async fn print(cli: Cli) -> Result<(), Failure> {
    let connection = connect().await.map_err(Failure::usage)?;
    let filter = cli.environments.unwrap_or_default();
    let environments: Vec<&str> = filter.split(',').filter(|s| !s.is_empty()).collect();
    let catalog = connection
        .client
        .catalog_for(&environments)
        .await
        .map_err(Failure::failed)?;
    let mut out = std::io::BufWriter::new(examples::cli::Stdout);
    writeln!(
        out,
        "{:<6} {:<14} {:<14} {:<8} {:<9} ranges",
        "env", "site", "signal", "unit", "interval"
    )
    .map_err(Failure::failed)?;
    for env in &catalog.environments {
        for site in &env.sites {
            for signal in &site.signals {
                let interval = signal.base_interval.map_or("-".to_owned(), |i| i.to_string());
                let ranges: Vec<String> = signal
                    .ranges
                    .iter()
                    .map(|r| format!("{}..{}", r.from, r.to.map_or("now".to_owned(), |t| t.to_string())))
                    .collect();
                writeln!(
                    out,
                    "{:<6} {:<14} {:<14} {:<8} {:<9} {}",
                    env.id,
                    site.id,
                    signal.id,
                    signal.unit.as_deref().unwrap_or("-"),
                    interval,
                    ranges.join(", ")
                )
                .map_err(Failure::failed)?;
            }
        }
    }
    writeln!(
        out,
        "limits: maxRawDbPoints={} referenceInterval={} referenceRange={}",
        catalog.limits.max_raw_db_points,
        catalog
            .limits
            .reference_interval
            .map_or("-".to_owned(), |d| d.to_string()),
        catalog
            .limits
            .reference_range
            .map_or("-".to_owned(), |d| d.to_string())
    )
    .map_err(Failure::failed)?;
    out.flush().map_err(Failure::failed)
}
