//! The one label table: every code the system stores or sends (a task's status, an escalation
//! step, a role, an audit action …) and the Chinese a person reads for it, as the glossary
//! (docs/glossary.md) names it. Pages show codes only through [`label`] (the templates' `label`
//! filter); a code the table does not know shows as 「未知（code）」, never as itself or nothing.

use xietong_docking::baseline::{FIGURES, figure};
use xietong_docking::contract::ContractType;
use xietong_docking::pipeline::Stage;
use xietong_docking::review::{ReviewAction, ReviewStatus};
use xietong_supervision::problems::{ProblemAction, ProblemStatus};
use xietong_supervision::ranking::NoticeKind;
use xietong_supervision::{
    Action, DataScope, EscalationStep, ExtensionStatus, Light, ReportCycle, Role, SourceKind, TaskStatus,
};

use crate::libraries::Library;

/// The kinds of code, by the name templates give them (`{{ x|label("role") }}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    TaskStatus,
    /// A task's action and its timeline entries (立项, 自动催办 …).
    TaskEvent,
    Extension,
    Escalation,
    Light,
    Source,
    Cycle,
    Role,
    DataScope,
    ProblemStatus,
    ProblemAction,
    NoticeKind,
    Stage,
    ReviewStatus,
    ReviewAction,
    ContractType,
    Library,
    /// A message's kind in the 消息中心.
    Inbox,
    /// What an audit entry records (`task.approve`, `user.create` …).
    AuditAction,
    /// The kind of record an audit entry or an attachment belongs to.
    Record,
    /// A 交办 / 分解 clock's state.
    ClockState,
    /// A field named in an audit entry's before/after (`deadline`, `unit_id` …).
    Field,
    /// A figure the district reports (上报数: `high_tech_enterprises` …).
    Baseline,
    /// 重点项目 / 政府投资项目.
    ProjectKind,
}

