//! Live mode end to end through the `volsim` binary (one integration-test binary): `live run`
//! and `live serve` with the twin and dry-run backends and a real HTTP client (ureq);
//! malformed and oversized requests; the bearer token off loopback; `kill -9` in the middle of
//! a burst of 200 submissions; the layering rule that `live` never imports `sim`; and the
//! `kube` backend against a real cluster when `VOLSIM_KUBE_E2E=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

mod crash;
mod fake_http;
mod hostile;
mod kube_e2e;
mod kube_fake;
mod run;
mod serve;
mod watch;

/// The binary under test; `VOLSIM_BIN` overrides it (a target dir shared between worktrees
/// may hold another branch's `volsim`).
pub fn bin() -> String {
    std::env::var("VOLSIM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_volsim").to_string())
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/live")
        .join(name)
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// `(status, body)`; `Err` on a transport failure.
pub fn call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&str>,
    hdrs: &[(&str, &str)],
) -> Result<(u16, String), String> {
    let res = match (method, body) {
        ("POST", Some(b)) => {
            let mut r = a.post(url).header("Content-Type", "application/json");
            for (k, v) in hdrs {
                r = r.header(*k, *v);
            }
            r.send(b)
        }
        ("DELETE", _) => {
            let mut r = a.delete(url);
            for (k, v) in hdrs {
                r = r.header(*k, *v);
            }
            r.call()
        }
        _ => {
            let mut r = a.get(url);
            for (k, v) in hdrs {
                r = r.header(*k, *v);
            }
            r.call()
        }
    };
    let mut resp = res.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    Ok((status, resp.body_mut().read_to_string().unwrap_or_default()))
}

pub struct Served {
    pub child: Child,
    pub base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(out: &Path, backend: &str, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(bin());
    cmd.args(["live", "serve", "--scenario"])
        .arg(fixture("small.toml"))
        .args(["--backend", backend, "--speed", "50", "--mapping"])
        .arg(fixture("mapping.toml"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .args(if extra.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .env_remove("VOLSIM_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn volsim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("bad banner {line:?}"));
    let port = addr.rsplit(':').next().unwrap();
    Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

pub fn body(key: &str, class: &str) -> String {
    json!({"idempotency_key": key, "workflow_id": format!("wf-{key}"), "class": class}).to_string()
}

pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
