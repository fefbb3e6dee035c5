//! One error type for the storage and domain layer. The web layer maps each kind to a status
//! code and shows only the Chinese message; internal details go to the log, never to the user.

use xietong_supervision::FieldError;
use xietong_supervision::validate::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad input, naming the field.
    #[error("{0}")]
    Invalid(FieldError),
    /// Bad input in several fields, each named (a form checked as a whole).
    #[error("{0}")]
    Fields(FieldErrors),
    /// Bad input whose message already names the field.
    #[error("{0}")]
    BadInput(String),
    /// Not allowed for this person (data scope or role).
    #[error("{0}")]
    Denied(String),
    /// Not allowed in the current state (illegal transition, duplicate, cap reached).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// The database gave up on this transaction to keep others consistent (a PostgreSQL
    /// serialization failure or deadlock, a SQLite lock timeout): safe to retry.
    #[error("{0}")]
    Busy(String),
    /// More than may be sent at once (an upload over the limit), naming the limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("服务器内部错误")]
    Internal(String),
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid(FieldError::new(field, message))
    }
    /// The fields at fault with their messages, for a form to show each beside its field.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            StoreError::Invalid(f) => vec![f.clone()],
            StoreError::Fields(all) => all.0.clone(),
            _ => vec![],
        }
    }

    /// The same error with each field renamed (a row of a larger form: 「第2项议定任务的文号」).
    pub fn rename_fields(self, rename: impl Fn(&str) -> String) -> Self {
        let one = |f: FieldError| FieldError { field: rename(&f.field), message: f.message };
        match self {
            StoreError::Invalid(f) => StoreError::Invalid(one(f)),
            StoreError::Fields(all) => StoreError::Fields(FieldErrors(all.0.into_iter().map(one).collect())),
            other => other,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        StoreError::Internal(message.into())
    }

    /// The record moved on since it was read (by another request, or since the page was loaded).
    pub fn stale(what: &str, current: &str) -> Self {
        StoreError::Conflict(format!("该{what}已被他人处理，当前状态：{current}，请刷新后重试"))
    }
}

impl From<FieldError> for StoreError {
    fn from(e: FieldError) -> Self {
        StoreError::Invalid(e)
    }
}

/// One error stays [`StoreError::Invalid`], as a single check would have answered.
impl From<FieldErrors> for StoreError {
    fn from(mut e: FieldErrors) -> Self {
        if e.0.len() == 1 { StoreError::Invalid(e.0.remove(0)) } else { StoreError::Fields(e) }
    }
}

impl From<xietong_supervision::TransitionError> for StoreError {
    fn from(e: xietong_supervision::TransitionError) -> Self {
        StoreError::Conflict(e.to_string())
    }
}

impl From<xietong_supervision::access::Denied> for StoreError {
    fn from(e: xietong_supervision::access::Denied) -> Self {
        StoreError::Denied(e.0)
    }
}

impl From<xietong_calendar::CalendarError> for StoreError {
    fn from(e: xietong_calendar::CalendarError) -> Self {
        StoreError::BadInput(e.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // Constraint violations are the user's business (a duplicate 文号, an unknown unit);
        // everything else is ours and stays in the log.
        if let sqlx::Error::Database(db) = &e {
            let msg = db.message();
            if db.is_unique_violation() || msg.contains("UNIQUE constraint failed") {
                // The index on doc_no_key makes look-alike 文号 collide here too.
                if msg.contains("doc_no") && msg.contains("notices") {
                    return StoreError::invalid("文号", "已被另一份通报使用（可能刚由他人发布），请核对");
                }
                if msg.contains("doc_no") {
                    return StoreError::invalid("文号", "已存在（可能刚由他人立项），同一文号不能重复立项");
                }
                if msg.contains("username") {
                    return StoreError::invalid("用户名", "已存在");
                }
                // Constraints that decide races (see crate::locks): the loser is told what won.
                if msg.contains("extensions") {
                    return StoreError::Conflict("该任务已有一项延期申请正在审批中".into());
                }
                if msg.contains("contract_no") {
                    return StoreError::invalid("合同登记编号", "已登记（可能刚由他人登记），请核对");
                }
                if msg.contains("experience_members") {
                    return StoreError::Conflict("该人员已在这条历练记录中（可能刚由他人加入）".into());
                }
                if msg.contains("experience_tasks") {
                    return StoreError::Conflict("该任务已关联到这个专班（可能刚由他人关联）".into());
                }
                if msg.contains("cadre_pool") {
                    return StoreError::Conflict(
                        "该干部已在这一级的优秀年轻干部库中（可能刚由他人纳入），同一级只能在库一次".into(),
                    );
                }
                if msg.contains("cadres") {
                    return StoreError::Conflict("该人员已有干部档案（可能刚由他人建立），请刷新后修改".into());
                }
                if msg.contains("rankings") {
                    return StoreError::Conflict("该月排名已发布，发布后不能更改".into());
                }
                return StoreError::Conflict("数据重复，违反唯一性约束".into());
            }
            if db.is_foreign_key_violation() || msg.contains("FOREIGN KEY constraint failed") {
                return StoreError::Conflict("引用的单位、人员或记录不存在".into());
            }
            // PostgreSQL refuses NUL in text (22021) wherever it is bound, even in a search;
            // SQLite would store it. Validated fields refuse it first, naming the field; this
            // catches what is only looked up.
            if db.code().as_deref() == Some("22021") {
                return StoreError::BadInput("输入中含有空字符（U+0000）等无效字符，请删除后重试".into());
            }
            if msg.contains("审计日志只能追加") {
                return StoreError::Conflict(msg.to_string());
            }
            // serialization_failure, deadlock_detected, lock_not_available; SQLite's lock timeout.
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            if matches!(code.as_str(), "40001" | "40P01" | "55P03") || msg.contains("database is locked") {
                tracing::warn!(error = %e, "transaction aborted by the database, retryable");
                return StoreError::Busy("系统繁忙，该操作与其他操作冲突未能完成，请稍后重试".into());
            }
        }
        tracing::error!(error = %e, "database error");
        StoreError::Internal(e.to_string())
    }
}

/// Record a field's error in `c` and go on checking the others; any other error (denied, not
/// found, ours) stops at once.
pub fn check<T, E: Into<StoreError>>(
    c: &mut xietong_supervision::validate::Checks,
    r: Result<T, E>,
) -> Result<Option<T>, StoreError> {
    match r.map_err(Into::into) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let fields = e.field_errors();
            if fields.is_empty() {
                return Err(e);
            }
            fields.into_iter().for_each(|f| c.add(f));
            Ok(None)
        }
    }
}

/// A value taken with [`check`], once the checks passed (then every value is there).
pub fn got<T>(v: Option<T>) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::internal("表单校验通过但缺少字段值"))
}
