//! The compatibility profile: switches that make the policy core decide as an older Volcano
//! does where it differs from v1.15 (which stays the model; every switch is off by default).
//!
//! One profile exists, `volcano-7a5d24ecc`: the v1.8 development line the realvolcano harness
//! runs (`../shared/realvolcano/DRIFT.md`, items A–K). Only the items that change decisions of
//! the modelled actions for the workloads volsim replays against it are implemented; each is
//! named by its DRIFT.md letter:
//!
//! - **A** `queue-pushed-early`: allocate pushes the queue back into its heap *before* the
//!   job's allocation, so the queue's heap position keeps its pre-allocation share.
//! - **D** `no-pods-dimension`: proportion's deserved, share and overused ignore the `pods`
//!   dimension (at 7a5d24ecc a task's Resreq has no `pods`).
//! - **F** `nodeorder-double-count`: nodeorder's k8s scores (least requested, balanced
//!   allocation) count every pod allocated or pipelined in the current session twice on its
//!   node, because both predicates' and nodeorder's event handlers add it to the session's
//!   shared k8s NodeInfo.
//! - **G** `phase-counts-allocated`: at session close Allocated and Binding tasks count toward
//!   the PodGroup's Running phase, so a gang bound this cycle leaves Inqueue at once
//!   (overcommit's enqueue budget stops counting its minResources a cycle or two earlier).
//!
//! Not implemented, and why (for `scenarios/reality`; `reports/reality/README.md` measures
//! each implemented item there):
//! B and C give v1.15's decisions for gangs whose pods are identical (a pod that finds no node
//! means its identical siblings find none either, and a node one failed on fails them too);
//! E differs only on dimensions a task does not request, within 0.1 of a float deserved, or for
//! jobs with more pods than minMember; H, I, J, K are outside the placement path or guarded
//! by the workload (DRIFT.md's "handling" column).
//!
//! Written `volcano-7a5d24ecc` (every implemented item) or `volcano-7a5d24ecc:A,F` (those
//! items only); `none` or empty is v1.15. Depends on nothing.

use std::fmt;

/// The name of the one profile.
pub const PROFILE_7A5D24ECC: &str = "volcano-7a5d24ecc";

/// Which 7a5d24ecc behaviours replace v1.15's (all off: v1.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Compat {
    /// DRIFT A: the queue goes back into the allocate heap before its job is allocated.
    pub queue_pushed_early: bool,
    /// DRIFT D: proportion ignores the `pods` dimension.
    pub no_pods_dimension: bool,
    /// DRIFT F: nodeorder counts in-session pods twice.
    pub nodeorder_double_count: bool,
    /// DRIFT G: Allocated/Binding tasks count toward the PodGroup's Running phase at close.
    pub phase_counts_allocated: bool,
}

/// (letter, long name) of each implemented item, in letter order.
const ITEMS: &[(char, &str)] = &[
    ('A', "queue-pushed-early"),
    ('D', "no-pods-dimension"),
    ('F', "nodeorder-double-count"),
    ('G', "phase-counts-allocated"),
];

impl Compat {
    /// v1.15: every switch off.
    pub const V1_15: Compat = Compat {
        queue_pushed_early: false,
        no_pods_dimension: false,
        nodeorder_double_count: false,
        phase_counts_allocated: false,
    };

    /// Every implemented item of `volcano-7a5d24ecc`.
    pub const VOLCANO_7A5D24ECC: Compat = Compat {
        queue_pushed_early: true,
        no_pods_dimension: true,
        nodeorder_double_count: true,
        phase_counts_allocated: true,
    };

    /// Whether every switch is off (the v1.15 model).
    pub fn is_v1_15(&self) -> bool {
        *self == Compat::V1_15
    }

    fn set(&mut self, letter: char, on: bool) {
        match letter {
            'A' => self.queue_pushed_early = on,
            'D' => self.no_pods_dimension = on,
            'F' => self.nodeorder_double_count = on,
            'G' => self.phase_counts_allocated = on,
            _ => unreachable!("ITEMS lists A, D, F, G"),
        }
    }

