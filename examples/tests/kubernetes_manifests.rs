//! The Kubernetes manifests of `deploy/kubernetes` against the daemon they run
//! (`preventos-daily-export`): every YAML file there, each document of it, is read and
//! checked for the kinds it must hold, the CronJob's Indexed Job and its `--shard`, the
//! variables the container gets and where they come from, and the plan, read by the
//! daemon's own plan reader. The container's arguments are parsed by the daemon itself.
//!
//! `$(JOB_COMPLETION_INDEX)` in `args`: Kubernetes expands `$(NAME)` in `command` and
//! `args` from the container's environment. The Job controller adds
//! `JOB_COMPLETION_INDEX` (a field reference to the pod's
//! `batch.kubernetes.io/job-completion-index` annotation) to every container of an
//! Indexed Job that does not define it; the manifest defines that same variable itself,
//! so the expansion does not depend on the controller's addition, and this test
//! requires every `$(NAME)` of the arguments to be defined in the container's `env`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use preventos_client::env;
use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// The variable the arguments take the shard's index from.
const INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";
/// The pod annotation that holds an Indexed Job's completion index.
const INDEX_FIELD: &str = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
/// The schemes of the object stores `--out` takes.
const STORE_SCHEMES: [&str; 3] = ["s3://", "az://", "gs://"];

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes")
}

/// One YAML document, as JSON, with the file it came from.
struct Document {
    file: String,
    value: Value,
}

impl Document {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }
}

/// A YAML node as JSON; an alias, a non-string key or a value that does not parse fails
/// the test (none of them belongs in these manifests).
fn to_json(node: &Yaml, file: &str) -> Value {
    match node {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| panic!("{file}: `{text}` is no finite number")),
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(|item| to_json(item, file)).collect()),
        Yaml::Hash(pairs) => {
            let mut map = Map::new();
            for (key, value) in pairs {
                let Yaml::String(key) = key else {
                    panic!("{file}: a mapping key is not a string: {key:?}");
                };
                assert!(
                    map.insert(key.clone(), to_json(value, file)).is_none(),
                    "{file}: key `{key}` twice"
                );
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::BadValue => panic!("{file}: unsupported YAML node {node:?}"),
    }
}

/// Every document of every `.yaml`/`.yml` file in the folder, in file order; an empty
/// document (a stray `---`) is left out.
fn documents() -> Vec<Document> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("deploy/kubernetes is there")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no YAML file in deploy/kubernetes");
    let mut documents = Vec::new();
    for path in files {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let parsed = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"));
        for node in &parsed {
            let value = to_json(node, &file);
            if !value.is_null() {
                assert!(value.is_object(), "{file}: a document is not a mapping");
                documents.push(Document {
                    file: file.clone(),
                    value,
                });
            }
        }
    }
    documents
}

fn of_kind<'a>(documents: &'a [Document], kind: &str) -> Vec<&'a Document> {
    documents.iter().filter(|d| d.kind() == kind).collect()
}

fn the_one<'a>(documents: &'a [Document], kind: &str) -> &'a Document {
    let found = of_kind(documents, kind);
    assert_eq!(found.len(), 1, "one {kind}, found {}", found.len());
    found[0]
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The CronJob's Job spec, pod spec and its one container.
struct Workload<'a> {
    job: &'a Value,
    pod: &'a Value,
    container: &'a Value,
}

fn workload(documents: &[Document]) -> Workload<'_> {
    let cronjob = &the_one(documents, "CronJob").value;
    let job = &cronjob["spec"]["jobTemplate"]["spec"];
    let pod = &job["template"]["spec"];
    let containers = pod["containers"].as_array().expect("the pod's containers");
    assert_eq!(containers.len(), 1, "one container: the daemon");
    Workload {
        job,
        pod,
        container: &containers[0],
    }
}

