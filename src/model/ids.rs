//! Dense ids of the scheduler's objects: `NodeId`, `QueueId`, `JobId` (a PodGroup), `TaskId` (a
//! pod) — `u32` indexes into the snapshot's vectors, assigned in creation order and never
//! reused. Every comparator that orders objects ends in one of these (the id tie-break).
//!
//! Depends on nothing.

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("Dense id of a ", $what, ": its index in the snapshot.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            /// The id as a vector index.
            #[inline]
            pub fn ix(self) -> usize {
                self.0 as usize
            }
        }
    };
}
id_type!(NodeId, "node");
id_type!(QueueId, "queue");
id_type!(JobId, "job (PodGroup)");
id_type!(TaskId, "task (pod)");
