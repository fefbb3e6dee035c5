//! What the outbox sends to one destination now: pure rules, property-tested.
//!
//! - A message already tried keeps its form: alone, or in the digest it was first sent in (so a
//!   retry carries the same idempotency key and a receiver can drop the repeat).
//! - Fresh messages go one by one while the destination's budget (its robot's messages a minute,
//!   a person's daily cap) allows; when there are more than the budget, they are packed into
//!   digests instead of being dropped or blocking the robot.
//! - Messages a person asked to get as a daily digest are always packed.
//! - What does not fit the budget is held, not lost.

/// A due message as planning sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub attempts: i64,
    pub batch_id: Option<i64>,
    pub digest: bool,
    /// Bytes of the message's line in a digest.
    pub bytes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// One message alone (`batch: None`) or a digest of several (`batch`: the id fixing its members).
    Send { ids: Vec<i64>, batch: Option<i64> },
    /// Over the budget: try again later.
    Hold { ids: Vec<i64> },
}

/// Separator bytes between two lines of a digest.
pub const SEP: usize = 1;

/// The steps for one destination's due messages (in id order), with `budget` messages allowed now
/// and `limit` bytes per message. Every message is in exactly one step; the sends cost at most
/// `budget` messages.
pub fn plan(rows: &[Pending], budget: usize, limit: usize) -> Vec<Step> {
    let mut sends: Vec<(Vec<i64>, Option<i64>)> = vec![];
    // Tried before: resend as it was.
    let mut batches: Vec<(i64, Vec<i64>)> = vec![];
    for r in rows.iter().filter(|r| r.batch_id.is_some()) {
        let b = r.batch_id.unwrap_or(r.id);
        match batches.iter_mut().find(|(id, _)| *id == b) {
            Some((_, ids)) => ids.push(r.id),
            None => batches.push((b, vec![r.id])),
        }
    }
    sends.extend(batches.into_iter().map(|(b, ids)| (ids, Some(b))));
    sends.extend(rows.iter().filter(|r| r.batch_id.is_none() && r.attempts > 0).map(|r| (vec![r.id], None)));
    let fresh: Vec<&Pending> = rows.iter().filter(|r| r.batch_id.is_none() && r.attempts == 0).collect();
    let left = budget.saturating_sub(sends.len());
    let (each, packed): (Vec<&Pending>, Vec<&Pending>) =
        if fresh.len() <= left { fresh.into_iter().partition(|r| !r.digest) } else { (vec![], fresh) };
    sends.extend(each.iter().map(|r| (vec![r.id], None)));
    let sizes: Vec<usize> = packed.iter().map(|r| r.bytes).collect();
    for g in crate::split::pack(&sizes, SEP, limit) {
        let ids: Vec<i64> = g.iter().map(|&i| packed[i].id).collect();
        let batch = (ids.len() > 1 || packed[g[0]].digest).then(|| ids[0]);
        sends.push((ids, batch));
    }
    let mut steps = vec![];
    let mut held = vec![];
    for (i, (ids, batch)) in sends.into_iter().enumerate() {
        if i < budget {
            steps.push(Step::Send { ids, batch });
        } else {
            held.extend(ids);
        }
    }
    if !held.is_empty() {
        held.sort_unstable();
        steps.push(Step::Hold { ids: held });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rows() -> impl Strategy<Value = Vec<Pending>> {
        proptest::collection::vec((0i64..3, proptest::option::of(0usize..4), any::<bool>(), 10usize..900), 0..80)
            .prop_map(|v| {
                let mut out: Vec<Pending> = vec![];
                for (i, (attempts, batch, digest, bytes)) in v.into_iter().enumerate() {
                    let id = i as i64 + 1;
                    // A batch id is the id of its first member, and only tried rows have one.
                    let batch_id = batch.filter(|_| attempts > 0).map(|b| (id - b as i64).max(1));
                    out.push(Pending { id, attempts, batch_id, digest, bytes });
                }
                out
            })
    }

    proptest! {
        #[test]
        fn every_message_is_sent_or_held_once_within_the_budget(rows in rows(), budget in 0usize..25) {
            let steps = plan(&rows, budget, 2048);
            let mut seen: Vec<i64> = steps.iter().flat_map(|s| match s {
                Step::Send { ids, .. } | Step::Hold { ids } => ids.clone(),
            }).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, rows.iter().map(|r| r.id).collect::<Vec<_>>());
            let sends = steps.iter().filter(|s| matches!(s, Step::Send { .. })).count();
            prop_assert!(sends <= budget);
        }

        #[test]
        fn a_tried_message_keeps_its_form(rows in rows(), budget in 0usize..25) {
            for s in plan(&rows, budget, 2048) {
                if let Step::Send { ids, batch } = s {
                    for id in &ids {
                        let r = rows.iter().find(|r| r.id == *id).unwrap();
                        if r.attempts > 0 {
                            prop_assert_eq!(r.batch_id, batch);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_burst_over_the_robots_budget_becomes_digests() {
        let rows: Vec<Pending> =
            (1..=50).map(|id| Pending { id, attempts: 0, batch_id: None, digest: false, bytes: 150 }).collect();
        let steps = plan(&rows, 20, 2048);
        assert!(steps.iter().all(|s| matches!(s, Step::Send { batch: Some(_), .. })), "{steps:?}");
        assert_eq!(steps.len(), 4); // 13 lines of 150 bytes fit in 2 048
        let few: Vec<Pending> = rows[..5].to_vec();
        assert_eq!(plan(&few, 20, 2048).len(), 5);
    }
}