impl Kind {
    pub const ALL: [Kind; 24] = [
        Kind::TaskStatus,
        Kind::TaskEvent,
        Kind::Extension,
        Kind::Escalation,
        Kind::Light,
        Kind::Source,
        Kind::Cycle,
        Kind::Role,
        Kind::DataScope,
        Kind::ProblemStatus,
        Kind::ProblemAction,
        Kind::NoticeKind,
        Kind::Stage,
        Kind::ReviewStatus,
        Kind::ReviewAction,
        Kind::ContractType,
        Kind::Library,
        Kind::Inbox,
        Kind::AuditAction,
        Kind::Record,
        Kind::ClockState,
        Kind::Field,
        Kind::Baseline,
        Kind::ProjectKind,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Kind::TaskStatus => "task_status",
            Kind::TaskEvent => "task_event",
            Kind::Extension => "extension",
            Kind::Escalation => "escalation",
            Kind::Light => "light",
            Kind::Source => "source",
            Kind::Cycle => "cycle",
            Kind::Role => "role",
            Kind::DataScope => "data_scope",
            Kind::ProblemStatus => "problem_status",
            Kind::ProblemAction => "problem_action",
            Kind::NoticeKind => "notice_kind",
            Kind::Stage => "stage",
            Kind::ReviewStatus => "review_status",
            Kind::ReviewAction => "review_action",
            Kind::ContractType => "contract_type",
            Kind::Library => "library",
            Kind::Inbox => "inbox",
            Kind::AuditAction => "audit_action",
            Kind::Record => "record",
            Kind::ClockState => "clock_state",
            Kind::Field => "field",
            Kind::Baseline => "baseline",
            Kind::ProjectKind => "project_kind",
        }
    }

    pub fn from_code(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == s)
    }

    /// Every code of this kind the system defines (what the label test walks).
    pub fn codes(self) -> Vec<String> {
        fn all<T: Copy>(xs: &[T], code: impl Fn(T) -> &'static str) -> Vec<String> {
            xs.iter().map(|x| code(*x).to_string()).collect()
        }
        match self {
            Kind::TaskStatus => all(&TaskStatus::ALL, TaskStatus::code),
            Kind::TaskEvent => {
                let mut v = all(&Action::ALL, Action::code);
                v.extend(TASK_EVENTS.iter().map(|(c, _)| c.to_string()));
                v.extend(EscalationStep::ALL.iter().map(|s| format!("escalate:{}", s.code())));
                v
            }
            Kind::Extension => all(&ExtensionStatus::ALL, ExtensionStatus::code),
            Kind::Escalation => all(&EscalationStep::ALL, EscalationStep::code),
            Kind::Light => all(&Light::ALL, Light::code),
            Kind::Source => all(&SourceKind::ALL, SourceKind::code),
            Kind::Cycle => all(&ReportCycle::ALL, ReportCycle::code),
            Kind::Role => all(&Role::ALL, Role::code),
            Kind::DataScope => all(&DataScope::KINDS, |k| k),
            Kind::ProblemStatus => all(&ProblemStatus::ALL, ProblemStatus::code),
            Kind::ProblemAction => {
                let mut v = all(&ProblemAction::ALL, ProblemAction::code);
                v.push("raise".into());
                v
            }
            Kind::NoticeKind => all(&NoticeKind::ALL, NoticeKind::code),
            Kind::Stage => all(&Stage::ALL, Stage::code),
            Kind::ReviewStatus => all(&ReviewStatus::ALL, ReviewStatus::code),
            Kind::ReviewAction => {
                let mut v = all(&ReviewAction::ALL, ReviewAction::code);
                v.extend(["submit".to_string(), "resubmit".to_string()]);
                v
            }
            Kind::ContractType => all(&ContractType::ALL, ContractType::code),
            Kind::Library => all(&Library::ALL, Library::code),
            Kind::Inbox => crate::inbox::KINDS.iter().map(|(c, _)| c.to_string()).collect(),
            Kind::AuditAction => {
                let mut v: Vec<String> = AUDIT_ACTIONS.iter().map(|(c, _)| c.to_string()).collect();
                v.extend(Kind::TaskEvent.codes().iter().map(|c| format!("task.{c}")));
                v.extend(Kind::ProblemAction.codes().iter().map(|c| format!("problem.{c}")));
                v.extend(Kind::ReviewAction.codes().iter().map(|c| format!("review.{c}")));
                for lib in ["tech_problem", "expert", "achievement"] {
                    v.extend(["submit", "resubmit"].iter().map(|a| format!("{lib}.{a}")));
                }
                v
            }
            Kind::Record => RECORDS.iter().map(|(c, _)| c.to_string()).collect(),
            Kind::ClockState => CLOCK_STATES.iter().map(|(c, _)| c.to_string()).collect(),
            Kind::Field => FIELDS.iter().map(|(c, _)| c.to_string()).collect(),
            Kind::Baseline => FIGURES.iter().map(|f| f.key.to_string()).collect(),
            Kind::ProjectKind => crate::projects::PROJECT_KINDS.iter().map(|(c, _)| c.to_string()).collect(),
        }
    }
}

/// Timeline entries of a task that are not one of its actions.
const TASK_EVENTS: &[(&str, &str)] = &[("create", "立项"), ("report_subtask", "子任务汇报")];

const CLOCK_STATES: &[(&str, &str)] =
    &[("running", "计时中"), ("overdue", "已超时"), ("met", "按时完成"), ("breached", "超时完成")];

