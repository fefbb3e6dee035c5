//! Who may see and act on a task. The storage layer turns the same rules into SQL for lists;
//! this module is the single statement of them, and the web layer calls it for every write.

use crate::ids::{PersonId, UnitId};
use crate::lifecycle::Action;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: users, units, calendar, settings.
    Admin,
    /// 督查局: registers, hands over, reviews, urges.
    Supervisor,
    /// 区领导: sees everything, writes 批示, approves extensions for tasks they are in charge of.
    Leader,
    /// 单位联络员: sees and acts for their own unit (and its 内设科室) only.
    Liaison,
    /// 责任人: their own sub-tasks.
    Responsible,
    /// 科技局: keeps the 产学研 libraries, runs 征集 campaigns, reviews submissions, moves dockings.
    /// Sees its own unit's supervised tasks like a liaison, but does not act on them.
    TechBureau,
    /// 企业用户: posts its enterprise's technical problems and sees their matches and dockings.
    Enterprise,
    /// 高校院所用户: posts its institution's achievements and keeps its experts' profiles.
    Institution,
    /// 安全管理员 (三员分立): security settings, online sessions, and the accounts of the three
    /// administrators. Sees no business data.
    SecurityAdmin,
    /// 审计管理员 (三员分立): reads the audit, login and operation logs; changes nothing.
    AuditAdmin,
    /// 组织部: keeps the cadre records (干部名册, 优秀年轻干部库, 班子结构). The only role that reads
    /// them; sees supervised records only as a cadre's page draws from them.
    OrgDept,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Self::Admin,
        Self::Supervisor,
        Self::Leader,
        Self::Liaison,
        Self::Responsible,
        Self::TechBureau,
        Self::Enterprise,
        Self::Institution,
        Self::SecurityAdmin,
        Self::AuditAdmin,
        Self::OrgDept,
    ];
    /// The three administrators kept apart (三员分立): no account is more than one of them, and
    /// none may do another's work.
    pub const ADMINISTRATORS: [Role; 3] = [Self::Admin, Self::SecurityAdmin, Self::AuditAdmin];
    /// The district-wide views (督导看板, 督查统筹, 组织机构): the 系统管理员, the 督查局 and the leaders.
    pub const LEADERSHIP: [Role; 3] = [Self::Admin, Self::Supervisor, Self::Leader];
    pub fn code(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Supervisor => "supervisor",
            Self::Leader => "leader",
            Self::Liaison => "liaison",
            Self::Responsible => "responsible",
            Self::TechBureau => "tech_bureau",
            Self::Enterprise => "enterprise",
            Self::Institution => "institution",
            Self::SecurityAdmin => "security_admin",
            Self::AuditAdmin => "audit_admin",
            Self::OrgDept => "org_dept",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Admin => "系统管理员",
            Self::Supervisor => "督查局",
            Self::Leader => "区领导",
            Self::Liaison => "单位联络员",
            Self::Responsible => "责任人",
            Self::TechBureau => "科技局",
            Self::Enterprise => "企业用户",
            Self::Institution => "高校院所用户",
            Self::SecurityAdmin => "安全管理员",
            Self::AuditAdmin => "审计管理员",
            Self::OrgDept => "组织部",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
    /// Roles that work on supervised records (tasks, 台账, 通报, indicators); their 数据范围 is a
    /// setting. The others never see them: the 产学研 roles own their enterprise's or institution's
    /// records, and the 安全/审计管理员 see no business data.
    pub const SCOPED: [Role; 6] =
        [Self::Admin, Self::Supervisor, Self::Leader, Self::Liaison, Self::Responsible, Self::TechBureau];

    /// Roles whose 数据范围 is a setting of the 安全管理员: those of [`Role::SCOPED`], and the
    /// 组织部, whose scope is over people (whose cadre records it keeps), not supervised records.
    pub fn scope_is_setting(self) -> bool {
        Self::SCOPED.contains(&self) || self == Self::OrgDept
    }

    /// The 数据范围 a role has until the 安全管理员 sets another.
    pub fn default_data_scope(self) -> DataScope {
        match self {
            Self::Admin | Self::Supervisor | Self::Leader => DataScope::All,
            Self::Liaison | Self::TechBureau => DataScope::UnitAndBelow,
            Self::Enterprise | Self::Institution => DataScope::Unit,
            Self::Responsible | Self::SecurityAdmin | Self::AuditAdmin => DataScope::SelfOnly,
            // The cadre records of every unit until set; a scope over people, not supervised records.
            Self::OrgDept => DataScope::All,
        }
    }

    /// The 产学研 libraries are district-wide for these roles (issue 4's rules for confidential
    /// problems and expert contacts apply on top).
    pub fn sees_all_libraries(self) -> bool {
        matches!(self, Self::Admin | Self::Supervisor | Self::Leader | Self::TechBureau)
    }
}

