//! The daily export daemon of the Preventos document: reads a batch plan, exports one
//! object per item and local day with a manifest beside it (a folder, S3, Azure Blob or
//! Google Cloud Storage), and repeats every day.
//!
//! ```sh
//! cargo run -p examples --bin preventos-daily-export                 # demo on the sandbox
//! DATA_API_...=... cargo run -p examples --bin preventos-daily-export -- \
//!   --plan plan.json --out exports --once
//! ```
//!
//! Its `--help` is its manual: flags, the manifest format, logs and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::cli::Failure;
use examples::daily_export::{
    CatalogWatch, DayOutput, Days, PassOptions, PassReport, RequestLog, Shard, check_catalog, counters,
    demo_plan, environments, next_run, read_plan, run_pass,
};
use examples::preventos::{configured, connect};
use jiff::{SignedDuration, Timestamp};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const LONG_ABOUT: &str = "\
The daily export daemon of the Preventos document: one object per plan item and local \
day, written create-only and losslessly, with a manifest beside it, in a folder or an \
object store; without --once it repeats every day at --at.

EACH PASS
  1. Reads the data catalog filtered to the plan's environments (?environments=, which \
the document requires of a root-level application).
  2. Compares the plan with it: an item whose site or signals left the catalog fails \
with an error naming them, and the other items go on. Catalog signals that no item \
exports are logged (all of them on the first pass, then those that appear).
  3. Lists each item's stored days (one listing per item), and in a local folder \
removes the temporary files an interrupted or killed pass left there.
  4. For each item and day (the last --catch-up completed local days, or --date, or \
--from..--to): a day is done when its object and its manifest both exist, the \
manifest written after the object (an object newer than its manifest is a replacement \
that was interrupted). A day that is not done is fetched (a day whose manifest is missing gets it: its object is \
replaced only if the content differs). A done day that ended less than --settle ago is \
fetched again (late data), and replaced only when its content changed (the manifest's \
revision goes up), else left untouched. An older done day is never fetched again, \
unless --force, or --verify finds its object missing or altered.
  5. Reports days missed beyond the catch-up window: for each item, the days between \
its first stored day and the window that have no object (a WARN line per item naming \
the ranges, a 'missed:' line on stderr). No pass fetches them on its own: backfill \
them with --from/--to.

OUTPUT (--out DIR|URL)
  A folder (created if missing), file:///folder, s3://bucket/prefix, \
az://container/prefix or gs://bucket/prefix, with the store's settings from its usual \
variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, \
AWS_ENDPOINT (an S3-compatible server); AZURE_STORAGE_ACCOUNT_NAME with \
AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN (AZURE_STORAGE_USE_EMULATOR=true \
for Azurite); GOOGLE_SERVICE_ACCOUNT or GOOGLE_APPLICATION_CREDENTIALS. HTTPS only \
(plain HTTP to a loopback endpoint only); credentials and SAS tokens never appear in \
logs or errors. A day's object, then its manifest, is written create-only \
(PutMode::Create): two processes can never both write a day. A replacement (--settle, \
--force, --verify) is a conditional update of the version listed before the fetch, \
refused if another process wrote the object meanwhile (the day then fails, and the next \
pass looks again); in a local folder it is a rename over the file. A day is held in \
memory between its fetch and its put. The store's credentials need to list, read and \
write objects under the prefix; nothing is ever deleted there.

MANIFEST (<out>/<item>/<day>.<ext>.manifest.json, written after the object)
  {\"version\": 1, \"item\", \"env\", \"siteId\", \"signalIds\", \"day\": \"YYYY-MM-DD\", \
\"timezone\", \"format\", \"file\": \"<day>.<ext>\",
   \"records\": rows/lines/elements, \"bytes\", \"sha256\": lowercase hex of the object,
   \"fetchedAt\": RFC 3339 UTC, \"revision\": 1 then +1 on each content change,
   \"windows\": [{\"from\", \"to\"}] the day's planned windows [from, to),
   \"requests\": [{\"range\", \"status\", \"correlationId\"}] each values request, its range as \
sent (the window with a second of overlap), in the order they completed}

PARQUET (--parquet)
  Beside each stored day, <day>.<ext>.parquet holds its values as columns, made from \
the stored bytes: timestamp (UTC, nanoseconds), signal_id (dictionary), value (f64), \
value_text (the number's exact text where an f64 does not hold it) and extra (the \
members a record has beyond those, as JSON). It is written when the day is stored, and \
for a stored day whose Parquet file is missing or older than the day (read back from \
the store, never fetched again); the day is done without it.

SHARDS (--shard I/N)
  N processes, each with its own I from 0 to N-1, share one plan and one --out \
without talking to each other: each exports the items whose name's SHA-256 digest \
(its first 8 bytes as a big-endian unsigned integer) leaves I modulo N, so every item \
has exactly one shard, the same on every machine and version. The catalog is checked \
against the whole plan in every shard. Run at most one process per I at a time: a \
pass removes the temporary files it finds in its items' local folders, another \
process's included (deploy/kubernetes holds a CronJob of an Indexed Job that does).

METRICS (--metrics-addr IP:PORT)
  GET http://IP:PORT/metrics answers in Prometheus text: the SDK's series, labelled \
api=\"preventos\" (iiot_client_requests_total by status, iiot_client_retries_total, \
iiot_client_records_total, iiot_client_bytes_total, iiot_client_replans_total, and the \
histogram iiot_client_throttle_wait_seconds when a throttle waits), and the daemon's: \
preventos_daily_export_days_total{outcome=written|revised|unchanged|skipped|failed}, \
preventos_daily_export_items_failed_total and \
preventos_daily_export_passes_total{result=ok|incomplete|no_catalog}.

LOGS AND EXIT CODES
  The days written or replaced go to stdout (the --out given, then the path under \
it); logs (RUST_LOG filter) to stderr. \
A failed day's ERROR line names the environment, site, signals, day, format and the \
server's correlation id. Exit codes: 0 the pass (--once) succeeded with no missed \
day; 1 an item or day failed, or days are missed beyond --catch-up; 2 usage, \
configuration or plan error (nothing sent); 130 stopped by Ctrl-C (SIGINT), during a \
pass or between passes: the day being fetched leaves no partial object.

With none of the DATA_API_* variables set it runs a demo pass on the embedded sandbox.";

/// The daily export daemon of the Preventos document.
#[derive(Debug, Parser)]
#[command(name = "preventos-daily-export", version, long_about = LONG_ABOUT)]
struct Cli {
    /// The batch plan: a JSON array of items (name, env, siteId, signalIds, timezone,
    /// format, optional csvPreset). Names must differ, also beyond case.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Where the days go: a folder, file:///folder, s3://bucket/prefix,
    /// az://container/prefix or gs://bucket/prefix (settings from the store's AWS_*,
    /// AZURE_* or GOOGLE_* variables). Each item writes OUT/NAME/YYYY-MM-DD.EXT and its
    /// manifest, create-only.
    #[arg(long, value_name = "DIR|URL")]
    out: Option<String>,
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
    /// Days that ended less than this ago are fetched again by every pass and replaced
    /// when their content changed (late data): e.g. 48h, 90m, 2d; 0 turns it off.
    #[arg(long, value_name = "DURATION", default_value = "48h", value_parser = parse_settle)]
    settle: SignedDuration,
    /// Check every day of the pass against its manifest, and fetch again any day whose
    /// file is missing or altered.
    #[arg(long)]
    verify: bool,
    /// One pass, then exit: 0 only if every item succeeded and no day is missed.
    #[arg(long)]
    once: bool,
    /// The time of the daily pass, UTC.
    #[arg(long, value_name = "HH:MM", default_value = "02:00", value_parser = parse_time_of_day)]
    at: (i8, i8),
    /// Fetch every day of the pass again, settled or not.
    #[arg(long)]
    force: bool,
    /// Also write each stored day as Parquet beside it, DAY.EXT.parquet (columns
    /// timestamp, signal_id, value, value_text, extra: see PARQUET below).
    #[arg(long)]
    parquet: bool,
    /// Export only shard I of N of the plan: the items whose name's SHA-256 (first 8
    /// bytes, big-endian) leaves I modulo N. Run N processes, 0/N to N-1/N, for the
    /// whole plan, at most one per I (a Kubernetes Indexed Job of N completions, each
    /// with --once --shard $(JOB_COMPLETION_INDEX)/N, from a CronJob that forbids
    /// overlapping runs).
    #[arg(long, value_name = "I/N", default_value = "0/1")]
    shard: Shard,
    /// Serve the metrics in Prometheus text at http://IP:PORT/metrics (e.g.
    /// 0.0.0.0:9464; port 0 picks a free one, printed on stderr): the SDK's requests,
    /// retries, throttle waits, records and bytes, and the daemon's days by outcome and
    /// passes.
    #[arg(long, value_name = "IP:PORT")]
    metrics_addr: Option<std::net::SocketAddr>,
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

fn parse_settle(text: &str) -> Result<SignedDuration, String> {
    if text.trim() == "0" {
        return Ok(SignedDuration::ZERO);
    }
    let settle: SignedDuration = match text.trim().strip_suffix('d') {
        // Days of 24 hours: settling is a duration, not a calendar span.
        Some(days) if !days.is_empty() && days.bytes().all(|b| b.is_ascii_digit()) => days
            .parse::<i64>()
            .ok()
            .and_then(|d| d.checked_mul(24))
            .map(SignedDuration::from_hours)
            .ok_or_else(|| format!("`{text}` is too long"))?,
        _ => text
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a duration (e.g. 48h, 90m, 2d, 0)"))?,
    };
    if settle.is_negative() {
        return Err(format!("`{text}` is negative"));
    }
    Ok(settle)
}

fn print_report(report: &PassReport, out: &DayOutput) -> Result<(), Failure> {
    let mut stdout = examples::cli::Stdout;
    for path in report.written.iter().chain(&report.replaced) {
        writeln!(stdout, "{path}").map_err(Failure::failed)?;
    }
    for (what, why) in &report.failed {
        eprintln!("failed: {what}: {}", examples::one_line(why));
    }
    for (item, missed) in &report.missed {
        let ranges: Vec<String> = missed
            .ranges
            .iter()
            .map(|(a, b)| format!("--from {a} --to {b}"))
            .collect();
        eprintln!(
            "missed: {item}: {} day(s) beyond --catch-up; backfill with {}",
            missed.days,
            ranges.join(", ")
        );
    }
    eprintln!(
        "pass done: {} written, {} replaced, {} unchanged, {} already there, {} failed, {} item(s) with missed days (under {})",
        report.written.len(),
        report.replaced.len(),
        report.unchanged.len(),
        report.skipped.len(),
        report.failed.len(),
        report.missed.len(),
        out.shown_root()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let requests = RequestLog::default();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,client_core=warn,preventos_client=warn".into());
    let registry = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(requests.layer());
    // Feature `otlp`: the spans (INFO and above, the SDK's included) to a collector too,
    // flushed when `_flush` goes at the end of `main`.
    #[cfg(feature = "otlp")]
    let _flush = match examples::otlp::layer("preventos-daily-export") {
        Ok(Some((layer, flush))) => {
            registry
                .with(layer.with_filter(tracing_subscriber::filter::LevelFilter::INFO))
                .init();
            Some(flush)
        }
        Ok(None) => {
            registry.init();
            None
        }
        Err(failure) => {
            examples::report("preventos-daily-export", failure.message());
            return ExitCode::from(failure.code());
        }
    };
    #[cfg(not(feature = "otlp"))]
    registry.init();
    let cli: Cli = examples::cli::parse();
    examples::cli::run("preventos-daily-export", run(cli, requests)).await
}

async fn run(cli: Cli, requests: RequestLog) -> Result<(), Failure> {
    let first_days = match (cli.date, cli.from, cli.to) {
        (Some(date), _, _) => Days::One(date),
        (None, Some(from), Some(to)) => Days::Range(from, to),
        _ => Days::CatchUp(cli.catch_up),
    };
    let mut once = cli.once;
    // Before any client exists, so that every count lands in it.
    if let Some(addr) = cli.metrics_addr {
        examples::metrics_endpoint::start(addr).await?;
        counters::describe();
    }
    let demo = !configured();
    let connection = connect().await.map_err(Failure::usage)?;
    // The plan is checked before anything is sent.
    let given_plan = cli
        .plan
        .as_deref()
        .map(read_plan)
        .transpose()
        .map_err(Failure::usage)?;
    let target = cli.out.clone().unwrap_or_else(|| "preventos-export".to_owned());
    let plan = if let Some(plan) = given_plan {
        if cli.out.is_none() {
            return Err(Failure::usage("--out DIR|URL is required"));
        }
        plan
    } else if demo {
        let plan = demo_plan();
        if !target.contains("://") {
            let plan_path = std::path::Path::new(&target).join("demo-plan.json");
            let written = std::fs::create_dir_all(&target).and_then(|()| {
                std::fs::write(&plan_path, serde_json::to_vec_pretty(&plan).unwrap_or_default())
            });
            if let Err(err) = written {
                return Err(Failure::failed(format!(
                    "cannot write {}: {err}",
                    plan_path.display()
                )));
            }
            eprintln!("Demo plan written to {}; running one pass.", plan_path.display());
        } else {
            eprintln!("Running one pass of the demo plan.");
        }
        once = true;
        plan
    } else {
        return Err(Failure::usage("--plan FILE is required"));
    };
    // A location that does not open (an unknown scheme, missing settings) is a usage
    // error, before any request.
    let out = DayOutput::open(&target).map_err(|e| Failure::usage(format!("--out: {e}")))?;
    let client = connection.client.clone();
    let envs = environments(&plan);
    let mut options = PassOptions::new(first_days);
    options.force = cli.force;
    options.settle = cli.settle;
    options.verify = cli.verify;
    options.shard = cli.shard;
    options.parquet = cli.parquet;
    if cli.shard != Shard::ALL {
        let owned = plan.iter().filter(|item| cli.shard.owns(&item.name)).count();
        tracing::info!(shard = %cli.shard, items = owned, of = plan.len(), "this shard's items of the plan");
    }
    let mut watch = CatalogWatch::default();
    loop {
        // Ctrl-C is the runner's (examples::cli): it drops the pass, and the day being
        // written with it, whose temporary file goes with it.
        let report = async {
            let catalog = client.catalog_for(&envs).await?;
            let checked = check_catalog(&plan, &catalog);
            let appeared = watch.appeared(&checked, &catalog);
            if !appeared.is_empty() {
                tracing::info!(signals = %appeared.join(", "), "catalog signals that no plan item exports");
            }
            Ok::<_, preventos_client::Error>(
                run_pass(&client, &catalog, &plan, &out, &options, &requests).await,
            )
        }
        .await;
        let report = match report {
            Ok(report) => {
                counters::pass(if report.ok() { "ok" } else { "incomplete" });
                report
            }
            Err(err) => {
                counters::pass("no_catalog");
                tracing::error!(error = %err, correlation_id = err.correlation_id().unwrap_or("none"), "cannot read the data catalog; pass skipped");
                if once {
                    return Err(Failure::failed(format!("cannot read the data catalog: {err}")));
                }
                PassReport::default()
            }
        };
        print_report(&report, &out)?;
        if once {
            return if report.ok() {
                Ok(())
            } else {
                Err(Failure::failed(format!(
                    "the pass is incomplete: {} failed, {} item(s) with missed days",
                    report.failed.len(),
                    report.missed.len()
                )))
            };
        }
        // Scheduled passes catch up on the last days.
        options.days = Days::CatchUp(cli.catch_up);
        let next = next_run(Timestamp::now(), cli.at.0, cli.at.1).map_err(Failure::failed)?;
        let wait = next.duration_since(Timestamp::now()).unsigned_abs();
        tracing::info!(%next, "next pass");
        tokio::time::sleep(wait).await;
    }
}
