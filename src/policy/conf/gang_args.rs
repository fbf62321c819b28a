//! Typed arguments of the v1.15 gang eviction actions (`configurations: - name: gangpreempt |
//! gangreclaim, arguments: {maxDomains, allowWholeBundle}`), read from the conf's per-action
//! argument map and checked when the conf is validated: an unknown key or a wrongly typed
//! value is an error naming the field.
//!
//! Mirrors volcano pkg/scheduler/actions/{gangpreempt,gangreclaim}/*.go `parseArguments`
//! (v1.15.0): `maxDomains` default 8, ≤ 0 → 8; `allowWholeBundle` default true.
//! Deviation: Volcano ignores unknown keys and keeps a previous value across hot reloads
//! (semantics §2.1); volsim has no hot reload and refuses unknown keys (a typo must not
//! silently change a what-if answer). `predicateErrorCacheEnable` belongs to `allocate` and
//! only speeds Volcano's dry run up, so it is not read here.

use super::{err, Action, ArgValue, ConfError, SchedulerConf};

/// Default cap on candidate domains per job (`defaultMaxDomains`).
pub(super) const DEFAULT_MAX_DOMAINS: usize = 8;

/// The arguments of one gang eviction action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GangEvictArgs {
    /// `maxDomains`: at most this many candidate domains are tried per job (≥ 1).
    pub max_domains: usize,
    /// `allowWholeBundle`: whether whole bundles (breaking a victim gang) may be selected.
    pub allow_whole_bundle: bool,
}

impl Default for GangEvictArgs {
    fn default() -> Self {
        GangEvictArgs {
            max_domains: DEFAULT_MAX_DOMAINS,
            allow_whole_bundle: true,
        }
    }
}

impl SchedulerConf {
    /// The typed arguments of `gangpreempt` / `gangreclaim` (`a` must be one of them; any
    /// other action has none and gets the defaults). Errors name
    /// `configurations.<action>.arguments.<key>`.
    pub fn gang_evict_args(&self, a: Action) -> Result<GangEvictArgs, ConfError> {
        let mut out = GangEvictArgs::default();
        let Some(map) = self.action_args.get(a.as_str()) else {
            return Ok(out);
        };
        if !matches!(a, Action::GangPreempt | Action::GangReclaim) {
            return Ok(out);
        }
        for (k, v) in map {
            let field = format!("configurations.{}.arguments.{k}", a.as_str());
            match (k.as_str(), v) {
                ("maxDomains", ArgValue::Int(n)) => {
                    // ≤ 0 falls back to the default, as Volcano does (with a warning there).
                    out.max_domains = if *n <= 0 {
                        DEFAULT_MAX_DOMAINS
                    } else {
                        (*n).min(u32::MAX as i64) as usize
                    };
                }
                ("maxDomains", _) => return Err(err(field, "expected an integer")),
                ("allowWholeBundle", v) => match v.as_bool() {
                    Some(b) => out.allow_whole_bundle = b,
                    None => return Err(err(field, "expected a boolean")),
                },
                _ => {
                    return Err(err(
                        field,
                        "unknown argument (expected maxDomains, allowWholeBundle)",
                    ))
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::conf::parse_scheduler_conf;

    fn conf(args: &str) -> Result<SchedulerConf, ConfError> {
        parse_scheduler_conf(&format!(
            "actions: \"allocate, gangpreempt, gangreclaim\"\nconfigurations:\n- name: gangpreempt\n  arguments: {args}\n"
        ))
    }

    #[test]
    fn defaults_and_overrides() {
        let c = conf("{}").unwrap();
        assert_eq!(
            c.gang_evict_args(Action::GangReclaim).unwrap(),
            GangEvictArgs::default()
        );
        let c = conf("{maxDomains: 3, allowWholeBundle: false}").unwrap();
        let a = c.gang_evict_args(Action::GangPreempt).unwrap();
        assert_eq!((a.max_domains, a.allow_whole_bundle), (3, false));
        // ≤ 0 → the default (gp-04, gr-05).
        let c = conf("{maxDomains: 0}").unwrap();
        assert_eq!(
            c.gang_evict_args(Action::GangPreempt).unwrap().max_domains,
            8
        );
        let c = conf("{maxDomains: -1}").unwrap();
        assert_eq!(
            c.gang_evict_args(Action::GangPreempt).unwrap().max_domains,
            8
        );
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let e = conf("{maxDomain: 3}").unwrap_err();
        assert_eq!(e.field, "configurations.gangpreempt.arguments.maxDomain");
        assert!(e.message.contains("unknown argument"), "{e}");
        let e = conf("{maxDomains: \"x\"}").unwrap_err();
        assert!(e.message.contains("integer"), "{e}");
        let e = conf("{allowWholeBundle: 2}").unwrap_err();
        assert!(e.message.contains("boolean"), "{e}");
    }

    #[test]
    fn gang_actions_parse_and_legacy_pairs_warn() {
        let c = parse_scheduler_conf("actions: \"enqueue, allocate, gangpreempt, gangreclaim\"\n")
            .unwrap();
        assert_eq!(
            c.actions,
            vec![
                Action::Enqueue,
                Action::Allocate,
                Action::GangPreempt,
                Action::GangReclaim
            ]
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        // The design doc's camel case is not a registered name (semantics §7 #1).
        assert!(parse_scheduler_conf("actions: \"gangPreempt\"\n").is_err());
        let c = parse_scheduler_conf("actions: \"preempt, gangpreempt\"\n").unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }
}
