//! The Kubernetes sweep example and the Dockerfile it needs agree with the repository: the YAML
//! parses into a Volcano Job, its image is the Dockerfile's, every path a container uses exists
//! in the image (the Dockerfile copies it) and the mounted sweep file's relative scenario path
//! resolves inside the image. CI cannot build the image (no access to base images), so this is
//! what is checked.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `COPY SRC DEST` lines of the final stage (after the last `FROM`), as (src, dest).
fn final_copies(dockerfile: &str) -> Vec<(String, String)> {
    let last_from = dockerfile.rfind("\nFROM ").expect("a FROM line");
    dockerfile[last_from..]
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w[1].to_string(), w[2].to_string())
        })
        .collect()
}

#[test]
fn sweep_job_uses_the_dockerfile_image_and_existing_paths() {
    let root = repo();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("a Dockerfile");
    assert!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM ")) >= 2,
        "multi-stage"
    );
    assert!(dockerfile.contains("cargo build --release --locked --bin volsim"));
    // every file the build context needs exists
    for l in dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
    {
        let w: Vec<&str> = l.split_whitespace().collect();
        for src in &w[1..w.len() - 1] {
            assert!(
                root.join(src).exists(),
                "Dockerfile: {l}: {src} does not exist"
            );
        }
    }
    let copies = final_copies(&dockerfile);
    let workdir = "/work";
    let in_image = |p: &str| -> Option<PathBuf> {
        // a path under /work maps back to the repository file the final stage copied there
        let rel = p.strip_prefix(&format!("{workdir}/"))?;
        copies.iter().find_map(|(src, dest)| {
            let dest = dest.trim_start_matches("./").trim_end_matches('/');
            rel.strip_prefix(dest)
                .map(|rest| root.join(src).join(rest.trim_start_matches('/')))
        })
    };

    let text = std::fs::read_to_string(root.join("examples/kubernetes/sweep-job.yaml")).unwrap();
    let job: Value = serde_saphyr::from_str(&text).expect("the example parses as YAML");
    assert_eq!(job["apiVersion"], "batch.volcano.sh/v1alpha1");
    assert_eq!(job["kind"], "Job");
    let tasks = job["spec"]["tasks"].as_array().unwrap();
    let replicas: u64 = tasks.iter().map(|t| t["replicas"].as_u64().unwrap()).sum();
    assert_eq!(job["spec"]["minAvailable"].as_u64(), Some(replicas));
    let mut sweep_mounts = 0;
    for t in tasks {
        for c in t["template"]["spec"]["containers"].as_array().unwrap() {
            assert!(
                text.contains("docker build -t")
                    && c["image"].as_str().unwrap().ends_with("/volsim:latest"),
                "{c}"
            );
            assert_eq!(c["workingDir"], workdir);
            for m in c["volumeMounts"].as_array().unwrap() {
                let mp = m["mountPath"].as_str().unwrap();
                if m["name"] == "config" {
                    // the sweep file lands beside the image's sweeps: its relative scenario
                    // path must resolve to a scenario the image has
                    assert_eq!(m["subPath"], "sweep.toml");
                    let dir = in_image(Path::new(mp).parent().unwrap().to_str().unwrap())
                        .expect("mounted inside a copied directory");
                    let sweep =
                        std::fs::read_to_string(root.join("examples/sweeps/somaagenthub-64.toml"))
                            .unwrap();
                    let scenario = sweep
                        .lines()
                        .find_map(|l| l.strip_prefix("scenario = "))
                        .unwrap()
                        .trim_matches('"');
                    let resolved = dir.join(scenario);
                    assert!(
                        resolved.is_file(),
                        "{} does not resolve in the image",
                        resolved.display()
                    );
                    let args = c["args"][0].as_str().unwrap();
                    let rel = mp.strip_prefix(&format!("{workdir}/")).unwrap();
                    assert!(args.contains(&format!("volsim sweep {rel} ")), "{args}");
                    sweep_mounts += 1;
                }
            }
        }
    }
    assert_eq!(sweep_mounts, 1);
    assert!(text.contains("--from-file=sweep.toml=examples/sweeps/somaagenthub-64.toml"));
}
