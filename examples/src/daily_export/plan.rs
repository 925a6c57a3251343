//! The batch plan: read from its file and checked before any request.

use std::collections::HashMap;
use std::path::Path;

use preventos_client::plan::BatchItem;

/// Reads and checks the plan at `path` (see [`check_plan`]).
pub fn read_plan(path: &Path) -> Result<Vec<BatchItem>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let plan: Vec<BatchItem> =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a batch plan: {e}", path.display()))?;
    check_plan(&plan)?;
    Ok(plan)
}

/// Refuses a plan whose items cannot each own a folder: a name that is no folder name,
/// an unknown format, or two names equal once lower-cased. Item names are folder names,
/// and two items of one folder would overwrite each other's days (on a case-insensitive
/// file system, `Site-A` and `site-a` are one folder too).
pub fn check_plan(plan: &[BatchItem]) -> Result<(), String> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for item in plan {
        if item.name.is_empty() || item.name.contains(['/', '\\']) || item.name.starts_with('.') {
            return Err(format!("item name `{}` cannot be a folder name", item.name));
        }
        item.format().map_err(|e| format!("item `{}`: {e}", item.name))?;
        if let Some(first) = seen.insert(item.name.to_lowercase(), &item.name) {
            return Err(if first == item.name {
                format!("two plan items are named `{first}`: each item needs a name of its own")
            } else {
                format!(
                    "plan items `{first}` and `{}` differ only in case: each item needs a name of its own",
                    item.name
                )
            });
        }
    }
    Ok(())
}

/// The plan's environments, each once and sorted: the catalog is read filtered to them
/// (`?environments=`), which the document requires of a root-level application and
/// which spares any application the sites it does not export.
pub fn environments(plan: &[BatchItem]) -> Vec<&str> {
    let mut envs: Vec<&str> = plan.iter().map(|item| item.env.as_str()).collect();
    envs.sort_unstable();
    envs.dedup();
    envs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str) -> BatchItem {
        serde_json::from_value(serde_json::json!({"name": name, "env": "100", "siteId": "s",
            "signalIds": ["V"], "timezone": "UTC", "format": "csv"}))
        .unwrap()
    }

    #[test]
    fn names_must_differ_beyond_case() {
        assert!(check_plan(&[item("a"), item("b")]).is_ok());
        assert!(
            check_plan(&[item("a"), item("a")])
                .unwrap_err()
                .contains("two plan items")
        );
        assert!(
            check_plan(&[item("Site"), item("site")])
                .unwrap_err()
                .contains("differ only in case")
        );
        assert!(check_plan(&[item(".hidden")]).is_err());
    }
}
