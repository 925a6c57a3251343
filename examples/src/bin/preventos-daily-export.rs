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
//!   `timezone`, `format`, optional `csvPreset`).
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

use examples::args::Args;
use examples::daily_export::{Days, demo_plan, next_run, run_pass};
use examples::preventos::{configured, connect};
use jiff::Timestamp;
use preventos_client::plan::BatchItem;

struct Options {
    plan: Option<PathBuf>,
    out: Option<PathBuf>,
    days: Days,
    catch_up: u32,
    once: bool,
    at: (i8, i8),
    force: bool,
}

fn options() -> Result<Options, String> {
    let args = Args::parse(std::env::args().skip(1), &["once", "force"])?;
    if let Some(unknown) = args
        .unknown(&[
            "plan", "out", "date", "from", "to", "once", "at", "force", "catch-up",
        ])
        .first()
    {
        return Err(format!("unknown option --{unknown}"));
    }
    let day = |name: &str| -> Result<Option<jiff::civil::Date>, String> {
        args.value(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| format!("--{name} `{text}` is not a YYYY-MM-DD date"))
            })
            .transpose()
    };
    let catch_up = match args.value("catch-up") {
        None => 7,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=366).contains(n))
            .ok_or_else(|| format!("--catch-up `{text}` is not a number of days from 1 to 366"))?,
    };
    let days = match (day("date")?, day("from")?, day("to")?) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err("--date cannot be combined with --from/--to".into());
        }
        (Some(date), None, None) => Days::One(date),
        (None, Some(from), Some(to)) => Days::Range(from, to),
        (None, None, None) => Days::CatchUp(catch_up),
        _ => return Err("a backfill needs both --from and --to".into()),
    };
    let at = match args.value("at") {
        None => (2, 0),
        Some(text) => {
            let (h, m) = text
                .split_once(':')
                .ok_or_else(|| format!("--at `{text}` is not HH:MM"))?;
            let (h, m): (i8, i8) = (
                h.parse().map_err(|_| "bad --at hour")?,
                m.parse().map_err(|_| "bad --at minute")?,
            );
            if !(0..24).contains(&h) || !(0..60).contains(&m) {
                return Err(format!("--at `{text}` is not a time of day"));
            }
            (h, m)
        }
    };
    Ok(Options {
        plan: args.value("plan").map(PathBuf::from),
        out: args.value("out").map(PathBuf::from),
        days,
        catch_up,
        once: args.flag("once"),
        at,
        force: args.flag("force"),
    })
}

fn read_plan(path: &PathBuf) -> Result<Vec<BatchItem>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let plan: Vec<BatchItem> =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a batch plan: {e}", path.display()))?;
    for item in &plan {
        if item.name.is_empty() || item.name.contains(['/', '\\']) || item.name.starts_with('.') {
            return Err(format!("item name `{}` cannot be a folder name", item.name));
        }
        item.format().map_err(|e| format!("item `{}`: {e}", item.name))?;
    }
    Ok(plan)
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
    let mut options = match options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("preventos-daily-export: {err}");
            return ExitCode::from(2);
        }
    };
    let demo = !configured();
    let connection = match connect().await {
        Ok(connection) => connection,
        Err(err) => {
            eprintln!("preventos-daily-export: {err}");
            return ExitCode::from(2);
        }
    };
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("preventos-export"));
    let plan = if demo && options.plan.is_none() {
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
        let Some(path) = &options.plan else {
            eprintln!("preventos-daily-export: --plan FILE is required");
            return ExitCode::from(2);
        };
        if options.out.is_none() {
            eprintln!("preventos-daily-export: --out DIR is required");
            return ExitCode::from(2);
        }
        match read_plan(path) {
            Ok(plan) => plan,
            Err(err) => {
                eprintln!("preventos-daily-export: {err}");
                return ExitCode::from(2);
            }
        }
    };
    let client = connection.client.clone();
    let mut days = options.days;
    loop {
        let report = match client.catalog().await {
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
                eprintln!("preventos-daily-export: {err}");
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