/// What audit entries and attachments belong to (the `entity` of an audit entry).
const RECORDS: &[(&str, &str)] = &[
    ("achievement", "成果"),
    ("achievements", "成果"),
    ("audit_log", "审计日志"),
    ("bid_section", "标段"),
    ("cadre", "干部档案"),
    ("experience", "历练记录"),
    ("calendar_day", "工作日历日期"),
    ("calendar_year", "工作日历年度"),
    ("campaign", "征集活动"),
    ("category", "工作类别"),
    ("contract", "技术合同"),
    ("docking", "对接"),
    ("docking_activity", "对接活动"),
    ("enterprise", "企业"),
    ("enterprises", "企业"),
    ("expert", "专家"),
    ("experts", "专家"),
    ("import", "导入"),
    ("indicator", "数值指标"),
    ("indicator_report", "指标填报"),
    ("inspection", "督查考核事项"),
    ("inspection_merge", "督查事项合并"),
    ("institution", "高校院所"),
    ("institutions", "高校院所"),
    ("leader_area", "分包范围"),
    ("meeting", "协调会/研判会"),
    ("notice", "督查通报"),
    ("notify_channel", "推送通道"),
    ("outbox", "推送消息"),
    ("person", "人员"),
    ("platform", "研发平台/载体"),
    ("problem", "问题台账"),
    ("project", "重点项目"),
    ("ranking", "月度排名"),
    ("reported_baseline", "上报数"),
    ("role", "角色"),
    ("settings", "系统设置"),
    ("sso_provider", "统一身份认证身份源"),
    ("supervision_visit", "督导记录"),
    ("task", "督办任务"),
    ("task_list", "清单"),
    ("tech_problem", "技术难题"),
    ("tech_problems", "技术难题"),
    ("unit", "单位"),
    ("user", "账号"),
    ("visit", "督导记录"),
];

/// Audit actions with a fixed code (those made of a task, problem or review action are composed).
const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("achievement.import", "导入成果"),
    ("attachment.add", "上传附件"),
    ("audit.purge", "清理过期日志"),
    ("baseline.set", "填报上报数"),
    ("cadre.create", "建立干部档案"),
    ("cadre.pool_enter", "纳入优秀年轻干部库"),
    ("cadre.pool_exit", "调出优秀年轻干部库"),
    ("cadre.update", "修改干部档案"),
    ("experience.assess", "记录挂职考核等次"),
    ("experience.create", "建立历练记录"),
    ("experience.member_add", "加入历练成员"),
    ("experience.member_remove", "移出历练成员"),
    ("experience.task_link", "专班关联督办任务"),
    ("experience.update", "修改历练记录"),
    ("calendar.office_hours", "修改办公时间"),
    ("calendar.publish_year", "发布年度节假日安排"),
    ("calendar.remove_day", "删除日历调整"),
    ("calendar.set_day", "调整日历日期"),
    ("calendar_feed.create", "开通/更换日历订阅"),
    ("calendar_feed.revoke", "撤销日历订阅"),
    ("campaign.create", "发起征集活动"),
    ("category.completion_evidence", "设置办结证据要求"),
    ("category.create", "新增工作类别"),
    ("category.lead", "设置类别牵头部门"),
    ("contract.register", "登记技术合同"),
    ("docking.activity", "登记对接活动"),
    ("docking.create", "发起对接"),
    ("docking.move", "推进对接阶段"),
    ("docking.share_contact", "同意提供联系方式"),
    ("enterprise.create", "新增企业"),
    ("enterprise.import", "导入企业"),
    ("import.cadres", "导入干部名册"),
    ("import.list", "导入清单"),
    ("import.tasks", "导入任务"),
    ("indicator.create", "新增数值指标"),
    ("indicator.plan", "修改指标分期计划"),
    ("indicator.report", "填报指标完成值"),
    ("inspection.merge", "合并督查事项"),
    ("inspection.register", "登记督查考核事项"),
    ("institution.create", "新增高校院所"),
    ("intake.alias.remove", "删除单位别名"),
    ("intake.alias.set", "设置单位别名"),
    ("intake.confirm", "从文件立项并交办"),
    ("leader_area.add", "新增分包范围"),
    ("list.create", "新建清单"),
    ("notice.issue", "发布督查通报"),
    ("notify.address.set", "设置推送地址"),
    ("notify.channel.create", "新增推送通道"),
    ("notify.channel.update", "修改推送通道"),
    ("notify.pref.set", "设置消息接收方式"),
    ("notify.retry", "重发已放弃的消息"),
    ("party.link_unit", "关联单位"),
    ("person.create", "新增人员"),
    ("platform.create", "新增研发平台/载体"),
    ("problem.meeting", "召开协调会/研判会"),
    ("problem.raise", "列入问题台账"),
    ("project.create", "新增重点项目"),
    ("project.section_report", "填报标段进度"),
    ("project.section_set", "设置标段"),
    ("ranking.publish", "发布月度排名"),
    ("ranking.settings", "修改评分设置"),
    ("security.account_locked", "账号锁定"),
    ("security.rekey", "敏感字段换用新密钥"),
    ("session.force_logout", "强制下线"),
    ("session.logout_all", "退出所有设备"),
    ("settings.cadre_reported", "填报干部工作上报数"),
    ("settings.data_scope", "修改数据范围"),
    ("settings.password_login", "设置角色密码登录"),
    ("settings.rules", "修改督办规则"),
    ("settings.security", "修改安全设置"),
    ("settings.set", "修改系统设置"),
    ("settings.team_requirement", "设置班子结构要求"),
    ("sso.link", "绑定统一身份认证身份"),
    ("sso.provider.create", "登记身份源"),
    ("sso.provider.update", "修改身份源"),
    ("sso.unlink", "解除统一身份认证绑定"),
    ("task.create", "立项"),
    ("task.escalate", "自动督办"),
    ("task.site", "设置任务地点"),
    ("unit.create", "新增单位"),
    ("unit.set_head", "设置一把手"),
    ("user.change_password", "修改密码"),
    ("user.create", "新增账号"),
    ("user.reset_password", "重置密码"),
    ("user.set_active", "启用/停用账号"),
    ("visit.follow_up", "督导事项转督办"),
    ("visit.record", "登记督导记录"),
];

