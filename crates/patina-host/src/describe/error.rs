//! [`DescribeError`]: why bytes could not be described as a component — each
//! reason a variant with what a program needs to tell it apart.
//!
//! Only the guard and the describer produce these; a description error must
//! never carry anything but facts about the bytes given (no host paths).

/// Why component bytes could not be described.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DescribeError {
    /// The bytes do not start with the WebAssembly magic.
    #[error("not WebAssembly: the bytes do not start with `\\0asm`")]
    NotWasm,
    /// The eight-byte header is cut off.
    #[error("truncated: the WebAssembly header is incomplete")]
    TruncatedHeader,
    /// A core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component (build for wasm32-wasip2 or \
         wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    /// A component of another binary version.
    #[error("unsupported component binary version 0x{version:02x} (expected 0x0d)")]
    UnsupportedVersion {
        /// The version byte.
        version: u8,
    },
    /// A header that is neither a core module's nor a component's.
    #[error("not a component: unknown WebAssembly header {header:02x?}")]
    UnknownHeader {
        /// The four bytes after the magic.
        header: [u8; 4],
    },
    /// A section whose length cannot be read.
    #[error("truncated or malformed section {id} at byte {offset}")]
    MalformedSection {
        /// The section id.
        id: u8,
        /// Where the section starts.
        offset: usize,
    },
    /// A section that claims more bytes than remain.
    #[error(
        "truncated: section {id} at byte {offset} declares {declared} bytes but only {remaining} remain"
    )]
    TruncatedSection {
        /// The section id.
        id: u8,
        /// Where the section starts.
        offset: usize,
        /// The length it claims.
        declared: u32,
        /// The bytes actually left.
        remaining: usize,
    },
    /// The WIT decoder panicked (caught; only these bytes are affected).
    #[error("the component could not be decoded (the WIT decoder failed)")]
    DecoderFailed,
    /// The WIT decoder refused the bytes.
    #[error("not a decodable component: {0}")]
    Undecodable(String),
    /// A WIT package, not a runnable component.
    #[error("this is a WIT package, not a runnable component")]
    WitPackage,
    /// The decoded component has no world.
    #[error("the decoded component has no world")]
    NoWorld,
    /// A type nested deeper than the describer follows.
    #[error("a type in this component is nested more than {max} levels deep")]
    TooDeep {
        /// The deepest nesting followed.
        max: usize,
    },
    /// The exports' JSON Schemas would be larger than the describer builds.
    #[error(
        "the JSON Schemas of this component's exports would need more than {max} schema objects"
    )]
    SchemaTooLarge {
        /// The most schema objects built.
        max: usize,
    },
}
