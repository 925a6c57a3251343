//! Lists, reads, creates, updates, syncs and measures DT data connectors, printing the
//! API's JSON with every secret redacted.
//!
//! ```sh
//! cargo run -p examples --bin dt-connectors -- --project PROJECT list
//! cargo run -p examples --bin dt-connectors -- --project PROJECT update ID --status USER_DISABLED
//! RECEIVER_SECRET=... cargo run -p examples --bin dt-connectors -- --project PROJECT \
//!   update ID --signature-secret-env RECEIVER_SECRET
//! RECEIVER_KEY=... cargo run -p examples --bin dt-connectors -- --project PROJECT \
//!   update ID --header-env x-api-key=RECEIVER_KEY --header x-tenant=plant-7
//! ```
//!
//! `update` sends only the fields given. A signature secret is read from the environment
//! variable `--signature-secret-env` names, and a secret header value from the one
//! `--header-env NAME=VAR` names, never from the command line. Without
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
/// secret comes from the environment variable named by --signature-secret-env, and a
/// secret header value from the one named by --header-env, never from the command line
/// (an unset variable is a usage error, exit 2). Without DT_SERVICE_ACCOUNT_KEY_ID the program talks to the
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
    /// A header sent with each push, with a plain value (repeatable; with --header-env,
    /// replaces the connector's headers).
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// A header sent with each push, whose secret value is read from the environment
    /// variable VAR (repeatable; with --header, replaces the connector's headers).
    #[arg(long = "header-env", value_name = "NAME=VAR", value_parser = parse_header)]
    header_env: Vec<(String, String)>,
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
        if !self.headers.is_empty() || !self.header_env.is_empty() {
            let mut headers = self.headers.clone();
            for (name, variable) in &self.header_env {
                headers.push((name.clone(), secret_from(variable, "--header-env")?));
            }
            // Header names are case-insensitive: one name twice would send one of them.
            let mut names: Vec<String> = headers
                .iter()
                .map(|(name, _)| name.to_ascii_lowercase())
                .collect();
            names.sort();
            if let Some(twice) = names.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(format!("the header `{}` is given twice", twice[0]));
            }
            update = update.headers(headers);
        }
        if let Some(variable) = &self.signature_secret_env {
            let secret = secret_from(variable, "--signature-secret-env")?;
            update = update.signature_secret(SecretString::from(secret));
        }
        Ok(update)
    }
}

/// The value of the environment variable `variable` (named by `option`); an unset or
/// empty one is an error that names the variable, never a value.
fn secret_from(variable: &str, option: &str) -> Result<String, String> {
    std::env::var(variable)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{variable} (named by {option}) is not set"))
}

impl Command {
    /// The settings of `update` and `create`, read (with the secrets the environment
    /// holds) before anything is sent.
    fn update(&self) -> Result<Option<ConnectorUpdate>, String> {
        match self {
            Command::Update { settings, .. } | Command::Create { settings, .. } => {
                settings.update().map(Some)
            }
            _ => Ok(None),
        }
    }
}

async fn run(client: &Client, cli: &Cli, update: Option<ConnectorUpdate>) -> Result<Vec<String>, Failure> {
    let update = update.unwrap_or_default();
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
        Command::Update { id, .. } => {
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
        Command::Create { name, url, .. } => {
            let new = NewDataConnector::new(name, url).with(update);
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
        // An unset variable is a usage error, found before any request is sent.
        let update = cli.command.update().map_err(Failure::usage)?;
        let connection = examples::dt::connect("dt-connectors")
            .await
            .map_err(Failure::usage)?;
        let lines = run(&connection.client, &cli, update).await?;
        let mut out = std::io::BufWriter::new(examples::cli::Stdout);
        for line in lines {
            writeln!(out, "{line}").map_err(Failure::failed)?;
        }
        out.flush().map_err(Failure::failed)
    })
    .await
}
