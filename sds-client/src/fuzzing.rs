//! Entry points for the fuzz targets in `fuzz/`: SDS's response envelopes, read as the
//! client reads them, without a server. Hidden: not part of the API, no stability
//! promise.

use serde_json::{Map, Value};

use client_core::decode::skip_bom;
use client_core::shape::next_link;

use crate::error::{Error, Result};
use crate::observations::RawObservation;

/// An observations page (`{"observations":[..], "meta":{..}}`): its observations, its
/// other members, and its fingerprint.
pub fn observations_page(body: &[u8]) -> Result<(Vec<RawObservation>, Map<String, Value>, u64)> {
    let page = crate::observations_pages::read_page(body, 1)?;
    Ok((page.items, page.meta, page.print))
}

/// A data-query response (`{"data":{timestamp: values}, ..}`): its timestamps, in time
/// order, and how many points it holds.
pub fn data_response(body: &[u8]) -> Result<Vec<String>> {
    let response = serde_json::from_slice(skip_bom(body)).map_err(|e| Error::decode(e.to_string()))?;
    let answer = crate::data_query::answer(response)?;
    Ok(answer.timestamps())
}

/// A list answer (a bare array, or an object with the list under one of `keys`): its
/// items, and the link to the next page.
pub fn list_page(body: &[u8], keys: &[&str]) -> Result<(Vec<Value>, Option<String>)> {
    let body: Value = serde_json::from_slice(skip_bom(body)).map_err(|e| Error::decode(e.to_string()))?;
    let (items, meta) = crate::list::read_list(body, keys, "list")?;
    let next = next_link(&meta).map(|cursor| format!("{cursor:?}"));
    Ok((items, next))
}
