//! The append-only submission journal: one JSON object per line, fsynced before the backend is
//! asked to create anything, replayed on start-up. A torn last line (a crash mid-write) is cut
//! off; damage anywhere else is an error naming the line.
//!
//! Depends on `model`, `workload` (the job record) and serde. Invariant: a `Submit` entry is on
//! disk before its object can exist, so a replay that re-sends every `Submit` without a `Sent`
//! can neither lose nor (with deterministic names and adopt-on-conflict) duplicate a job.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

/// An open journal.
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// Opens (creating) the journal and returns the entries already in it.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Entry>), LiveError> {
        let err = |m: String| LiveError::Journal {
            path: path.display().to_string(),
            message: m,
        };
        let mut entries = Vec::new();
        let mut good_len: u64 = 0;
        if path.exists() {
            let f = File::open(path).map_err(|e| err(e.to_string()))?;
            let mut rdr = BufReader::new(f);
            let mut line = String::new();
            let mut n = 0usize;
            loop {
                line.clear();
                let read = rdr.read_line(&mut line).map_err(|e| err(e.to_string()))?;
                if read == 0 {
                    break;
                }
                n += 1;
                let complete = line.ends_with('\n');
                match serde_json::from_str::<Entry>(line.trim_end()) {
                    Ok(e) if complete => {
                        entries.push(e);
                        good_len += read as u64;
                    }
                    other => {
                        // Only a torn tail is forgivable: nothing may follow it.
                        let mut rest = String::new();
                        let more = rdr.read_line(&mut rest).map_err(|e| err(e.to_string()))?;
                        if more > 0 {
                            let why = match other {
                                Err(e) => e.to_string(),
                                Ok(_) => "missing newline".into(),
                            };
                            return Err(err(format!("line {n}: {why}")));
                        }
                        break;
                    }
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| err(e.to_string()))?;
        file.set_len(good_len).map_err(|e| err(e.to_string()))?;
        file.sync_all().map_err(|e| err(e.to_string()))?;
        // make the file's directory entry durable too (a new journal must survive power loss)
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok((
            Journal {
                path: path.to_path_buf(),
                file,
            },
            entries,
        ))
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
                id: format!("n-{k}"),
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
                name: "n-a".into(),
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
                    name: "n-a".into(),
                    outcome: "created".into()
                }
            ]
        );
        j.append(&submit("c")).unwrap();
        drop(j);
        let (_, e) = Journal::open(&p).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(JobJson::from_job(&e_job(&e[2])).id, "n-c");
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
