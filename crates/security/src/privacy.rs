//! Who sees what of a person (个人信息最小化, 三员分立): one table, role × personal field →
//! whole, masked (脱敏) or hidden, with the reader's relation to the record as the only other
//! input. Every path that shows a personal field — API, pages, exports, match results — asks
//! [`exposure`] and renders with [`render`], so the rule cannot differ between them.

use serde::Serialize;
use xietong_supervision::Role;

use crate::fields::{mask_id_number, mask_phone};

/// The personal fields the system stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum PersonalField {
    /// 专家联系电话
    ExpertPhone,
    /// 专家电子邮箱
    ExpertEmail,
    /// 专家身份证号
    ExpertIdNumber,
    /// 企业联系人姓名
    EnterpriseContactName,
    /// 企业联系人电话
    EnterpriseContactPhone,
    /// 干部身份证号
    CadreIdNumber,
    /// 干部出生日期 (and the age computed from it)
    CadreBirthDate,
}

impl PersonalField {
    pub const ALL: [PersonalField; 7] = [
        Self::ExpertPhone,
        Self::ExpertEmail,
        Self::ExpertIdNumber,
        Self::EnterpriseContactName,
        Self::EnterpriseContactPhone,
        Self::CadreIdNumber,
        Self::CadreBirthDate,
    ];

    /// The cadre records' fields: the 组织部's alone.
    pub fn is_cadre(self) -> bool {
        matches!(self, Self::CadreIdNumber | Self::CadreBirthDate)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::ExpertPhone => "专家联系电话",
            Self::ExpertEmail => "专家电子邮箱",
            Self::ExpertIdNumber => "专家身份证号",
            Self::EnterpriseContactName => "企业联系人",
            Self::EnterpriseContactPhone => "企业联系电话",
            Self::CadreIdNumber => "干部身份证号",
            Self::CadreBirthDate => "干部出生日期",
        }
    }
}

/// How the reader stands to the record the field belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The reader's own organisation holds the record: an institution's own experts, an
    /// enterprise's own profile.
    Own,
    /// The expert agreed, in a docking with the reader's enterprise, to share the contact.
    Consented,
    /// Anyone else.
    Other,
}

/// What a reader gets of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Exposure {
    Whole,
    Masked,
    Hidden,
}

/// Shown in place of a hidden value.
pub const HIDDEN_TEXT: &str = "（仅科技局可见）";

/// The table. The 科技局 keeps the libraries and sees everything; the 系统管理员 manages accounts
/// and organisation and therefore sees personal data masked, never whole; district leadership and
/// the 督查局 see it masked; an institution sees its own experts whole; an enterprise sees its own
/// contact whole and an expert's phone and e-mail once the expert consented in a docking with it
/// (the ID number then masked, for contracts); the 安全/审计管理员 and unit staff see none of it.
/// The cadre records are the 组织部's: whole to it, hidden from everyone else, the 科技局 included.
pub fn exposure(role: Role, relation: Relation, field: PersonalField) -> Exposure {
    use Exposure::*;
    use PersonalField::*;
    if field.is_cadre() {
        return if role == Role::OrgDept { Whole } else { Hidden };
    }
    match role {
        Role::TechBureau => Whole,
        Role::Admin | Role::Supervisor | Role::Leader => match field {
            // A contact's name is how the 督查局 reaches an enterprise; the number stays masked.
            EnterpriseContactName if role != Role::Admin => Whole,
            _ => Masked,
        },
        Role::Institution => match (relation, field) {
            (Relation::Own, ExpertPhone | ExpertEmail | ExpertIdNumber) => Whole,
            _ => Hidden,
        },
        Role::Enterprise => match (relation, field) {
            (Relation::Own, EnterpriseContactName | EnterpriseContactPhone) => Whole,
            (Relation::Consented, ExpertPhone | ExpertEmail) => Whole,
            (Relation::Consented, ExpertIdNumber) => Masked,
            _ => Hidden,
        },
        Role::Liaison | Role::Responsible | Role::SecurityAdmin | Role::AuditAdmin | Role::OrgDept => Hidden,
    }
}

/// The value as the reader may see it. An empty value stays empty (nothing to hide).
pub fn render(exposure: Exposure, field: PersonalField, value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    match exposure {
        Exposure::Whole => value.to_string(),
        Exposure::Hidden => HIDDEN_TEXT.to_string(),
        Exposure::Masked => mask(field, value),
    }
}

