//! The live service: accepts submissions, forecasts their admission, journals them, hands them
//! to the backend, and answers status, delete and metrics queries. `live run` and `live serve`
//! both drive one `Service` (behind a mutex in the server).
//!
//! Depends on `model`, `workload`, `cluster` (via `live::model`). Invariants: (1) a `Submit`
//! entry is fsynced before the backend sees the job; (2) one record per idempotency key, one
//! object name per key; (3) on open, the journal is replayed in order — the model is rebuilt
//! at the recorded times and every job that is missing from the backend is sent again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::backend::{Backend, Retry};
use super::clock::Clock;
use super::journal::{Entry, JobJson, Journal};
use super::manifest::{build, Meta, ObjectMode};
use super::model::{JobView, Model};
use super::request::{parse_submission, Catalog, Submission};
use super::{LiveError, LiveSetup};
use crate::policy::Scheduler;
use crate::workload::TraceJob;

/// Service options.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub out_dir: PathBuf,
    pub namespace: String,
    pub image: String,
    /// Hold (do not send) a job whose predicted wait exceeds this, ms.
    pub hold_above_ms: Option<u64>,
    pub speed: f64,
    pub retry: Retry,
    /// The objects the backend creates; every job's manifests are checked against
    /// `live::validate` in this mode before they are journaled or sent.
    pub object_mode: ObjectMode,
}

/// One accepted submission.
#[derive(Debug, Clone)]
pub struct Record {
    pub key: String,
    pub workflow_id: String,
    pub source: String,
    pub fingerprint: u64,
    pub job: TraceJob,
    pub predicted_wait_ms: Option<u64>,
    pub held: bool,
    /// Released from hold at this model time.
    pub released_ms: Option<u64>,
    /// Backend outcome once sent (`created`/`adopted`).
    pub sent: Option<String>,
    pub deleted: bool,
}

/// What `submit` answers.
#[derive(Debug, Clone)]
pub struct SubmitReply {
    /// false when the key was seen before (the stored record is returned).
    pub created: bool,
    pub record: Record,
}

/// A submission after `Service::prepare`.
pub enum Prepared {
    /// The key was seen before: the stored record (nothing to forecast).
    Known(Box<SubmitReply>),
    /// A new key: forecast it (`Pending::forecast`, no lock needed), then `Service::commit`.
    New(Box<Pending>),
}

/// A new submission with the state its forecast starts from.
pub struct Pending {
    sub: Submission,
    /// The forecast base; used up by the forecast.
    base: Option<Model>,
}

impl Pending {
    /// The predicted wait (ms) of the job on the snapshot taken by `prepare` (computed once:
    /// the snapshot is used up, a second call answers `None`).
    pub fn forecast(&mut self) -> Option<u64> {
        let job = &self.sub.job;
        self.base.take().and_then(|b| b.into_forecast(job))
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub submissions: BTreeMap<String, u64>,
    pub replays: u64,
    pub rejected: u64,
    pub held: u64,
    pub released: u64,
    pub send_failures: u64,
}

pub struct Service {
    setup: Arc<LiveSetup>,
    cfg: ServiceConfig,
    pub model: Model,
    backend: Box<dyn Backend>,
    journal: Journal,
    pub records: Vec<Record>,
    by_key: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    pub clock: Clock,
    pub counters: Counters,
    last_recheck_ms: u64,
    /// Longest the wall clock ran ahead of a replayed submission's trace time, model ms.
    pub max_lag_ms: u64,
}

impl Service {
    /// Opens the journal in `cfg.out_dir`, replays it and re-sends whatever the backend lacks.
    pub fn open(
        setup: Arc<LiveSetup>,
        cfg: ServiceConfig,
        backend: Box<dyn Backend>,
    ) -> Result<Service, LiveError> {
        std::fs::create_dir_all(&cfg.out_dir).map_err(|e| LiveError::io(&cfg.out_dir, e))?;
        let (journal, entries) = Journal::open(&cfg.out_dir.join("journal.jsonl"))?;
        let model = Model::new(
            &setup.nodes,
            &setup.queues,
            &setup.priority_classes,
            Scheduler::new(&setup.conf).map_err(|e| LiveError::Config(e.to_string()))?,
            setup.params.clone(),
            setup.seed,
        );
        let mut svc = Service {
            setup,
            clock: Clock::new(0, cfg.speed),
            cfg,
            model,
            backend,
            journal,
            records: Vec::new(),
            by_key: HashMap::new(),
            by_name: HashMap::new(),
            counters: Counters::default(),
            last_recheck_ms: 0,
            max_lag_ms: 0,
        };
        svc.replay(entries)?;
        Ok(svc)
    }

