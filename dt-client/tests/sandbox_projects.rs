//! Projects, claims, devices without a project and the credentials file, end to end
//! against the DT sandbox, with DT's permission checks by role.

mod common;

use std::path::PathBuf;

use dt_client::{ClaimErrorCode, ClaimRequest, ClaimType, Client, Device, Error, Project, ProjectUpdate};
use futures::TryStreamExt;
use sandbox::dt::{
    CLAIMABLE_DEVICES, CLAIMABLE_KIT, CLAIMABLE_KIT_DEVICES, Config, ORGANIZATION, OTHER_PROJECT, PROJECT,
    Sandbox,
};

async fn projects(client: &Client) -> Vec<Project> {
    client.projects().stream().try_collect().await.unwrap()
}

fn ids(projects: &[Project]) -> Vec<&str> {
    projects.iter().filter_map(Project::id).collect()
}

#[tokio::test]
async fn projects_are_created_found_renamed_and_deleted() {
    let sim = Sandbox::start(Config::default().with_devices_per_project(3))
        .await
        .unwrap();
    let client = common::client(&sim);
    assert_eq!(ids(&projects(&client).await), [PROJECT, OTHER_PROJECT]);

    let created = client.create_project(ORGANIZATION, "Cold storage").await.unwrap();
    let id = created.id().unwrap().to_owned();
    assert_eq!(created.display_name.as_deref(), Some("Cold storage"));
    assert_eq!(created.organization_id(), Some(ORGANIZATION));
    assert_eq!(created.sensor_count, Some(0));
    assert_eq!(sim.projects(), [PROJECT, OTHER_PROJECT, id.as_str()]);

    // By organization and by text (any case), over pages of one.
    let by_text: Vec<Project> = client
        .projects()
        .organization(ORGANIZATION)
        .query("COLD")
        .page_size(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&by_text), [id.as_str()]);
    let configured: Vec<Project> = client
        .projects()
        .query("sandbox-project")
        .page_size(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&configured), [PROJECT, OTHER_PROJECT]);
    let elsewhere = client
        .projects()
        .organization("another-org")
        .send()
        .await
        .unwrap();
    assert!(elsewhere.items.is_empty());

    client
        .update_project(&id, &ProjectUpdate::new().display_name("Freezers"))
        .await
        .unwrap();
    assert_eq!(
        client.project(&id).await.unwrap().display_name.as_deref(),
        Some("Freezers")
    );

    client.delete_project(&id).await.unwrap();
    assert_eq!(ids(&projects(&client).await), [PROJECT, OTHER_PROJECT]);
    assert!(matches!(client.project(&id).await, Err(Error::NotFound(_))));
    // A project that holds devices is not deleted.
    let err = client.delete_project(PROJECT).await.unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
    assert_eq!(sim.projects(), [PROJECT, OTHER_PROJECT]);
    // An organization that does not exist.
    let err = client.create_project("no-such-org", "x").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = client.create_project(ORGANIZATION, " ").await.unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
}

