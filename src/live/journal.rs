//! The append-only submission journal: one JSON object per line, fsynced before the backend is
//! asked to create anything, replayed on start-up. A torn last line (no newline: a crash
//! mid-write) is cut off; any complete line that does not parse or fails the entry checks
//! (object names, time bounds) is an error naming the line — even the last one, since it was
//! acknowledged. The journal file is created 0600 and held under an exclusive `flock` for as
//! long as it is open, so two processes cannot share one `--out`.
//!
//! Depends on `model`, `workload` (the job record) and serde. Invariant: a `Submit` entry is on
//! disk before its object can exist, so a replay that re-sends every `Submit` without a `Sent`
//! can neither lose nor (with deterministic names and adopt-on-conflict) duplicate a job.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::names::{is_dns1123_subdomain, object_name};
use super::LiveError;
use crate::model::{ResourceName, Resources};
use crate::workload::TraceJob;

/// A `TraceJob` as stored in the journal (cpu, memory and GPU requests only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobJson {
    pub id: String,
    pub submit_ms: u64,
    pub duration_ms: u64,
    pub replicas: u32,
    pub min_member: u32,
    pub cpu_milli: i64,
    pub mem_bytes: i64,
    #[serde(default)]
    pub gpu_milli: i64,
    pub queue: String,
    #[serde(default)]
    pub priority_class: Option<String>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub class: String,
}

impl JobJson {
    pub fn from_job(j: &TraceJob) -> JobJson {
        JobJson {
            id: j.id.clone(),
            submit_ms: j.submit_ms,
            duration_ms: j.duration_ms,
            replicas: j.replicas,
            min_member: j.min_member,
            cpu_milli: j.requests.cpu(),
            mem_bytes: j.requests.memory(),
            gpu_milli: j.requests.get(ResourceName::GPU),
            queue: j.queue.clone(),
            priority_class: j.priority_class.clone(),
            priority: j.priority,
            class: j.class.clone(),
        }
    }
    pub fn to_job(&self) -> TraceJob {
        let mut requests = Resources::cpu_mem(self.cpu_milli, self.mem_bytes);
        if self.gpu_milli > 0 {
            requests.set(ResourceName::GPU, self.gpu_milli);
        }
        TraceJob {
            id: self.id.clone(),
            submit_ms: self.submit_ms,
            duration_ms: self.duration_ms,
            replicas: self.replicas,
            min_member: self.min_member,
            requests,
            queue: self.queue.clone(),
            priority_class: self.priority_class.clone(),
            priority: self.priority,
            class: self.class.clone(),
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Entry {
    /// Accepted; written before the backend is called.
    Submit {
        key: String,
        workflow_id: String,
        source: String,
        fingerprint: u64,
        job: Box<JobJson>,
        predicted_wait_ms: Option<u64>,
        held: bool,
    },
    /// The backend has the object (`created` or `adopted`).
    Sent { name: String, outcome: String },
    /// A held job released at `t_ms` (its forecast fell under `--hold-above`); written before
    /// it is sent.
    Release { name: String, t_ms: u64 },
    /// Deleted on request at `t_ms`.
    Delete { name: String, t_ms: u64 },
}

/// Latest model time a journal entry may carry (`submit_ms`, `t_ms`): 10 years, ms. A larger
/// value cannot come from a live session and would make the replay advance the model for ages.
pub const MAX_TIME_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

/// The checks an entry must pass before it is replayed (the journal may have been edited).
pub fn check_entry(e: &Entry) -> Result<(), String> {
    let name_ok = |n: &str| {
        if n.len() <= 63 && is_dns1123_subdomain(n) {
            Ok(())
        } else {
            Err(format!(
                "object name {n:?} is not a DNS-1123 name of ≤ 63 characters"
            ))
        }
    };
    let time_ok = |field: &str, t: u64| {
        if t <= MAX_TIME_MS {
            Ok(())
        } else {
            Err(format!(
                "{field} {t} exceeds the limit {MAX_TIME_MS} ms (10 years)"
            ))
        }
    };
    match e {
        Entry::Submit { key, job, .. } => {
            if job.id != object_name(key) {
                return Err(format!(
                    "job.id {:?} is not the object name of key {key:?} (expected {:?})",
                    job.id,
                    object_name(key)
                ));
            }
            time_ok("job.submit_ms", job.submit_ms)?;
            time_ok("job.duration_ms", job.duration_ms)?;
            if job.cpu_milli < 0 || job.mem_bytes < 0 || job.gpu_milli < 0 {
                return Err("job requests must not be negative".into());
            }
            if job.replicas > 1000 || job.min_member > job.replicas || job.min_member == 0 {
                return Err(format!(
                    "job replicas {} / min_member {} out of range (1 ≤ min_member ≤ replicas ≤ 1000)",
                    job.replicas, job.min_member
                ));
            }
            let pc_ok = job
                .priority_class
                .as_deref()
                .is_none_or(is_dns1123_subdomain);
            if !is_dns1123_subdomain(&job.queue) || !pc_ok {
                return Err("job.queue and job.priority_class must be DNS-1123 names".into());
            }
            Ok(())
        }
        Entry::Sent { name, .. } => name_ok(name),
        Entry::Release { name, t_ms } | Entry::Delete { name, t_ms } => {
            name_ok(name)?;
            time_ok("t_ms", *t_ms)
        }
    }
}

/// Parses one complete journal line (without or with its newline) and applies
/// [`check_entry`]; the error says what is wrong (the caller adds the file and line).
pub fn parse_line(line: &str) -> Result<Entry, String> {
    let e = serde_json::from_str::<Entry>(line.trim_end()).map_err(|e| e.to_string())?;
    check_entry(&e)?;
    Ok(e)
}

/// An open journal.
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens (creating, mode 0600) and locks the journal and returns the entries already in
    /// it. Fails when another process holds the lock.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Entry>), LiveError> {
        let err = |m: String| LiveError::Journal {
            path: path.display().to_string(),
            message: m,
        };
        let mut opts = OpenOptions::new();
        opts.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts.open(path).map_err(|e| err(e.to_string()))?;
        lock_exclusive(&file).map_err(err)?;
        let mut entries = Vec::new();
        let mut good_len: u64 = 0;
        let mut rdr = BufReader::new(&file);
        let mut line = String::new();
        let mut n = 0usize;
        loop {
            line.clear();
            let read = rdr.read_line(&mut line).map_err(|e| err(e.to_string()))?;
            if read == 0 {
                break;
            }
            n += 1;
            if !line.ends_with('\n') {
                // a torn write: only ever the last line (nothing can follow it)
                break;
            }
            let e = parse_line(&line).map_err(|m| err(format!("line {n}: {m}")))?;
            entries.push(e);
            good_len += read as u64;
        }
        drop(rdr);
        file.set_len(good_len).map_err(|e| err(e.to_string()))?;
        (&file)
            .seek(std::io::SeekFrom::End(0))
            .map_err(|e| err(e.to_string()))?;
        file.sync_all().map_err(|e| err(e.to_string()))?;
        // make the file's directory entry durable too (a new journal must survive power loss)
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            sync_dir(dir).map_err(|e| err(format!("cannot fsync {}: {e}", dir.display())))?;
        }
        Ok((
            Journal {
                path: path.to_path_buf(),
                file,
            },
            entries,
        ))
    }

