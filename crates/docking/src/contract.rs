//! Technical contracts (技术合同) as registered in China, and the figures the district reports.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xietong_supervision::FieldError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractType {
    Development,
    Transfer,
    License,
    Consulting,
    Service,
}

impl ContractType {
    pub const ALL: [ContractType; 5] =
        [Self::Development, Self::Transfer, Self::License, Self::Consulting, Self::Service];
    pub fn code(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Transfer => "transfer",
            Self::License => "license",
            Self::Consulting => "consulting",
            Self::Service => "service",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Development => "技术开发",
            Self::Transfer => "技术转让",
            Self::License => "技术许可",
            Self::Consulting => "技术咨询",
            Self::Service => "技术服务",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s || k.label_zh() == s)
    }
}

/// A contract's money: amount and its technical-income part, in 万元.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContractAmounts {
    pub amount: f64,
    pub technical_income: f64,
}

impl ContractAmounts {
    /// 合同金额 > 0 and at most 10^7 万元; 技术性收入 between 0 and the amount.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !self.amount.is_finite() || self.amount <= 0.0 || self.amount > 1e7 {
            return Err(FieldError::new("合同金额（万元）", "应大于 0 且不超过 10000000"));
        }
        if !self.technical_income.is_finite() || self.technical_income < 0.0 {
            return Err(FieldError::new("技术性收入（万元）", "不能为负数"));
        }
        if self.technical_income > self.amount {
            return Err(FieldError::new("技术性收入（万元）", format!("不能超过合同金额（{}）", self.amount)));
        }
        Ok(())
    }
}

/// A signing date must not be in the future, nor absurdly old (a typo in the year).
pub fn signed_on(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if date > today {
        return Err(FieldError::new("签订日期", "不能晚于今天"));
    }
    if (today - date).num_days() > 366 * 20 {
        return Err(FieldError::new("签订日期", "早于 20 年前，请核对年份"));
    }
    Ok(date)
}