/// The container's arguments: the daemon's command line (the image's entrypoint is the
/// daemon, so no `command` replaces it).
fn args(container: &Value) -> Vec<&str> {
    assert!(
        container.get("command").is_none(),
        "the image's entrypoint is the daemon: set args, not command"
    );
    let args = strings(&container["args"]);
    assert!(!args.is_empty(), "the container has args");
    args
}

/// The value of `--flag VALUE` (or `--flag=VALUE`), if given.
fn flag<'a>(args: &[&'a str], name: &str) -> Option<&'a str> {
    let prefix = format!("{name}=");
    args.iter().enumerate().find_map(|(i, arg)| {
        if *arg == name {
            Some(*args.get(i + 1).unwrap_or_else(|| panic!("{name} has no value")))
        } else {
            arg.strip_prefix(prefix.as_str())
        }
    })
}

/// N of `--shard $(JOB_COMPLETION_INDEX)/N`.
fn shard_count(args: &[&str]) -> u32 {
    let shard = flag(args, "--shard").expect("--shard");
    let count = shard
        .strip_prefix(&format!("$({INDEX_VARIABLE})/"))
        .unwrap_or_else(|| panic!("--shard `{shard}` is not $({INDEX_VARIABLE})/N"));
    count
        .parse()
        .unwrap_or_else(|_| panic!("--shard `{shard}`: N is no number"))
}

/// The `$(NAME)` references in a string; `$$(` is Kubernetes' escape, not a reference.
fn references(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            rest = after;
            continue;
        }
        if let Some(inner) = rest.strip_prefix('(') {
            if let Some(end) = inner.find(')') {
                found.push(&inner[..end]);
                rest = &inner[end + 1..];
            }
        }
    }
    found
}

fn config_maps(documents: &[Document]) -> BTreeMap<&str, &Value> {
    of_kind(documents, "ConfigMap")
        .into_iter()
        .map(|d| (d.name(), &d.value["data"]))
        .collect()
}

/// Each Secret's keys (`stringData`; `data` is refused: base64 would hide what is
/// committed).
fn secrets(documents: &[Document]) -> BTreeMap<&str, &Map<String, Value>> {
    of_kind(documents, "Secret")
        .into_iter()
        .map(|d| {
            assert!(
                d.value.get("data").is_none(),
                "{}: Secret {} has data: use stringData with placeholders",
                d.file,
                d.name()
            );
            let keys = d.value["stringData"]
                .as_object()
                .unwrap_or_else(|| panic!("{}: Secret {} has no stringData", d.file, d.name()));
            (d.name(), keys)
        })
        .collect()
}

/// The variables the container gets from its `envFrom` ConfigMaps and Secrets, with
/// their values and whether they are secret.
fn environment(documents: &[Document], container: &Value) -> BTreeMap<String, (String, bool)> {
    let maps = config_maps(documents);
    let secrets = secrets(documents);
    let mut vars = BTreeMap::new();
    for source in container["envFrom"].as_array().expect("the container's envFrom") {
        let (keys, secret) = if let Some(name) = source["configMapRef"]["name"].as_str() {
            let data = maps
                .get(name)
                .unwrap_or_else(|| panic!("envFrom names ConfigMap {name}, which is not defined"));
            (data.as_object().expect("the ConfigMap's data"), false)
        } else if let Some(name) = source["secretRef"]["name"].as_str() {
            let keys = secrets
                .get(name)
                .unwrap_or_else(|| panic!("envFrom names Secret {name}, which is not defined"));
            (*keys, true)
        } else {
            panic!("an envFrom entry with neither configMapRef nor secretRef: {source}");
        };
        for (key, value) in keys {
            let value = value.as_str().unwrap_or_else(|| panic!("{key} is not a string"));
            let previous = vars.insert(key.clone(), (value.to_owned(), secret));
            assert!(previous.is_none(), "{key} comes from two sources");
        }
    }
    vars
}

