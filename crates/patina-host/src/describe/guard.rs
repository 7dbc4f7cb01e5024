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

/// Decodes component `bytes` into its resolve and world, after
/// [`check_framing`]. Errors are plain strings describing why the bytes are
/// not a decodable component.
pub(super) fn decode_component(bytes: &[u8]) -> Result<(Resolve, WorldId), String> {
    check_framing(bytes)?;
    // The decoder validates the component before interpreting it, so it should never
    // panic; if it does anyway on some odd input, that is still only an error
    // for these bytes, never a crashed host.
    let decoded = std::panic::catch_unwind(|| decode(bytes))
        .map_err(|_| "the component could not be decoded (the WIT decoder failed)".to_string())?
        .map_err(|e| format!("not a decodable component: {e:#}"))?;
    let (resolve, world) = match decoded {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => {
            return Err("this is a WIT package, not a runnable component".to_string());
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
fn check_framing(bytes: &[u8]) -> Result<(), String> {
    let Some(rest) = bytes.strip_prefix(b"\0asm") else {
        return Err("not WebAssembly: the bytes do not start with `\\0asm`".to_string());
    };
    let Some((version, mut rest)) = rest.split_first_chunk::<4>() else {
        return Err("truncated: the WebAssembly header is incomplete".to_string());
    };
    match version {
        v if *v == COMPONENT_VERSION => {}
        [_, _, 0, 0] => {
            return Err(
                "this is a core WebAssembly module, not a component (build for wasm32-wasip2 or \
                 wrap it with `wasm-tools component new`)"
                    .to_string(),
            );
        }
        [_, _, 1, 0] => {
            return Err(format!(
                "unsupported component binary version 0x{:02x} (expected 0x0d)",
                version[0]
            ));
        }
        _ => {
            return Err(format!(
                "not a component: unknown WebAssembly header {version:02x?}"
            ));
        }
    }
    let mut offset = 8usize;
    while let Some((&id, after_id)) = rest.split_first() {
        let Some((len, used)) = read_var_u32(after_id) else {
            return Err(format!(
                "truncated or malformed section {id} at byte {offset}"
            ));
        };
        let body = after_id.get(used..).unwrap_or_default();
        let Some(next) = usize::try_from(len).ok().and_then(|len| body.get(len..)) else {
            return Err(format!(
                "truncated: section {id} at byte {offset} declares {len} bytes but only {} remain",
                body.len()
            ));
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