/// The audit log's search by kind of operation: the action codes' prefixes and what they cover.
pub const AUDIT_GROUPS: &[(&str, &str)] = &[
    ("task.", "督办任务"),
    ("problem.", "问题台账"),
    ("notice.", "督查通报"),
    ("ranking.", "月度排名"),
    ("indicator.", "数值指标"),
    ("project.", "重点项目"),
    ("inspection.", "督查统筹"),
    ("visit.", "督导记录"),
    ("import.", "导入"),
    ("intake.", "从文件立项"),
    ("cadre.", "干部"),
    ("experience.", "干部历练"),
    ("review.", "产学研审核"),
    ("docking.", "对接"),
    ("baseline.", "上报数"),
    ("contract.", "技术合同"),
    ("attachment.", "附件"),
    ("unit.", "单位"),
    ("person.", "人员"),
    ("user.", "账号"),
    ("session.", "会话"),
    ("sso.", "统一身份认证"),
    ("security.", "安全"),
    ("settings.", "系统设置"),
    ("calendar.", "工作日历"),
    ("audit.", "审计日志"),
];

/// The fields audit entries record before and after a change.
const FIELDS: &[(&str, &str)] = &[
    // 消息推送 (issue 16).
    ("url", "地址"),
    ("base_url", "开放平台地址"),
    ("set", "已设置"),
    ("channel", "通道"),
    ("mode", "接收方式"),
    ("kinds", "消息类别"),
    ("document", "来源文件"),
    ("words", "别名"),
    ("unit", "单位"),
    // 统一身份认证 (issue 16).
    ("match_by", "账号比对方式"),
    ("unit_claim", "单位声明"),
    ("provider", "身份源"),
    ("provider_id", "身份源编号"),
    ("roles", "角色"),
    ("achievement_id", "成果编号"),
    ("achievements", "成果"),
    ("action", "操作"),
    ("active", "启用"),
    ("actual", "完成值"),
    ("addresses", "地址"),
    ("amount_wan", "成交额（万元）"),
    ("as_of", "截至"),
    ("attachment_id", "附件编号"),
    ("audit_entries", "操作日志条数"),
    ("before", "清理截止日期"),
    ("budget_wan", "预算（万元）"),
    ("buyer", "买方"),
    ("campaign_id", "征集活动编号"),
    ("cap_per_week", "每周催办上限"),
    ("category_id", "工作类别编号"),
    ("co_unit_ids", "配合单位编号"),
    ("code", "编码"),
    ("comment", "意见"),
    ("completion_evidence", "办结须附佐证"),
    ("completion_percent", "完成率"),
    ("confidential", "保密"),
    ("confirm_large", "确认大批量"),
    ("contact_shared", "同意提供联系方式"),
    ("contract_no", "合同登记编号"),
    ("cooperation_mode", "合作方式"),
    ("credit_code", "统一社会信用代码"),
    ("deadline", "期限"),
    ("disagreement", "上报完成率不符"),
    ("disciplines", "学科"),
    ("doc_no", "文号"),
    ("docking_id", "对接编号"),
    ("end", "结束时间"),
    ("end_on", "结束日期"),
    ("ends_on", "截止日期"),
    ("enterprise_id", "企业编号"),
    ("escalation", "督办规则"),
    ("expert_id", "专家编号"),
    ("expires_on", "有效期至"),
    ("failures", "失败次数"),
    ("findings", "发现问题"),
    ("first_id", "首条编号"),
    ("follow_up", "后续要求"),
    ("forecast_late_days", "预计逾期提醒天数"),
    ("head_person_id", "一把手人员编号"),
    ("held_at", "召开时间"),
    ("held_on", "日期"),
    ("holder", "当前持有"),
    ("ids", "编号"),
    ("indicator_id", "指标编号"),
    ("industry_code", "行业代码"),
    ("inspection_ids", "督查事项编号"),
    ("institution_id", "高校院所编号"),
    ("issued_on", "发布日期"),
    ("issuing_unit_id", "发文单位编号"),
    ("kept_from_seq", "保留起始序号"),
    ("key", "设置项"),
    ("keywords", "关键词"),
    ("kind", "类型"),
    ("last_id", "末条编号"),
    ("lead_unit_id", "牵头单位编号"),
    ("leader_person_id", "分管领导人员编号"),
    ("ledger_after_working_days", "逾期几个工作日列入问题台账候选"),
    ("level", "级别"),
    ("library", "库"),
    ("location", "地点"),
    ("locked_until", "锁定至"),
    ("lockout_attempts", "连续失败几次锁定"),
    ("lockout_minutes", "锁定时长（分钟）"),
    ("login_per_minute", "每分钟登录尝试上限"),
    ("logins", "登录日志条数"),
    ("maturity", "成熟度"),
    ("month", "月份"),
    ("name", "名称"),
    ("not_assessed", "不参评单位编号"),
    ("note", "说明"),
    ("notice_after_working_days", "逾期几个工作日通报预警"),
    ("off", "放假"),
    ("on_time_weight", "按期办结分值"),
    ("overdue_penalty", "逾期扣分"),
    ("owner_unit_id", "所属单位编号"),
    ("parent_id", "上级单位编号"),
    ("password_min_classes", "密码字符类别数"),
    ("password_min_length", "密码最小长度"),
    ("patent_no", "专利号"),
    ("period_end", "周期结束"),
    ("period_start", "周期开始"),
    ("person_id", "人员编号"),
    ("place", "地点"),
    ("placeholder", "占位记录"),
    ("plan", "分期计划"),
    ("planned_investment", "计划投资"),
    ("post", "职务"),
    ("problem_id", "问题编号"),
    ("progress", "进度"),
    ("progress_weight", "进度分值"),
    ("project_progress", "项目进度"),
    ("published", "已发布"),
    ("reason", "原因"),
    ("received_at", "收件时间"),
    ("rejection_penalty", "退回整改扣分"),
    ("reported_percent", "上报完成率"),
    ("role", "角色"),
    ("round", "整改轮次"),
    ("rows", "行数"),
    ("section_id", "标段编号"),
    ("sections", "标段"),
    ("seller", "卖方"),
    ("sessions", "会话数"),
    ("sha256", "文件摘要"),
    ("signed_on", "签订日期"),
    ("site_lat", "纬度"),
    ("site_lon", "经度"),
    ("site_name", "地点名称"),
    ("source", "来源"),
    ("source_kind", "任务来源"),
    ("source_date", "来源日期"),
    ("source_task_id", "来源任务编号"),
    ("stage", "阶段"),
    ("start", "开始时间"),
    ("start_on", "开始日期"),
    ("starts_on", "开始日期"),
    ("status", "状态"),
    ("step", "环节"),
    ("subject", "事项"),
    ("summary", "纪要"),
    ("target", "目标值"),
    ("targets", "对象"),
    ("task_id", "任务编号"),
    ("task_ids", "任务编号"),
    ("technical_income_wan", "技术性收入（万元）"),
    ("title", "标题"),
    ("to", "至"),
    ("transfer_modes", "转化方式"),
    ("unit_id", "单位编号"),
    ("unit_ids", "单位编号"),
    ("unit_label", "单位"),
    ("urge", "催办规则"),
    ("username", "账号"),
    ("validity_days", "有效天数"),
    ("value", "数值"),
    ("values", "取值"),
    ("visited_on", "督导日期"),
    ("window_minutes", "时间窗（分钟）"),
    ("yellow_working_days", "到期前几个工作日亮黄灯"),
    ("education", "学历"),
    ("entry_route", "入职途径"),
    ("id_number", "身份证号"),
    ("major", "专业"),
    ("rank", "职级"),
    ("work_start", "参加工作时间"),
    ("version", "版本"),
    // 历练 (issue 18).
    ("purpose", "工作目标"),
    ("hours", "学时"),
    ("started_on", "开始日期"),
    ("ended_on", "结束日期"),
    ("person", "人员"),
    ("duty", "职责"),
    ("assessment", "考核等次"),
    ("task", "督办任务"),
    ("people", "人数"),
];

