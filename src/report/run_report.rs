//! `RunReport`: everything one run reports, computed once from its `Outcome` — metrics per queue
//! and class, SLO verdicts (the one evaluator, `slo`), headline columns, evictions, workflow
//! metrics — and the two ways out: the terminal text (`render`) and the output files (`write`).
//! Every command that runs a scenario (`run`, `sweep`, `capacity`, `baseline`, `check`) gets
//! one of these from `run::run`.
//!
//! Depends on `report` (metrics, writers, renderers), `sim` output types and `scenario::Slo`.

use std::path::Path;

use super::evictions::{queue_evictions, render_evictions};
use super::headline::{headline, Headline};
use super::reasons::{
    render_binding, render_wait_reasons, wait_reasons, wait_reasons_csv, ReasonRow,
};
use super::slo::{evaluate, render_slos, slo_marks, SloVerdict};
use super::workflows::{render_workflows, workflow_metrics, workflows_csv, WorkflowMetrics};
use super::write::write_outputs_of;
use super::ReportParams;
use super::{metrics, render_table_marked, render_time_to_reclaim, Meta, Metrics};
use crate::scenario::Slo;
use crate::sim::workflows::WorkflowRecord;
use crate::sim::Outcome;

/// One run, reported.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub outcome: Outcome,
    pub meta: Meta,
    pub params: ReportParams,
    pub metrics: Metrics,
    /// The scenario's SLOs, evaluated.
    pub slos: Vec<SloVerdict>,
    /// One record per replayed workflow execution (empty without workflows).
    pub workflows: Vec<WorkflowRecord>,
    pub workflow_metrics: WorkflowMetrics,
    /// The flat metric row sweeps tabulate and baselines pin.
    pub headline: Headline,
    /// Wait time by reason per total, queue and class (`report::reasons`).
    pub wait_reasons: Vec<ReasonRow>,
}

impl RunReport {
    /// Reports `outcome` (with its replayed `workflows`), evaluating `slos`.
    pub fn new(
        outcome: Outcome,
        workflows: Vec<WorkflowRecord>,
        meta: Meta,
        params: ReportParams,
        slos: &[Slo],
    ) -> RunReport {
        let metrics = metrics(&outcome, &params);
        let workflow_metrics = workflow_metrics(&workflows);
        let headline = headline(&outcome, &metrics, &workflow_metrics);
        let slos = evaluate(slos, &metrics, &workflow_metrics);
        let wait_reasons = wait_reasons(&outcome);
        RunReport {
            outcome,
            meta,
            params,
            metrics,
            slos,
            workflows,
            workflow_metrics,
            headline,
            wait_reasons,
        }
    }

    /// Evaluates other SLOs on this run (e.g. `capacity --slo`), with the same evaluator.
    pub fn evaluate(&self, slos: &[Slo]) -> Vec<SloVerdict> {
        evaluate(slos, &self.metrics, &self.workflow_metrics)
    }

    /// Whether every SLO of the scenario is met.
    pub fn slos_met(&self) -> bool {
        self.slos.iter().all(|s| s.pass)
    }

    /// The terminal sections: the queue and class table (SLO column filled), workflows, wait
    /// time by reason, evictions, time to reclaim, the SLO verdicts and the binding constraint
    /// of each failing SLO, separated by blank lines.
    pub fn render(&self) -> String {
        let mut out = render_table_marked(&self.metrics, |scope, name| {
            slo_marks(&self.slos, scope, name)
        });
        let sections = [
            if self.workflows.is_empty() {
                String::new()
            } else {
                render_workflows(&self.workflow_metrics)
            },
            render_wait_reasons(&self.wait_reasons),
            render_evictions(&self.outcome),
            render_time_to_reclaim(&self.outcome),
            render_slos(&self.slos),
            render_binding(&self.wait_reasons, &self.slos),
        ];
        for s in sections.iter().filter(|s| !s.is_empty()) {
            out.push('\n');
            out.push_str(s);
        }
        out
    }

    /// Writes `summary.json`, `jobs.csv`, `queues.csv`, `evictions.csv`, `time_to_reclaim.csv`,
    /// `queue_evictions.csv`, `slo.csv`, `wait_reasons.csv` (and, with replayed workflows,
    /// `workflows.csv`) into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        write_outputs_of(
            &self.outcome,
            dir,
            &self.meta,
            &self.params,
            &self.metrics,
            &self.wait_reasons,
        )?;
        std::fs::write(
            dir.join("wait_reasons.csv"),
            wait_reasons_csv(&self.wait_reasons)?,
        )?;
        if !self.workflows.is_empty() {
            std::fs::write(dir.join("workflows.csv"), workflows_csv(&self.workflows)?)?;
        }
        let mut w = csv::Writer::from_path(dir.join("slo.csv"))?;
        w.write_record(["slo", "target", "metric", "limit", "scope", "value", "pass"])?;
        for s in &self.slos {
            w.write_record([
                s.slo.text.as_str(),
                s.slo.target.as_str(),
                s.slo.metric.as_str(),
                &s.slo.limit.to_string(),
                s.scope.as_str(),
                &s.value.map(|v| v.to_string()).unwrap_or_default(),
                if s.pass { "true" } else { "false" },
            ])?;
        }
        w.flush()?;
        let mut w = csv::Writer::from_path(dir.join("queue_evictions.csv"))?;
        w.write_record([
            "queue",
            "preempted",
            "reclaimed",
            "preempted_for",
            "reclaimed_for",
            "ping_pong_jobs",
            "wasted_core_s",
            "wasted_gpu_s",
            "restart_killed",
        ])?;
        for q in queue_evictions(&self.outcome) {
            w.write_record([
                q.queue,
                q.preempted.to_string(),
                q.reclaimed.to_string(),
                q.preempted_for.to_string(),
                q.reclaimed_for.to_string(),
                q.ping_pong_jobs.to_string(),
                format!("{:.3}", q.wasted_core_s),
                format!("{:.3}", q.wasted_gpu_s),
                q.restart_killed.to_string(),
            ])?;
        }
        w.flush()
    }
}
