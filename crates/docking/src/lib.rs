//! 政校企“产学研”对接 domain rules, free of I/O:
//!
//! - [`baseline`]: a figure the district reported (上报数, with its source) beside the records
//!   held (在库数), the difference said in words.
//! - [`industries`]: GB/T 4754-2017, searchable by code or words (the 行业 picker).
//! - [`codes`]: 统一社会信用代码 (GB 32100-2015, with its check character) and Chinese patent
//!   application / publication numbers (with the application number's check digit).
//! - [`pipeline`]: the docking (对接) stages from 推荐 to 结项 or 终止, as a transition table.
//! - [`contract`]: technical contracts as registered in China (技术开发 / 转让 / 许可 / 咨询 / 服务).
//! - [`review`]: 征集 submissions through 形式审核 and 部门审核 to publication and expiry.
//! - [`matching`]: the structured signals of a match (discipline ↔ industry, keywords, maturity ↔
//!   cooperation mode, location), combined with the search's text relevance and explained.

pub mod baseline;
pub mod codes;
pub mod contract;
pub mod industries;
pub mod matching;
pub mod pipeline;
pub mod review;