/// 脱敏 per field: phones keep 3 + 4 digits, ID numbers 6 + 4, e-mail its first letter and the
/// domain, a name its family name.
pub fn mask(field: PersonalField, value: &str) -> String {
    match field {
        PersonalField::ExpertPhone | PersonalField::EnterpriseContactPhone => mask_phone(value),
        PersonalField::ExpertIdNumber | PersonalField::CadreIdNumber => mask_id_number(value),
        // A birth date keeps its year only.
        PersonalField::CadreBirthDate => format!("{}-**-**", value.get(..4).unwrap_or("****")),
        PersonalField::ExpertEmail => match value.split_once('@') {
            Some((name, domain)) => format!("{}***@{domain}", name.chars().next().unwrap_or('*')),
            None => "***".into(),
        },
        PersonalField::EnterpriseContactName => {
            let mut chars = value.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            format!("{first}{}", "*".repeat(chars.count().max(1)))
        }
    }
}

/// Shorthand for the common case.
pub fn show(role: Role, relation: Relation, field: PersonalField, value: &str) -> String {
    render(exposure(role, relation, field), field, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_system_administrator_never_sees_a_whole_field() {
        for f in PersonalField::ALL {
            for r in [Relation::Own, Relation::Consented, Relation::Other] {
                let want = if f.is_cadre() { Exposure::Hidden } else { Exposure::Masked };
                assert_eq!(exposure(Role::Admin, r, f), want, "{f:?} {r:?}");
            }
        }
    }

    #[test]
    fn cadre_records_are_the_organisation_departments_alone() {
        for role in Role::ALL {
            for f in [PersonalField::CadreIdNumber, PersonalField::CadreBirthDate] {
                let want = if role == Role::OrgDept { Exposure::Whole } else { Exposure::Hidden };
                assert_eq!(exposure(role, Relation::Own, f), want, "{role:?} {f:?}");
            }
            if role == Role::OrgDept {
                assert!(
                    PersonalField::ALL
                        .iter()
                        .filter(|f| !f.is_cadre())
                        .all(|f| { exposure(role, Relation::Other, *f) == Exposure::Hidden })
                );
            }
        }
    }

    #[test]
    fn the_security_and_audit_administrators_see_no_personal_data() {
        for role in [Role::SecurityAdmin, Role::AuditAdmin] {
            for f in PersonalField::ALL {
                assert_eq!(exposure(role, Relation::Own, f), Exposure::Hidden);
            }
        }
    }

    #[test]
    fn masks_per_field() {
        assert_eq!(show(Role::Admin, Relation::Other, PersonalField::ExpertPhone, "13812345678"), "138****5678");
        assert_eq!(
            show(Role::Admin, Relation::Other, PersonalField::ExpertEmail, "zhang@zzu.edu.cn"),
            "z***@zzu.edu.cn"
        );
        assert_eq!(
            show(Role::Admin, Relation::Other, PersonalField::ExpertIdNumber, "41010319800101123X"),
            "410103********123X"
        );
        assert_eq!(show(Role::Admin, Relation::Other, PersonalField::EnterpriseContactName, "王某某"), "王**");
        assert_eq!(show(Role::Liaison, Relation::Own, PersonalField::ExpertPhone, "13812345678"), HIDDEN_TEXT);
        assert_eq!(show(Role::Liaison, Relation::Own, PersonalField::ExpertPhone, ""), "");
    }

    proptest! {
        /// Whatever the field and reader, a masked value never contains the whole value.
        #[test]
        fn a_masked_value_never_carries_the_whole(
            v in "[0-9A-Za-z]{6,24}",
            mail in "[0-9a-z]{2,12}@[a-z]{2,8}\\.(cn|com)",
            f in 0usize..7,
        ) {
            let field = PersonalField::ALL[f];
            let v = if field == PersonalField::ExpertEmail { mail } else { v };
            let m = mask(field, &v);
            prop_assert_ne!(&m, &v);
            prop_assert!(!m.contains(&v));
        }

        /// Only the 科技局 and a record's own or consenting parties ever get a whole field.
        #[test]
        fn whole_only_for_the_bureau_or_a_party(role in 0usize..11, rel in 0usize..3, f in 0usize..7) {
            let role = Role::ALL[role];
            let rel = [Relation::Own, Relation::Consented, Relation::Other][rel];
            let field = PersonalField::ALL[f];
            if exposure(role, rel, field) == Exposure::Whole {
                let leadership_name = matches!(role, Role::Supervisor | Role::Leader)
                    && field == PersonalField::EnterpriseContactName;
                if field.is_cadre() {
                    prop_assert_eq!(role, Role::OrgDept);
                } else {
                    prop_assert!(role == Role::TechBureau || rel != Relation::Other || leadership_name);
                }
            }
        }
    }
}
