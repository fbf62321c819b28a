//! The canonical decision log: one line per decision, the text the decision-log hash is taken
//! over (`<t> enqueue <uid>`, `<t> bind <ns>/<pod>#<task> <node>`, `<t> evict <ns>/<victim>#<task>
//! <action> <ns>/<preemptor>#<task>`, `<t> phase <uid> <phase>`). Written once, for the
//! simulator and the live twin alike.
//!
//! Depends on `policy` (decisions, snapshot).

use std::fmt::{self, Write};

use crate::policy::{Decision, Snapshot};

/// Writes the log lines of `decisions`, made by the cycle at `t` on `snap` (before the cluster
/// applied them).
pub fn write_decisions(
    w: &mut dyn Write,
    snap: &Snapshot,
    decisions: &[Decision],
    t: u64,
) -> fmt::Result {
    for d in decisions {
        match *d {
            Decision::Enqueue { job } => writeln!(w, "{t} enqueue {}", snap.job(job).uid)?,
            Decision::Bind { task, node } => {
                let tk = snap.task(task);
                writeln!(
                    w,
                    "{t} bind {}/{}#{} {}",
                    tk.namespace,
                    tk.name,
                    task.0,
                    snap.nodes[node.ix()].name
                )?
            }
            Decision::Evict {
                task,
                action,
                preemptor,
            } => {
                let v = snap.task(task);
                let pr = snap.task(preemptor);
                writeln!(
                    w,
                    "{t} evict {}/{}#{} {} {}/{}#{}",
                    v.namespace,
                    v.name,
                    task.0,
                    action.as_str(),
                    pr.namespace,
                    pr.name,
                    preemptor.0
                )?
            }
            Decision::Phase { job, phase } => {
                writeln!(w, "{t} phase {} {}", snap.job(job).uid, phase.as_str())?
            }
        }
    }
    Ok(())
}
