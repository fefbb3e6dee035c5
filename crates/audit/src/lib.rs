//! The audit chain. Each entry's hash is SM3 (GB/T 32905, 国密) over the previous entry's hash and
//! the entry's own canonical fields, so editing or deleting any stored row breaks the chain at
//! that row. Storage keeps the rows; this crate only hashes and verifies.

use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, 1-based and gap-free.
    pub seq: i64,
    /// "YYYY-MM-DD HH:MM:SS" local time.
    pub at: String,
    /// Who acted: a user name, or "system" for the scheduler.
    pub actor: String,
    /// What happened, e.g. "task.assign".
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// JSON before and after, or empty.
    pub before: String,
    pub after: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry with these fields following `prev_hash`.
/// Fields are length-prefixed so that no two different entries serialise to the same bytes.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: &str,
    after: &str,
) -> String {
    let mut h = Sm3::new();
    let seq = seq.to_string();
    for part in [prev_hash, seq.as_str(), at, actor, action, entity, entity_id, before, after] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    pub fn compute_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            &self.at,
            &self.actor,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.before,
            &self.after,
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("审计日志第 {seq} 条被篡改：内容与其哈希不符")]
    Tampered { seq: i64 },
    #[error("审计日志第 {seq} 条与前一条的哈希链接断开（前一条可能被修改或删除）")]
    BrokenLink { seq: i64 },
    #[error("审计日志缺少第 {expected} 条（下一条为第 {found} 条）：有记录被删除")]
    Missing { expected: i64, found: i64 },
    #[error("审计日志末尾被删除：应有 {expected} 条，实有 {found} 条")]
    Truncated { expected: i64, found: i64 },
}

/// Incremental verifier, so storage can stream rows in `seq` order without holding them all.
#[derive(Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS.to_string() }
    }
}

impl Verifier {
    /// Continue a chain whose entries up to `seq` were purged after their retention period; `hash`
    /// is the last purged entry's, kept by the chain head.
    pub fn resume(seq: i64, hash: &str) -> Self {
        if seq <= 0 { Self::default() } else { Self { expected_seq: seq + 1, prev_hash: hash.to_string() } }
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainError> {
        if e.seq != self.expected_seq {
            return Err(ChainError::Missing { expected: self.expected_seq, found: e.seq });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainError::BrokenLink { seq: e.seq });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainError::Tampered { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }
    /// Call at the end with the count the chain head records (kept apart from the rows),
    /// so deleting the newest rows is caught too.
    pub fn finish(&self, head_count: Option<i64>) -> Result<i64, ChainError> {
        let found = self.expected_seq - 1;
        match head_count {
            Some(expected) if expected != found => Err(ChainError::Truncated { expected, found }),
            _ => Ok(found),
        }
    }
}

/// Verify a whole chain held in memory.
pub fn verify(entries: &[AuditEntry], head_count: Option<i64>) -> Result<i64, ChainError> {
    let mut v = Verifier::default();
    for e in entries {
        v.push(e)?;
    }
    v.finish(head_count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = vec![];
        for i in 0..n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or_else(|| GENESIS.to_string());
            let mut e = AuditEntry {
                seq: i as i64 + 1,
                at: "2026-11-22 09:00:00".into(),
                actor: "duchaju".into(),
                action: "task.assign".into(),
                entity: "task".into(),
                entity_id: i.to_string(),
                before: "{}".into(),
                after: format!("{{\"n\":{i}}}"),
                prev_hash: prev,
                hash: String::new(),
            };
            e.hash = e.compute_hash();
            out.push(e);
        }
        out
    }

    #[test]
    fn sm3_known_answer() {
        // GB/T 32905-2016 example: SM3("abc").
        let d = Sm3::digest(b"abc");
        assert_eq!(hex::encode(d), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5), Some(5)), Ok(5));
    }

    #[test]
    fn truncation_is_caught_by_the_head() {
        let c = chain(5);
        assert_eq!(verify(&c[..4], Some(5)), Err(ChainError::Truncated { expected: 5, found: 4 }));
    }

    proptest! {
        /// Editing any field of any row is caught at that row.
        #[test]
        fn any_edit_is_caught(n in 1usize..20, row in 0usize..20, field in 0usize..6) {
            let mut c = chain(n);
            let row = row % n;
            let e = &mut c[row];
            match field {
                0 => e.actor.push('x'),
                1 => e.action.push('x'),
                2 => e.after.push('x'),
                3 => e.before.push('x'),
                4 => e.at = "2026-11-22 09:00:01".into(),
                _ => e.entity_id.push('9'),
            }
            prop_assert_eq!(verify(&c, Some(n as i64)), Err(ChainError::Tampered { seq: row as i64 + 1 }));
        }

        /// Deleting any row in the middle is caught at the gap.
        #[test]
        fn any_deletion_is_caught(n in 2usize..20, row in 0usize..20) {
            let mut c = chain(n);
            let row = row % (n - 1);
            c.remove(row);
            prop_assert!(verify(&c, Some(n as i64)).is_err());
        }
    }
}
