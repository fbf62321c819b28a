//! The fuzz targets: one per parser of untrusted input, each with its seed corpus (the real
//! fixtures under `tests/fixtures/**`, `scenarios/**`, `examples/**`, `reports/**`, plus the
//! committed regression inputs under `tests/fixtures/fuzz/<target>/`) and the in-process call
//! the CLI makes on such a file. A call returns `Ok` or the parser's error text; every error
//! of a file parser must name the file it was given (`LABEL`).
//!
//! Depends on the library's public API only.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use volsim::workload::mapping::MappingTable;

/// The file name parsers are given; their errors must contain it.
pub const LABEL: &str = "fuzz-input";

/// One input: the bytes and the path of the seed it was mutated from (relative references in
/// scenarios and sweeps resolve next to it).
pub struct Input<'a> {
    pub bytes: &'a [u8],
    pub origin: &'a Path,
}

/// A parser call: `Ok`, or the parser's error message.
pub type Call = Box<dyn Fn(&Input) -> Result<(), String>>;

pub struct Target {
    pub name: &'static str,
    /// What the target covers (printed by `--list`, and in `docs/fuzzing.md`).
    pub covers: &'static str,
    /// Seed files: (folder relative to the repository, file-name suffixes).
    pub corpus: &'static [(&'static str, &'static [&'static str])],
    /// Built-in seeds (flag values, request bodies).
    pub inline: &'static [&'static str],
    /// Whether an error must name the file (`LABEL`).
    pub names_file: bool,
    /// Multiple of `--timeout-ms` one input may take (targets that also run what they parse).
    pub slow: u32,
    pub make: fn(&Path) -> Call,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn label(ext: &str) -> PathBuf {
    PathBuf::from(format!("{LABEL}.{ext}"))
}

/// `label` placed in the seed's folder, so relative references resolve as for the seed.
fn beside(origin: &Path, ext: &str) -> PathBuf {
    origin.parent().unwrap_or(Path::new(".")).join(label(ext))
}

/// An error about a file the input references (`queues.files`, `workload.trace`, …) names
/// that file, which lies next to the input: it counts as naming the file.
fn names_referenced(origin: &Path, e: String) -> String {
    let dir = origin
        .parent()
        .unwrap_or(Path::new("."))
        .display()
        .to_string();
    if !e.contains(LABEL) && !dir.is_empty() && e.contains(&dir) {
        format!("{LABEL} (a file it references): {e}")
    } else {
        e
    }
}

fn scenario(_: &Path) -> Call {
    Box::new(|i| {
        volsim::scenario::load_str(&text(i.bytes), &beside(i.origin, "toml"))
            .map(drop)
            .map_err(|e| names_referenced(i.origin, e.to_string()))
    })
}

/// A scenario using the input as its `cluster.objects` and `workload.objects` (written to a
/// temp file: the scenario loader reads object files by path).
fn kube(_: &Path) -> Call {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    Box::new(move |i| {
        let t = text(i.bytes);
        let objs = volsim::kube::parse_objects(&t, LABEL).map_err(|e| e.to_string())?;
        for j in &objs.vcjobs {
            let _ = j.to_podgroup_and_pods(&objs.priority_classes);
        }
        if let Some(c) = &objs.scheduler_conf {
            let _ = volsim::policy::conf::parse_scheduler_conf(c);
        }
        let f = dir.join(format!("{LABEL}.yaml"));
        std::fs::write(&f, i.bytes).map_err(|e| format!("{LABEL}: temp file: {e}"))?;
        let sc = format!(
            "horizon = \"1h\"\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"4\"\nmemory = \"8Gi\"\n\
             [cluster]\nobjects = [{f:?}]\n[workload]\nobjects = [{f:?}]\ndefault_duration = \"1m\"\n"
        );
        match volsim::scenario::load_str(&sc, &dir.join("scenario.toml")) {
            // the wrapper scenario can be wrong for valid objects (no nodes, unknown queue):
            // only a panic, a hang or a blow-up is a finding here
            Ok(_) | Err(_) => Ok(()),
        }
    })
}

