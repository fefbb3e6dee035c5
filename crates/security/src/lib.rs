//! Identity rules for a 等级保护 level-3 deployment, free of I/O: the password policy (length and
//! character classes) and the lockout after repeated failed logins — of one account name at one
//! network address ([`LockoutPolicy`], [`LoginState`]), and, after far more failures from any
//! addresses, of the account itself ([`AccountLockPolicy`], [`AccountState`]). The first two are
//! settings the 安全管理员 may change; the defaults are the ones GB/T 22239-2019 assessments look for.

pub mod fields;
pub mod id_number;
pub mod privacy;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xietong_supervision::FieldError;
use xietong_supervision::validate::{Checks, FieldErrors, int_in};

/// Minimum length and how many of the four classes (upper, lower, digit, symbol) a password needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub min_classes: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 8, min_classes: 3 }
    }
}

/// Longest password accepted (argon2 hashes any length; a bound keeps requests small).
pub const MAX_PASSWORD_LENGTH: usize = 128;

impl PasswordPolicy {
    /// A policy an administrator may set: length 8–64, classes 1–4. Weaker than 8 is refused
    /// because the assessment requires it.
    /// Both settings' errors at once.
    pub fn new(min_length: i64, min_classes: i64) -> Result<Self, FieldErrors> {
        let mut c = Checks::new();
        let len = c.take(int_in("密码最小长度", min_length, 8, 64));
        let classes = c.take(int_in("密码字符类别数", min_classes, 1, 4));
        c.done(|| Some(Self { min_length: len? as usize, min_classes: classes? as usize }))
    }

    pub fn check(&self, field: &str, password: &str) -> Result<(), FieldError> {
        let n = password.chars().count();
        if n < self.min_length {
            return Err(FieldError::new(field, format!("至少 {} 位（当前 {n} 位）", self.min_length)));
        }
        if n > MAX_PASSWORD_LENGTH {
            return Err(FieldError::new(field, format!("不能超过 {MAX_PASSWORD_LENGTH} 位")));
        }
        if classes(password) < self.min_classes {
            return Err(FieldError::new(
                field,
                format!("须包含大写字母、小写字母、数字、符号中的至少{}类", zh_count(self.min_classes)),
            ));
        }
        Ok(())
    }

    pub fn describe(&self) -> String {
        format!("至少 {} 位，含大写字母、小写字母、数字、符号中的至少{}类", self.min_length, zh_count(self.min_classes))
    }
}

fn zh_count(n: usize) -> &'static str {
    ["零", "一", "两", "三", "四"].get(n).copied().unwrap_or("四")
}

/// How many of upper case, lower case, digits and symbols a password uses.
pub fn classes(password: &str) -> usize {
    [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count()
}

/// After `attempts` consecutive failures of one account name from one address, that pair is
/// locked for `minutes` (the account stays open from everywhere else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    pub attempts: u32,
    pub minutes: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self { attempts: 5, minutes: 15 }
    }
}

impl LockoutPolicy {
    /// Both settings' errors at once.
    pub fn new(attempts: i64, minutes: i64) -> Result<Self, FieldErrors> {
        let mut c = Checks::new();
        let attempts = c.take(int_in("连续失败次数", attempts, 3, 10));
        let minutes = c.take(int_in("锁定时长（分钟）", minutes, 1, 1440));
        c.done(|| Some(Self { attempts: attempts? as u32, minutes: minutes? as u32 }))
    }
}

/// The failed-login state of one (account name, address) pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginState {
    pub failures: u32,
    pub locked_until: Option<NaiveDateTime>,
}

impl LoginState {
    /// Whether a login attempt may even be checked now.
    pub fn locked_at(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.locked_until.filter(|t| *t > now)
    }

    /// The state after a wrong password at `now`: the count grows, and reaching the limit locks
    /// the account and starts counting afresh.
    pub fn after_failure(self, policy: &LockoutPolicy, now: NaiveDateTime) -> LoginState {
        let failures = self.failures + 1;
        if failures >= policy.attempts {
            LoginState { failures: 0, locked_until: Some(now + Duration::minutes(i64::from(policy.minutes))) }
        } else {
            LoginState { failures, locked_until: None }
        }
    }

    /// The state after a correct password.
    pub fn after_success(self) -> LoginState {
        LoginState::default()
    }
}

/// When an account is locked for every address: `failures` wrong passwords for its name, from any
/// addresses, within `window_minutes`. Far above the per-address limit ([`LockoutPolicy`]), so one
/// address cannot lock anybody out — with the default 5 per address and 15-minute lock, one
/// address gets at most 20 tries an hour, and 50 need at least three working together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLockPolicy {
    pub failures: u32,
    pub window_minutes: u32,
    /// How long the account stays locked.
    pub minutes: u32,
}

impl AccountLockPolicy {
    /// 50 failures within an hour lock the account for the per-address lock's duration.
    pub const FAILURES: u32 = 50;
    pub const WINDOW_MINUTES: u32 = 60;

    pub fn for_lockout(l: &LockoutPolicy) -> Self {
        Self { failures: Self::FAILURES, window_minutes: Self::WINDOW_MINUTES, minutes: l.minutes }
    }
}

/// The failures of one account name from all addresses, counted in fixed windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountState {
    pub window_start: Option<NaiveDateTime>,
    pub failures: u32,
    pub locked_until: Option<NaiveDateTime>,
}

impl AccountState {
    pub fn locked_at(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.locked_until.filter(|t| *t > now)
    }

