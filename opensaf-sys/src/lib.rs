//! Bindings to the OpenSAF AIS C API that macsync uses: AMF B.04.01 (component side),
//! IMM A.02 (OM read side, OI runtime objects) and CLM B.04.01 (cluster membership), with
//! `SA_EXTENDED_NAME_SOURCE` semantics.
//!
//! * Types and constants: bindgen output from the project's own headers (`include/`),
//!   committed as `src/bindings.rs` so no libclang is needed to build; feature `bindgen`
//!   regenerates them (from `OPENSAF_INCLUDE_DIR`, pkg-config, or `include/`).
//!   C enums are `#[repr(transparent)]` newtypes: a value C returns that the headers do not
//!   know is kept, never undefined behaviour.
//! * Functions: loaded at run time by soname ([`loader`]), never linked.
//! * Error codes: [`SaAisErrorT`] has a short constant for every code, its C name and
//!   `Display` ([`ais`]).

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

// Generated code: its few unsafe blocks (zeroed `Default`s) are bindgen's, not ours.
#[allow(clippy::all, clippy::undocumented_unsafe_blocks, dead_code)]
mod bindings {
    #[cfg(not(feature = "bindgen"))]
    include!("bindings.rs");
    #[cfg(feature = "bindgen")]
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub use bindings::*;

pub mod ais;
pub mod loader;
pub use loader::{AmfApi, Apis, ClmApi, ImmOiApi, ImmOmApi, LoadError, Loaded};

/// `SA_NTF_IDENTIFIER_UNUSED` (a cast expression in C, which bindgen does not evaluate).
pub const SA_NTF_IDENTIFIER_UNUSED: SaNtfIdentifierT = 0;
