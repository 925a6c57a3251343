//! The plan against the catalog of each pass: the signals an item asks for that the
//! catalog no longer has (that item fails, the others go on), and the signals the
//! catalog has that no item exports (logged when they appear).

use std::collections::{BTreeSet, HashMap};

use preventos_client::Catalog;
use preventos_client::plan::BatchItem;

/// What the catalog says of the plan.
#[derive(Debug, Default)]
pub struct CatalogCheck {
    /// Per item name, the signals (or the site) it asks for that the catalog lacks.
    pub missing: HashMap<String, String>,
    /// `env/site/signal` of every catalog signal no item exports.
    pub unexported: BTreeSet<String>,
}

/// Compares `plan` with `catalog`.
pub fn check(plan: &[BatchItem], catalog: &Catalog) -> CatalogCheck {
    let mut check = CatalogCheck::default();
    let mut exported: BTreeSet<String> = BTreeSet::new();
    for item in plan {
        let site = catalog
            .environments
            .iter()
            .filter(|env| env.id == item.env)
            .flat_map(|env| env.sites.iter())
            .find(|site| site.id == item.site_id);
        let Some(site) = site else {
            check.missing.insert(
                item.name.clone(),
                format!(
                    "site `{}` of environment `{}` is not in the catalog (signals {} left it)",
                    item.site_id,
                    item.env,
                    item.signal_ids.join(", ")
                ),
            );
            continue;
        };
        let gone: Vec<&str> = item
            .signal_ids
            .iter()
            .filter(|id| !site.signals.iter().any(|s| &s.id == *id))
            .map(String::as_str)
            .collect();
        if !gone.is_empty() {
            check.missing.insert(
                item.name.clone(),
                format!(
                    "signals {} of site `{}` in environment `{}` are not in the catalog",
                    gone.join(", "),
                    item.site_id,
                    item.env
                ),
            );
        }
        for id in &item.signal_ids {
            exported.insert(format!("{}/{}/{id}", item.env, item.site_id));
        }
    }
    for env in &catalog.environments {
        for site in &env.sites {
            for signal in &site.signals {
                let name = format!("{}/{}/{}", env.id, site.id, signal.id);
                if !exported.contains(&name) {
                    check.unexported.insert(name);
                }
            }
        }
    }
    check
}

/// The catalog signals seen by the previous pass, so that a pass names the unexported
/// signals that appeared since (the first pass names them all).
#[derive(Debug, Default)]
pub struct CatalogWatch {
    seen: Option<BTreeSet<String>>,
}

impl CatalogWatch {
    /// The unexported signals of `check` not seen before; remembers the catalog's.
    pub fn appeared(&mut self, check: &CatalogCheck, catalog: &Catalog) -> Vec<String> {
        let all: BTreeSet<String> = catalog
            .environments
            .iter()
            .flat_map(|env| {
                env.sites.iter().flat_map(move |site| {
                    site.signals
                        .iter()
                        .map(move |signal| format!("{}/{}/{}", env.id, site.id, signal.id))
                })
            })
            .collect();
        let appeared = check
            .unexported
            .iter()
            .filter(|name| !self.seen.as_ref().is_some_and(|seen| seen.contains(*name)))
            .cloned()
            .collect();
        self.seen = Some(all);
        appeared
    }
}
