//! How the `kube` backend reaches the API server: a kubeconfig file (`--kubeconfig`, else
//! `$KUBECONFIG`; JSON or YAML) resolved through its `current-context` to a server URL, a
//! bearer token (`token` or `tokenFile`), a CA (`certificate-authority` /
//! `certificate-authority-data`), an optional client certificate, and the `ureq` agent that
//! trusts exactly that CA (rustls with ring, ureq's default TLS stack, with the provided root).
//!
//! Depends on serde, serde-saphyr and ureq only. Invariants: secrets (token, client key) never
//! appear in `Debug` output or error messages; every error names the kubeconfig file and the
//! field; relative paths inside a kubeconfig are relative to the file's directory (as kubectl).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::LiveError;

/// Largest kubeconfig, CA or token file read (they are a few KiB in practice).
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Everything needed to talk to one API server. `Debug` redacts the secrets.
#[derive(Clone, Default)]
pub struct ApiAccess {
    pub server: String,
    pub token: Option<String>,
    /// PEM of the CA that signs the server's certificate (`None`: webpki roots).
    pub ca_pem: Option<Vec<u8>>,
    /// PEM of a client certificate chain and its key.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    /// `insecure-skip-tls-verify: true` in the kubeconfig.
    pub insecure: bool,
    /// Where these facts came from (for messages): `--api-server`, or `kubeconfig FILE
    /// (context NAME)`.
    pub source: String,
}

impl std::fmt::Debug for ApiAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAccess")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .field(
                "client_cert",
                &self.client_cert.as_ref().map(|_| "<redacted>"),
            )
            .field("insecure", &self.insecure)
            .field("source", &self.source)
            .finish()
    }
}

#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    item: Option<T>,
}

#[derive(Deserialize, Default)]
struct ClusterT {
    #[serde(default)]
    server: String,
    #[serde(rename = "certificate-authority")]
    ca_file: Option<String>,
    #[serde(rename = "certificate-authority-data")]
    ca_data: Option<String>,
    #[serde(rename = "insecure-skip-tls-verify", default)]
    insecure: bool,
}

#[derive(Deserialize, Default)]
struct UserT {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    #[serde(rename = "client-certificate")]
    cert_file: Option<String>,
    #[serde(rename = "client-certificate-data")]
    cert_data: Option<String>,
    #[serde(rename = "client-key")]
    key_file: Option<String>,
    #[serde(rename = "client-key-data")]
    key_data: Option<String>,
    exec: Option<serde_json::Value>,
    #[serde(rename = "auth-provider")]
    auth_provider: Option<serde_json::Value>,
    username: Option<String>,
}

#[derive(Deserialize, Default)]
struct ContextT {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    user: String,
}

#[derive(Deserialize)]
struct KubeconfigT {
    #[serde(rename = "current-context", default)]
    current_context: String,
    #[serde(default)]
    clusters: Vec<Named<ClusterT>>,
    #[serde(default)]
    users: Vec<Named<UserT>>,
    #[serde(default)]
    contexts: Vec<Named<ContextT>>,
}

