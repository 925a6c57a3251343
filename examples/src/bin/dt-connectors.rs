//! Lists, reads, creates, updates, syncs and measures DT data connectors, printing the
//! API's JSON with every secret redacted.
//!
//! ```sh
//! cargo run -p examples --bin dt-connectors -- --project PROJECT list
//! cargo run -p examples --bin dt-connectors -- --project PROJECT update ID --status USER_DISABLED
//! RECEIVER_SECRET=... cargo run -p examples --bin dt-connectors -- --project PROJECT \
//!   update ID --signature-secret-env RECEIVER_SECRET
//! ```
//!
//! `update` sends only the fields given. A signature secret is read from the environment
//! variable `--signature-secret-env` names, never from the command line. Without
//! `DT_SERVICE_ACCOUNT_KEY_ID` the embedded sandbox serves the requests and the program
//! says so.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dt_client::{Client, ConnectorStatus, ConnectorUpdate, NewDataConnector};
use examples::cli::Failure;
use examples::dt::comma_list;
use futures::TryStreamExt;
use secrecy::SecretString;

/// Lists, reads, creates, updates, syncs and measures a project's data connectors,
/// printing the API's JSON (one connector per line for list) with every secret and
/// header value redacted.
///
/// update sends only the fields given, so one change never resets another. A signature
/// secret comes from the environment variable named by --signature-secret-env, never
/// from the command line. Without DT_SERVICE_ACCOUNT_KEY_ID the program talks to the
/// embedded sandbox (project sandbox-project) and says so.
#[derive(Debug, Parser)]
#[command(name = "dt-connectors", version)]
struct Cli {
    /// The project id.
    #[arg(long, value_name = "P")]
    project: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every data connector of the project, one per line.
    List,
    /// One data connector.
    Get {
        /// The connector id.
        id: String,
    },
    /// Pushes the latest event of each type of each device to the connector.
    Sync {
        /// The connector id.
        id: String,
    },
    /// The connector's successes, errors and latency over the last 3 hours.
    Metrics {
        /// The connector id.
        id: String,
    },
    /// Changes the fields given, and only those.
    Update {
        /// The connector id.
        id: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Creates an HTTP push connector.
    Create {
        /// The display name.
        #[arg(long)]
        name: String,
        /// The receiver's URL.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Debug, Args)]
struct Settings {
    /// The status.
    #[arg(long, value_enum)]
    status: Option<Status>,
    /// The event types forwarded, comma-separated.
    #[arg(long, value_name = "A,B")]
    events: Option<String>,
    /// The label keys included with each push, comma-separated.
    #[arg(long, value_name = "A,B")]
    labels: Option<String>,
    /// A header sent with each push (repeatable; replaces the connector's headers).
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// The environment variable that holds the signature secret.
    #[arg(long, value_name = "VAR")]
    signature_secret_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
enum Status {
    Active,
    UserDisabled,
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

impl Settings {
    fn update(&self) -> Result<ConnectorUpdate, String> {
        let mut update = ConnectorUpdate::new();
        if let Some(status) = self.status {
            update = update.status(match status {
                Status::Active => ConnectorStatus::Active,
                Status::UserDisabled => ConnectorStatus::UserDisabled,
            });
        }
        if let Some(events) = &self.events {
            update = update.events(comma_list(events));
        }
        if let Some(labels) = &self.labels {
            update = update.labels(comma_list(labels));
        }
        if !self.headers.is_empty() {
            update = update.headers(self.headers.clone());
        }
        if let Some(variable) = &self.signature_secret_env {
            let secret = std::env::var(variable)
                .ok()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("{variable} (named by --signature-secret-env) is not set"))?;
            update = update.signature_secret(SecretString::from(secret));
        }
        Ok(update)
    }
}

async fn run(client: &Client, cli: &Cli) -> Result<Vec<String>, Failure> {
    let project = &cli.project;
    let e = |e: dt_client::Error| Failure::failed(e);
    Ok(match &cli.command {
        Command::List => {
            let connectors: Vec<_> = client
                .data_connectors(project)
                .stream()
                .try_collect()
                .await
                .map_err(e)?;
            connectors.iter().map(|c| c.redacted().to_string()).collect()
        }
        Command::Get { id } => vec![
            client
                .data_connector(project, id)
                .await
                .map_err(e)?
                .redacted()
                .to_string(),
        ],
        Command::Sync { id } => {
            client.sync_data_connector(project, id).await.map_err(e)?;
            vec!["{}".to_owned()]
        }
        Command::Metrics { id } => {
            let metrics = client.data_connector_metrics(project, id).await.map_err(e)?;
            vec![serde_json::json!({ "metrics": metrics }).to_string()]
        }
        Command::Update { id, settings } => {
            let update = settings.update().map_err(Failure::usage)?;
            if update.is_empty() {
                return Err(Failure::usage("update: give at least one field to change"));
            }
            vec![
                client
                    .update_data_connector(project, id, &update)
                    .await
                    .map_err(e)?
                    .redacted()
                    .to_string(),
            ]
        }
        Command::Create { name, url, settings } => {
            let new = NewDataConnector::new(name, url).with(settings.update().map_err(Failure::usage)?);
            vec![
                client
                    .create_data_connector(project, &new)
                    .await
                    .map_err(e)?
                    .redacted()
                    .to_string(),
            ]
        }
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = examples::cli::parse();
    examples::cli::run("dt-connectors", async move {
        let connection = examples::dt::connect("dt-connectors")
            .await
            .map_err(Failure::usage)?;
        let lines = run(&connection.client, &cli).await?;
        let mut out = std::io::BufWriter::new(examples::cli::Stdout);
        for line in lines {
            writeln!(out, "{line}").map_err(Failure::failed)?;
        }
        out.flush().map_err(Failure::failed)
    })
    .await
}