/// 数据范围 in the RuoYi convention, set per role: which units' records a person may read and
/// write. Stored as text: `all`, `custom:3,5`, `unit`, `unit_and_below`, `self`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataScope {
    /// 全部数据权限
    All,
    /// 自定数据权限: the listed units (not implicitly one's own).
    Custom(Vec<i64>),
    /// 本单位数据权限
    Unit,
    /// 本单位及以下数据权限 (内设科室 and other sub-units)
    UnitAndBelow,
    /// 仅本人数据权限: tasks where one is a sub-task's 责任人 or the 分管领导.
    SelfOnly,
}

impl DataScope {
    pub const KINDS: [&'static str; 5] = ["all", "custom", "unit", "unit_and_below", "self"];

    pub fn kind(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Custom(_) => "custom",
            Self::Unit => "unit",
            Self::UnitAndBelow => "unit_and_below",
            Self::SelfOnly => "self",
        }
    }

    pub fn kind_label_zh(kind: &str) -> &'static str {
        match kind {
            "all" => "全部数据权限",
            "custom" => "自定数据权限",
            "unit" => "本单位数据权限",
            "unit_and_below" => "本单位及以下数据权限",
            "self" => "仅本人数据权限",
            _ => "未知",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        Self::kind_label_zh(self.kind())
    }

    /// Built from a kind and, for `custom`, the listed units. `field` names the form field in errors.
    pub fn from_parts(field: &str, kind: &str, units: &[i64]) -> Result<Self, crate::FieldError> {
        let err = |m: String| crate::FieldError::new(field, m);
        let scope = match kind.trim() {
            "all" => Self::All,
            "unit" => Self::Unit,
            "unit_and_below" => Self::UnitAndBelow,
            "self" => Self::SelfOnly,
            "custom" => {
                let mut u: Vec<i64> = units.to_vec();
                u.sort_unstable();
                u.dedup();
                if u.is_empty() {
                    return Err(err("自定数据权限须至少选择一个单位".into()));
                }
                if u.iter().any(|i| *i <= 0) {
                    return Err(err("单位编号应为正整数".into()));
                }
                Self::Custom(u)
            }
            other => {
                return Err(err(format!("「{other}」不是数据范围，应为 all、custom、unit、unit_and_below 或 self")));
            }
        };
        Ok(scope)
    }

    /// Does a `role` with this scope, resolved to `units`, reach `unit`'s business? The one
    /// statement of it, for [`Actor`] and for callers that hold the parts without an `Actor`.
    pub fn reaches(&self, role: Role, units: &[UnitId], unit: UnitId) -> bool {
        Role::SCOPED.contains(&role) && (*self == Self::All || units.contains(&unit))
    }

    /// … and every unit's (数据范围「全部」 for a role that works on supervised records).
    pub fn reaches_all(&self, role: Role) -> bool {
        *self == Self::All && Role::SCOPED.contains(&role)
    }

    /// The stored text.
    pub fn encode(&self) -> String {
        match self {
            Self::Custom(u) => format!("custom:{}", u.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
            other => other.kind().to_string(),
        }
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        let units: Option<Vec<i64>> =
            rest.split(',').filter(|x| !x.trim().is_empty()).map(|x| x.trim().parse().ok()).collect();
        if kind != "custom" && !rest.is_empty() {
            return None;
        }
        Self::from_parts("数据范围", kind, &units?).ok()
    }
}

/// The signed-in person, with their role's 数据范围 and the units it covers (resolved by the
/// storage layer: empty for 全部 and 仅本人).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub person_id: PersonId,
    pub role: Role,
    pub unit_id: UnitId,
    pub data_scope: DataScope,
    pub scope_unit_ids: Vec<UnitId>,
}

