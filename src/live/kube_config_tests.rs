//! Kubeconfig reading: current context, server, token or token file, CA inline or as a file,
//! client certificates, refused exec/auth-provider, relative paths against the file's folder.

use std::path::Path;

use super::*;

const CA: &str = "-----BEGIN CERTIFICATE-----
MIIBdzCCARygAwIBAgIUFcqlxvjM4AJNrWeDmV+hzwcPPU0wCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOcmVhbHZvbGNhbm8tY2EwHhcNMjYxMjA2MjEzOTA1WhcNMzYx
MjAzMjEzOTA1WjAZMRcwFQYDVQQDDA5yZWFsdm9sY2Fuby1jYTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABGl9InvSn7teNR681R6jrAIRxfexAIaHYuLfgNc2Smrc
HVeBpJF7EpiirLsMRSzxlmHoaqBmi/it6OiLqTE2U0ujQjBAMA8GA1UdEwEB/wQF
MAMBAf8wDgYDVR0PAQH/BAQDAgGGMB0GA1UdDgQWBBQbITLa9qK6zFoLCEzgtnV+
JrGUvzAKBggqhkjOPQQDAgNJADBGAiEA+HJWcJZ01wHmFWZM1thMfpDeLWEAri7G
WycfOLvMRZ4CIQCs8yDtr9nruRJtTqkpSpxVU0Nw+BUbDNLLtgGfnIsWRA==
-----END CERTIFICATE-----
";

fn b64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for ch in data.chunks(3) {
        let n = ch.iter().fold(0u32, |a, &b| (a << 8) | b as u32) << (8 * (3 - ch.len()));
        for i in 0..4 {
            if i <= ch.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_round_trip_and_errors() {
    for s in [&b""[..], b"a", b"ab", b"abc", b"abcd", CA.as_bytes()] {
        assert_eq!(base64_decode(&b64(s)).unwrap(), s);
    }
    assert_eq!(base64_decode("aGk\n").unwrap(), b"hi");
    assert!(base64_decode("a*b").unwrap_err().contains("byte 1"));
}

#[test]
fn json_kubeconfig_like_the_harness_writes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pki")).unwrap();
    std::fs::write(dir.path().join("pki/ca.crt"), CA).unwrap();
    let kc = dir.path().join("kubeconfig");
    let text = r#"{"apiVersion": "v1", "kind": "Config", "current-context": "rv",
      "clusters": [{"name": "rv", "cluster": {"server": "https://127.0.0.1:6443/",
                    "certificate-authority": "pki/ca.crt"}}],
      "users": [{"name": "admin", "user": {"token": " s3cret\n"}}],
      "contexts": [{"name": "rv", "context": {"cluster": "rv", "user": "admin"}}]}"#;
    std::fs::write(&kc, text).unwrap();
    let a = load(&kc, None).unwrap();
    assert_eq!(a.server, "https://127.0.0.1:6443");
    assert_eq!(a.token.as_deref(), Some("s3cret"));
    assert_eq!(
        a.ca_pem.as_deref(),
        Some(CA.as_bytes()),
        "relative to the file"
    );
    assert!(a.source.contains("context rv"), "{}", a.source);
    let dbg = format!("{a:?}");
    assert!(!dbg.contains("s3cret"), "{dbg}");
    agent(&a).expect("the CA parses into a rustls root");
}

#[test]
fn yaml_kubeconfig_with_data_fields_token_file_and_context_choice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tok"), "t0k\n").unwrap();
    let kc = dir.path().join("config");
    let text = format!(
        "apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: {}
- name: c2
  cluster:
    server: http://127.0.0.1:8001
users:
- name: u1
  user:
    tokenFile: tok
contexts:
- name: a
  context: {{cluster: c1, user: u1}}
- name: b
  context: {{cluster: c2}}
",
        b64(CA.as_bytes())
    );
    std::fs::write(&kc, text).unwrap();
    let a = load(&kc, None).unwrap();
    assert_eq!(a.server, "https://10.0.0.1:6443");
    assert_eq!(a.token.as_deref(), Some("t0k"));
    assert_eq!(a.ca_pem.as_deref(), Some(CA.as_bytes()));
    let b = load(&kc, Some("b")).unwrap();
    assert_eq!(
        (b.server.as_str(), b.token.is_none()),
        ("http://127.0.0.1:8001", true)
    );
    let e = load(&kc, Some("zz")).unwrap_err().to_string();
    assert!(
        e.contains(&kc.display().to_string()) && e.contains("contexts") && e.contains("\"zz\""),
        "{e}"
    );
}

#[test]
fn bad_kubeconfigs_name_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let case = |text: &str| {
        let p = dir.path().join("kc");
        std::fs::write(&p, text).unwrap();
        load(&p, None).unwrap_err().to_string()
    };
    let e = case(
        r#"{"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "c"}}], "clusters": [{"name": "c", "cluster": {"server": "ftp://h"}}]}"#,
    );
    assert!(
        e.contains("clusters[\"c\"].cluster.server") && e.contains("ftp://h"),
        "{e}"
    );
    let e = case(
        r#"{"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "clusters": [{"name": "c", "cluster": {"server": "https://h"}}], "users": [{"name": "u", "user": {"exec": {"command": "aws"}}}]}"#,
    );
    assert!(
        e.contains("users[\"u\"].user.exec") && e.contains("kubectl proxy"),
        "{e}"
    );
    let e = case(
        r#"{"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "c"}}], "clusters": [{"name": "c", "cluster": {"server": "https://h", "certificate-authority": "missing.crt"}}]}"#,
    );
    assert!(
        e.contains("certificate-authority") && e.contains("missing.crt"),
        "{e}"
    );
    let e = case("{not json");
    assert!(e.contains("kubeconfig") && e.contains("JSON"), "{e}");
    let e = case(r#"{"contexts": []}"#);
    assert!(e.contains("current-context"), "{e}");
    let mut a = ApiAccess {
        server: "https://h".into(),
        ca_pem: Some(b"not a pem".to_vec()),
        source: "kubeconfig X".into(),
        ..Default::default()
    };
    let e = agent(&a).unwrap_err().to_string();
    assert!(
        e.contains("kubeconfig X") && e.contains("certificate"),
        "{e}"
    );
    a.ca_pem = None;
    agent(&a).expect("webpki roots without a CA");
}

#[test]
fn kubeconfig_env_list_takes_the_first_path() {
    assert_eq!(env_kubeconfig(None), None);
    assert_eq!(env_kubeconfig(Some("")), None);
    assert_eq!(
        env_kubeconfig(Some(":/a/b:/c")).as_deref(),
        Some(Path::new("/a/b"))
    );
}