    /// The state after one more wrong password at `now`, and whether this one locked the account.
    /// A window opens at the first failure counted in it (none is open after a lock); a failure
    /// after the window has run out opens the next one.
    pub fn after_failure(self, policy: &AccountLockPolicy, now: NaiveDateTime) -> (AccountState, bool) {
        let window = Duration::minutes(i64::from(policy.window_minutes));
        let (start, before) = match self.window_start {
            Some(s) if self.failures > 0 && s <= now && now - s < window => (s, self.failures),
            _ => (now, 0),
        };
        let failures = before.saturating_add(1);
        if failures >= policy.failures {
            let until = now + Duration::minutes(i64::from(policy.minutes));
            (AccountState { window_start: Some(now), failures: 0, locked_until: Some(until) }, true)
        } else {
            (AccountState { window_start: Some(start), failures, locked_until: self.locked_until }, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_default_policy() {
        let p = PasswordPolicy::default();
        assert!(p.check("密码", "Xietong@2026").is_ok());
        assert!(p.check("密码", "abcdefgh1").unwrap_err().to_string().contains("至少三类"));
        assert!(p.check("密码", "Ab1!").unwrap_err().to_string().contains("至少 8 位"));
        assert!(p.check("密码", "abcdEFGH1234").is_ok());
        assert!(PasswordPolicy::new(6, 3).is_err(), "weaker than 8 is refused");
        let both: Vec<String> = PasswordPolicy::new(6, 5).unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(both, ["密码最小长度", "密码字符类别数"], "both settings' errors at once");
        assert_eq!(LockoutPolicy::new(2, 0).unwrap_err().0.len(), 2);
        assert!(PasswordPolicy::new(13, 4).unwrap().check("密码", "Xietong@2026").is_err());
        assert!(PasswordPolicy::new(8, 4).unwrap().check("密码", "xietong@2026").is_err(), "no upper case");
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes() {
        let p = LockoutPolicy::default();
        let now = t("2026-11-25 09:00");
        let mut s = LoginState::default();
        for _ in 0..4 {
            s = s.after_failure(&p, now);
            assert_eq!(s.locked_at(now), None);
        }
        s = s.after_failure(&p, now);
        assert_eq!(s.locked_at(now), Some(t("2026-11-25 09:15")));
        assert_eq!(s.locked_at(t("2026-11-25 09:15")), None, "unlocked when the time is up");
        assert_eq!(s.failures, 0);
    }

    #[test]
    fn fifty_failures_within_an_hour_lock_the_account() {
        let p = AccountLockPolicy::for_lockout(&LockoutPolicy::default());
        let start = t("2026-11-25 09:00");
        let mut s = AccountState::default();
        for i in 0..49 {
            let (next, locked) = s.after_failure(&p, start + Duration::minutes(i));
            assert!(!locked && next.locked_at(start + Duration::minutes(i)).is_none(), "failure {}", i + 1);
            s = next;
        }
        let (s, locked) = s.after_failure(&p, t("2026-11-25 09:59"));
        assert!(locked);
        assert_eq!(s.locked_at(t("2026-11-25 09:59")), Some(t("2026-11-25 10:14")));
        // 49 in one hour and one more after it: the window has moved on, nothing is locked.
        let mut s = AccountState::default();
        for _ in 0..49 {
            s = s.after_failure(&p, start).0;
        }
        let (s, locked) = s.after_failure(&p, t("2026-11-25 10:00"));
        assert!(!locked);
        assert_eq!(s.failures, 1);
    }

    proptest! {
        /// The account locks exactly when `failures` wrong passwords fall within one window.
        #[test]
        fn the_account_locks_exactly_at_the_limit(gaps in prop::collection::vec(0i64..30, 1..200), limit in 2u32..60) {
            let p = AccountLockPolicy { failures: limit, window_minutes: 60, minutes: 15 };
            let mut now = t("2026-11-25 09:00");
            let mut s = AccountState::default();
            let mut times: Vec<NaiveDateTime> = vec![];
            for g in gaps {
                now += Duration::minutes(g);
                // A model: the failures since the window opened (the window opens at the first
                // failure after a lock or after the previous window ran out).
                if times.first().is_some_and(|f| now - *f >= Duration::minutes(60)) {
                    times.clear();
                }
                times.push(now);
                let (next, locked) = s.after_failure(&p, now);
                prop_assert_eq!(locked, times.len() as u32 == limit);
                if locked {
                    times.clear();
                }
                prop_assert!(next.failures < limit);
                s = next;
            }
        }


        /// Whatever the sequence of outcomes, an account is locked exactly when the last
        /// `attempts` outcomes since the last lock or success were all failures.
        #[test]
        fn locks_only_after_the_limit(outcomes in prop::collection::vec(any::<bool>(), 0..40), attempts in 3u32..=10) {
            let p = LockoutPolicy { attempts, minutes: 15 };
            let now = t("2026-11-25 09:00");
            let mut s = LoginState::default();
            let mut run = 0u32;
            for ok in outcomes {
                if ok { s = s.after_success(); run = 0; } else {
                    s = s.after_failure(&p, now);
                    run += 1;
                    prop_assert_eq!(s.locked_until.is_some(), run == attempts);
                    if run == attempts { run = 0; }
                }
                prop_assert!(s.failures < attempts);
            }
        }

        #[test]
        fn the_policy_is_length_and_classes(pw in "\\PC{0,40}") {
            let p = PasswordPolicy::default();
            let ok = pw.chars().count() >= 8 && classes(&pw) >= 3;
            prop_assert_eq!(p.check("密码", &pw).is_ok(), ok);
        }
    }
}
