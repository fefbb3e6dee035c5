//! One helper for the fields of a posted form (or a query string), kept as the ordered pairs the
//! browser sent: a field may repeat (a multi-select), and a missing field reads as empty.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRequest, Request};
use minijinja::value::{Object, Value};
use xietong_storage::StoreError;
use xietong_supervision::FieldError;

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

/// The errors of fields a form could not read (a number that is none, a choice that is no id):
/// they travel with the record (`unread`) and are answered with every other field's.
#[derive(Debug, Default)]
pub struct Unread(pub Vec<FieldError>);

impl Unread {
    /// The value, or `None` with its error recorded.
    pub fn take<T>(&mut self, r: Result<Option<T>, StoreError>) -> Option<T> {
        r.unwrap_or_else(|e| {
            self.0.extend(e.field_errors());
            None
        })
    }

    /// A number typed in `k`.
    pub fn num(&mut self, f: &Fields, k: &str, field: &str) -> Option<f64> {
        self.take(f.num(k, field))
    }

    /// `v`, or the error `message` recorded for `field` when it is missing and has none yet.
    fn required<T>(&mut self, v: Option<T>, field: &str, message: &str) -> Option<T> {
        if v.is_none() && !self.0.iter().any(|e| e.field == field) {
            self.0.push(FieldError::new(field, message));
        }
        v
    }

    /// A required number typed in `k` (0 stands in for a missing one, whose error is recorded).
    pub fn required_num(&mut self, f: &Fields, k: &str, field: &str) -> f64 {
        let v = self.num(f, k, field);
        self.required(v, field, "不能为空").unwrap_or(0.0)
    }

    /// A required whole number typed in `k` (0 stands in for a missing one, whose error is recorded).
    pub fn required_int(&mut self, f: &Fields, k: &str, field: &str) -> i64 {
        let v = self.int(f, k, field);
        self.required(v, field, "不能为空").unwrap_or(0)
    }

    /// The id chosen in `k`.
    pub fn id(&mut self, f: &Fields, k: &str, field: &str) -> Option<i64> {
        self.take(f.id(k, field))
    }

    /// The id that must be chosen in `k` ("请选择" recorded when none is).
    pub fn required_id(&mut self, f: &Fields, k: &str, field: &str) -> Option<i64> {
        let v = self.id(f, k, field);
        self.required(v, field, "请选择")
    }

    /// A whole number typed in `k`.
    pub fn int(&mut self, f: &Fields, k: &str, field: &str) -> Option<i64> {
        let v = f.trimmed(k);
        if v.is_empty() {
            return None;
        }
        let r = xietong_supervision::text::identifier_key(&v)
            .parse::<i64>()
            .map_err(|_| StoreError::invalid(field, format!("「{v}」不是整数")));
        self.take(r.map(Some))
    }
}

/// A form as a template shows it: the values sent (or the record's own) and each field's error,
/// so a refused form comes back with everything typed or chosen and every error beside its field.
///
/// In a template (`f`): `f.title` is the first value of `title`; `f.v('source_date', today)` the
/// value, or `today` on a form not yet sent; `f.sel('co_unit_ids', u.id)` whether that option was
/// chosen; `f.all('task_title')` every value of a repeated field; `f.on('assign_now', true)` a checkbox
/// (ticked by default until sent); `f.err('任务名称')`
/// the field's error as markup; `f.errors` every error, for the summary above the form.
#[derive(Clone, Debug, Default)]
pub struct FormView {
    fields: Fields,
    /// Sent by the browser: an unticked checkbox is then unticked, not its default.
    posted: bool,
    errors: Vec<FieldError>,
}

impl FormView {
    /// A form not yet sent (empty, or a record's values to edit).
    pub fn fresh(fields: impl Into<Fields>) -> Self {
        FormView { fields: fields.into(), posted: false, errors: vec![] }
    }

    /// A form sent back to be changed (from its confirmation): its values, no errors.
    pub fn kept(fields: impl Into<Fields>) -> Self {
        FormView { fields: fields.into(), posted: true, errors: vec![] }
    }

