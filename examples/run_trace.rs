//! Runs a `peers-synth-v1` CSV trace through `sim::simulate` with the Helm default conf:
//! N nodes of 32 cpu / 128 Gi, queues q0..q3 with weights 1..4. Prints counters and timing.
//! Usage: `cargo run --release --example run_trace -- <trace.csv> <nodes> [outdir]`.
//! Depends on the library's public API only; minimal CSV parsing (no quoting).

use std::time::Instant;

use volsim::model::{EngineParams, NodeSpec, QueueSpec, ResourceName, Resources};
use volsim::policy::SchedulerConf;
use volsim::sim::{simulate, SimInput};
use volsim::workload::TraceJob;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("trace path");
    let n_nodes: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let text = std::fs::read_to_string(path).expect("read trace");
    let mut jobs = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 8 {
            continue;
        }
        let num = |i: usize| f[i].trim().parse::<u64>().unwrap_or(0);
        let reps = num(3).max(1) as u32;
        jobs.push(TraceJob {
            id: format!("j{}", f[0]),
            submit_ms: num(1) * 1000,
            duration_ms: num(2) * 1000,
            replicas: reps,
            min_member: reps,
            requests: Resources::cpu_mem(num(4) as i64, (num(5) as i64) << 20),
            queue: f[6].to_string(),
            priority_class: None,
            priority: f[7].trim().parse().unwrap_or(0),
            class: format!("r{reps}"),
        });
    }
    let nodes = (0..n_nodes)
        .map(|i| {
            let mut a = Resources::cpu_mem(32_000, 128 << 30);
            a.set(ResourceName::PODS, 110);
            NodeSpec {
                name: format!("node-{i:05}"),
                allocatable: a,
                labels: Default::default(),
                taints: vec![],
                unschedulable: false,
            }
        })
        .collect();
    let queues = (0..4)
        .map(|i| QueueSpec::new(&format!("q{i}"), i + 1))
        .collect();
    let input = SimInput {
        nodes,
        queues,
        priority_classes: vec![],
        conf: SchedulerConf::helm_default(),
        jobs: jobs.into(),
        params: EngineParams {
            ..Default::default()
        },
        seed: 42,
        horizon_ms: None,
    };
    let t0 = Instant::now();
    let o = simulate(&input);
    let dt = t0.elapsed();
    let done = o.jobs.iter().filter(|j| j.finish_ms.is_set()).count();
    println!(
        "jobs={} done={} end_ms={} wall={:.3}s hash={:016x} {:?}",
        o.jobs.len(),
        done,
        o.end_ms,
        dt.as_secs_f64(),
        o.decision_hash,
        o.counters
    );
    if let Some(dir) = args.get(3) {
        let m = volsim::report::Meta {
            scenario_name: path.clone(),
            scenario_digest: String::new(),
        };
        let rp = volsim::report::ReportParams::default();
        volsim::report::write_outputs(&o, std::path::Path::new(dir), &m, &rp)
            .expect("write outputs");
        let metrics = volsim::report::metrics(&o, &rp);
        print!("{}", volsim::report::render_table(&metrics, &[]));
    }
}
