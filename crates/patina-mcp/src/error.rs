//! [`McpError`]: why serving MCP failed (not why a tool call failed: those
//! are answers, see `answer`). Each has a stable [`McpError::kind`].

/// A failure of the MCP door itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The membrane refused or failed what the door needed (e.g. the
    /// agent's role is not in the policy).
    #[error(transparent)]
    Membrane(#[from] patina_membrane::MembraneError),
    /// The MCP session could not start or ended with an error.
    #[error("mcp: {0}")]
    Protocol(String),
    /// A socket.
    #[error("{context}: {source}")]
    Io {
        /// What the door was doing.
        context: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl McpError {
    /// The stable, machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Membrane(error) => error.kind(),
            Self::Protocol(_) => "mcp-protocol",
            Self::Io { .. } => "io",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
