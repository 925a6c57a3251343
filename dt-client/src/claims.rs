//! Claiming devices and kits: what an identifier names (`GET /claimInfo`) and the claim
//! itself (`POST /projects/{p}/devices:claim`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::encode_segment;

use crate::client::Client;
use crate::error::{Error, Result};

client_core::open_enum! {
    /// What a claim identifier names.
    ClaimType {
        /// A kit (the identifier on its box).
        Kit => "KIT",
        /// A device (the identifier on the sensor or its QR code).
        Device => "DEVICE",
    }
}

client_core::open_enum! {
    /// Why one device or kit of a claim was not claimed.
    ClaimErrorCode {
        /// It is claimed already.
        AlreadyClaimed => "ALREADY_CLAIMED",
        /// No such device or kit.
        NotFound => "NOT_FOUND",
    }
}

/// A device as the claim endpoints describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimDevice {
    /// The device id.
    pub device_id: String,
    /// The device type (`temperature`, `touch`, `ccon`, ...).
    #[serde(default)]
    pub device_type: Option<String>,
    /// The product number.
    #[serde(default)]
    pub product_number: Option<String>,
    /// Whether it is claimed.
    #[serde(default)]
    pub is_claimed: Option<bool>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// How many of a kind of device a kit holds, and how many of them are claimed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimCounts {
    /// How many the kit holds.
    #[serde(default)]
    pub total_count: u64,
    /// How many of them are claimed.
    #[serde(default)]
    pub claimed_count: u64,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A kit as the claim endpoints describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimKit {
    /// The kit id.
    pub kit_id: String,
    /// The kit's name (`Starter Kit EU, 5 sensors`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its sensors, claimed or not.
    #[serde(default)]
    pub sensors: Option<ClaimCounts>,
    /// Its Cloud Connectors, claimed or not.
    #[serde(default)]
    pub cloud_connectors: Option<ClaimCounts>,
    /// Its devices.
    #[serde(default)]
    pub devices: Vec<ClaimDevice>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// What a claim identifier names (`GET /claimInfo`): a kit or a device, by
/// [`claim_type`](Self::claim_type), with the member of that name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimInfo {
    /// `KIT` or `DEVICE` (another value is kept as sent).
    #[serde(rename = "type")]
    pub claim_type: ClaimType,
    /// The kit, when the identifier names one.
    #[serde(default)]
    pub kit: Option<ClaimKit>,
    /// The device, when the identifier names one.
    #[serde(default)]
    pub device: Option<ClaimDevice>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One device or kit that a claim did not claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimError {
    /// The device, when the error is a device's.
    #[serde(default)]
    pub device_id: Option<String>,
    /// The kit, when the error is a kit's.
    #[serde(default)]
    pub kit_id: Option<String>,
    /// Why (another code is kept as sent).
    #[serde(default)]
    pub code: Option<ClaimErrorCode>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The errors of a claim, by what they concern.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimErrors {
    /// The devices not claimed.
    #[serde(default)]
    pub devices: Vec<ClaimError>,
    /// The kits not claimed.
    #[serde(default)]
    pub kits: Vec<ClaimError>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ClaimErrors {
    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty() && self.kits.is_empty()
    }
}

/// What a claim answers: the devices claimed (or, in a dry run, that would be), and the
/// devices and kits that were not, each with its error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClaimOutcome {
    /// The devices claimed, those of the kits included.
    #[serde(default)]
    pub claimed_devices: Vec<ClaimDevice>,
    /// What was not claimed.
    #[serde(default)]
    pub claim_errors: ClaimErrors,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A claim of kits and devices into a project, for [`Client::claim`]: a dry run
/// ([`ClaimRequest::dry_run`], `dryRun=true`: nothing is claimed, the answer says what
/// would be) or the real thing ([`ClaimRequest::for_real`], `dryRun=false`: claiming
/// starts the devices' subscriptions and cannot be undone). There is no default: the
/// official Python client's is a dry run, which silently claims nothing when forgotten.
///
/// ```no_run
/// use dt_client::ClaimRequest;
///
/// # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
/// let request = ClaimRequest::dry_run().kits(["my-kit"]).devices(["my-device"]);
/// let outcome = client.claim("my-project", &request).await?;
/// assert!(outcome.claim_errors.is_empty(), "{:?}", outcome.claim_errors);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a claim does nothing until it is sent"]
pub struct ClaimRequest {
    dry_run: bool,
    kit_ids: Option<Vec<String>>,
    device_ids: Option<Vec<String>>,
}

impl ClaimRequest {
    /// A dry run: the answer says what would be claimed, and nothing is.
    pub fn dry_run() -> Self {
        ClaimRequest {
            dry_run: true,
            kit_ids: None,
            device_ids: None,
        }
    }

    /// A claim that claims (not reversible).
    pub fn for_real() -> Self {
        ClaimRequest {
            dry_run: false,
            ..Self::dry_run()
        }
    }

    /// Whether it is a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Adds kits by id (`kitIds`).
    pub fn kits<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.kit_ids
            .get_or_insert_with(Vec::new)
            .extend(ids.into_iter().map(Into::into));
        self
    }

    /// Adds devices by id (`deviceIds`).
    pub fn devices<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.device_ids
            .get_or_insert_with(Vec::new)
            .extend(ids.into_iter().map(Into::into));
        self
    }

    fn is_empty(&self) -> bool {
        self.kit_ids.as_ref().is_none_or(Vec::is_empty) && self.device_ids.as_ref().is_none_or(Vec::is_empty)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kit_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_ids: Option<&'a [String]>,
}

impl Client {
    /// What `identifier` (printed on a sensor or a kit's box, or in its QR code) names
    /// (`GET /claimInfo?identifier=..`), as seen by `organization_id` when given
    /// (`&organization=organizations/{o}`: the organization that would claim it).
    pub async fn claim_info(&self, identifier: &str, organization_id: Option<&str>) -> Result<ClaimInfo> {
        let mut request = self.http.get("claimInfo").query("identifier", identifier);
        if let Some(organization) = organization_id {
            request = request.query("organization", format!("organizations/{organization}"));
        }
        Ok(request.json_response().await?)
    }

    /// Claims kits and devices into project `project_id`
    /// (`POST /projects/{p}/devices:claim?dryRun=..` with `{"kitIds", "deviceIds"}`,
    /// each sent when set). What was not claimed is in the outcome's
    /// [`claim_errors`](ClaimOutcome::claim_errors), not an `Err`. A request naming
    /// nothing is [`ClientError::InvalidRequest`](crate::ClientError::InvalidRequest),
    /// not sent. A dry run is retried like a read; a real claim is not (a repeat would
    /// report the devices the first attempt claimed as `ALREADY_CLAIMED`).
    pub async fn claim(&self, project_id: &str, request: &ClaimRequest) -> Result<ClaimOutcome> {
        if request.is_empty() {
            return Err(Error::invalid_request("the claim names no kit and no device"));
        }
        let body = ClaimBody {
            kit_ids: request.kit_ids.as_deref(),
            device_ids: request.device_ids.as_deref(),
        };
        Ok(self
            .http
            .post(&format!("projects/{}/devices:claim", encode_segment(project_id)))
            .query("dryRun", if request.dry_run { "true" } else { "false" })
            .json(&body)
            .idempotent(request.dry_run)
            .json_response()
            .await?)
    }
}
