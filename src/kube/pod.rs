//! Pod templates as they appear inside a Volcano Job: containers' requests and limits, init
//! and sidecar containers, node selector, tolerations, priority. Computes the pod request the
//! way Kubernetes' `PodRequests` does. Depends only on `crate::model` and `kube::{de, types}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::de::Ignore;
use super::scheduling::PreemptionPolicyY;
use super::types::{sat_add, ObjectMeta, Problem, ResourceList, Seg, TolerationY};
use crate::model::{Resources, Toleration};

/// `template` of a task: metadata plus pod spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PodTemplateY {
    pub metadata: ObjectMeta,
    pub spec: PodSpecY,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PodSpecY {
    pub containers: Vec<ContainerY>,
    pub init_containers: Vec<ContainerY>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<TolerationY>,
    pub priority_class_name: Option<String>,
    pub priority: Option<i32>,
    pub preemption_policy: Option<PreemptionPolicyY>,
    pub scheduler_name: Option<String>,
}

/// Only `Always` is valid: it marks an init container as a sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum ContainerRestartPolicy {
    Always,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ContainerY {
    pub resources: ResourceRequirementsY,
    pub restart_policy: Option<ContainerRestartPolicy>,
    pub command: Vec<String>,
    pub args: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ResourceRequirementsY {
    pub requests: Option<ResourceList>,
    pub limits: Option<ResourceList>,
}

pub(crate) const POD_SPEC_IGNORED: &[(&str, Ignore)] = &[
    ("affinity", Ignore::NotModelled),
    ("topologySpreadConstraints", Ignore::NotModelled),
    ("schedulingGates", Ignore::NotModelled),
    ("overhead", Ignore::NotModelled),
    ("resourceClaims", Ignore::NotModelled),
    ("resources", Ignore::NotModelled),
    ("nodeName", Ignore::Quiet),
    ("runtimeClassName", Ignore::NotModelled),
    ("volumes", Ignore::Quiet),
    ("restartPolicy", Ignore::Quiet),
    ("terminationGracePeriodSeconds", Ignore::Quiet),
    ("activeDeadlineSeconds", Ignore::Quiet),
    ("dnsPolicy", Ignore::Quiet),
    ("dnsConfig", Ignore::Quiet),
    ("serviceAccountName", Ignore::Quiet),
    ("serviceAccount", Ignore::Quiet),
    ("automountServiceAccountToken", Ignore::Quiet),
    ("hostNetwork", Ignore::Quiet),
    ("hostPID", Ignore::Quiet),
    ("hostIPC", Ignore::Quiet),
    ("hostUsers", Ignore::Quiet),
    ("shareProcessNamespace", Ignore::Quiet),
    ("securityContext", Ignore::Quiet),
    ("imagePullSecrets", Ignore::Quiet),
    ("hostname", Ignore::Quiet),
    ("subdomain", Ignore::Quiet),
    ("setHostnameAsFQDN", Ignore::Quiet),
    ("hostAliases", Ignore::Quiet),
    ("readinessGates", Ignore::Quiet),
    ("enableServiceLinks", Ignore::Quiet),
    ("ephemeralContainers", Ignore::Quiet),
    ("os", Ignore::Quiet),
];

pub(crate) const CONTAINER_IGNORED: &[(&str, Ignore)] = &[
    ("name", Ignore::Quiet),
    ("image", Ignore::Quiet),
    ("workingDir", Ignore::Quiet),
    ("ports", Ignore::Quiet),
    ("env", Ignore::Quiet),
    ("envFrom", Ignore::Quiet),
    ("volumeMounts", Ignore::Quiet),
    ("volumeDevices", Ignore::Quiet),
    ("livenessProbe", Ignore::Quiet),
    ("readinessProbe", Ignore::Quiet),
    ("startupProbe", Ignore::Quiet),
    ("lifecycle", Ignore::Quiet),
    ("terminationMessagePath", Ignore::Quiet),
    ("terminationMessagePolicy", Ignore::Quiet),
    ("imagePullPolicy", Ignore::Quiet),
    ("securityContext", Ignore::Quiet),
    ("stdin", Ignore::Quiet),
    ("stdinOnce", Ignore::Quiet),
    ("tty", Ignore::Quiet),
    ("resizePolicy", Ignore::Quiet),
];

pub(crate) const RESOURCE_REQUIREMENTS_IGNORED: &[(&str, Ignore)] =
    &[("claims", Ignore::NotModelled)];

impl ContainerY {
    /// Requests, each missing one defaulted from the limit of the same name (Kubernetes
    /// defaulting).
    pub(super) fn requests(&self) -> Resources {
        let mut r = self
            .resources
            .requests
            .map(|l| l.0)
            .unwrap_or_else(Resources::empty);
        let given = self.resources.requests.map(|l| l.1).unwrap_or(0);
        if let Some(lim) = self.resources.limits {
            for d in lim.0.dims() {
                if lim.1 & (1 << d.0) != 0 && given & (1 << d.0) == 0 {
                    r.set(d, lim.0.get(d));
                }
            }
        }
        r
    }
}

impl PodSpecY {
    /// Kubernetes `PodRequests` (without overhead): max(Σ containers + Σ sidecars,
    /// max over init containers of (its request + sidecars started before it)).
    pub(super) fn requests(&self) -> Resources {
        let mut reqs = Resources::empty();
        for c in &self.containers {
            sat_add(&mut reqs, &c.requests());
        }
        let mut sidecars = Resources::empty();
        let mut init_max = Resources::empty();
        for c in &self.init_containers {
            let r = c.requests();
            let candidate = if c.restart_policy == Some(ContainerRestartPolicy::Always) {
                sat_add(&mut reqs, &r);
                sat_add(&mut sidecars, &r);
                sidecars
            } else {
                let mut c = r;
                sat_add(&mut c, &sidecars);
                c
            };
            init_max = init_max.max_with(&candidate);
        }
        reqs.max_with(&init_max)
    }

    /// How long the pod runs if its containers just sleep: the longest `sleep N` (GNU sleep
    /// units s, m, h, d; decimals allowed) found in any main container's command and args,
    /// including shell strings such as `sh -c "sleep 10s; echo done"`. None when no container
    /// sleeps a finite time.
    pub(super) fn sleep_ms(&self) -> Option<u64> {
        self.containers
            .iter()
            .filter_map(|c| {
                let words: Vec<&str> = c
                    .command
                    .iter()
                    .chain(&c.args)
                    .flat_map(|a| a.split(|ch: char| ch.is_whitespace() || ";&|()".contains(ch)))
                    .filter(|w| !w.is_empty())
                    .collect();
                words
                    .windows(2)
                    .filter(|w| w[0] == "sleep" || w[0].ends_with("/sleep"))
                    .filter_map(|w| sleep_arg_ms(w[1]))
                    .max()
            })
            .max()
    }

    /// Tolerations converted to the model; `at` is the path of this pod spec.
    pub(super) fn tolerations(&self, at: &[Seg]) -> Result<Vec<Toleration>, Problem> {
        let mut out = Vec::with_capacity(self.tolerations.len());
        for (i, t) in self.tolerations.iter().enumerate() {
            let mut p = at.to_vec();
            p.push(Seg::Key("tolerations".into()));
            p.push(Seg::Idx(i));
            out.push(t.to_model(&p)?);
        }
        Ok(out)
    }
}

/// GNU `sleep` argument → ms: `10`, `1.5`, `10s`, `5m`, `2h`, `1d` (not `infinity`).
fn sleep_arg_ms(arg: &str) -> Option<u64> {
    let arg = arg.trim_matches(|c| c == '"' || c == '\'');
    let (num, unit) = match arg.char_indices().last()? {
        (i, c @ ('s' | 'm' | 'h' | 'd')) => (&arg[..i], c),
        _ => (arg, 's'),
    };
    let secs: f64 = num
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite() && *x >= 0.0)?;
    let mult = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        _ => 86_400.0,
    };
    let ms = (secs * mult * 1000.0).round();
    (ms < 1e15).then_some(ms as u64)
}

#[cfg(test)]
mod sleep_tests {
    use super::*;

    #[test]
    fn sleep_forms() {
        assert_eq!(sleep_arg_ms("10"), Some(10_000));
        assert_eq!(sleep_arg_ms("1.5m"), Some(90_000));
        assert_eq!(sleep_arg_ms("2h"), Some(7_200_000));
        assert_eq!(sleep_arg_ms("infinity"), None);
        assert_eq!(sleep_arg_ms("-3"), None);
        let c = |cmd: &[&str], args: &[&str]| ContainerY {
            command: cmd.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            ..ContainerY::default()
        };
        let spec = PodSpecY {
            containers: vec![
                c(&["sh", "-c"], &["echo hi; sleep 10s && echo done"]),
                c(&["/bin/sleep"], &["30"]),
            ],
            ..PodSpecY::default()
        };
        assert_eq!(spec.sleep_ms(), Some(30_000));
        let none = PodSpecY {
            containers: vec![c(&["nginx"], &[])],
            ..PodSpecY::default()
        };
        assert_eq!(none.sleep_ms(), None);
    }
}
