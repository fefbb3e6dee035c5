//! One helper for the fields of a posted form (or a query string), kept as the ordered pairs the
//! browser sent: a field may repeat (a multi-select), and a missing field reads as empty.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{FromRequest, Request};
use xietong_storage::StoreError;

/// A query string as the ordered pairs the browser sent (flash messages, filters that repeat).
pub type RawQuery = axum::extract::Query<Vec<(String, String)>>;

/// Form (or query) fields by name.
#[derive(Clone, Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl From<Vec<(String, String)>> for Fields {
    fn from(v: Vec<(String, String)>) -> Self {
        Fields(v)
    }
}

/// A handler may take `f: Fields` for a posted form directly.
impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = <Form<Vec<(String, String)>> as FromRequest<S>>::Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Form(v) = Form::<Vec<(String, String)>>::from_request(req, state).await?;
        Ok(Fields(v))
    }
}

impl Fields {
    /// The first value of `k` as sent, or empty.
    pub fn s(&self, k: &str) -> String {
        self.0.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The first value of `k` without surrounding blanks, or empty.
    pub fn trimmed(&self, k: &str) -> String {
        self.s(k).trim().to_string()
    }

    /// The value of `k` unless it is missing or blank.
    pub fn opt(&self, k: &str) -> Option<String> {
        Some(self.s(k)).filter(|v| !v.trim().is_empty())
    }

    /// Every non-blank value of `k` as an id; a value that is not one is refused naming `field`.
    pub fn ids(&self, k: &str, field: &str) -> Result<Vec<i64>, StoreError> {
        self.0
            .iter()
            .filter(|(kk, v)| kk == k && !v.trim().is_empty())
            .map(|(_, v)| {
                v.trim().parse::<i64>().map_err(|_| StoreError::invalid(field, format!("「{v}」不是有效编号")))
            })
            .collect()
    }

    /// The id chosen in `k`, if any.
    pub fn id(&self, k: &str, field: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.ids(k, field)?.into_iter().next())
    }

    /// A number typed in `k` (full-width digits and separators accepted), if any.
    pub fn num(&self, k: &str, field: &str) -> Result<Option<f64>, StoreError> {
        Ok(xietong_supervision::validate::parse_number(field, &self.s(k))?)
    }

    /// A ticked checkbox.
    pub fn on(&self, k: &str) -> bool {
        matches!(self.s(k).as_str(), "1" | "on" | "true")
    }

    /// Every value of `k`, in order.
    pub fn all(&self, k: &str) -> Vec<String> {
        self.0.iter().filter(|(kk, _)| kk == k).map(|(_, v)| v.clone()).collect()
    }

    /// The fields as a map (the last value of a repeated field wins), to refill a form.
    pub fn map(&self) -> HashMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn fields_read_as_a_form_means_them() {
        let x = f(&[("a", " 1 "), ("u", "3"), ("u", ""), ("u", "5"), ("c", "on"), ("bad", "x")]);
        assert_eq!((x.s("a"), x.trimmed("a"), x.s("missing")), (" 1 ".into(), "1".into(), String::new()));
        assert_eq!((x.opt("a").is_some(), x.opt("u2"), x.opt("missing")), (true, None, None));
        assert_eq!(x.ids("u", "单位").unwrap(), vec![3, 5]);
        assert_eq!(x.id("u", "单位").unwrap(), Some(3));
        assert_eq!(x.id("missing", "单位").unwrap(), None);
        assert!(x.id("bad", "牵头单位").unwrap_err().to_string().contains("牵头单位"));
        assert!(x.on("c") && !x.on("a"));
        assert_eq!(x.all("u"), vec!["3", "", "5"]);
        assert_eq!(f(&[("n", "１２.５")]).num("n", "金额").unwrap(), Some(12.5));
    }
}