    /// A form sent and refused with `e`: its values, and the errors that name its fields.
    pub fn refused(fields: impl Into<Fields>, e: &StoreError) -> Self {
        FormView { fields: fields.into(), posted: true, errors: e.field_errors() }
    }

    /// The first value of `k` (empty when missing).
    pub fn get(&self, k: &str) -> String {
        self.fields.s(k)
    }

    /// Every value of `k`, in order (rows of a repeated field).
    pub fn all(&self, k: &str) -> Vec<String> {
        self.fields.all(k)
    }

    /// The value for the template.
    pub fn value(self) -> Value {
        Value::from_object(self)
    }

    /// The message to show above the form when the error names no field of it (a refused
    /// state, a duplicate): field errors are listed in the form's own summary instead.
    pub fn flash(e: &StoreError) -> Option<String> {
        e.field_errors().is_empty().then(|| e.to_string())
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#x27;".into(),
            c => c.to_string(),
        })
        .collect()
}

impl Object for FormView {
    /// A form is there even when empty (the default would read an object without entries as false).
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "errors" => Some(Value::from_serialize(&self.errors)),
            "posted" => Some(Value::from(self.posted)),
            k => self.fields.0.iter().find(|(kk, _)| kk == k).map(|(_, v)| Value::from(v.clone())),
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &minijinja::State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        let arg = |i: usize| args.get(i).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        let name = arg(0).unwrap_or_default();
        let present = self.fields.0.iter().any(|(k, _)| *k == name);
        Ok(match method {
            // A text field the browser sent (even emptied) shows what was sent; one it did not send
            // belongs to another form of the page (the 对接 page has three) and keeps its default.
            "v" => match (present, arg(1)) {
                (false, Some(default)) => Value::from(default),
                _ => Value::from(self.fields.s(&name)),
            },
            "sel" => {
                let want = arg(1).unwrap_or_default();
                Value::from(self.fields.0.iter().any(|(k, v)| *k == name && v.trim() == want))
            }
            "on" => match self.posted || present {
                true => Value::from(self.fields.on(&name)),
                false => Value::from(args.get(1).is_some_and(|v| v.is_true())),
            },
            "bad" => Value::from(self.errors.iter().any(|e| e.field == name)),
            "all" => Value::from(self.fields.all(&name)),
            "err" => match self.errors.iter().find(|e| e.field == name) {
                Some(e) => Value::from_safe_string(format!(
                    "<span class=\"field-error\" role=\"alert\" data-field=\"{}\">{}</span>",
                    escape(&e.field),
                    escape(&e.message)
                )),
                None => Value::from(""),
            },
            other => {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::UnknownMethod,
                    format!("form has no method {other}"),
                ));
            }
        })
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

    #[test]
    fn a_refused_form_keeps_choices_and_shows_errors_beside_fields() {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        let t = "{{ f.title }}|{{ f.v('d', 'today') }}|{{ f.sel('u', 3) }}{{ f.sel('u', 4) }}|\
                 {{ f.on('a', true) }}|{{ f.err('名称') }}|{{ f.err('其他') }}|{{ f.errors|length }}";
        env.add_template("t", t).unwrap();
        let sent = f(&[("title", "<道路>"), ("u", "3"), ("u", "5"), ("d", "")]);
        let e = StoreError::Fields(xietong_supervision::validate::FieldErrors(vec![
            FieldError::new("名称", "不能<为空>"),
            FieldError::new("牵头单位", "不能为空"),
        ]));
        let out =
            env.get_template("t").unwrap().render(minijinja::context! { f => FormView::refused(sent, &e).value() });
        assert_eq!(
            out.unwrap(),
            "&lt;道路&gt;||TrueFalse|False|<span class=\"field-error\" role=\"alert\" data-field=\"名称\">\
             不能&lt;为空&gt;</span>||2"
        );
        let out = env
            .get_template("t")
            .unwrap()
            .render(minijinja::context! { f => FormView::fresh(Fields::default()).value() });
        assert_eq!(out.unwrap(), "|today|FalseFalse|True|||0");
        assert_eq!(FormView::flash(&e), None);
        assert_eq!(FormView::flash(&StoreError::Conflict("已处理".into())).as_deref(), Some("已处理"));
    }
}
