//! A catalog `valuesUrl` read back into a values request.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::format::CsvPreset;
use crate::record::Record;
use crate::values::ValuesQuery;

impl ValuesQuery<Record> {
    /// A request from a catalog `valuesUrl`: its path (same origin as the base URL only),
    /// and its `signalIds` and other query parameters taken as if set on the builder.
    pub(crate) fn from_url(client: Client, values_url: &str) -> Result<Self> {
        let url = client_core::join(client.base_url(), values_url)?;
        let base = client.base_url().path();
        let path = url.path().strip_prefix(base).unwrap_or(url.path()).to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        let (env, site, signal) = match segments.as_slice() {
            ["environments", env, "sites", site, "values"] => (*env, *site, None),
            ["environments", env, "sites", site, "signals", signal, "values"] => (*env, *site, Some(*signal)),
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "`{}` is not a values URL",
                    url.path()
                )));
            }
        };
        let (env, site) = (decode_segment(env)?, decode_segment(site)?);
        let mut request = match signal {
            Some(signal) => client.signal_values(&env, &site, &decode_segment(signal)?),
            None => ValuesQuery::new(client.clone(), path.clone(), &env, &site, Vec::new(), true),
        };
        for (name, value) in url.query_pairs() {
            request = match name.as_ref() {
                "signalIds" => {
                    request.params.signals = value
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    request
                }
                "tzi" => request.time_zone(&value),
                "format" => request.format(value.parse()?),
                "csvPreset" => request.csv_preset(CsvPreset::parse(&value)),
                "meta" => request.meta(value != "false"),
                "aggregation" => request.aggregation(value.as_ref()),
                _ => request,
            };
        }
        Ok(request)
    }
}

fn decode_segment(segment: &str) -> Result<String> {
    Ok(client_core::decode_segment(segment)?)
}