fn find(table: &[(&'static str, &'static str)], code: &str) -> Option<String> {
    table.iter().find(|(c, _)| *c == code).map(|(_, l)| l.to_string())
}

/// The Chinese for `code`, or `None` when the table has none.
pub fn lookup(kind: Kind, code: &str) -> Option<String> {
    let s = |x: &'static str| Some(x.to_string());
    match kind {
        Kind::TaskStatus => TaskStatus::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::TaskEvent => match code.strip_prefix("escalate:") {
            Some(step) => EscalationStep::from_code(step).map(|x| format!("自动{}", x.label_zh())),
            None => find(TASK_EVENTS, code).or_else(|| Action::from_code(code).and_then(|x| s(x.label_zh()))),
        },
        Kind::Extension => ExtensionStatus::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Escalation => EscalationStep::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Light => Light::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Source => SourceKind::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Cycle => ReportCycle::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Role => Role::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::DataScope => DataScope::KINDS.contains(&code).then(|| DataScope::kind_label_zh(code).to_string()),
        Kind::ProblemStatus => ProblemStatus::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::ProblemAction if code == "raise" => s("列入台账"),
        Kind::ProblemAction => ProblemAction::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::NoticeKind => NoticeKind::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Stage => Stage::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::ReviewStatus => ReviewStatus::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::ReviewAction => match code {
            "submit" => s("提交"),
            "resubmit" => s("修改后重新提交"),
            _ => ReviewAction::from_code(code).and_then(|x| s(x.label_zh())),
        },
        Kind::ContractType => ContractType::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Library => Library::from_code(code).and_then(|x| s(x.label_zh())),
        Kind::Inbox => find(&crate::inbox::KINDS, code),
        Kind::AuditAction => audit_action(code),
        Kind::Record => find(RECORDS, code),
        Kind::ClockState => find(CLOCK_STATES, code),
        Kind::Field => find(FIELDS, code),
        Kind::Baseline => figure(code).map(|f| f.label.to_string()),
        Kind::ProjectKind => find(&crate::projects::PROJECT_KINDS, code),
    }
}

