//! What the Volcano job controller does when a pod of a job is evicted (the `PodEvicted`
//! event): the default sync recreates the pod, a `PodEvicted → RestartJob` policy restarts the
//! whole job up to `maxRetry` times. Plain data plus the parsing of the scenario keys
//! `on_evict` / `max_retry`; depends on nothing else in the crate.

use std::collections::BTreeMap;

/// Volcano's default `maxRetry` (the admission webhook writes 3 when the job leaves it 0).
pub const DEFAULT_MAX_RETRY: u32 = 3;

/// The controller's reaction to an evicted pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnEvict {
    /// Default `SyncJob`: once the evicted pod is gone, the controller recreates it (Pending).
    #[default]
    RecreatePod,
    /// `RestartJob`: every pod of the job is killed and `retryCount` increments; once the
    /// terminating pods are gone the job is recreated whole (PodGroup Pending again). The
    /// restart that brings `retryCount` to `max_retry` fails the job instead.
    RestartJob { max_retry: u32 },
}

impl OnEvict {
    /// The scenario spelling: `recreate-pod` or `restart-job`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnEvict::RecreatePod => "recreate-pod",
            OnEvict::RestartJob { .. } => "restart-job",
        }
    }

    /// Reads the scenario keys `on_evict` and `max_retry` of one table. `Ok(None)` when both
    /// are absent. An error names the key (`"on_evict"` or `"max_retry"`) and says what was
    /// expected.
    pub fn from_keys(
        on_evict: Option<&str>,
        max_retry: Option<i64>,
    ) -> Result<Option<OnEvict>, (&'static str, String)> {
        let restart = match on_evict {
            None => None,
            Some("recreate-pod") => Some(false),
            Some("restart-job") => Some(true),
            Some(other) => {
                return Err((
                    "on_evict",
                    format!("{other:?}: expected \"recreate-pod\" or \"restart-job\""),
                ))
            }
        };
        let max_retry = match max_retry {
            None => None,
            Some(n) if (1..=i64::from(u32::MAX)).contains(&n) => Some(n as u32),
            Some(n) => {
                return Err((
                    "max_retry",
                    format!("{n}: expected an integer ≥ 1 (Volcano turns 0 into 3)"),
                ))
            }
        };
        match (restart, max_retry) {
            (None, None) => Ok(None),
            (Some(false), None) => Ok(Some(OnEvict::RecreatePod)),
            (Some(true), m) => Ok(Some(OnEvict::RestartJob {
                max_retry: m.unwrap_or(DEFAULT_MAX_RETRY),
            })),
            (_, Some(_)) => Err((
                "max_retry",
                "only used with on_evict = \"restart-job\" in the same table".to_string(),
            )),
        }
    }
}

/// The eviction policy of every job: a default plus overrides by workload class
/// (`TraceJob::class`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnEvictPolicy {
    pub default: OnEvict,
    pub classes: BTreeMap<String, OnEvict>,
}

impl OnEvictPolicy {
    /// The policy of a job of `class`.
    pub fn of_class(&self, class: &str) -> OnEvict {
        self.classes.get(class).copied().unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_with_defaults() {
        assert_eq!(OnEvict::from_keys(None, None), Ok(None));
        assert_eq!(
            OnEvict::from_keys(Some("recreate-pod"), None),
            Ok(Some(OnEvict::RecreatePod))
        );
        assert_eq!(
            OnEvict::from_keys(Some("restart-job"), None),
            Ok(Some(OnEvict::RestartJob { max_retry: 3 }))
        );
        assert_eq!(
            OnEvict::from_keys(Some("restart-job"), Some(5)),
            Ok(Some(OnEvict::RestartJob { max_retry: 5 }))
        );
    }

    #[test]
    fn bad_keys_name_the_key() {
        let (k, m) = OnEvict::from_keys(Some("restart"), None).unwrap_err();
        assert_eq!(k, "on_evict");
        assert!(
            m.contains("\"restart\"") && m.contains("restart-job"),
            "{m}"
        );
        let (k, m) = OnEvict::from_keys(Some("restart-job"), Some(0)).unwrap_err();
        assert_eq!(k, "max_retry");
        assert!(m.contains("≥ 1"), "{m}");
        let (k, _) = OnEvict::from_keys(None, Some(2)).unwrap_err();
        assert_eq!(k, "max_retry");
        let (k, _) = OnEvict::from_keys(Some("recreate-pod"), Some(2)).unwrap_err();
        assert_eq!(k, "max_retry");
    }

    #[test]
    fn class_overrides_default() {
        let mut p = OnEvictPolicy::default();
        p.classes
            .insert("a".into(), OnEvict::RestartJob { max_retry: 2 });
        assert_eq!(p.of_class("a"), OnEvict::RestartJob { max_retry: 2 });
        assert_eq!(p.of_class("b"), OnEvict::RecreatePod);
    }
}