#[test]
fn the_folder_holds_the_expected_kinds() {
    let documents = documents();
    let kinds: BTreeSet<&str> = documents.iter().map(Document::kind).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["ConfigMap", "CronJob", "Kustomization", "Secret"]),
        "the kinds in deploy/kubernetes"
    );
    for document in &documents {
        let api = document.value["apiVersion"].as_str().unwrap_or_default();
        assert!(
            !api.is_empty(),
            "{}: a {} without apiVersion",
            document.file,
            document.kind()
        );
        if document.kind() != "Kustomization" {
            assert!(
                !document.name().is_empty(),
                "{}: a {} without a name",
                document.file,
                document.kind()
            );
        }
    }
    assert_eq!(the_one(&documents, "CronJob").value["apiVersion"], "batch/v1");
    // The two ConfigMaps: the environment and the plan.
    assert_eq!(of_kind(&documents, "ConfigMap").len(), 2);
    assert_eq!(of_kind(&documents, "Secret").len(), 1);

    // `kubectl apply -k` applies every other file of the folder.
    let kustomization = the_one(&documents, "Kustomization");
    assert_eq!(
        kustomization.value["apiVersion"],
        "kustomize.config.k8s.io/v1beta1"
    );
    let resources: BTreeSet<&str> = strings(&kustomization.value["resources"]).into_iter().collect();
    let others: BTreeSet<&str> = documents
        .iter()
        .filter(|d| d.kind() != "Kustomization")
        .map(|d| d.file.as_str())
        .collect();
    assert_eq!(
        resources, others,
        "kustomization.yaml's resources are the other files"
    );
}

#[test]
fn the_cronjob_runs_one_pass_per_shard_of_an_indexed_job() {
    let documents = documents();
    let cronjob = &the_one(&documents, "CronJob").value["spec"];
    assert_eq!(cronjob["concurrencyPolicy"], "Forbid");
    assert!(cronjob["schedule"].as_str().is_some_and(|s| !s.is_empty()));
    let deadline = cronjob["startingDeadlineSeconds"]
        .as_u64()
        .expect("startingDeadlineSeconds");
    assert!(
        (10..86_400).contains(&deadline),
        "startingDeadlineSeconds {deadline}: at least the controller's 10 s, less than a day"
    );

    let Workload { job, pod, container } = workload(&documents);
    assert_eq!(job["completionMode"], "Indexed");
    let args = args(container);
    let n = u64::from(shard_count(&args));
    assert_eq!(
        job["completions"].as_u64(),
        Some(n),
        "completions == the N of --shard"
    );
    assert_eq!(
        job["parallelism"].as_u64(),
        Some(n),
        "parallelism == the N of --shard"
    );

    assert!(args.contains(&"--once"), "one pass per pod: --once");
    let out = flag(&args, "--out").expect("--out");
    assert!(
        STORE_SCHEMES
            .iter()
            .any(|scheme| out.len() > scheme.len() && out.starts_with(scheme)),
        "--out `{out}` is an object-store URL"
    );
    assert!(flag(&args, "--plan").is_some(), "--plan");

    // Retries: a new pod per try, exit 2 (configuration) fails the index at once, and a
    // retried index never overlaps the pod it replaces.
    assert_eq!(pod["restartPolicy"], "Never");
    assert!(
        job["backoffLimitPerIndex"].as_u64().is_some() || job["backoffLimit"].as_u64().is_some(),
        "a retry limit"
    );
    assert_eq!(job["podReplacementPolicy"], "Failed");
    let rules = job["podFailurePolicy"]["rules"]
        .as_array()
        .expect("podFailurePolicy rules");
    let fail_on_2 = rules.iter().any(|rule| {
        let codes = &rule["onExitCodes"];
        ["FailIndex", "FailJob"].contains(&rule["action"].as_str().unwrap_or_default())
            && codes["operator"] == "In"
            && codes["values"]
                .as_array()
                .is_some_and(|v| v.contains(&Value::from(2)))
            && codes["containerName"] == container["name"]
    });
    assert!(fail_on_2, "exit code 2 (configuration error) is not retried");
    assert!(
        job["activeDeadlineSeconds"].as_u64().is_some_and(|s| s < 86_400),
        "a hung pass ends before the next day's run"
    );
}

