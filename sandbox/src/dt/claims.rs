//! Claiming: an inventory of unclaimed devices and kits, `GET /claimInfo` and
//! `POST /projects/{p}/devices:claim`.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::access::{Caller, Scope, require};
use super::http::*;
use super::world::Device;
use super::{Shared, World, lock};

/// The kit every simulator starts with, unclaimed.
pub const CLAIMABLE_KIT: &str = "sandbox-kit";
/// The devices of [`CLAIMABLE_KIT`] (two sensors and a Cloud Connector), by id and type.
pub const CLAIMABLE_KIT_DEVICES: [(&str, &str); 3] = [
    ("sbkitdev0001", "temperature"),
    ("sbkitdev0002", "touch"),
    ("sbkitdev0003", "ccon"),
];
/// The devices every simulator starts with, unclaimed and in no kit, by id and type.
pub const CLAIMABLE_DEVICES: [(&str, &str); 2] = [("sbfree0001", "temperature"), ("sbfree0002", "humidity")];

/// An unclaimed device.
#[derive(Debug, Clone)]
pub(super) struct Claimable {
    pub(super) id: String,
    pub(super) device_type: String,
}

/// A kit: its devices, claimed or not, by id and type.
#[derive(Debug, Clone)]
pub(super) struct Kit {
    pub(super) id: String,
    pub(super) display_name: String,
    pub(super) devices: Vec<(String, String)>,
}

/// The inventory a simulator starts with: [`CLAIMABLE_KIT`] and [`CLAIMABLE_DEVICES`].
pub(super) fn initial() -> (Vec<Claimable>, Vec<Kit>) {
    let owned = |(id, device_type): &(&str, &str)| ((*id).to_owned(), (*device_type).to_owned());
    let kit = Kit {
        id: CLAIMABLE_KIT.into(),
        display_name: "Sandbox starter kit, 2 sensors".into(),
        devices: CLAIMABLE_KIT_DEVICES.iter().map(owned).collect(),
    };
    let claimable = CLAIMABLE_KIT_DEVICES
        .iter()
        .chain(CLAIMABLE_DEVICES.iter())
        .map(owned)
        .map(|(id, device_type)| Claimable { id, device_type })
        .collect();
    (claimable, vec![kit])
}

fn claim_device(id: &str, device_type: &str, claimed: bool) -> Value {
    json!({
        "deviceId": id,
        "deviceType": device_type,
        "productNumber": format!("SB-{}", device_type.to_uppercase()),
        "isClaimed": claimed,
    })
}

impl World {
    fn is_unclaimed(&self, id: &str) -> bool {
        self.claimable.iter().any(|c| c.id == id)
    }

    fn kit_json(&self, kit: &Kit) -> Value {
        let count = |connectors: bool| {
            let of_kind: Vec<&(String, String)> = kit
                .devices
                .iter()
                .filter(|(_, t)| (t == "ccon") == connectors)
                .collect();
            let claimed = of_kind.iter().filter(|(id, _)| !self.is_unclaimed(id)).count();
            json!({"totalCount": of_kind.len(), "claimedCount": claimed})
        };
        json!({
            "kitId": kit.id,
            "displayName": kit.display_name,
            "sensors": count(false),
            "cloudConnectors": count(true),
            "devices": kit.devices.iter()
                .map(|(id, t)| claim_device(id, t, !self.is_unclaimed(id)))
                .collect::<Vec<_>>(),
        })
    }
}

/// `GET /claimInfo?identifier=..[&organization=organizations/{o}]`: a kit, an unclaimed
/// device, or a claimed one; 404 for anything else. With `organization`, the caller
/// needs `organization.read` there.
pub(super) async fn claim_info(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    let pairs = query_pairs(query.as_deref());
    let identifier = one(&pairs, "identifier")
        .filter(|i| !i.is_empty())
        .ok_or_else(|| bad_request("identifier is required"))?;
    if let Some(organization) = one(&pairs, "organization") {
        let organization = super::projects::organization_id(organization)?;
        require(
            &shared,
            &caller,
            Scope::Organization(organization),
            "organization.read",
        )?;
    }
    let world = lock(&shared.world);
    let body = if let Some(kit) = world.kits.iter().find(|k| k.id == identifier) {
        json!({"type": "KIT", "kit": world.kit_json(kit)})
    } else if let Some(device) = world.claimable.iter().find(|c| c.id == identifier) {
        json!({"type": "DEVICE", "device": claim_device(&device.id, &device.device_type, false)})
    } else if let Some(device) = world.devices.iter().find(|d| d.id == identifier) {
        json!({"type": "DEVICE", "device": claim_device(&device.id, &device.device_type, true)})
    } else {
        return Err(not_found("identifier"));
    };
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// The strings of array member `name` (absent: none).
fn ids(value: &Value, name: &str) -> Result<Vec<String>, Response> {
    match value.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad_request(&format!("{name} must hold strings")))
            })
            .collect(),
        Some(_) => Err(bad_request(&format!("{name} must be an array"))),
    }
}

