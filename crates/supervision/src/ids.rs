//! Ids that are easy to confuse, as types: a unit's id where a person's is expected (or a task's
//! where a unit's is) no longer compiles. They cross the crate boundaries — the access rules take
//! them from storage, storage's task operations take a [`TaskId`] from the web layer — and are
//! plain numbers on the wire and in the database.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id_type!(
    /// 单位（含内设科室）的编号
    UnitId
);
id_type!(
    /// 人员的编号（不是登录账号的编号）
    PersonId
);
id_type!(
    /// 督办任务的编号
    TaskId
);
