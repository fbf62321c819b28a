//! What the `kube` backend knows of each job: the facts the watches reported (PodGroup phase,
//! Volcano Job phase, each pod's phase, evictions, refusals) and the lifecycle times derived
//! from them (inqueue, gang ready, finish), stamped with the model time each fact arrived.
//! Facts about a job this run has not submitted yet (an object adopted from an earlier run,
//! listed before its submission comes round) are kept and applied when it is submitted.
//!
//! Depends on `model` (JobView, EvictionSeen), `workload`. Pure: no I/O, no clock (times are
//! arguments).

use std::collections::BTreeMap;

use super::kube_watch::Observation;
use super::model::{EvictionSeen, JobView};
use crate::workload::TraceJob;

/// Most distinct unknown jobs remembered (objects of earlier runs in the namespace); beyond
/// this, facts about further unknown jobs are dropped (they are not ours to observe).
pub const MAX_UNKNOWN_JOBS: usize = 100_000;

/// One job's facts and derived times.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// `None`: seen in the cluster, not (yet) submitted by this run.
    pub job: Option<TraceJob>,
    pub pg_phase: Option<String>,
    pub vc_phase: Option<String>,
    pub pods: BTreeMap<String, String>,
    pub inqueue_ms: Option<u64>,
    pub gang_ready_ms: Option<u64>,
    pub finish_ms: Option<u64>,
    pub evictions: u32,
    /// The API server refused the job's pods (the first reason seen).
    pub rejected: Option<String>,
    pub deleted: bool,
}

const DONE_VC: &[&str] = &["Completed", "Failed", "Aborted", "Terminated"];

impl Seen {
    /// Derives the lifecycle times from the facts at model time `now` (first time wins).
    fn refresh(&mut self, now: u64) {
        let Some(job) = &self.job else { return };
        let pg = self.pg_phase.as_deref().unwrap_or("");
        let vc = self.vc_phase.as_deref().unwrap_or("");
        let up = self
            .pods
            .values()
            .filter(|p| matches!(p.as_str(), "Running" | "Succeeded"))
            .count() as u32;
        let pods_done = self.pods.len() as u32 >= job.replicas.max(1)
            && self
                .pods
                .values()
                .all(|p| matches!(p.as_str(), "Succeeded" | "Failed"));
        let finished = DONE_VC.contains(&vc) || pods_done || pg == "Completed";
        // Mirrors volcano's job controller: a Job is Running once minAvailable pods run.
        let ready = up >= job.min_member.max(1) || matches!(vc, "Running" | "Completed");
        if ready || matches!(pg, "Inqueue" | "Running" | "Completed") {
            self.inqueue_ms.get_or_insert(now);
        }
        if ready {
            self.gang_ready_ms.get_or_insert(now);
        }
        if finished {
            self.finish_ms.get_or_insert(now);
        }
    }

    /// The phase reported for the job.
    pub fn phase(&self) -> &'static str {
        let vc = self.vc_phase.as_deref().unwrap_or("");
        if self.deleted {
            "Deleted"
        } else if self.rejected.is_some() {
            "Rejected"
        } else if matches!(vc, "Failed" | "Aborted" | "Terminated") {
            "Failed"
        } else if self.finish_ms.is_some() {
            "Completed"
        } else if self.gang_ready_ms.is_some() {
            "Running"
        } else if self.inqueue_ms.is_some() {
            "Inqueue"
        } else {
            "Pending"
        }
    }
}

/// Every job's facts, the pod → job index and the evictions seen.
#[derive(Debug, Default)]
pub struct Tracker {
    pub jobs: BTreeMap<String, Seen>,
    pod_job: BTreeMap<String, String>,
    pub evicted: Vec<EvictionSeen>,
    /// One line per refused job (`job NAME: …`), in the order seen.
    pub refusals: Vec<String>,
}

impl Tracker {
    /// Our job `job` was submitted (or adopted) at model time `now`: facts seen before apply
    /// from now on.
    pub fn submitted(&mut self, job: &TraceJob, now: u64) {
        let s = self.jobs.entry(job.id.clone()).or_default();
        if s.job.is_none() {
            s.job = Some(job.clone());
            s.refresh(now);
            if let Some(m) = s.rejected.clone() {
                self.refusals.push(format!("job {}: {m}", job.id));
            }
        }
    }

    /// Marks `name` deleted (by us).
    pub fn deleted(&mut self, name: &str) {
        if let Some(s) = self.jobs.get_mut(name) {
            s.deleted = true;
        }
    }

    fn entry(&mut self, job: &str) -> Option<&mut Seen> {
        if !self.jobs.contains_key(job) && self.jobs.len() >= MAX_UNKNOWN_JOBS {
            return None;
        }
        Some(self.jobs.entry(job.to_string()).or_default())
    }

    /// Folds one observation in at model time `t`.
    pub fn fold(&mut self, o: Observation, t: u64) {
        match o {
            Observation::Phase { job, phase } => {
                if let Some(s) = self.entry(&job) {
                    s.pg_phase = Some(phase);
                    s.refresh(t);
                }
            }
            Observation::JobPhase { job, phase } => {
                if let Some(s) = self.entry(&job) {
                    s.vc_phase = Some(phase);
                    s.refresh(t);
                }
            }
            Observation::Pod { job, pod, phase } => {
                if let Some(s) = self.entry(&job) {
                    s.pods.insert(pod.clone(), phase);
                    s.refresh(t);
                    self.pod_job.insert(pod, job);
                }
            }
            Observation::Rejected { job, message } => {
                if let Some(s) = self.entry(&job) {
                    if s.rejected.is_none() {
                        s.rejected = Some(message.clone());
                        if s.job.is_some() {
                            self.refusals.push(format!("job {job}: {message}"));
                        }
                    }
                }
            }
            Observation::Evicted { pod, reason } => {
                let job = self.pod_job.get(&pod).cloned();
                if let Some(s) = job.as_ref().and_then(|j| self.jobs.get_mut(j)) {
                    s.evictions += 1;
                }
                self.evicted.push(EvictionSeen {
                    time_ms: t,
                    pod,
                    job: job.unwrap_or_default(),
                    action: reason,
                });
            }
        }
    }

    /// The job as observed (`None` when this run never submitted it).
    pub fn view(&self, name: &str) -> Option<JobView> {
        let s = self.jobs.get(name)?;
        let job = s.job.as_ref()?;
        Some(JobView {
            name: name.to_string(),
            phase: s.phase(),
            submit_ms: job.submit_ms,
            inqueue_ms: s.inqueue_ms,
            gang_ready_ms: s.gang_ready_ms,
            finish_ms: s.finish_ms,
            evictions: s.evictions,
        })
    }
}
