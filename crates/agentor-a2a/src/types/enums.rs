//! [`TaskState`] and [`Role`], spelled per dialect.

use serde_json::Value;

use super::fields::wrong_type;
use crate::{A2aError, Dialect};

macro_rules! dialect_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($v03:literal, $v10:literal),)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The name in `dialect`.
            pub const fn as_str(self, dialect: Dialect) -> &'static str {
                match (self, dialect) {
                    $(($name::$variant, Dialect::V0_3) => $v03,
                      ($name::$variant, Dialect::V1_0) => $v10,)*
                }
            }

            /// The value a name denotes; either dialect's spelling is accepted,
            /// so a peer mixing them is still understood.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($v03 | $v10 => Some($name::$variant),)*
                    _ => None,
                }
            }

            pub(crate) fn parse_at(value: &Value, path: &str) -> Result<Self, A2aError> {
                match value {
                    Value::String(name) => Self::from_name(name).ok_or_else(|| {
                        A2aError::invalid_params(format!("{path} has an unknown value `{name}`"))
                    }),
                    other => Err(wrong_type(path, "a string", other)),
                }
            }
        }
    };
}

dialect_enum! {
    /// The state of a task.
    TaskState {
        /// Received, not started.
        Submitted = ("submitted", "TASK_STATE_SUBMITTED"),
        /// Running.
        Working = ("working", "TASK_STATE_WORKING"),
        /// Paused for more input from the user.
        InputRequired = ("input-required", "TASK_STATE_INPUT_REQUIRED"),
        /// Finished successfully.
        Completed = ("completed", "TASK_STATE_COMPLETED"),
        /// Cancelled.
        Canceled = ("canceled", "TASK_STATE_CANCELED"),
        /// Finished with a failure.
        Failed = ("failed", "TASK_STATE_FAILED"),
        /// Refused by the agent.
        Rejected = ("rejected", "TASK_STATE_REJECTED"),
        /// Paused for authentication.
        AuthRequired = ("auth-required", "TASK_STATE_AUTH_REQUIRED"),
        /// Not known (`unknown` / `TASK_STATE_UNSPECIFIED`).
        Unknown = ("unknown", "TASK_STATE_UNSPECIFIED"),
    }
}

dialect_enum! {
    /// Who sent a message.
    Role {
        /// The client's user.
        User = ("user", "ROLE_USER"),
        /// The agent.
        Agent = ("agent", "ROLE_AGENT"),
    }
}

impl TaskState {
    /// Whether the task is over: completed, canceled, failed or rejected.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskState::Completed | TaskState::Canceled | TaskState::Failed | TaskState::Rejected
        )
    }

    /// Whether the task waits for the client (input or auth required); a
    /// blocking send returns on these as on a terminal state.
    pub const fn is_interrupted(self) -> bool {
        matches!(self, TaskState::InputRequired | TaskState::AuthRequired)
    }
}