/// The parties of one task that access decisions depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskParties {
    pub lead_unit_id: UnitId,
    pub co_unit_ids: Vec<UnitId>,
    pub leader_person_id: Option<PersonId>,
    pub subtask_person_ids: Vec<PersonId>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Actor {
    /// Does this person see supervised records of every unit (数据范围「全部」)?
    pub fn sees_all(&self) -> bool {
        self.data_scope.reaches_all(self.role)
    }

    /// Is `unit`'s business within this person's 数据范围?
    pub fn in_scope(&self, unit: UnitId) -> bool {
        self.data_scope.reaches(self.role, &self.scope_unit_ids, unit)
    }

    /// Refused unless `unit`'s business is within the 数据范围; `what` names the unit's part
    /// (“牵头单位”).
    pub fn must_reach(&self, what: &str, unit: UnitId) -> Result<(), Denied> {
        if self.in_scope(unit) {
            Ok(())
        } else {
            Err(Denied(format!("无权限：{what}不在您的数据范围（{}）内", self.data_scope.label_zh())))
        }
    }

    /// Refused unless the task is within the 数据范围.
    pub fn must_view(&self, t: &TaskParties) -> Result<(), Denied> {
        if self.can_view(t) { Ok(()) } else { Err(Denied("无权限：该任务不在您的数据范围内".into())) }
    }

    /// Data scope for reading a task.
    pub fn can_view(&self, t: &TaskParties) -> bool {
        if !Role::SCOPED.contains(&self.role) {
            return false;
        }
        match self.data_scope {
            DataScope::All => true,
            DataScope::SelfOnly => {
                t.subtask_person_ids.contains(&self.person_id) || t.leader_person_id == Some(self.person_id)
            }
            _ => self.in_scope(t.lead_unit_id) || t.co_unit_ids.iter().any(|u| self.in_scope(*u)),
        }
    }

    /// May this person perform `action` on the task? Status rules are separate ([`crate::lifecycle::next_status`]).
    pub fn authorize(&self, action: Action, t: &TaskParties) -> Result<(), Denied> {
        use Action as A;
        self.must_view(t)?;
        let ok = match action {
            A::Assign | A::Approve | A::Reject | A::Cancel | A::Urge | A::ReviewExtension => {
                self.role == Role::Supervisor
            }
            A::Receive | A::Decompose | A::RequestCompletion | A::RequestExtension => {
                self.role == Role::Liaison && self.in_scope(t.lead_unit_id)
            }
            A::Report => {
                self.role == Role::Liaison
                    && (self.in_scope(t.lead_unit_id) || t.co_unit_ids.iter().any(|u| self.in_scope(*u)))
            }
            A::DecideExtension => self.role == Role::Leader && t.leader_person_id == Some(self.person_id),
            A::Instruct => self.role == Role::Leader,
        };
        if ok {
            Ok(())
        } else {
            Err(Denied(format!(
                "无权限：{}不能执行「{}」（{}）",
                self.role.label_zh(),
                action.label_zh(),
                who_may(action)
            )))
        }
    }

    /// A sub-task's progress may be reported by its responsible person or the lead unit's liaison.
    pub fn may_report_subtask(&self, t: &TaskParties, subtask_person_id: PersonId) -> Result<(), Denied> {
        let ok = (self.role == Role::Responsible && self.person_id == subtask_person_id)
            || (self.role == Role::Liaison && self.in_scope(t.lead_unit_id));
        if ok {
            Ok(())
        } else {
            Err(Denied("无权限：只有该子任务的责任人或牵头单位联络员可以汇报".into()))
        }
    }

    /// Creating tasks (立项) is the 督查局's job.
    pub fn may_create_tasks(&self) -> Result<(), Denied> {
        if self.role == Role::Supervisor {
            Ok(())
        } else {
            Err(Denied("无权限：只有督查局可以立项".into()))
        }
    }

    /// … for a lead unit within its 数据范围.
    pub fn may_create_task(&self, lead_unit_id: UnitId) -> Result<(), Denied> {
        self.may_create_tasks()?;
        self.must_reach("牵头单位", lead_unit_id)
    }

    /// Users, units and the calendar are the 系统管理员's job.
    pub fn may_administer(&self) -> Result<(), Denied> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(Denied("无权限：只有系统管理员可以修改系统设置".into()))
        }
    }

    /// Security settings, online sessions and the administrators' accounts: the 安全管理员's job.
    pub fn may_secure(&self) -> Result<(), Denied> {
        if self.role == Role::SecurityAdmin {
            Ok(())
        } else {
            Err(Denied("无权限：只有安全管理员可以管理安全设置和在线会话".into()))
        }
    }

    /// Reading the audit, login and operation logs: the 审计管理员's job.
    pub fn may_audit(&self) -> Result<(), Denied> {
        if self.role == Role::AuditAdmin {
            Ok(())
        } else {
            Err(Denied("无权限：只有审计管理员可以查看审计日志和登录日志".into()))
        }
    }

    /// Who manages an account of `role`: the 安全管理员 for the three administrators, the
    /// 系统管理员 for everyone else.
    pub fn may_manage_account(&self, role: Role) -> Result<(), Denied> {
        if Role::ADMINISTRATORS.contains(&role) { self.may_secure() } else { self.may_administer() }
    }
}