/// `POST /projects/{p}/devices:claim?dryRun=..` with `{kitIds, deviceIds}`: needs
/// `sensor.claim` on the project (organization admins). Unclaimed devices (a kit's
/// unclaimed ones with it) move into the project, as devices without generated history;
/// a dry run (`dryRun=true`) answers the same and changes nothing; without `dryRun`,
/// 400 (so that a client leaving it out is caught). A device or kit
/// claimed already is `ALREADY_CLAIMED`, an unknown one `NOT_FOUND`.
pub(super) fn claim(
    shared: &Shared,
    caller: &Caller,
    project: &str,
    query: Option<&str>,
    body: &[u8],
    headers: &HeaderMap,
) -> Handled {
    require(shared, caller, Scope::Project(project), "sensor.claim")?;
    let pairs = query_pairs(query);
    // Strict where the API may default: a client that forgot `dryRun` fails here
    // rather than claiming for real.
    let dry_run = match one(&pairs, "dryRun") {
        Some("false") => false,
        Some("true") => true,
        None => return Err(bad_request("dryRun is required (true or false)")),
        Some(_) => return Err(bad_request("dryRun must be true or false")),
    };
    let value = read_json(body)?;
    let kit_ids = ids(&value, "kitIds")?;
    let device_ids = ids(&value, "deviceIds")?;
    if kit_ids.is_empty() && device_ids.is_empty() {
        return Err(bad_request("kitIds or deviceIds is required"));
    }
    let mut world = lock(&shared.world);
    let mut claimed: Vec<Claimable> = Vec::new();
    let mut kit_errors = Vec::new();
    let mut device_errors = Vec::new();
    let error =
        |key: &str, id: &str, code: &str, message: &str| json!({key: id, "code": code, "message": message});
    for kit_id in &kit_ids {
        let Some(kit) = world.kits.iter().find(|k| &k.id == kit_id) else {
            kit_errors.push(error("kitId", kit_id, "NOT_FOUND", "The kit was not found"));
            continue;
        };
        let free: Vec<Claimable> = world
            .claimable
            .iter()
            .filter(|c| kit.devices.iter().any(|(id, _)| *id == c.id))
            .cloned()
            .collect();
        if free.is_empty() {
            kit_errors.push(error(
                "kitId",
                kit_id,
                "ALREADY_CLAIMED",
                "The kit was previously claimed",
            ));
        }
        for device in free {
            if !claimed.iter().any(|c| c.id == device.id) {
                claimed.push(device);
            }
        }
    }
    for device_id in &device_ids {
        if claimed.iter().any(|c| &c.id == device_id) {
            continue;
        }
        if let Some(device) = world.claimable.iter().find(|c| &c.id == device_id) {
            claimed.push(device.clone());
        } else if world.devices.iter().any(|d| &d.id == device_id) {
            device_errors.push(error(
                "deviceId",
                device_id,
                "ALREADY_CLAIMED",
                "The device was previously claimed",
            ));
        } else {
            device_errors.push(error(
                "deviceId",
                device_id,
                "NOT_FOUND",
                "The device was not found",
            ));
        }
    }
    if !dry_run {
        world.claimable.retain(|c| !claimed.iter().any(|d| d.id == c.id));
        world.devices.extend(claimed.iter().map(|c| Device {
            id: c.id.clone(),
            project: project.to_owned(),
            device_type: c.device_type.clone(),
            labels: Default::default(),
            generated: false,
        }));
    }
    drop(world);
    let devices: Vec<Value> = claimed
        .iter()
        .map(|c| claim_device(&c.id, &c.device_type, true))
        .collect();
    ok(
        shared,
        StatusCode::OK,
        &json!({"claimedDevices": devices, "claimErrors": {"devices": device_errors, "kits": kit_errors}}),
        headers,
    )
}