    /// An error about this journal's contents.
    pub fn invalid(&self, message: impl Into<String>) -> LiveError {
        LiveError::Journal {
            path: self.path.display().to_string(),
            message: message.into(),
        }
    }

    /// Appends one entry and waits until it is on disk.
    pub fn append(&mut self, e: &Entry) -> Result<(), LiveError> {
        let mut line = serde_json::to_string(e).map_err(|e| LiveError::Journal {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(|e| LiveError::Journal {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })
    }
}

/// fsyncs a directory (its entries: new, renamed or removed files).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(unix)]
fn lock_exclusive(f: &File) -> Result<(), String> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if e.kind() == std::io::ErrorKind::WouldBlock {
        return Err("locked by another volsim process using the same --out".into());
    }
    Err(format!("cannot lock: {e}"))
}

#[cfg(not(unix))]
fn lock_exclusive(_: &File) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod journal_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(k: &str) -> Entry {
        Entry::Submit {
            key: k.into(),
            workflow_id: "wf".into(),
            source: "class:x".into(),
            fingerprint: u64::MAX,
            job: Box::new(JobJson {
                id: object_name(k),
                submit_ms: 1,
                duration_ms: 2,
                replicas: 1,
                min_member: 1,
                cpu_milli: 100,
                mem_bytes: 1 << 20,
                gpu_milli: 0,
                queue: "q".into(),
                priority_class: None,
                priority: 0,
                class: "x".into(),
            }),
            predicted_wait_ms: Some(5),
            held: false,
        }
    }

    #[test]
    fn round_trip_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        {
            let (mut j, e) = Journal::open(&p).unwrap();
            assert!(e.is_empty());
            j.append(&submit("a")).unwrap();
            j.append(&Entry::Sent {
                name: object_name("a"),
                outcome: "created".into(),
            })
            .unwrap();
        }
        // a crash in the middle of a write
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"op\":\"submit\",\"key\":\"b").unwrap();
        drop(f);
        let (mut j, e) = Journal::open(&p).unwrap();
        assert_eq!(
            e,
            vec![
                submit("a"),
                Entry::Sent {
                    name: object_name("a"),
                    outcome: "created".into()
                }
            ]
        );
        j.append(&submit("c")).unwrap();
        drop(j);
        let (_, e) = Journal::open(&p).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(JobJson::from_job(&e_job(&e[2])).id, object_name("c"));
    }

    fn e_job(e: &Entry) -> TraceJob {
        match e {
            Entry::Submit { job, .. } => job.to_job(),
            _ => panic!("not a submit"),
        }
    }

    #[test]
    fn damage_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        std::fs::write(
            &p,
            "garbage\n{\"op\":\"delete\",\"name\":\"x\",\"t_ms\":1}\n",
        )
        .unwrap();
        let e = Journal::open(&p).err().unwrap().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