fn who_may(action: Action) -> &'static str {
    use Action as A;
    match action {
        A::Assign | A::Approve | A::Reject | A::Cancel | A::Urge | A::ReviewExtension => "仅限督查局",
        A::Receive | A::Decompose | A::RequestCompletion | A::RequestExtension => "仅限牵头单位联络员",
        A::Report => "仅限牵头或配合单位联络员",
        A::DecideExtension => "仅限该任务的分管领导",
        A::Instruct => "仅限区领导",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> TaskParties {
        TaskParties {
            lead_unit_id: UnitId(10),
            co_unit_ids: vec![UnitId(20)],
            leader_person_id: Some(PersonId(7)),
            subtask_person_ids: vec![PersonId(99)],
        }
    }
    fn actor(role: Role, unit: i64, person: i64) -> Actor {
        let data_scope = role.default_data_scope();
        let scope_unit_ids =
            if matches!(data_scope, DataScope::Unit | DataScope::UnitAndBelow) { vec![unit] } else { vec![] };
        let scope_unit_ids = scope_unit_ids.into_iter().map(UnitId).collect();
        Actor { person_id: PersonId(person), role, unit_id: UnitId(unit), data_scope, scope_unit_ids }
    }
    fn scoped(role: Role, unit: i64, person: i64, data_scope: DataScope, units: Vec<i64>) -> Actor {
        let scope_unit_ids = units.into_iter().map(UnitId).collect();
        Actor { person_id: PersonId(person), role, unit_id: UnitId(unit), data_scope, scope_unit_ids }
    }

    #[test]
    fn liaison_of_other_unit_is_refused_everything() {
        let a = actor(Role::Liaison, 30, 1);
        assert!(!a.can_view(&task()));
        for act in Action::ALL {
            assert!(a.authorize(act, &task()).is_err());
        }
    }

    #[test]
    fn co_unit_may_report_but_not_decompose() {
        let a = actor(Role::Liaison, 20, 1);
        assert!(a.authorize(Action::Report, &task()).is_ok());
        let e = a.authorize(Action::Decompose, &task()).unwrap_err();
        assert!(e.0.contains("牵头单位联络员"), "{e}");
    }

    #[test]
    fn only_the_leader_in_charge_decides_extensions() {
        assert!(actor(Role::Leader, 1, 7).authorize(Action::DecideExtension, &task()).is_ok());
        assert!(actor(Role::Leader, 1, 8).authorize(Action::DecideExtension, &task()).is_err());
        assert!(actor(Role::Leader, 1, 8).authorize(Action::Instruct, &task()).is_ok());
    }

    #[test]
    fn responsible_sees_only_own_subtasks() {
        assert!(actor(Role::Responsible, 11, 99).can_view(&task()));
        assert!(!actor(Role::Responsible, 11, 98).can_view(&task()));
        assert!(actor(Role::Responsible, 11, 99).may_report_subtask(&task(), PersonId(99)).is_ok());
        assert!(actor(Role::Responsible, 11, 99).may_report_subtask(&task(), PersonId(98)).is_err());
    }

    #[test]
    fn sub_unit_scope_counts() {
        let a = scoped(Role::Liaison, 5, 1, DataScope::UnitAndBelow, vec![5, 10]);
        assert!(a.authorize(Action::Decompose, &task()).is_ok());
    }

    #[test]
    fn each_data_scope_kind_reaches_what_it_says() {
        let t = task(); // lead 10, co 20, leader 7, sub-task person 99
        // 全部: another unit's liaison set to 全部 sees it and may report as a co-unit would not.
        assert!(scoped(Role::Liaison, 30, 1, DataScope::All, vec![]).can_view(&t));
        // 自定: the listed units only, not implicitly one's own.
        let custom = scoped(Role::Leader, 1, 8, DataScope::Custom(vec![20]), vec![20]);
        assert!(custom.can_view(&t));
        assert!(!custom.in_scope(UnitId(1)));
        assert!(!scoped(Role::Leader, 10, 8, DataScope::Custom(vec![30]), vec![30]).can_view(&t));
        // 本单位 without the sub-unit 11 that 本单位及以下 would add.
        let sub_task = TaskParties { lead_unit_id: UnitId(11), ..Default::default() };
        assert!(!scoped(Role::Liaison, 10, 1, DataScope::Unit, vec![10]).can_view(&sub_task));
        assert!(scoped(Role::Liaison, 10, 1, DataScope::UnitAndBelow, vec![10, 11]).can_view(&sub_task));
        // 仅本人: the leader in charge and the sub-task's person, nobody else of the unit.
        assert!(scoped(Role::Leader, 1, 7, DataScope::SelfOnly, vec![]).can_view(&t));
        assert!(!scoped(Role::Leader, 1, 8, DataScope::SelfOnly, vec![]).can_view(&t));
        assert!(!scoped(Role::Liaison, 10, 1, DataScope::SelfOnly, vec![]).can_view(&t));
        assert!(scoped(Role::Liaison, 10, 1, DataScope::SelfOnly, vec![]).authorize(Action::Receive, &t).is_err());
    }

    #[test]
    fn roles_outside_supervision_never_see_tasks_whatever_the_scope() {
        for r in [Role::Enterprise, Role::Institution, Role::SecurityAdmin, Role::AuditAdmin] {
            let a = scoped(r, 10, 1, DataScope::All, vec![]);
            assert!(!a.can_view(&task()) && !a.sees_all() && !a.in_scope(UnitId(10)), "{r:?}");
        }
    }

    #[test]
    fn creating_a_task_needs_the_lead_unit_in_scope() {
        assert!(actor(Role::Supervisor, 1, 1).may_create_task(UnitId(10)).is_ok());
        let e = scoped(Role::Supervisor, 1, 1, DataScope::Custom(vec![20]), vec![20])
            .may_create_task(UnitId(10))
            .unwrap_err();
        assert!(e.0.contains("数据范围"), "{e}");
        assert!(actor(Role::Liaison, 10, 1).may_create_task(UnitId(10)).is_err());
    }

    #[test]
    fn bad_scope_text_is_refused_with_the_field_named() {
        let e = DataScope::from_parts("数据范围", "custom", &[]).unwrap_err();
        assert_eq!(e.field, "数据范围");
        assert!(DataScope::from_parts("数据范围", "everything", &[]).is_err());
        assert_eq!(DataScope::decode("unit:3"), None);
        assert_eq!(DataScope::decode("custom:3,x"), None);
        assert_eq!(DataScope::decode("custom:5,3,5"), Some(DataScope::Custom(vec![3, 5])));
    }

    proptest::proptest! {
        #[test]
        fn scope_text_round_trips(kind in 0usize..5, units in proptest::collection::vec(1i64..10_000, 1..8)) {
            let s = DataScope::from_parts("数据范围", DataScope::KINDS[kind], &units).unwrap();
            proptest::prop_assert_eq!(DataScope::decode(&s.encode()), Some(s));
        }

        /// Widening a scope never hides a task: 仅本人 ⊆ … and 本单位 ⊆ 本单位及以下 ⊆ 全部.
        #[test]
        fn wider_scopes_see_at_least_as_much(lead in 1i64..6, co in proptest::collection::vec(1i64..6, 0..3), me in 1i64..6, sub in proptest::collection::vec(1i64..6, 0..3)) {
            let co = co.into_iter().map(UnitId).collect();
            let t = TaskParties { lead_unit_id: UnitId(lead), co_unit_ids: co, leader_person_id: Some(PersonId(1)), subtask_person_ids: vec![] };
            let unit = scoped(Role::Liaison, me, 1, DataScope::Unit, vec![me]);
            let mut below_units = vec![me];
            below_units.extend(sub);
            let below = scoped(Role::Liaison, me, 1, DataScope::UnitAndBelow, below_units);
            let all = scoped(Role::Liaison, me, 1, DataScope::All, vec![]);
            proptest::prop_assert!(!unit.can_view(&t) || below.can_view(&t));
            proptest::prop_assert!(!below.can_view(&t) || all.can_view(&t));
        }
    }
}