#[test]
fn the_completion_index_is_defined_for_the_args() {
    let documents = documents();
    let Workload { container, .. } = workload(&documents);
    let env_list = container["env"].as_array().expect("the container's env");
    let defined: BTreeMap<&str, &Value> = env_list
        .iter()
        .map(|var| (var["name"].as_str().expect("an env name"), var))
        .collect();
    let args = args(container);
    let mut referenced = BTreeSet::new();
    for arg in &args {
        for name in references(arg) {
            assert!(
                defined.contains_key(name),
                "`{arg}` refers to $({name}), which the container's env does not define: \
                 Kubernetes would pass it unexpanded"
            );
            referenced.insert(name);
        }
    }
    assert!(
        referenced.contains(INDEX_VARIABLE),
        "the args use $({INDEX_VARIABLE})"
    );
    assert_eq!(
        defined[INDEX_VARIABLE]["valueFrom"]["fieldRef"]["fieldPath"], INDEX_FIELD,
        "{INDEX_VARIABLE} is the pod's completion index"
    );
}

#[test]
fn the_args_parse_with_the_daemons_flags() {
    let documents = documents();
    let Workload { container, .. } = workload(&documents);
    let args = args(container);
    let n = shard_count(&args);
    let parses = |args: &[String]| {
        // `--help` last: the daemon parses every flag before it (a value that does not
        // parse, an unknown flag: exit 2), then prints its help and exits 0 without
        // reading the plan or the environment.
        let status = Command::new(env!("CARGO_BIN_EXE_preventos-daily-export"))
            .args(args)
            .arg("--help")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("the daemon runs");
        status.code()
    };
    let expanded = |index: &str| -> Vec<String> {
        args.iter()
            .map(|arg| arg.replace(&format!("$({INDEX_VARIABLE})"), index))
            .collect()
    };
    for index in 0..n {
        assert_eq!(
            parses(&expanded(&index.to_string())),
            Some(0),
            "shard {index}/{n}"
        );
    }
    // The check can fail: an index past N, or a flag the daemon does not have, is exit 2.
    assert_eq!(
        parses(&expanded(&n.to_string())),
        Some(2),
        "shard {n}/{n} does not exist"
    );
    let mut unknown = expanded("0");
    unknown.push("--no-such-flag".to_owned());
    assert_eq!(parses(&unknown), Some(2), "an unknown flag");

    // The metrics port is the container's.
    if let Some(addr) = flag(&args, "--metrics-addr") {
        let port: u64 = addr
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .expect("--metrics-addr IP:PORT");
        let ports = container["ports"].as_array().expect("the container's ports");
        assert!(
            ports.iter().any(|p| p["containerPort"].as_u64() == Some(port)),
            "--metrics-addr's port {port} is a containerPort"
        );
    }
}