#[tokio::test]
async fn claims_move_unclaimed_devices_and_kits_into_a_project_and_a_dry_run_changes_nothing() {
    let sim = Sandbox::start(Config::default().with_devices_per_project(3))
        .await
        .unwrap();
    let client = common::client(&sim);
    let (free, _) = CLAIMABLE_DEVICES[0];

    let kit = client
        .claim_info(CLAIMABLE_KIT, Some(ORGANIZATION))
        .await
        .unwrap();
    assert_eq!(kit.claim_type, ClaimType::Kit);
    let kit = kit.kit.unwrap();
    assert_eq!(kit.kit_id, CLAIMABLE_KIT);
    assert_eq!(
        kit.devices
            .iter()
            .map(|d| d.device_id.as_str())
            .collect::<Vec<_>>(),
        CLAIMABLE_KIT_DEVICES.map(|(id, _)| id)
    );
    assert!(kit.devices.iter().all(|d| d.is_claimed == Some(false)));
    let sensors = kit.sensors.unwrap();
    assert_eq!((sensors.total_count, sensors.claimed_count), (2, 0));
    let device = client.claim_info(free, None).await.unwrap();
    assert_eq!(device.claim_type, ClaimType::Device);
    assert_eq!(device.device.unwrap().is_claimed, Some(false));
    assert!(matches!(
        client.claim_info("nothing-of-the-sort", None).await,
        Err(Error::NotFound(_))
    ));

    let request = |claim: ClaimRequest| claim.kits([CLAIMABLE_KIT]).devices([free, "no-such-device"]);
    let dry = client
        .claim(OTHER_PROJECT, &request(ClaimRequest::dry_run()))
        .await
        .unwrap();
    let claimed: Vec<&str> = dry.claimed_devices.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(claimed, ["sbkitdev0001", "sbkitdev0002", "sbkitdev0003", free]);
    assert_eq!(dry.claim_errors.devices.len(), 1);
    assert_eq!(dry.claim_errors.devices[0].code, Some(ClaimErrorCode::NotFound));
    assert_eq!(
        dry.claim_errors.devices[0].device_id.as_deref(),
        Some("no-such-device")
    );
    assert_eq!(sim.claimable_devices().len(), 5, "a dry run claims nothing");
    assert!(matches!(
        client.lookup_device(free).await,
        Err(Error::NotFound(_))
    ));

    let real = client
        .claim(OTHER_PROJECT, &request(ClaimRequest::for_real()))
        .await
        .unwrap();
    assert_eq!(
        real.claimed_devices, dry.claimed_devices,
        "the dry run told the truth"
    );
    assert_eq!(sim.claimable_devices(), [CLAIMABLE_DEVICES[1].0]);
    let moved = client.lookup_device(free).await.unwrap();
    assert_eq!(moved.project_id(), Some(OTHER_PROJECT));
    let in_project: Vec<Device> = client
        .devices(OTHER_PROJECT)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(in_project.len(), 3 + 4);
    let info = client.claim_info(free, None).await.unwrap();
    assert_eq!(info.device.unwrap().is_claimed, Some(true));

    // Claimed already: the device and the kit.
    let again = client
        .claim(PROJECT, &request(ClaimRequest::for_real()))
        .await
        .unwrap();
    assert!(again.claimed_devices.is_empty());
    assert_eq!(again.claim_errors.kits[0].kit_id.as_deref(), Some(CLAIMABLE_KIT));
    assert_eq!(
        again.claim_errors.kits[0].code,
        Some(ClaimErrorCode::AlreadyClaimed)
    );
    assert_eq!(
        again.claim_errors.devices[0].code,
        Some(ClaimErrorCode::AlreadyClaimed)
    );

    // More inventory.
    sim.add_claimable_device("my-sensor", "co2");
    let mine = client
        .claim(PROJECT, &ClaimRequest::for_real().devices(["my-sensor"]))
        .await
        .unwrap();
    assert_eq!(mine.claimed_devices[0].device_type.as_deref(), Some("co2"));
    assert!(mine.claim_errors.is_empty());
    sim.add_claimable_kit("my-kit", "My kit", &[("my-kit-1", "touch")]);
    let kit = client.claim_info("my-kit", None).await.unwrap().kit.unwrap();
    assert_eq!(kit.display_name.as_deref(), Some("My kit"));
}

