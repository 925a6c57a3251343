//! Lists as the simulator answers them: bare, under their key, or in pages linked by
//! `_links.next.href` ([`Readings::list_page_size`](super::Readings::list_page_size)).

use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::gate::bad_request;
use crate::server::query_pairs;

impl Shared {
    /// The answer to a list request at `path` (below `/sensor-data/`) with the raw
    /// `query`, holding `items` under `key`: whole, or the page `$skip` selects with a
    /// link to the next page when more follow.
    pub(super) fn list(
        &self,
        path: &str,
        query: Option<&str>,
        key: &str,
        items: Vec<Value>,
    ) -> Result<Value, Response> {
        let readings = self.config.readings;
        let Some(size) = readings.list_page_size else {
            return Ok(if readings.bare_lists {
                Value::Array(items)
            } else {
                json!({ key: items })
            });
        };
        let pairs = query_pairs(query);
        let skip = match pairs.iter().find(|(name, _)| name == "$skip") {
            None => 0,
            Some((_, text)) => text.parse::<usize>().map_err(|_| {
                bad_request(&format!("$skip `{text}` is not a non-negative integer"), "$skip")
            })?,
        };
        let more = items.len() > skip.saturating_add(size);
        let page: Vec<Value> = items.into_iter().skip(skip).take(size).collect();
        let mut answer = json!({ key: page });
        if more {
            let mut next = url::form_urlencoded::Serializer::new(String::new());
            next.extend_pairs(pairs.iter().filter(|(name, _)| name != "$skip"));
            next.append_pair("$skip", &(skip + size).to_string());
            let href = format!("{}/sensor-data/{path}?{}", self.base, next.finish());
            answer["_links"] = json!({"next": {"href": href}});
        }
        Ok(answer)
    }
}