/// Reads a small file, refusing anything over `MAX_FILE_BYTES`.
pub fn read_small(path: &Path, what: &str) -> Result<Vec<u8>, LiveError> {
    let bad = |m: String| LiveError::Config(format!("{what} {}: {m}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(bad(format!(
            "{} bytes; more than the {MAX_FILE_BYTES} accepted",
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|e| bad(e.to_string()))
}

/// Decodes standard base64 (with or without padding; whitespace ignored).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return Err(format!("byte {i}: {:?} is not base64", c as char)),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// Parses kubeconfig `text` (from `file`, whose directory anchors relative paths) and resolves
/// its `current-context` (or `context` when given).
pub fn resolve(text: &str, file: &Path, context: Option<&str>) -> Result<ApiAccess, LiveError> {
    let name = file.display().to_string();
    let bad =
        |field: &str, m: String| LiveError::Config(format!("kubeconfig {name}: {field}: {m}"));
    let kc: KubeconfigT = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| bad("JSON", e.to_string()))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| bad("YAML", e.to_string()))?
    };
    let ctx_name = context.unwrap_or(&kc.current_context);
    if ctx_name.is_empty() {
        return Err(bad(
            "current-context",
            "is empty (give --kube-context or set current-context)".into(),
        ));
    }
    let find = |list: &[String], field: &str, want: &str| -> Result<usize, LiveError> {
        list.iter().position(|n| n == want).ok_or_else(|| {
            bad(
                field,
                format!("no entry named {want:?} (have: {})", list.join(", ")),
            )
        })
    };
    let ctx_names: Vec<String> = kc.contexts.iter().map(|c| c.name.clone()).collect();
    let ctx = kc.contexts[find(&ctx_names, "contexts", ctx_name)?]
        .item
        .as_ref()
        .ok_or_else(|| bad("contexts", format!("{ctx_name:?} has no context")))?;
    let cl_names: Vec<String> = kc.clusters.iter().map(|c| c.name.clone()).collect();
    let default_cluster = ClusterT::default();
    let cluster = kc.clusters[find(&cl_names, "clusters", &ctx.cluster)?]
        .item
        .as_ref()
        .unwrap_or(&default_cluster);
    let default_user = UserT::default();
    let user = if ctx.user.is_empty() {
        &default_user
    } else {
        let us_names: Vec<String> = kc.users.iter().map(|u| u.name.clone()).collect();
        kc.users[find(&us_names, "users", &ctx.user)?]
            .item
            .as_ref()
            .unwrap_or(&default_user)
    };
    let cfield = |f: &str| format!("clusters[{:?}].cluster.{f}", ctx.cluster);
    let ufield = |f: &str| format!("users[{:?}].user.{f}", ctx.user);
    if cluster.server.is_empty() {
        return Err(bad(&cfield("server"), "is missing".into()));
    }
    if !(cluster.server.starts_with("https://") || cluster.server.starts_with("http://")) {
        return Err(bad(
            &cfield("server"),
            format!("{:?} is not an http(s) URL", cluster.server),
        ));
    }
    if user.exec.is_some() || user.auth_provider.is_some() || user.username.is_some() {
        return Err(bad(
            &ufield("exec/auth-provider/username"),
            "this authentication method is not supported; use a token, a client \
             certificate, or run behind `kubectl proxy` and pass --api-server"
                .into(),
        ));
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let path_of = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    let data = |field: &str, inline: &Option<String>, path: &Option<String>| match (inline, path) {
        (Some(d), _) => base64_decode(d).map(Some).map_err(|e| bad(field, e)),
        (None, Some(p)) => read_small(&path_of(p), &format!("{name}: {field}")).map(Some),
        (None, None) => Ok(None),
    };
    let ca_pem = data(
        &cfield("certificate-authority(-data)"),
        &cluster.ca_data,
        &cluster.ca_file,
    )?;
    let cert = data(
        &ufield("client-certificate(-data)"),
        &user.cert_data,
        &user.cert_file,
    )?;
    let key = data(&ufield("client-key(-data)"), &user.key_data, &user.key_file)?;
    let client_cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => {
            return Err(bad(
                &ufield("client-certificate/client-key"),
                "give both or neither".into(),
            ))
        }
    };
    let token = match (&user.token, &user.token_file) {
        (Some(t), _) => Some(t.trim().to_string()),
        (None, Some(p)) => {
            let raw = read_small(&path_of(p), &format!("{name}: {}", ufield("tokenFile")))?;
            Some(String::from_utf8_lossy(&raw).trim().to_string())
        }
        (None, None) => None,
    }
    .filter(|t| !t.is_empty());
    Ok(ApiAccess {
        server: cluster.server.trim_end_matches('/').to_string(),
        token,
        ca_pem,
        client_cert,
        insecure: cluster.insecure,
        source: format!("kubeconfig {name} (context {ctx_name})"),
    })
}

/// Reads and resolves a kubeconfig file.
pub fn load(file: &Path, context: Option<&str>) -> Result<ApiAccess, LiveError> {
    let raw = read_small(file, "kubeconfig")?;
    let text = String::from_utf8(raw)
        .map_err(|_| LiveError::Config(format!("kubeconfig {}: not UTF-8", file.display())))?;
    resolve(&text, file, context)
}

/// The first path of a `$KUBECONFIG`-style list (`a:b`), if any.
pub fn env_kubeconfig(value: Option<&str>) -> Option<PathBuf> {
    let v = value?;
    v.split(':').find(|p| !p.is_empty()).map(PathBuf::from)
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<ureq::tls::Certificate<'static>>, LiveError> {
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => out.push(c),
            Ok(_) => {}
            Err(e) => return Err(LiveError::Config(format!("{what}: {e}"))),
        }
    }
    if out.is_empty() {
        return Err(LiveError::Config(format!(
            "{what}: no PEM certificate found"
        )));
    }
    Ok(out)
}

/// An agent for `access`: statuses are returned (not errors), a 30 s timeout per call (watches
/// set their own), rustls trusting exactly the given CA when there is one.
pub fn agent(access: &ApiAccess) -> Result<ureq::Agent, LiveError> {
    agent_with_timeout(access, Some(Duration::from_secs(30)))
}

/// `agent` with another global timeout (`None`: none, for long-running watches).
pub fn agent_with_timeout(
    access: &ApiAccess,
    timeout: Option<Duration>,
) -> Result<ureq::Agent, LiveError> {
    use ureq::tls::{ClientCert, PrivateKey, RootCerts, TlsConfig};
    let mut tls = TlsConfig::builder();
    if let Some(pem) = &access.ca_pem {
        let roots = certs(pem, &format!("{}: certificate authority", access.source))?;
        tls = tls.root_certs(RootCerts::Specific(Arc::new(roots)));
    }
    if let Some((c, k)) = &access.client_cert {
        let what = format!("{}: client certificate", access.source);
        let chain = certs(c, &what)?;
        let key = PrivateKey::from_pem(k)
            .map_err(|e| LiveError::Config(format!("{}: client key: {e}", access.source)))?;
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    if access.insecure {
        tls = tls.disable_verification(true);
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .tls_config(tls.build())
        .build()
        .into())
}

#[cfg(test)]
#[path = "kube_config_tests.rs"]
mod tests;