#[test]
fn every_secret_reference_names_the_defined_secret_and_holds_placeholders() {
    let documents = documents();
    let secrets = secrets(&documents);
    let maps = config_maps(&documents);
    let Workload { pod, container, .. } = workload(&documents);

    let mut secret_refs = 0;
    for var in container["env"].as_array().into_iter().flatten() {
        let from = &var["valueFrom"];
        if let Some(name) = from["secretKeyRef"]["name"].as_str() {
            let key = from["secretKeyRef"]["key"].as_str().expect("secretKeyRef key");
            assert!(
                secrets.get(name).is_some_and(|keys| keys.contains_key(key)),
                "secretKeyRef {name}/{key} is not defined"
            );
            secret_refs += 1;
        }
        if let Some(name) = from["configMapKeyRef"]["name"].as_str() {
            assert!(
                maps.contains_key(name),
                "configMapKeyRef names ConfigMap {name}, not defined"
            );
        }
    }
    for source in container["envFrom"].as_array().into_iter().flatten() {
        if let Some(name) = source["secretRef"]["name"].as_str() {
            assert!(
                secrets.contains_key(name),
                "envFrom names Secret {name}, not defined"
            );
            secret_refs += 1;
        }
    }
    for volume in pod["volumes"].as_array().into_iter().flatten() {
        if let Some(name) = volume["secret"]["secretName"].as_str() {
            assert!(secrets.contains_key(name), "volume Secret {name} is not defined");
            secret_refs += 1;
        }
        if let Some(name) = volume["configMap"]["name"].as_str() {
            assert!(maps.contains_key(name), "volume ConfigMap {name} is not defined");
        }
    }
    assert!(
        secret_refs > 0,
        "the container takes its credentials from the Secret"
    );

    // Never a real-looking secret in the repository: placeholders only.
    for (name, keys) in &secrets {
        for (key, value) in *keys {
            let value = value.as_str().unwrap_or_default();
            assert!(
                value.starts_with("REPLACE-ME"),
                "Secret {name}: {key} is not a REPLACE-ME placeholder"
            );
        }
    }
}

#[test]
fn secret_variables_come_from_the_secret_and_the_rest_configures_the_client() {
    let documents = documents();
    let Workload { container, .. } = workload(&documents);
    let vars = environment(&documents, container);

    // The Preventos API's secret variables: from the Secret, never a ConfigMap.
    for name in [
        env::CLIENT_SECRET,
        env::SUBSCRIPTION_KEY,
        env::CERTIFICATE_PASSWORD,
    ] {
        if let Some((_, secret)) = vars.get(name) {
            assert!(secret, "{name} is secret: it belongs in the Secret");
        }
    }
    for (name, (_, secret)) in &vars {
        let looks_secret = ["SECRET", "PASSWORD", "KEY", "TOKEN"]
            .iter()
            .any(|w| name.contains(w));
        assert!(
            !looks_secret || *secret,
            "{name} belongs in the Secret, not a ConfigMap"
        );
    }
    // The non-secret ones the client needs are in a ConfigMap, not the Secret.
    for name in [env::BASE_URL, env::TENANT_ID, env::CLIENT_ID, env::SCOPE] {
        assert!(
            matches!(vars.get(name), Some((_, false))),
            "{name} is set from a ConfigMap"
        );
    }
    // Together they configure a client (placeholders included): nothing missing, nothing
    // set twice (a secret and a certificate).
    let client = preventos_client::Client::from_vars(|name| vars.get(name).map(|(value, _)| value.clone()));
    if let Err(err) = client {
        panic!("the container's DATA_API_* variables do not configure a client: {err}");
    }

    // The store's settings for --out's scheme.
    let args = args(container);
    let out = flag(&args, "--out").expect("--out");
    let (secret_vars, plain_vars): (&[&str], &[&str]) = if out.starts_with("s3://") {
        (&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], &["AWS_REGION"])
    } else if out.starts_with("az://") {
        (&[], &["AZURE_STORAGE_ACCOUNT_NAME"])
    } else {
        (&[], &[])
    };
    for name in secret_vars {
        assert!(
            matches!(vars.get(*name), Some((_, true))),
            "{name} comes from the Secret"
        );
    }
    for name in plain_vars {
        assert!(vars.contains_key(*name), "{name} is set for --out {out}");
    }
}

