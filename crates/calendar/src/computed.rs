use std::collections::BTreeSet;

use serde::Serialize;

/// A computed value plus the years it depended on that have no published schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Computed<T> {
    pub value: T,
    pub provisional_years: BTreeSet<i32>,
}

impl<T> Computed<T> {
    /// A value that depended only on published years.
    pub fn exact(value: T) -> Self {
        Self { value, provisional_years: BTreeSet::new() }
    }

    pub fn is_provisional(&self) -> bool {
        !self.provisional_years.is_empty()
    }

    /// E.g. "暂定：2027 年节假日安排尚未发布，按普通周末计算"; `None` when nothing is provisional.
    pub fn flag_zh(&self) -> Option<String> {
        if self.provisional_years.is_empty() {
            return None;
        }
        Some(format!("暂定：{} 年节假日安排尚未发布，按普通周末计算", years_zh(&self.provisional_years)))
    }

    /// Transforms the value, keeping the provisional years.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Computed<U> {
        Computed { value: f(self.value), provisional_years: self.provisional_years }
    }

    /// Combines two results, e.g. a deadline and a reminder derived from it; the years of both count.
    pub fn zip<U>(self, other: Computed<U>) -> Computed<(T, U)> {
        let mut years = self.provisional_years;
        years.extend(other.provisional_years);
        Computed { value: (self.value, other.value), provisional_years: years }
    }
}

/// "2027", "2027、2029", "2027–2030": runs are collapsed so a long span stays readable.
fn years_zh(years: &BTreeSet<i32>) -> String {
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &y in years {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == y => *end = y,
            _ => runs.push((y, y)),
        }
    }
    runs.iter()
        .map(|&(a, b)| match b - a {
            0 => a.to_string(),
            1 => format!("{a}、{b}"),
            _ => format!("{a}–{b}"),
        })
        .collect::<Vec<_>>()
        .join("、")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_years(ys: &[i32]) -> Computed<()> {
        Computed { value: (), provisional_years: ys.iter().copied().collect() }
    }

    #[test]
    fn flag_text() {
        assert_eq!(Computed::exact(1).flag_zh(), None);
        assert!(!Computed::exact(1).is_provisional());
        assert_eq!(with_years(&[2027]).flag_zh().unwrap(), "暂定：2027 年节假日安排尚未发布，按普通周末计算");
        assert!(with_years(&[2027]).is_provisional());
        assert_eq!(
            with_years(&[2027, 2028]).flag_zh().unwrap(),
            "暂定：2027、2028 年节假日安排尚未发布，按普通周末计算"
        );
        assert_eq!(
            with_years(&[2019, 2027, 2028, 2029, 2030]).flag_zh().unwrap(),
            "暂定：2019、2027–2030 年节假日安排尚未发布，按普通周末计算"
        );
    }

    #[test]
    fn map_and_zip_keep_years() {
        let a = Computed { value: 2, provisional_years: [2027].into() };
        let b = Computed { value: "x", provisional_years: [2028].into() };
        let m = a.clone().map(|v| v * 10);
        assert_eq!(m.value, 20);
        assert_eq!(m.provisional_years, [2027].into());
        let z = a.zip(b);
        assert_eq!(z.value, (2, "x"));
        assert_eq!(z.provisional_years, [2027, 2028].into());
    }
}
