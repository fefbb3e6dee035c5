//! Who may see and act on a task. The storage layer turns the same rules into SQL for lists;
//! this module is the single statement of them, and the web layer calls it for every write.

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
}

impl Role {
    pub const ALL: [Role; 10] = [
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
    ];
    /// The three administrators kept apart (三员分立): no account is more than one of them, and
    /// none may do another's work.
    pub const ADMINISTRATORS: [Role; 3] = [Self::Admin, Self::SecurityAdmin, Self::AuditAdmin];
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
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
    /// Roles whose data scope is the whole district (RuoYi 数据范围「全部」).
    pub fn sees_all(self) -> bool {
        matches!(self, Self::Admin | Self::Supervisor | Self::Leader)
    }
}

/// The signed-in person, with the units their data scope covers (own unit and its sub-units).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub person_id: i64,
    pub role: Role,
    pub unit_id: i64,
    pub scope_unit_ids: Vec<i64>,
}

/// The parties of one task that access decisions depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskParties {
    pub lead_unit_id: i64,
    pub co_unit_ids: Vec<i64>,
    pub leader_person_id: Option<i64>,
    pub subtask_person_ids: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Actor {
    fn in_scope(&self, unit: i64) -> bool {
        self.unit_id == unit || self.scope_unit_ids.contains(&unit)
    }

    /// Data scope for reading a task.
    pub fn can_view(&self, t: &TaskParties) -> bool {
        match self.role {
            r if r.sees_all() => true,
            Role::Liaison | Role::TechBureau => self.in_scope(t.lead_unit_id) || t.co_unit_ids.iter().any(|u| self.in_scope(*u)),
            Role::Responsible => t.subtask_person_ids.contains(&self.person_id),
            _ => false,
        }
    }

    /// May this person perform `action` on the task? Status rules are separate ([`crate::lifecycle::next_status`]).
    pub fn authorize(&self, action: Action, t: &TaskParties) -> Result<(), Denied> {
        use Action as A;
        if !self.can_view(t) {
            return Err(Denied("无权限：该任务不在您的数据范围内".into()));
        }
        let ok = match action {
            A::Assign | A::Approve | A::Reject | A::Cancel | A::Urge | A::ReviewExtension => self.role == Role::Supervisor,
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
            Err(Denied(format!("无权限：{}不能执行「{}」（{}）", self.role.label_zh(), action.label_zh(), who_may(action))))
        }
    }

    /// A sub-task's progress may be reported by its responsible person or the lead unit's liaison.
    pub fn may_report_subtask(&self, t: &TaskParties, subtask_person_id: i64) -> Result<(), Denied> {
        let ok = (self.role == Role::Responsible && self.person_id == subtask_person_id)
            || (self.role == Role::Liaison && self.in_scope(t.lead_unit_id));
        if ok { Ok(()) } else { Err(Denied("无权限：只有该子任务的责任人或牵头单位联络员可以汇报".into())) }
    }

    /// Creating a task (立项) is the 督查局's job.
    pub fn may_create_task(&self) -> Result<(), Denied> {
        if self.role == Role::Supervisor { Ok(()) } else { Err(Denied("无权限：只有督查局可以立项".into())) }
    }

    /// Users, units and the calendar are the 系统管理员's job.
    pub fn may_administer(&self) -> Result<(), Denied> {
        if self.role == Role::Admin { Ok(()) } else { Err(Denied("无权限：只有系统管理员可以修改系统设置".into())) }
    }

    /// Security settings, online sessions and the administrators' accounts: the 安全管理员's job.
    pub fn may_secure(&self) -> Result<(), Denied> {
        if self.role == Role::SecurityAdmin { Ok(()) } else { Err(Denied("无权限：只有安全管理员可以管理安全设置和在线会话".into())) }
    }

    /// Reading the audit, login and operation logs: the 审计管理员's job.
    pub fn may_audit(&self) -> Result<(), Denied> {
        if self.role == Role::AuditAdmin { Ok(()) } else { Err(Denied("无权限：只有审计管理员可以查看审计日志和登录日志".into())) }
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
        TaskParties { lead_unit_id: 10, co_unit_ids: vec![20], leader_person_id: Some(7), subtask_person_ids: vec![99] }
    }
    fn actor(role: Role, unit: i64, person: i64) -> Actor {
        Actor { person_id: person, role, unit_id: unit, scope_unit_ids: vec![unit] }
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
        assert!(actor(Role::Responsible, 11, 99).may_report_subtask(&task(), 99).is_ok());
        assert!(actor(Role::Responsible, 11, 99).may_report_subtask(&task(), 98).is_err());
    }

    #[test]
    fn sub_unit_scope_counts() {
        let a = Actor { person_id: 1, role: Role::Liaison, unit_id: 5, scope_unit_ids: vec![5, 10] };
        assert!(a.authorize(Action::Decompose, &task()).is_ok());
    }
}
