//! [`ReceiptError`]: what can go wrong reading, writing or storing receipts.

/// A receipt operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// Text that is not a receipt id or digest.
    #[error("`{0}` is not a receipt id (64 hex digits, or a unique prefix of at least 4)")]
    BadId(String),
    /// No receipt has this id or prefix.
    #[error("no receipt `{0}`")]
    NotFound(String),
    /// A prefix that matches several receipts.
    #[error("`{prefix}` names several receipts: {}", candidates.join(", "))]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// The ids it matches.
        candidates: Vec<String>,
    },
    /// A receipt that does not parse or has the wrong shape.
    #[error("malformed receipt: {0}")]
    Malformed(String),
    /// A receipt version this build does not read.
    #[error("receipt version {0} is not supported (this build reads versions 1 to {1})")]
    Version(u32, u32),
    /// A receipt whose hashes or signature do not check out.
    #[error("receipt {id} failed verification: {what}")]
    Tampered {
        /// The id the receipt claims.
        id: String,
        /// What does not match.
        what: crate::Tampered,
    },
    /// The identity key file.
    #[error("identity key {path}: {reason}")]
    Identity {
        /// The key file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A blob a receipt refers to is missing or does not match its hash.
    #[error("blob {0} is missing or damaged")]
    Blob(String),
    /// The storage backend failed.
    #[error("receipt store: {0}")]
    Store(String),
    /// The chain of a Mother's receipts is broken.
    #[error("receipt chain broken at {at}: {reason}")]
    Chain {
        /// The receipt where the chain breaks.
        at: String,
        /// Why.
        reason: String,
    },
    /// File system access.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl ReceiptError {
    /// A stable machine-readable name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadId(_) => "bad-receipt-id",
            Self::NotFound(_) => "unknown-receipt",
            Self::Ambiguous { .. } => "ambiguous-receipt",
            Self::Malformed(_) => "malformed-receipt",
            Self::Version(..) => "receipt-version",
            Self::Tampered { .. } => "tampered",
            Self::Identity { .. } => "identity",
            Self::Blob(_) => "blob",
            Self::Store(_) => "store",
            Self::Chain { .. } => "chain",
            Self::Io { .. } => "io",
        }
    }
}