#[tokio::test]
async fn devices_are_found_by_id_alone_and_listed_across_the_organization() {
    let sim = Sandbox::start(Config::default().with_devices_per_project(12))
        .await
        .unwrap();
    let client = common::client(&sim);
    let all = sim.devices();
    let other = all.iter().find(|d| d.project == OTHER_PROJECT).unwrap();
    let found = client.lookup_device(&other.id).await.unwrap();
    assert_eq!(found.project_id(), Some(OTHER_PROJECT));
    assert_eq!(found.id(), Some(other.id.as_str()));
    assert!(matches!(
        client.lookup_device("nope").await,
        Err(Error::NotFound(_))
    ));

    let everywhere: Vec<Device> = client
        .organization_devices(ORGANIZATION)
        .page_size(5)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(everywhere.len(), 24);
    let one_project: Vec<Device> = client
        .organization_devices(ORGANIZATION)
        .projects([OTHER_PROJECT])
        .device_types(["temperature"])
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(one_project.len(), 2);
    assert!(one_project.iter().all(|d| d.project_id() == Some(OTHER_PROJECT)
        && d.device_type.as_deref() == Some("temperature")));
    let err = client
        .organization_devices("no-such-org")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_project_user_reads_but_neither_creates_claims_nor_deletes() {
    let sim = Sandbox::start(
        Config::default()
            .with_devices_per_project(3)
            .with_account_role("project.user"),
    )
    .await
    .unwrap();
    // A project of the organization the account is no member of.
    sim.add_project("hidden-project", "Hidden");
    let client = common::client(&sim);
    let forbidden = |result: Result<(), Error>| match result {
        Err(Error::Forbidden(_)) => {}
        other => panic!("expected Forbidden, got {other:?}"),
    };
    forbidden(client.create_project(ORGANIZATION, "Mine").await.map(drop));
    forbidden(
        client
            .claim(PROJECT, &ClaimRequest::for_real().kits([CLAIMABLE_KIT]))
            .await
            .map(drop),
    );
    forbidden(
        client
            .claim(PROJECT, &ClaimRequest::dry_run().kits([CLAIMABLE_KIT]))
            .await
            .map(drop),
    );
    forbidden(client.delete_project(PROJECT).await);
    forbidden(
        client
            .update_project(PROJECT, &ProjectUpdate::new().display_name("x"))
            .await,
    );
    forbidden(client.project("hidden-project").await.map(drop));
    assert_eq!(sim.projects().len(), 3);
    assert_eq!(sim.claimable_devices().len(), 5);

    // Reads work, and see only what the account may read.
    assert_eq!(ids(&projects(&client).await), [PROJECT, OTHER_PROJECT]);
    assert_eq!(client.project(PROJECT).await.unwrap().id(), Some(PROJECT));
    let device = &sim.devices()[0];
    assert_eq!(
        client.lookup_device(&device.id).await.unwrap().project_id(),
        Some(PROJECT)
    );
    let everywhere: Vec<Device> = client
        .organization_devices(ORGANIZATION)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(everywhere.len(), 6);
    let info = client.claim_info(CLAIMABLE_KIT, None).await.unwrap();
    assert_eq!(info.claim_type, ClaimType::Kit);

    // An organization admin sees the hidden project too, and a project admin may rename
    // and delete (here refused only because the project is not empty) but not create.
    let admin_sim = Sandbox::start(
        Config::default()
            .with_devices_per_project(3)
            .with_account_role("project.admin"),
    )
    .await
    .unwrap();
    let admin = common::client(&admin_sim);
    admin
        .update_project(PROJECT, &ProjectUpdate::new().display_name("Renamed"))
        .await
        .unwrap();
    assert!(matches!(
        admin.delete_project(PROJECT).await,
        Err(Error::BadRequest(_))
    ));
    forbidden(admin.create_project(ORGANIZATION, "Mine").await.map(drop));
    let org_sim = Sandbox::start(Config::default().with_devices_per_project(3))
        .await
        .unwrap();
    org_sim.add_project("hidden-project", "Hidden");
    let org_admin = common::client(&org_sim);
    assert_eq!(
        ids(&projects(&org_admin).await),
        [PROJECT, OTHER_PROJECT, "hidden-project"]
    );
}

#[tokio::test]
async fn a_client_from_a_credentials_file_signs_in_against_the_sandbox() {
    let sim = Sandbox::start(Config::default().with_devices_per_project(3))
        .await
        .unwrap();
    let config = sim.config();
    let path: PathBuf =
        std::env::temp_dir().join(format!("dt-client-sandbox-projects-{}.json", std::process::id()));
    let content = serde_json::json!({"serviceAccount": {
        "keyId": config.key_id, "secret": config.key_secret, "email": config.email,
        "algorithm": "HS256", "tokenEndpoint": sim.token_url()
    }});
    std::fs::write(&path, content.to_string()).unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .credentials_file(&path)
        .build();
    let by_var = Client::from_vars(|name| match name {
        "DT_CREDENTIALS_FILE" => Some(path.to_string_lossy().into_owned()),
        "DT_BASE_URL" => Some(sim.base_url()),
        _ => None,
    });
    // DT_AUTH=basic: the file's key id and secret with Basic, no token.
    let basic = Client::from_vars(|name| match name {
        "DT_CREDENTIALS_FILE" => Some(path.to_string_lossy().into_owned()),
        "DT_BASE_URL" => Some(sim.base_url()),
        "DT_AUTH" => Some("basic".into()),
        _ => None,
    });
    std::fs::remove_file(&path).unwrap();
    let client = client.unwrap();
    assert_eq!(ids(&projects(&client).await), [PROJECT, OTHER_PROJECT]);
    assert_eq!(sim.token_requests(), 1);
    let by_var = by_var.unwrap();
    assert_eq!(by_var.project(PROJECT).await.unwrap().id(), Some(PROJECT));
    assert_eq!(sim.token_requests(), 2);
    let basic = basic.unwrap();
    assert_eq!(basic.project(PROJECT).await.unwrap().id(), Some(PROJECT));
    assert_eq!(sim.token_requests(), 2, "Basic needs no token");
}
