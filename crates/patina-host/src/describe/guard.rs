//! The guard in front of the WIT decoder: it checks the component header and
//! that every top-level section fits in the real input, then runs the decoder
//! under `catch_unwind`, so hostile bytes give an `Err`, never a crashed host.
//!
//! It must never trust a length the bytes claim before checking it against the
//! bytes actually given, never let the decoder reserve memory for such a claim,
//! and never let a panic escape. It does not look at what a component contains:
//! that is the describer's job.

use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Resolve, WorldId};

use super::DescribeError;

/// Decodes component `bytes` into its resolve and world, after
/// [`check_framing`].
pub(super) fn decode_component(bytes: &[u8]) -> Result<(Resolve, WorldId), DescribeError> {
    check_framing(bytes)?;
    // The decoder validates the component before interpreting it, so it should never
    // panic; if it does anyway on some odd input, that is still only an error
    // for these bytes, never a crashed host.
    let decoded = std::panic::catch_unwind(|| decode(bytes))
        .map_err(|_| DescribeError::DecoderFailed)?
        .map_err(|e| DescribeError::Undecodable(format!("{e:#}")))?;
    let (resolve, world) = match decoded {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => {
            return Err(DescribeError::WitPackage);
        }
    };
    Ok((resolve, world))
}

/// Component header: magic, version 0x0d, layer 1.
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];

/// Checks the header and that every top-level section fits in `bytes`.
///
/// The decoder reads incrementally and reserves as much buffer as a section
/// header claims before it finds out the input is shorter; doing this walk
/// first bounds that to the real input size (nested modules and components
/// are then bounded by their enclosing section, which the decoder checks).
fn check_framing(bytes: &[u8]) -> Result<(), DescribeError> {
    let Some(rest) = bytes.strip_prefix(b"\0asm") else {
        return Err(DescribeError::NotWasm);
    };
    let Some((version, mut rest)) = rest.split_first_chunk::<4>() else {
        return Err(DescribeError::TruncatedHeader);
    };
    match version {
        v if *v == COMPONENT_VERSION => {}
        [_, _, 0, 0] => return Err(DescribeError::CoreModule),
        [version, _, 1, 0] => {
            return Err(DescribeError::UnsupportedVersion { version: *version });
        }
        _ => return Err(DescribeError::UnknownHeader { header: *version }),
    }
    let mut offset = 8usize;
    while let Some((&id, after_id)) = rest.split_first() {
        let Some((len, used)) = read_var_u32(after_id) else {
            return Err(DescribeError::MalformedSection { id, offset });
        };
        let body = after_id.get(used..).unwrap_or_default();
        let Some(next) = usize::try_from(len).ok().and_then(|len| body.get(len..)) else {
            return Err(DescribeError::TruncatedSection {
                id,
                offset,
                declared: len,
                remaining: body.len(),
            });
        };
        offset = offset
            .saturating_add(1 + used)
            .saturating_add(body.len() - next.len());
        rest = next;
    }
    Ok(())
}

/// Reads an unsigned LEB128 `u32`; `(value, bytes used)`, `None` if it is
/// cut off or does not fit.
fn read_var_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().take(5).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}
