//! [`InvokeError`]: why a call through the `invoke` toy was refused or
//! failed. Its text is the `err` answer the caller gets (and its receipt
//! records), so each case keeps the exact text it had when it was a string.

/// Why a callee did not run, or did not return. Displayed, it is the `err`
/// answer of the caller's `call` / `run`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The name is not granted to the caller (`invoke:NAME`).
    #[error("refused: `{name}` is not granted to this child (grant `invoke:{name}`)")]
    NotGranted {
        /// The name the caller used.
        name: String,
    },
    /// The call would nest deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    #[error("refused: calls nest at most {max} deep, and this one is {depth} deep")]
    TooDeep {
        /// The deepest nesting allowed.
        max: usize,
        /// How deep this call would be.
        depth: usize,
    },
    /// The name resolves to the caller itself.
    #[error("refused: `{name}` is this child; a child cannot invoke itself")]
    SelfCall {
        /// The name the caller used.
        name: String,
    },
    /// The callee is already on the call chain.
    #[error("refused: `{name}` ({callee}) is already on the call chain; cycles are not allowed")]
    Cycle {
        /// The name the caller used.
        name: String,
        /// The callee's id, as text.
        callee: String,
    },
    /// This host has no [`Invoker`](crate::Invoker) set.
    #[error("refused: this host runs no callees (no invoker is set)")]
    NoInvoker,
    /// Too little of the caller's time is left to run the callee.
    #[error("refused: too little of this run's time is left to run `{name}`")]
    NoTimeLeft {
        /// The name the caller used.
        name: String,
    },
    /// The host that runs callees is going away.
    #[error("refused: {reason}")]
    Unavailable {
        /// Why (`the Mother is shutting down`).
        reason: String,
    },
    /// No child is installed under the name.
    #[error("refused: no child is installed as `{name}`")]
    NotInstalled {
        /// The name the caller used.
        name: String,
    },
    /// The installed children could not be looked up.
    #[error("refused: {reason}")]
    Lookup {
        /// What failed.
        reason: String,
    },
    /// The callee's installed grants could not be read.
    #[error("refused: the grants of `{name}`: {reason}")]
    Grants {
        /// The name the caller used.
        name: String,
        /// What failed.
        reason: String,
    },
    /// The callee's bytes could not be read or loaded.
    #[error("refused: `{name}`: {reason}")]
    Load {
        /// The name the caller used.
        name: String,
        /// What failed.
        reason: String,
    },
    /// The work of loading the callee did not finish (it panicked).
    #[error("refused: loading `{name}`: {reason}")]
    Loading {
        /// The name the caller used.
        name: String,
        /// What happened to the work.
        reason: String,
    },
    /// The callee's run was refused before it started.
    #[error("refused: `{name}` did not start: {reason}")]
    NotStarted {
        /// The name the caller used.
        name: String,
        /// Why.
        reason: String,
    },
    /// The callee's run could not be recorded.
    #[error("recording the run of `{name}`: {reason}")]
    Recording {
        /// The name the caller used.
        name: String,
        /// What failed.
        reason: String,
    },
    /// The callee's run ended without returning (a trap, a limit).
    #[error("`{name}` failed: {reason}{}", receipt_note(receipt.as_deref()))]
    Failed {
        /// The name the caller used.
        name: String,
        /// Why the run ended.
        reason: String,
        /// The callee's receipt id, when its run was recorded.
        receipt: Option<String>,
    },
}

impl InvokeError {
    /// A stable, machine-readable name of the case.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotGranted { .. } => "not-granted",
            Self::TooDeep { .. } => "too-deep",
            Self::SelfCall { .. } => "self-call",
            Self::Cycle { .. } => "cycle",
            Self::NoInvoker => "no-invoker",
            Self::NoTimeLeft { .. } => "no-time-left",
            Self::Unavailable { .. } => "unavailable",
            Self::NotInstalled { .. } => "not-installed",
            Self::Lookup { .. } => "lookup",
            Self::Grants { .. } => "grants",
            Self::Load { .. } => "load",
            Self::Loading { .. } => "loading",
            Self::NotStarted { .. } => "not-started",
            Self::Recording { .. } => "recording",
            Self::Failed { .. } => "failed",
        }
    }
}

/// ` (receipt ID)` when there is a receipt.
fn receipt_note(receipt: Option<&str>) -> String {
    receipt
        .map(|id| format!(" (receipt {id})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts are what callers' receipts recorded before the type existed.
    #[test]
    fn texts_are_unchanged() {
        let cases = [
            (
                InvokeError::Failed {
                    name: "a".into(),
                    reason: "trapped".into(),
                    receipt: Some("b3:r".into()),
                },
                "`a` failed: trapped (receipt b3:r)",
            ),
            (
                InvokeError::Failed {
                    name: "a".into(),
                    reason: "trapped".into(),
                    receipt: None,
                },
                "`a` failed: trapped",
            ),
            (
                InvokeError::TooDeep { max: 4, depth: 5 },
                "refused: calls nest at most 4 deep, and this one is 5 deep",
            ),
            (
                InvokeError::NotInstalled { name: "x".into() },
                "refused: no child is installed as `x`",
            ),
            (
                InvokeError::Recording {
                    name: "x".into(),
                    reason: "disk full".into(),
                },
                "recording the run of `x`: disk full",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text, "{}", error.kind());
        }
    }
}