    fn get(&self, letter: char) -> bool {
        match letter {
            'A' => self.queue_pushed_early,
            'D' => self.no_pods_dimension,
            'F' => self.nodeorder_double_count,
            'G' => self.phase_counts_allocated,
            _ => false,
        }
    }

    /// Parses `none` / empty, `volcano-7a5d24ecc`, or `volcano-7a5d24ecc:ITEM,…` where an item
    /// is a DRIFT.md letter (`A`) or its long name (`queue-pushed-early`). The error says what
    /// was expected.
    pub fn parse(text: &str) -> Result<Compat, String> {
        let text = text.trim();
        if text.is_empty() || text == "none" || text == "v1.15" {
            return Ok(Compat::V1_15);
        }
        let (profile, items) = match text.split_once(':') {
            Some((p, i)) => (p.trim(), Some(i)),
            None => (text, None),
        };
        if profile != PROFILE_7A5D24ECC {
            return Err(format!(
                "unknown compatibility profile {profile:?} (expected \"{PROFILE_7A5D24ECC}\", \
                 \"{PROFILE_7A5D24ECC}:A,D,F\" with some of its items, or \"none\")"
            ));
        }
        let Some(items) = items else {
            return Ok(Compat::VOLCANO_7A5D24ECC);
        };
        let mut c = Compat::V1_15;
        for item in items.split(',').map(str::trim) {
            let found = ITEMS
                .iter()
                .find(|(l, n)| (item.len() == 1 && item.starts_with(*l)) || item == *n);
            match found {
                Some(&(l, _)) => c.set(l, true),
                None => {
                    let known: Vec<String> =
                        ITEMS.iter().map(|(l, n)| format!("{l} ({n})")).collect();
                    return Err(format!(
                        "unknown item {item:?} of {PROFILE_7A5D24ECC} (expected one of {}; \
                         the other DRIFT.md items do not change decisions here and are not \
                         modelled)",
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(c)
    }
}

impl fmt::Display for Compat {
    /// `none`, `volcano-7a5d24ecc` (every item) or `volcano-7a5d24ecc:A,F`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_v1_15() {
            return write!(f, "none");
        }
        if *self == Compat::VOLCANO_7A5D24ECC {
            return write!(f, "{PROFILE_7A5D24ECC}");
        }
        let on: Vec<String> = ITEMS
            .iter()
            .filter(|(l, _)| self.get(*l))
            .map(|(l, _)| l.to_string())
            .collect();
        write!(f, "{PROFILE_7A5D24ECC}:{}", on.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_profiles_and_items() {
        assert_eq!(Compat::parse("").unwrap(), Compat::V1_15);
        assert_eq!(Compat::parse("none").unwrap(), Compat::V1_15);
        assert_eq!(
            Compat::parse("volcano-7a5d24ecc").unwrap(),
            Compat::VOLCANO_7A5D24ECC
        );
        let c = Compat::parse("volcano-7a5d24ecc:F, queue-pushed-early").unwrap();
        assert!(c.nodeorder_double_count && c.queue_pushed_early && !c.no_pods_dimension);
        assert_eq!(c.to_string(), "volcano-7a5d24ecc:A,F");
        assert_eq!(
            Compat::parse(&c.to_string()).unwrap(),
            c,
            "Display round-trips"
        );
    }

    #[test]
    fn refuses_unknown_profiles_and_items() {
        let e = Compat::parse("volcano-1.8").unwrap_err();
        assert!(e.contains("unknown compatibility profile") && e.contains(PROFILE_7A5D24ECC));
        let e = Compat::parse("volcano-7a5d24ecc:B").unwrap_err();
        assert!(e.contains("unknown item \"B\"") && e.contains("A (queue-pushed-early)"));
    }
}
