//! The bridge end to end: a real Mother (with the example children
//! installed) behind a real membrane, the bridge served on 127.0.0.1 over
//! TCP, and a Rust HTTP client (ureq). One test binary, a module per
//! subject.

mod auth;
mod bounds;
mod calls;
mod common;
mod kinds;
mod mounts;
mod openapi;
mod shutdown;
