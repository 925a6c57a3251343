//! The daily export daemon of the Preventos document: reads a batch plan, exports one
//! file per item and local day, and repeats every day.
//!
//! ```sh
//! cargo run -p examples --bin preventos-daily-export                 # demo on the sandbox
//! DATA_API_...=... cargo run -p examples --bin preventos-daily-export -- \
//!   --plan plan.json --out exports --once
//! ```
//!
//! - `--plan FILE`: a JSON array of batch items (`name`, `env`, `siteId`, `signalIds`,
//!   `timezone`, `format`, optional `csvPreset`). Item names must differ, also beyond
//!   case (each is a folder); a plan that breaks this is refused with exit code 2.
//! - Every pass reads the catalog filtered to the plan's environments
//!   (`?environments=`), as the document requires of a root-level application.
//! - `--out DIR`: each item writes `DIR/<name>/<YYYY-MM-DD>.<csv|ndjson|json>`.
//! - `--date YYYY-MM-DD`, or `--from`/`--to` dates for a backfill (one file a day, both
//!   ends included); default: catch up, see below.
//! - `--catch-up DAYS` (default 7): without `--date`/`--from`, every pass (`--once`
//!   included) writes each completed local day of the last DAYS days that has no file
//!   yet, so a failed or missed pass heals itself; existing files are skipped without a
//!   request.
//! - `--once`: one pass; exit 0 only if every item succeeded. Without it: a pass now,
//!   then one each day at `--at HH:MM` UTC (default 02:00), the catalog refreshed first.
//! - An existing file is skipped; `--force` rewrites it. Files are written atomically: a
//!   failed or truncated export leaves no file under the final name.
//! - With none of the `DATA_API_*` variables set, it starts the embedded sandbox, writes a
//!   demo plan, runs one pass and prints where the files are.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::daily_export::{Days, demo_plan, environments, next_run, read_plan, run_pass};
use examples::preventos::{configured, connect};
use jiff::Timestamp;

/// The daily export daemon of the Preventos document: one file per plan item and local
/// day, written atomically and losslessly; without --once it repeats every day.
///
/// Every pass without --date/--from catches up: each completed local day of the last
/// --catch-up days that has no file yet is written. With none of the DATA_API_*
/// variables set it runs a demo pass on the embedded sandbox.
#[derive(Debug, Parser)]
#[command(name = "preventos-daily-export", version)]
struct Cli {
    /// The batch plan: a JSON array of items (name, env, siteId, signalIds, timezone,
    /// format, optional csvPreset).
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// The output folder: each item writes DIR/NAME/YYYY-MM-DD.EXT.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// One day to export.
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with_all = ["from", "to"])]
    date: Option<jiff::civil::Date>,
    /// The first day of a backfill (with --to; both included).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "to")]
    from: Option<jiff::civil::Date>,
    /// The last day of a backfill (with --from).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "from")]
    to: Option<jiff::civil::Date>,
    /// How many completed local days each pass catches up on (1 to 366).
    #[arg(long = "catch-up", value_name = "DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=366))]
    catch_up: u32,
    /// One pass, then exit: 0 only if every item succeeded.
    #[arg(long)]
    once: bool,
    /// The time of the daily pass, UTC.
    #[arg(long, value_name = "HH:MM", default_value = "02:00", value_parser = parse_time_of_day)]
    at: (i8, i8),
    /// Rewrite files that already exist.
    #[arg(long)]
    force: bool,
}

struct Options {
    plan: Option<PathBuf>,
    out: Option<PathBuf>,
    days: Days,
    catch_up: u32,
    once: bool,
    at: (i8, i8),
    force: bool,
}

fn parse_time_of_day(text: &str) -> Result<(i8, i8), String> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not HH:MM"))?;
    let (h, m): (i8, i8) = (
        h.parse().map_err(|_| "bad hour")?,
        m.parse().map_err(|_| "bad minute")?,
    );
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(format!("`{text}` is not a time of day"));
    }
    Ok((h, m))
}

fn options() -> Options {
    let cli = Cli::parse();
    let days = match (cli.date, cli.from, cli.to) {
        (Some(date), _, _) => Days::One(date),
        (None, Some(from), Some(to)) => Days::Range(from, to),
        _ => Days::CatchUp(cli.catch_up),
    };
    Options {
        plan: cli.plan,
        out: cli.out,
        days,
        catch_up: cli.catch_up,
        once: cli.once,
        at: cli.at,
        force: cli.force,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,client_core=warn,preventos_client=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut options = options();
    let demo = !configured();
    let connection = match connect().await {
        Ok(connection) => connection,
        Err(err) => {
            examples::report("preventos-daily-export", &err);
            return ExitCode::from(2);
        }
    };
    // The plan is checked before anything is sent.
    let given_plan = match options.plan.as_deref().map(read_plan).transpose() {
        Ok(plan) => plan,
        Err(err) => {
            examples::report("preventos-daily-export", &err);
            return ExitCode::from(2);
        }
    };
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("preventos-export"));
    let plan = if let Some(plan) = given_plan {
        if options.out.is_none() {
            eprintln!("preventos-daily-export: --out DIR is required");
            return ExitCode::from(2);
        }
        plan
    } else if demo {
        let plan = demo_plan();
        let plan_path = out.join("demo-plan.json");
        let written = std::fs::create_dir_all(&out)
            .and_then(|()| std::fs::write(&plan_path, serde_json::to_vec_pretty(&plan).unwrap_or_default()));
        if let Err(err) = written {
            eprintln!(
                "preventos-daily-export: cannot write {}: {err}",
                plan_path.display()
            );
            return ExitCode::FAILURE;
        }
        eprintln!("Demo plan written to {}; running one pass.", plan_path.display());
        options.once = true;
        plan
    } else {
        eprintln!("preventos-daily-export: --plan FILE is required");
        return ExitCode::from(2);
    };
    let client = connection.client.clone();
    let mut days = options.days;
    let envs = environments(&plan);
    loop {
        let report = match client.catalog_for(&envs).await {
            Ok(catalog) => run_pass(&client, &catalog, &plan, &out, days, options.force).await,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the data catalog; pass skipped");
                if options.once {
                    eprintln!("preventos-daily-export: cannot read the data catalog: {err}");
                    return ExitCode::FAILURE;
                }
                Default::default()
            }
        };
        for path in &report.written {
            println!("{}", path.display());
        }
        for (what, why) in &report.failed {
            eprintln!("failed: {what}: {why}");
        }
        eprintln!(
            "pass done: {} written, {} already there, {} failed (files under {})",
            report.written.len(),
            report.skipped.len(),
            report.failed.len(),
            out.display()
        );
        if options.once {
            return if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        // Scheduled passes catch up on the last days that have no file.
        days = Days::CatchUp(options.catch_up);
        let next = match next_run(Timestamp::now(), options.at.0, options.at.1) {
            Ok(next) => next,
            Err(err) => {
                examples::report("preventos-daily-export", &err);
                return ExitCode::FAILURE;
            }
        };
        let wait = next.duration_since(Timestamp::now()).unsigned_abs();
        tracing::info!(%next, "next pass");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped");
                return ExitCode::SUCCESS;
            }
        }
    }
}