    fn replay(&mut self, entries: Vec<Entry>) -> Result<(), LiveError> {
        // Jobs the backend acknowledged need only the model rebuilt; the rest are sent again
        // (creating an existing object adopts it).
        let sent: HashSet<String> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Sent { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        let mut t_max = 0;
        for e in entries {
            match e {
                Entry::Submit {
                    key,
                    workflow_id,
                    source,
                    fingerprint,
                    job,
                    predicted_wait_ms,
                    held,
                } => {
                    let job = job.to_job();
                    job.validate().map_err(|e| self.journal.invalid(e))?;
                    t_max = t_max.max(job.submit_ms);
                    self.model.advance_to(job.submit_ms);
                    let was_sent = sent.contains(&job.id);
                    self.insert(Record {
                        key,
                        workflow_id,
                        source,
                        fingerprint,
                        job,
                        predicted_wait_ms,
                        held,
                        released_ms: None,
                        sent: None,
                        deleted: false,
                    });
                    let i = self.records.len() - 1;
                    if held {
                        continue;
                    }
                    if was_sent {
                        self.model.submit(&self.records[i].job);
                    } else {
                        self.send_record(i)?;
                    }
                }
                Entry::Sent { name, outcome } => {
                    if let Some(&i) = self.by_name.get(&name) {
                        self.records[i].sent = Some(outcome);
                    }
                }
                Entry::Release { name, t_ms } => {
                    t_max = t_max.max(t_ms);
                    self.model.advance_to(t_ms);
                    if let Some(&i) = self.by_name.get(&name) {
                        self.mark_released(i, t_ms);
                        if sent.contains(&name) {
                            self.model.submit(&self.records[i].job);
                        } else {
                            self.send_record(i)?;
                        }
                    }
                }
                Entry::Delete { name, t_ms } => {
                    t_max = t_max.max(t_ms);
                    self.model.advance_to(t_ms);
                    if let Some(&i) = self.by_name.get(&name) {
                        self.records[i].deleted = true;
                        if !self.records[i].held {
                            self.backend.delete(&name, &mut self.model)?;
                        }
                    }
                }
            }
        }
        self.clock = Clock::new(t_max, self.cfg.speed);
        Ok(())
    }

    fn insert(&mut self, r: Record) {
        let i = self.records.len();
        *self
            .counters
            .submissions
            .entry(r.job.queue.clone())
            .or_default() += 1;
        if r.held {
            self.counters.held += 1;
        }
        self.by_key.insert(r.key.clone(), i);
        self.by_name.insert(r.job.id.clone(), i);
        self.records.push(r);
    }

    fn meta(&self, r: &Record) -> Meta {
        Meta {
            namespace: self.cfg.namespace.clone(),
            key: r.key.clone(),
            workflow_id: r.workflow_id.clone(),
            predicted_wait_ms: r.predicted_wait_ms,
            image: self.cfg.image.clone(),
        }
    }

    /// Sends record `i` to the backend (idempotent) and journals the outcome once.
    fn send_record(&mut self, i: usize) -> Result<(), LiveError> {
        let meta = self.meta(&self.records[i]);
        let job = self.records[i].job.clone();
        self.check_manifests(&job, &meta)?;
        let backend = &mut self.backend;
        let model = &mut self.model;
        let res = self.cfg.retry.run(&job.id, || {
            backend
                .submit(&job, &meta, model)
                .map_err(|e| (matches!(e, LiveError::Backend(_)), e))
        });
        let outcome = match res {
            Ok(o) => o,
            Err(e) => {
                self.counters.send_failures += 1;
                return Err(e);
            }
        };
        if self.records[i].sent.is_none() {
            self.journal.append(&Entry::Sent {
                name: job.id.clone(),
                outcome: outcome.as_str().into(),
            })?;
            self.records[i].sent = Some(outcome.as_str().to_string());
        }
        Ok(())
    }

    /// Checks the job's manifests (in the configured object mode) against the rules written
    /// from Volcano's CRD schemas; the first violations name the JSON path.
    fn check_manifests(&self, job: &TraceJob, meta: &Meta) -> Result<(), LiveError> {
        let errs: Vec<String> = build(job, self.cfg.object_mode, meta)
            .iter()
            .flat_map(super::validate::check)
            .collect();
        if errs.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = errs.iter().take(3).map(String::as_str).collect();
        Err(LiveError::bad(
            "overrides",
            format!("the job's manifests would be invalid: {}", shown.join("; ")),
        ))
    }

    /// Advances the model to the clock, lets the backend observe, and releases held jobs whose
    /// forecast is now under `--hold-above` (rechecked after ≥ 1 s of model time and ≥ 200 ms
    /// of real time, so a high `--speed` does not turn it into a busy loop).
    pub fn tick(&mut self) {
        let now = self.clock.now_ms();
        self.model.advance_to(now);
        self.backend.poll(now);
        let every = 1000f64.max(200.0 * self.clock.speed()) as u64;
        if self.cfg.hold_above_ms.is_some() && now >= self.last_recheck_ms.saturating_add(every) {
            self.last_recheck_ms = now;
            self.recheck_held(now);
        }
    }

    fn mark_released(&mut self, i: usize, t: u64) {
        self.records[i].held = false;
        self.records[i].released_ms = Some(t);
        self.counters.released += 1;
    }

    fn recheck_held(&mut self, now: u64) {
        let Some(limit) = self.cfg.hold_above_ms else {
            return;
        };
        let held: Vec<usize> = (0..self.records.len())
            .filter(|&i| self.records[i].held && !self.records[i].deleted)
            .collect();
        for i in held {
            let job = self.records[i].job.clone();
            let p = match self.backend.forecast_base(&self.model, now) {
                Some(base) => base.forecast(&job),
                None => self.model.forecast(&job),
            };
            if p.is_none_or(|p| p > limit) {
                continue;
            }
            let entry = Entry::Release {
                name: job.id.clone(),
                t_ms: now,
            };
            if self.journal.append(&entry).is_err() {
                return;
            }
            self.mark_released(i, now);
            let _ = self.send_record(i);
        }
    }

    pub fn backend_kind(&self) -> &'static str {
        self.backend.kind()
    }