#[test]
fn the_mounted_plan_is_a_valid_batch_plan() {
    let documents = documents();
    let Workload { pod, container, .. } = workload(&documents);
    let args = args(container);
    let plan_path = Path::new(flag(&args, "--plan").expect("--plan"));

    // --plan is a file of a ConfigMap volume mounted in the container.
    let mounts = container["volumeMounts"].as_array().expect("volumeMounts");
    let mount = mounts
        .iter()
        .find(|m| {
            m["mountPath"]
                .as_str()
                .is_some_and(|dir| plan_path.parent() == Some(Path::new(dir)))
        })
        .unwrap_or_else(|| panic!("no volume is mounted at {}'s folder", plan_path.display()));
    let file = plan_path
        .file_name()
        .and_then(|f| f.to_str())
        .expect("--plan names a file");
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the plan's volume");
    let map_name = volume["configMap"]["name"]
        .as_str()
        .expect("the plan's volume is a ConfigMap");
    let key = match volume["configMap"]["items"].as_array() {
        Some(items) => items
            .iter()
            .find(|item| item["path"] == file)
            .and_then(|item| item["key"].as_str())
            .unwrap_or_else(|| panic!("the ConfigMap volume has no item at {file}")),
        None => file,
    };
    assert_eq!(key, "plan.json");
    let maps = config_maps(&documents);
    let text = maps
        .get(map_name)
        .and_then(|data| data[key].as_str())
        .unwrap_or_else(|| panic!("ConfigMap {map_name} has no {key}"));

    // Each item has the fields the daemon's help names.
    let raw: Vec<Map<String, Value>> =
        serde_json::from_str(text).expect("plan.json is a JSON array of objects");
    assert!(!raw.is_empty(), "the plan has items");
    for item in &raw {
        for field in ["name", "env", "siteId", "signalIds", "timezone", "format"] {
            assert!(item.contains_key(field), "a plan item without {field}: {item:?}");
        }
    }
    // And the daemon's own reader takes it.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("plan.json");
    std::fs::write(&path, text).expect("plan.json written");
    let plan = examples::daily_export::read_plan(&path).expect("plan.json is a valid batch plan");
    assert_eq!(plan.len(), raw.len());
    for item in &plan {
        if let Err(err) = jiff::tz::TimeZone::get(&item.timezone) {
            panic!("item {}: time zone {}: {err}", item.name, item.timezone);
        }
    }
    // deploy/kubernetes/README.md says how the example plan splits into the 4 shards.
    let mut per_shard = [0; 4];
    for item in &plan {
        per_shard[examples::daily_export::shard_of(&item.name, 4) as usize] += 1;
    }
    assert_eq!(
        per_shard,
        [1, 1, 1, 3],
        "update the README's word on uneven shards"
    );
}

#[test]
fn the_pod_is_locked_down_and_sized() {
    let documents = documents();
    let Workload { pod, container, .. } = workload(&documents);
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert!(
        security["runAsNonRoot"] == true || pod["securityContext"]["runAsNonRoot"] == true,
        "runAsNonRoot"
    );
    assert_eq!(strings(&security["capabilities"]["drop"]), ["ALL"]);
    assert_ne!(security["privileged"], true);

    let resources = &container["resources"];
    let mebibytes = |quantity: &Value| -> u64 {
        let text = quantity.as_str().expect("a memory quantity");
        if let Some(mi) = text.strip_suffix("Mi") {
            mi.parse().expect("Mi")
        } else if let Some(gi) = text.strip_suffix("Gi") {
            gi.parse::<u64>().expect("Gi") * 1024
        } else {
            panic!("memory `{text}`: write it in Mi or Gi")
        }
    };
    let request = mebibytes(&resources["requests"]["memory"]);
    let limit = mebibytes(&resources["limits"]["memory"]);
    assert!(
        request <= limit,
        "memory request {request}Mi above its limit {limit}Mi"
    );
    // The daemon streams: tens of MiB.
    assert!((32..=1024).contains(&limit), "memory limit {limit}Mi");
    assert!(resources["requests"]["cpu"].is_string() && resources["limits"]["cpu"].is_string());
}
