/// Errors are shown to end users as-is, hence the Chinese `Display`.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    #[error("办公时间设置无效：{0}")]
    InvalidOfficeHours(String),
    #[error("字段「{field}」不能为空")]
    EmptyField { field: String },
    #[error("字段「{field}」的值「{value}」不是有效的日期时间，应为 YYYY-MM-DD HH:MM")]
    InvalidDateTime { field: String, value: String },
    #[error("字段「{field}」的值「{value}」不是有效的日期，应为 YYYY-MM-DD")]
    InvalidDate { field: String, value: String },
    #[error("节假日数据无效：{0}")]
    InvalidHolidayData(String),
}