    /// Parses, maps and submits an HTTP body.
    pub fn submit_body(
        &mut self,
        body: &[u8],
        header_key: Option<&str>,
    ) -> Result<SubmitReply, LiveError> {
        let prepared = self.prepare_body(body, header_key)?;
        self.settle(prepared)
    }

    /// Parses and maps an HTTP body, then `prepare`s it.
    pub fn prepare_body(
        &mut self,
        body: &[u8],
        header_key: Option<&str>,
    ) -> Result<Prepared, LiveError> {
        let setup = Arc::clone(&self.setup);
        let cat = Catalog {
            classes: &setup.classes,
            mapping: &setup.mapping,
            priority_classes: &setup.priority_classes,
        };
        // Mirrors Volcano's job admission webhook: a job naming a missing queue is refused.
        let checked = parse_submission(body, header_key, &cat).and_then(|s| {
            if setup.queues.iter().any(|q| q.name == s.job.queue) {
                return Ok(s);
            }
            let known: Vec<&str> = setup.queues.iter().map(|q| q.name.as_str()).collect();
            Err(LiveError::bad(
                "queue",
                format!(
                    "queue {:?} does not exist (known: {})",
                    s.job.queue,
                    known.join(", ")
                ),
            ))
        });
        match checked {
            Ok(s) => self.prepare(s),
            Err(e) => {
                self.counters.rejected += 1;
                Err(e)
            }
        }
    }

    /// Submits a mapped job now: forecast, journal, send (all under `&mut self`; the server
    /// uses `prepare` / `Pending::forecast` / `commit` to forecast without its lock).
    pub fn submit(&mut self, s: Submission) -> Result<SubmitReply, LiveError> {
        self.submit_at(s, None)
    }

    /// Submits a mapped job at model time `at` (a replayed trace's submit time) or, with
    /// `None`, at the clock's time. With `at`, the model is advanced to exactly `at` — never
    /// past it, even when the wall clock is ahead — so the modelled cluster sees the trace's
    /// times whatever `--speed` is; how far the wall clock was ahead is kept as lag.
    pub fn submit_at(&mut self, s: Submission, at: Option<u64>) -> Result<SubmitReply, LiveError> {
        let prepared = self.prepare_at(s, at)?;
        self.settle(prepared)
    }

    /// Finishes a prepared submission under `&mut self`: forecast, then commit.
    fn settle(&mut self, prepared: Prepared) -> Result<SubmitReply, LiveError> {
        match prepared {
            Prepared::Known(r) => Ok(*r),
            Prepared::New(mut p) => {
                let predicted = p.forecast();
                self.commit(p, predicted)
            }
        }
    }

    /// The answer for a key seen before (same body: the stored record, re-sent if it never
    /// reached the backend; another body: 409).
    fn known(&mut self, i: usize, s: &Submission) -> Result<SubmitReply, LiveError> {
        if self.records[i].fingerprint != s.fingerprint {
            self.counters.rejected += 1;
            return Err(LiveError::KeyConflict { key: s.key.clone() });
        }
        self.counters.replays += 1;
        if self.records[i].sent.is_none() && !self.records[i].held && !self.records[i].deleted {
            self.send_record(i)?;
        }
        Ok(SubmitReply {
            created: false,
            record: self.records[i].clone(),
        })
    }

