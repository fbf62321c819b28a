//! PodGroup deletion and re-creation as the Volcano job controller does them on `RestartJob`
//! (`job_controller_actions.go: killJob` deletes the PodGroup; the job's next sync in phase
//! Pending creates a new one): the snapshot methods that take a job out of the scheduler's view
//! while its pods terminate, and bring it back as a fresh Pending PodGroup; a finished
//! PodGroup's retirement, and the release of its slots (and its pods') once nothing reads them.
//!
//! Depends only on the snapshot types. Invariant: the index stays what a recomputation would
//! give — every change goes through `Snapshot::job_changed`.

use super::snapshot::{JobId, PodGroupPhase, Snapshot, TaskId, TaskStatus};

impl Snapshot {
    /// A finished PodGroup leaves the scheduler's view (phase Completed, no longer live). Its
    /// slot and its pods' are released later (`release_finished`).
    pub fn retire_job(&mut self, j: JobId) {
        if self.jobs[j.ix()].live {
            self.jobs[j.ix()].phase = PodGroupPhase::Completed;
            self.suspend_job(j);
            self.retired.push(j);
        }
    }

    /// Releases the slots of retired jobs and of their pods once nothing reads them any more:
    /// the index has caught up (the job is neither `dirty` nor `order_dirty`) and every pod
    /// Succeeded (none on a node, none terminating). A retired job not in that state for good
    /// (live again, or with a pod in another status) keeps its slots; one still dirty is
    /// retried at the next call. Call it between sessions (the cluster does, once per cycle).
    /// Memory then follows the live jobs, not every job the snapshot ever saw.
    pub fn release_finished(&mut self) {
        let mut keep = Vec::new();
        for j in std::mem::take(&mut self.retired) {
            let Some(job) = self.jobs.get(j.ix()) else {
                continue;
            };
            if job.live {
                continue;
            }
            if job.dirty || job.order_dirty {
                keep.push(j);
                continue;
            }
            let done = |t: &TaskId| {
                self.tasks
                    .get(t.ix())
                    .is_some_and(|x| x.status == TaskStatus::Succeeded)
            };
            if !job.tasks.iter().all(done) {
                continue;
            }
            for &t in &job.tasks {
                self.tasks.release(t.ix());
            }
            self.jobs.release(j.ix());
        }
        self.retired = keep;
    }

    /// Whether task `t`'s record is held (not released with its finished job).
    pub fn has_task(&self, t: TaskId) -> bool {
        self.tasks.contains(t.ix())
    }

    /// Whether job `j`'s record is held (not released once finished).
    pub fn has_job(&self, j: JobId) -> bool {
        self.jobs.contains(j.ix())
    }

    /// The job's PodGroup is deleted: the job leaves the session (no enqueue, no allocation, no
    /// share), while its pods keep their node accounting until they are removed. No-op when
    /// the job is not live.
    pub fn suspend_job(&mut self, j: JobId) {
        let job = &mut self.jobs[j.ix()];
        if !job.live {
            return;
        }
        job.live = false;
        let q = job.queue;
        self.idx.live.remove(&j);
        self.idx.queues[q.ix()].jobs -= 1;
        self.job_changed(j);
    }

    /// A new PodGroup for a suspended job: live again, phase Pending (it must pass enqueue
    /// again), created at `now` (a new creation timestamp, so it queues behind older jobs of
    /// equal priority), gang condition cleared. No-op when the job is live.
    pub fn recreate_job(&mut self, j: JobId, now: u64) {
        let job = &mut self.jobs[j.ix()];
        if job.live {
            return;
        }
        job.live = true;
        job.phase = PodGroupPhase::Pending;
        job.creation = now;
        job.unschedulable = false;
        let q = job.queue;
        self.idx.live.insert(j);
        self.idx.queues[q.ix()].jobs += 1;
        self.job_changed(j);
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{NodeSpec, PodGroupSpec, PodSpec, QueueSpec, ResourceName, Resources};
    use crate::policy::snapshot::{NodeId, PodGroupPhase, Snapshot, TaskStatus};

    #[test]
    fn suspended_job_keeps_node_accounting_and_comes_back_pending() {
        let mut s = Snapshot::new();
        let mut a = Resources::cpu_mem(4000, 8 << 30);
        a.set(ResourceName::PODS, 110);
        s.add_node(&NodeSpec {
            name: "n".into(),
            allocatable: a,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        });
        s.add_queue(&QueueSpec::new("q", 1));
        let pg = PodGroupSpec {
            namespace: "ns".into(),
            name: "j".into(),
            queue: "q".into(),
            min_member: 1,
            min_task_member: Default::default(),
            priority_class: None,
            min_resources: None,
            sla_waiting_ms: None,
            preemptable: None,
            network_topology: None,
        };
        let j = s.add_job(&pg, PodGroupPhase::Running, 0).unwrap();
        let pod = PodSpec {
            namespace: "ns".into(),
            name: "j-0".into(),
            requests: Resources::cpu_mem(1000, 1 << 30),
            ..Default::default()
        };
        let t = s.add_task(j, &pod, TaskStatus::Running, Some(NodeId(0)), 0);
        s.update_status(t, TaskStatus::Releasing);
        s.suspend_job(j);
        assert!(!s.job(j).live);
        assert_eq!(s.idx.queues[0].jobs, 0);
        assert_eq!(s.idx.queues[0].phases.iter().sum::<u32>(), 0);
        assert_eq!(s.nodes[0].releasing.cpu(), 1000);
        s.remove_task(t);
        assert_eq!(s.nodes[0].used.cpu(), 0);
        s.recreate_job(j, 5000);
        let job = s.job(j);
        assert!(job.live && job.phase == PodGroupPhase::Pending && job.creation == 5000);
        assert!(s.idx.pending_phase.contains(&j));
        assert_eq!(s.idx.queues[0].jobs, 1);
    }
}