fn conf(_: &Path) -> Call {
    Box::new(|i| {
        volsim::policy::conf::parse_scheduler_conf(&text(i.bytes))
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn temporal(_: &Path) -> Call {
    Box::new(|i| {
        let mut warnings = Vec::new();
        volsim::workload::temporal::import_bytes(&label("json"), i.bytes, &mut warnings)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn temporal_export(_: &Path) -> Call {
    Box::new(|i| {
        volsim::workload::temporal::import_export_bytes(&label("pb"), i.bytes, true)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn workflow_jsonl(_: &Path) -> Call {
    Box::new(|i| {
        let wfs =
            volsim::workload::workflow::read_jsonl_from(&label("jsonl"), Cursor::new(i.bytes))
                .map_err(|e| e.to_string())?;
        // what `trace stats` and the replay do next with every workflow
        let _ = volsim::workload::workflow::stats(&wfs);
        for w in &wfs {
            let _ = w.check_dag();
        }
        Ok(())
    })
}

fn csv(_: &Path) -> Call {
    Box::new(|i| {
        volsim::workload::parse_csv_trace(i.bytes, LABEL)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn swf(_: &Path) -> Call {
    Box::new(|i| {
        // lenient (bad rows skipped and counted), then strict (the first bad row is the error)
        let mut opts = volsim::workload::SwfOptions::default();
        volsim::workload::swf::parse_swf(i.bytes, LABEL, &opts).map_err(|e| e.to_string())?;
        opts.strict = true;
        volsim::workload::swf::parse_swf(i.bytes, LABEL, &opts)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn openb(_: &Path) -> Call {
    Box::new(|i| {
        let mut opts = volsim::workload::OpenbOptions::default();
        volsim::workload::openb::parse_openb(i.bytes, LABEL, &opts).map_err(|e| e.to_string())?;
        opts.strict = true;
        volsim::workload::openb::parse_openb(i.bytes, LABEL, &opts)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn sweep(_: &Path) -> Call {
    Box::new(|i| {
        volsim::sweep::spec::parse_sweep(&text(i.bytes), &beside(i.origin, "toml"))
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn baseline(_: &Path) -> Call {
    Box::new(|i| {
        volsim::check::Baseline::parse_str(&text(i.bytes), &label("toml"))
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

/// Every complete line, as `Journal::open` replays them (the caller adds file and line).
fn journal(_: &Path) -> Call {
    Box::new(|i| {
        let t = text(i.bytes);
        for (n, line) in t.split_inclusive('\n').enumerate() {
            if line.ends_with('\n') {
                volsim::live::journal::parse_line(line)
                    .map_err(|e| format!("{LABEL}.jsonl: line {}: {e}", n + 1))?;
            }
        }
        Ok(())
    })
}

/// `POST /v1/jobs` bodies against the classes of `tests/fixtures/live/small.toml` and the rules
/// of `tests/fixtures/live/mapping.toml`.
fn request(root: &Path) -> Call {
    let live = root.join("tests/fixtures/live");
    let sc = volsim::scenario::load(&live.join("small.toml")).expect("small.toml loads");
    let mapping: MappingTable =
        toml::from_str(&std::fs::read_to_string(live.join("mapping.toml")).expect("mapping"))
            .expect("mapping.toml parses");
    let mut classes = BTreeMap::new();
    for j in &sc.jobs {
        classes.entry(j.class.clone()).or_insert_with(|| j.clone());
    }
    let pcs = sc.priority_classes.clone();
    Box::new(move |i| {
        let cat = volsim::live::request::Catalog {
            classes: &classes,
            mapping: &mapping,
            priority_classes: &pcs,
        };
        let key = (i.bytes.first() == Some(&b' ')).then_some("hdr-key");
        volsim::live::request::parse_submission(i.bytes, key, &cat)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn mapping(_: &Path) -> Call {
    Box::new(|i| {
        toml::from_str::<MappingTable>(&text(i.bytes))
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn duration(_: &Path) -> Call {
    Box::new(|i| volsim::model::parse_duration(&text(i.bytes)).map(drop))
}

fn quantity(_: &Path) -> Call {
    Box::new(|i| {
        let t = text(i.bytes);
        let milli = volsim::model::parse_quantity(&t, 1000);
        let whole = volsim::model::parse_quantity(&t, 1);
        milli.and(whole).map(drop).map_err(|e| e.to_string())
    })
}

fn conformance(_: &Path) -> Call {
    Box::new(|i| {
        volsim::conformance::run_text(&text(i.bytes), LABEL)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

fn waits(_: &Path) -> Call {
    Box::new(|i| {
        volsim::live::compare::parse_waits(&text(i.bytes), LABEL)
            .map(drop)
            .map_err(|e| e.to_string())
    })
}

/// `--slo`, `--set PATH=VALUE`, `--range LO..HI` and `--shard i/n` values.
fn cli_values(_: &Path) -> Call {
    Box::new(|i| {
        let t = text(i.bytes);
        let slo = volsim::scenario::parse_slo(&t).map(drop);
        let set = volsim::scenario::Override::parse(&t)
            .map(drop)
            .map_err(|e| e.to_string());
        let range = volsim::sweep::capacity::parse_range(&t).map(drop);
        let shard = volsim::sweep::parse_shard(&t).map(drop);
        slo.or(set).or(range).or(shard)
    })
}

const TOML: &[&str] = &[".toml"];
const YAML: &[&str] = &[".yaml", ".yml"];

/// Every target, in the order `--target all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "scenario",
        covers: "scenario TOML (`run`, `sweep`, `live`): the file, the limits, the semantic checks, the referenced queue/object/conf/trace/workflow files and the synthetic workload",
        corpus: &[("scenarios", TOML), ("tests/fixtures/live", &["small.toml", "gap.toml"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: scenario,
    },
    Target {
        name: "kube",
        covers: "Volcano / Kubernetes YAML, every kind (vcjob, PodGroup, Queue, Node, PriorityClass, batch/v1 Job, Pod, the scheduler ConfigMap): `parse_objects`, the vcjob → PodGroup + pods expansion, and a scenario using the file as `cluster.objects` and `workload.objects`",
        corpus: &[("tests/fixtures/kube", YAML), ("tests/fixtures/topology", YAML), ("scenarios", YAML), ("examples/kubernetes", YAML)],
        inline: &[],
        names_file: true,
        slow: 1,
        make: kube,
    },
    Target {
        name: "conf",
        covers: "`volcano-scheduler.conf` (actions, tiers, plugin arguments, configurations)",
        corpus: &[("tests/fixtures/conf", YAML)],
        inline: &["actions: \"enqueue, allocate, backfill\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n    enablePreemptable: false\n- plugins:\n  - name: drf\n  - name: proportion\n  - name: nodeorder\n    arguments:\n      leastrequested.weight: 1\n"],
        names_file: false,
        slow: 1,
        make: conf,
    },
    Target {
        name: "temporal",
        covers: "Temporal JSON histories, every dialect (CLI, HTTP, SDK, UI, visibility listings), through `import_bytes` (parse + derive)",
        corpus: &[("tests/fixtures/temporal", &[".json"]), ("traces/temporal-sample/histories", &[".json"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: temporal,
    },
    Target {
        name: "temporal-export",
        covers: "Temporal Cloud history export files (protobuf `WorkflowExecutions`): the wire reader, event decoding and derivation, through `import_export_bytes`",
        corpus: &[("tests/fixtures/temporal-export", &[".pb"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: temporal_export,
    },
    Target {
        name: "workflow-jsonl",
        covers: "the canonical workflow file (`volsim-workflows` JSON lines) and what `trace stats` / the replay do with it",
        corpus: &[("traces/temporal-sample", &[".jsonl"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: workflow_jsonl,
    },
    Target {
        name: "csv",
        covers: "the canonical trace CSV",
        corpus: &[("tests/fixtures/traces", &["bench-gang-20j.csv", "broken-replicas.csv", "broken-unknown-column.csv"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: csv,
    },
    Target {
        name: "swf",
        covers: "Standard Workload Format traces (header comments, 18 fields), lenient then `--strict`",
        corpus: &[("tests/fixtures/traces", &[".swf"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: swf,
    },
    Target {
        name: "openb",
        covers: "Alibaba openb GPU pod lists (CSV), lenient then `--strict`",
        corpus: &[("tests/fixtures/traces", &["openb.csv", "openb-pod-list-head.csv"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: openb,
    },
    Target {
        name: "sweep",
        covers: "sweep TOML (axes, values, replications, grid-size limits)",
        corpus: &[("examples/sweeps", TOML)],
        inline: &[],
        names_file: true,
        slow: 1,
        make: sweep,
    },
    Target {
        name: "baseline",
        covers: "baseline TOML (`volsim check --baseline`)",
        corpus: &[("reports/baselines", TOML)],
        inline: &[],
        names_file: true,
        slow: 1,
        make: baseline,
    },
    Target {
        name: "journal",
        covers: "`<out>/journal.jsonl` lines as `live` replays them (`journal::parse_line`: JSON + entry checks)",
        corpus: &[("reports/reality/run1", &["journal.jsonl"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: journal,
    },
    Target {
        name: "request",
        covers: "`POST /v1/jobs` bodies (`request::parse_submission`: JSON, fields, overrides, class and activity mapping)",
        corpus: &[],
        inline: &[
            r#"{"idempotency_key":"k1","workflow_id":"wf","class":"gang"}"#,
            r#"{"idempotency_key":"k2","workflow_id":"wf","class":"short","overrides":{"queue":"batch","cpu":"500m","memory":"1Gi","gpu":1,"replicas":4,"min_member":2,"priority_class":"high","priority":5,"duration":"90s"}}"#,
            r#"{"idempotency_key":"k3","workflow_id":"wf","activity_type":"run-slm-7","task_queue":"tq","workflow_type":"Agent"}"#,
            r#" {"workflow_id":"wf","activity_type":"train-big","overrides":{"cpu":2.5,"memory":1073741824}}"#,
        ],
        names_file: false,
        slow: 1,
        make: request,
    },
    Target {
        name: "mapping",
        covers: "the activity → job mapping table (`live --mapping`, scenario `workload.mapping`)",
        corpus: &[("tests/fixtures/live", &["mapping.toml"])],
        inline: &[],
        names_file: false,
        slow: 1,
        make: mapping,
    },
    Target {
        name: "duration",
        covers: "Go durations (`model::parse_duration`: every scenario duration, flags, overrides)",
        corpus: &[],
        inline: &["90s", "1h30m", "1.5s", "250ms", "0", "2562047h47m16.854775807s", "1µs", "3us", "7ns", ".5m", "1h1m1s1ms1us1ns", "10m"],
        names_file: false,
        slow: 1,
        make: duration,
    },
    Target {
        name: "quantity",
        covers: "Kubernetes quantities (`model::parse_quantity`, milli-units and whole units)",
        corpus: &[],
        inline: &["500m", "2Gi", "1.5", "1e3", "100Ki", "0.001", "+1", "64Mi", "1E", "8Ti", "2k", "0.5Gi", "1n", "3u"],
        names_file: false,
        slow: 1,
        make: quantity,
    },
    Target {
        name: "conformance",
        covers: "`volcano-conformance/v1` case files (`volsim conformance`: YAML, then each case built and run)",
        corpus: &[("tests/fixtures/conformance", YAML)],
        inline: &[],
        names_file: true,
        slow: 5,
        make: conformance,
    },
    Target {
        name: "waits",
        covers: "per-job wait CSVs of `volsim compare PREDICTED OBSERVED`",
        corpus: &[("reports/reality/run1", &["observed.csv", "predictions.csv"])],
        inline: &[],
        names_file: true,
        slow: 1,
        make: waits,
    },
    Target {
        name: "cli-values",
        covers: "flag values: `--slo`, `--set PATH=VALUE`, `capacity --range LO..HI`, `sweep --shard i/n`",
        corpus: &[],
        inline: &["interactive.p95_wait <= 2m", "session-start.max_wait < 30s", "nodes.worker.count=8", "workload.repeat=3", "4..64", "1.5..2.5", "0/4", "3/4", "sim.schedule_period=\"1s\""],
        names_file: false,
        slow: 1,
        make: cli_values,
    },
];

/// The seeds of `t`: corpus files (sorted by path), regression inputs, then inline seeds.
pub fn seeds(t: &Target, root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<(PathBuf, &[&str])> =
        t.corpus.iter().map(|(d, s)| (root.join(d), *s)).collect();
    dirs.push((root.join("tests/fixtures/fuzz").join(t.name), &[""]));
    for (dir, suffixes) in dirs {
        let mut files = Vec::new();
        walk(&dir, &mut files);
        files.sort();
        for f in files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let wanted = suffixes.iter().any(|s| name.ends_with(s));
            if wanted && !name.starts_with('.') && !name.ends_with(".expect") {
                if let Ok(b) = std::fs::read(&f) {
                    out.push((f, b));
                }
            }
        }
    }
    for s in t.inline {
        out.push((root.join("inline"), s.as_bytes().to_vec()));
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}