    /// First half of a submission: answers a known key, else checks the manifests and
    /// snapshots the forecast base at the current model time.
    pub fn prepare(&mut self, s: Submission) -> Result<Prepared, LiveError> {
        self.prepare_at(s, None)
    }

    /// `prepare` at model time `at` (see `submit_at`).
    fn prepare_at(&mut self, mut s: Submission, at: Option<u64>) -> Result<Prepared, LiveError> {
        if let Some(&i) = self.by_key.get(&s.key) {
            return self.known(i, &s).map(|r| Prepared::Known(Box::new(r)));
        }
        match at {
            None => {
                self.tick();
                s.job.submit_ms = self.model.now();
            }
            Some(t) => {
                let wall = self.clock.now_ms();
                self.max_lag_ms = self.max_lag_ms.max(wall.saturating_sub(t));
                if self.backend.keeps_trace_time() {
                    self.model.advance_to(t);
                    self.backend.poll(wall);
                    s.job.submit_ms = self.model.now().max(t);
                } else {
                    // A real cluster sees the job when it is sent: stamp the send time, so a
                    // late client shows as lag, not as cluster wait.
                    self.tick();
                    s.job.submit_ms = self.model.now();
                }
            }
        }
        let meta = Meta {
            namespace: self.cfg.namespace.clone(),
            key: s.key.clone(),
            workflow_id: s.workflow_id.clone(),
            predicted_wait_ms: None,
            image: self.cfg.image.clone(),
        };
        if let Err(e) = self.check_manifests(&s.job, &meta) {
            self.counters.rejected += 1;
            return Err(e);
        }
        let base = match self.backend.forecast_base(&self.model, s.job.submit_ms) {
            Some(base) => base,
            None => self.model.snapshot(),
        };
        Ok(Prepared::New(Box::new(Pending {
            sub: s,
            base: Some(base),
        })))
    }

    /// Second half: journals (fsync) and sends the job, or answers as for a known key when
    /// the same key was committed meanwhile.
    pub fn commit(
        &mut self,
        p: Box<Pending>,
        predicted: Option<u64>,
    ) -> Result<SubmitReply, LiveError> {
        let s = p.sub;
        if let Some(&i) = self.by_key.get(&s.key) {
            return self.known(i, &s);
        }
        let held = match self.cfg.hold_above_ms {
            Some(h) => predicted.is_none_or(|p| p > h),
            None => false,
        };
        let entry = Entry::Submit {
            key: s.key.clone(),
            workflow_id: s.workflow_id.clone(),
            source: s.source.clone(),
            fingerprint: s.fingerprint,
            job: Box::new(JobJson::from_job(&s.job)),
            predicted_wait_ms: predicted,
            held,
        };
        self.journal.append(&entry)?;
        self.insert(Record {
            key: s.key,
            workflow_id: s.workflow_id,
            source: s.source,
            fingerprint: s.fingerprint,
            job: s.job,
            predicted_wait_ms: predicted,
            held,
            released_ms: None,
            sent: None,
            deleted: false,
        });
        let i = self.records.len() - 1;
        if !held {
            self.send_record(i)?;
        }
        Ok(SubmitReply {
            created: true,
            record: self.records[i].clone(),
        })
    }

    /// A record and what the backend observed of it.
    pub fn get(&mut self, name: &str) -> Result<(Record, Option<JobView>), LiveError> {
        self.tick();
        let &i = self
            .by_name
            .get(name)
            .ok_or_else(|| LiveError::NotFound(name.to_string()))?;
        let view = self.backend.observe(name, &self.model);
        Ok((self.records[i].clone(), view))
    }

    /// Deletes a job (journaled first).
    pub fn delete(&mut self, name: &str) -> Result<Record, LiveError> {
        self.tick();
        let &i = self
            .by_name
            .get(name)
            .ok_or_else(|| LiveError::NotFound(name.to_string()))?;
        if !self.records[i].deleted {
            self.journal.append(&Entry::Delete {
                name: name.to_string(),
                t_ms: self.model.now(),
            })?;
            self.records[i].deleted = true;
            if !self.records[i].held {
                self.backend.delete(name, &mut self.model)?;
            }
        }
        Ok(self.records[i].clone())
    }

    /// Every record with its observation (submission order).
    pub fn observed(&self) -> Vec<(Record, Option<JobView>)> {
        self.records
            .iter()
            .map(|r| (r.clone(), self.backend.observe(&r.job.id, &self.model)))
            .collect()
    }

    /// Evictions the backend observed.
    pub fn evictions(&self) -> Vec<super::model::EvictionSeen> {
        self.backend.evictions(&self.model)
    }

    pub fn out_dir(&self) -> &Path {
        &self.cfg.out_dir
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
