//! Lists an iTwin's Sensor Data sensors, one JSON object per line with its metrics and
//! units.
//!
//! ```sh
//! SDS_ACCESS_TOKEN=... cargo run -p examples --bin sds-sensors -- \
//!   --itwin 28ba3a8e-bf86-47b6-a37c-6600d9e2e328
//! ```
//!
//! Each line is `{"id":..,"dataSourceId":..,"metrics":[{"metric":..,"displayName":..,
//! "defaultUnit":..,"units":[..]}]}`. Without `SDS_CLIENT_ID` or `SDS_ACCESS_TOKEN` the
//! embedded sandbox serves the request and the program says so.

use std::process::ExitCode;

use clap::Parser;
use examples::cli::Failure;
use sds_client::{Client, Sensor, TryStreamExt};
use serde_json::json;

/// Lists an iTwin's Sensor Data sensors on standard output, one JSON object per line
/// with its data source, metrics and units.
///
/// An empty list can also mean that the caller is not a member of the iTwin: the
/// program says so on standard error. Without SDS_CLIENT_ID or SDS_ACCESS_TOKEN it
/// lists the embedded sandbox's sensors (iTwin 28ba3a8e-bf86-47b6-a37c-6600d9e2e328) and
/// says so.
#[derive(Debug, Parser)]
#[command(name = "sds-sensors", version)]
struct Options {
    /// The iTwin id.
    #[arg(long, value_name = "ID")]
    itwin: String,
    /// Only the sensors of this data source.
    #[arg(long, value_name = "ID")]
    datasource: Option<String>,
}

fn line(sensor: &Sensor) -> String {
    let metrics: Vec<_> = sensor
        .metrics_and_units
        .metrics
        .iter()
        .map(|m| {
            json!({
                "metric": m.metric,
                "displayName": m.display_name,
                "defaultUnit": m.default_unit,
                "units": m.units.iter().map(|u| u.unit.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"id": sensor.id, "dataSourceId": sensor.data_source_id, "metrics": metrics}).to_string()
}

async fn list(client: &Client, options: &Options) -> Result<usize, String> {
    let mut request = client.sensors(&options.itwin);
    if let Some(id) = &options.datasource {
        request = request.data_source(id);
    }
    let sensors: Vec<Sensor> = request
        .stream()
        .try_collect()
        .await
        .map_err(|e| examples::sds::explain(&e))?;
    let mut out = String::new();
    for sensor in &sensors {
        out.push_str(&line(sensor));
        out.push('\n');
    }
    use std::io::Write;
    examples::cli::Stdout
        .write_all(out.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(sensors.len())
}

#[tokio::main]
async fn main() -> ExitCode {
    let options: Options = examples::cli::parse();
    examples::cli::run("sds-sensors", async move {
        let connection = examples::sds::connect("sds-sensors")
            .await
            .map_err(Failure::usage)?;
        match list(&connection.client, &options).await? {
            0 => eprintln!(
                "sds-sensors: iTwin {} lists no sensors (an empty list can also mean that you are not a member of it)",
                options.itwin
            ),
            count => eprintln!("{count} sensors"),
        }
        Ok(())
    })
    .await
}