fn audit_action(code: &str) -> Option<String> {
    if let Some(l) = find(AUDIT_ACTIONS, code) {
        return Some(l);
    }
    let (entity, verb) = code.split_once('.')?;
    match entity {
        "task" => lookup(Kind::TaskEvent, verb).map(|l| format!("任务：{l}")),
        "problem" => lookup(Kind::ProblemAction, verb).map(|l| format!("问题台账：{l}")),
        "review" => lookup(Kind::ReviewAction, verb).map(|l| format!("审核：{l}")),
        "tech_problem" | "expert" | "achievement" => {
            let what = find(RECORDS, entity)?;
            lookup(Kind::ReviewAction, verb).map(|l| format!("{l}{what}"))
        }
        _ => None,
    }
}

/// What a person reads for `code`: its label, 「未知（code）」 for a code the table lacks, and
/// 「—」 for nothing.
pub fn label(kind: Kind, code: &str) -> String {
    if code.is_empty() {
        return "—".into();
    }
    lookup(kind, code).unwrap_or_else(|| format!("未知（{code}）"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_han(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_code_of_every_kind_has_a_chinese_label() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_code(kind.code()), Some(kind));
            let codes = kind.codes();
            assert!(!codes.is_empty(), "{kind:?} defines no code");
            for code in codes {
                let l = lookup(kind, &code).unwrap_or_else(|| panic!("{kind:?} 「{code}」 has no label"));
                // A task without a light (closed, cancelled) shows a dash, as its lists do.
                let dash = kind == Kind::Light && l == "—";
                assert!(dash || (has_han(&l) && !l.contains(&code)), "{kind:?} 「{code}」 → 「{l}」");
            }
        }
    }

    #[test]
    fn unknown_codes_say_so() {
        assert_eq!(label(Kind::Role, "wizard"), "未知（wizard）");
        assert_eq!(label(Kind::Extension, ""), "—");
        assert_eq!(label(Kind::Extension, "reviewed"), "待分管领导审批");
        assert_eq!(label(Kind::Escalation, "notice_warning"), "通报预警");
        assert_eq!(label(Kind::AuditAction, "task.approve"), "任务：审核通过（办结销号）");
        assert_eq!(label(Kind::AuditAction, "task.nonsense"), "未知（task.nonsense）");
    }

    /// Every audit action the storage layer writes with a fixed code is in the table: the test
    /// reads the sources, so an action added later without a label fails here.
    #[test]
    fn every_audit_action_written_has_a_label() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).expect("storage sources").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut files = vec![];
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut seen = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).expect("source");
            for (i, _) in text.match_indices("action: \"") {
                let rest = &text[i + 9..];
                let code = &rest[..rest.find('"').expect("closing quote")];
                seen += 1;
                assert!(
                    lookup(Kind::AuditAction, code).is_some(),
                    "{}: audit action 「{code}」 has no label",
                    f.display()
                );
            }
            for (i, _) in text.match_indices("entity: \"") {
                let rest = &text[i + 9..];
                let code = &rest[..rest.find('"').expect("closing quote")];
                assert!(lookup(Kind::Record, code).is_some(), "{}: audit entity 「{code}」 has no label", f.display());
            }
        }
        assert!(seen > 40, "only {seen} audit actions found: did the sources move?");
    }

    /// Every key of a `json!({…})` the storage sources write (audit entries' before and after) has
    /// a label: a ranking's `not_assessed` once showed on /audit as 「未知（not_assessed）」.
    #[test]
    fn every_audit_field_written_has_a_label() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![dir];
        let mut keys = 0;
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("storage sources").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "rs") || p.ends_with("labels.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).expect("source");
                for (i, _) in text.match_indices("json!({") {
                    let body = &text[i + 7..];
                    let mut depth = 1;
                    let end = body
                        .char_indices()
                        .find(|&(_, c)| {
                            depth += match c {
                                '{' => 1,
                                '}' => -1,
                                _ => 0,
                            };
                            depth == 0
                        })
                        .map_or(body.len(), |(j, _)| j);
                    for part in body[..end].split('"').collect::<Vec<_>>().windows(2) {
                        let (key, after) = (part[0], part[1]);
                        let is_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                        if is_key && after.trim_start().starts_with(':') && !after.trim_start().starts_with("::") {
                            keys += 1;
                            assert!(
                                lookup(Kind::Field, key).is_some(),
                                "{}: field 「{key}」 has no label",
                                p.display()
                            );
                        }
                    }
                }
            }
        }
        assert!(keys > 40, "only {keys} fields found: did the sources move?");
    }
}
