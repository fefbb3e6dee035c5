//! Following a log of changes by sequence number (the `search_changes` table): which rows a node has
//! applied. PostgreSQL hands out sequence numbers before commit, so row 7 may be visible before row
//! 6; a reader that simply kept "the highest seen" would skip 6 for ever. The cursor keeps every gap
//! below the highest row seen and reads from the lowest one again, until the gap fills or is older
//! than [`GAP_PATIENCE_MS`] (its transaction rolled back: that number never commits).

use std::collections::{BTreeMap, BTreeSet};

/// How long a gap is waited for, in milliseconds. A writing transaction of the product lasts far less.
pub const GAP_PATIENCE_MS: u64 = 30_000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Every row up to this one is applied (or given up).
    through: i64,
    /// Rows applied above `through`.
    seen: BTreeSet<i64>,
    /// Missing rows below the highest seen, with when they were first missed (ms).
    gaps: BTreeMap<i64, u64>,
}

impl Cursor {
    /// Everything up to `seq` is applied (a fresh index built after reading `seq` as the head).
    pub fn at(seq: i64) -> Self {
        Cursor { through: seq, ..Self::default() }
    }

    /// Read the rows after this one (some of them may be applied already: [`Cursor::is_new`]).
    pub fn read_after(&self) -> i64 {
        self.through
    }

    /// Whether row `seq` still has to be applied.
    pub fn is_new(&self, seq: i64) -> bool {
        seq > self.through && !self.seen.contains(&seq)
    }

    /// Every row up to this one is applied.
    pub fn through(&self) -> i64 {
        self.through
    }

    /// Record rows as applied at time `now_ms`, then move `through` past every row applied or given up.
    pub fn applied(&mut self, seqs: impl IntoIterator<Item = i64>, now_ms: u64) {
        for s in seqs {
            if s > self.through {
                self.seen.insert(s);
                self.gaps.remove(&s);
            }
        }
        if let Some(&top) = self.seen.last() {
            let mut n = self.through + 1;
            while n < top {
                if !self.seen.contains(&n) {
                    self.gaps.entry(n).or_insert(now_ms);
                }
                n += 1;
            }
        }
        self.gaps.retain(|_, since| now_ms.saturating_sub(*since) < GAP_PATIENCE_MS);
        loop {
            let next = self.through + 1;
            if self.seen.remove(&next) {
                self.through = next;
            } else if !self.gaps.contains_key(&next) && self.seen.first().is_some_and(|f| *f > next) {
                // A gap given up on.
                self.through = next;
            } else {
                break;
            }
        }
    }

    /// Rows waited for below the highest applied.
    pub fn gaps(&self) -> usize {
        self.gaps.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_late_commit_is_not_skipped() {
        let mut c = Cursor::at(5);
        c.applied([7], 0);
        assert_eq!((c.through(), c.gaps()), (5, 1));
        assert!(c.is_new(6) && !c.is_new(7));
        c.applied([6], 10);
        assert_eq!((c.through(), c.gaps()), (7, 0));
    }

    #[test]
    fn a_rolled_back_number_is_given_up_after_the_patience() {
        let mut c = Cursor::at(0);
        c.applied([1, 3], 0);
        assert_eq!(c.through(), 1);
        c.applied([], GAP_PATIENCE_MS - 1);
        assert_eq!(c.through(), 1);
        c.applied([], GAP_PATIENCE_MS);
        assert_eq!(c.through(), 3);
    }

    proptest! {
        /// Rows arriving in any order, each once, end with every one applied and no gap left.
        #[test]
        fn any_order_ends_through_the_last(mut order in Just((1..40i64).collect::<Vec<_>>()).prop_shuffle(), cut in 0usize..40) {
            let mut c = Cursor::at(0);
            let later = order.split_off(cut.min(order.len()));
            c.applied(order.iter().copied(), 0);
            prop_assert!(order.iter().all(|s| !c.is_new(*s)));
            c.applied(later.iter().copied(), 1);
            prop_assert_eq!((c.through(), c.gaps()), (39, 0));
        }
    }
}
