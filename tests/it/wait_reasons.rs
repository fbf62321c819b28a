//! Wait time by reason on the bundled scenarios, through the run pipeline: for every job the
//! reasons' times sum to its wait (gang ready − submit), or to the time it was still waiting at
//! the end of the run; the run writes `wait_reasons.csv`, renders the terminal section, names
//! a binding constraint for each failing SLO, and the HTML report opens with the verdict.

use std::path::PathBuf;

use volsim::run::{run, RunSpec};

fn scenarios() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path().join("scenario.toml");
            p.exists().then_some(p)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reasons_sum_to_every_jobs_wait_in_every_bundled_scenario() {
    let all = scenarios();
    assert!(all.len() >= 3, "bundled scenarios: {all:?}");
    for path in all {
        let r = run(&RunSpec::load(&path, None, &[]).unwrap());
        let o = &r.outcome;
        assert_eq!(o.waits.len(), o.jobs.len(), "{}", path.display());
        for (j, w) in o.jobs.iter().zip(&o.waits) {
            let stop = j
                .gang_ready_ms
                .get()
                .or(match (j.failed_ms.get(), j.finish_ms.get()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                })
                .unwrap_or(o.end_ms);
            assert_eq!(
                w.total_ms(),
                stop - j.submit_ms,
                "{}: job {} reasons {:?}",
                path.display(),
                j.id,
                w.reasons
            );
            if let Some(wait) = j.wait_ms() {
                assert_eq!(w.total_ms(), wait, "{}: job {}", path.display(), j.id);
            }
        }
    }
}

#[test]
fn somaagenthub_names_why_interactive_waits() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub");
    let r = run(&RunSpec::load(&dir.join("scenario.toml"), None, &[]).unwrap());
    let text = r.render();
    assert!(text.contains("wait by reason"), "{text}");
    // interactive fails its SLO: the binding constraint names its dominant blocking reason.
    let line = text
        .lines()
        .find(|l| l.starts_with("binding constraint of interactive.p95_wait"))
        .unwrap_or_else(|| panic!("no binding constraint line in\n{text}"));
    assert!(line.contains("waits mostly because"), "{line}");
    let out = tempfile::tempdir().unwrap();
    r.write(out.path()).unwrap();
    let csv = std::fs::read_to_string(out.path().join("wait_reasons.csv")).unwrap();
    assert!(csv.starts_with("scope,name,reason,jobs,wait_ms,share,describe\n"));
    assert!(csv.contains("queue,interactive,"));
    let page = volsim::report::run_html::run_report(out.path(), None).unwrap();
    assert_eq!(page.sections[0].heading, "Verdict");
}
