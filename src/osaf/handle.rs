//! What every AIS service handle goes through the same way: initialize with a version
//! (negotiated, retried while the service starts), the selection object to poll, and a
//! finalize from `Drop` whose failure can only be logged.

use std::os::fd::RawFd;

use opensaf_sys::{SaSelectionObjectT, SaVersionT};

use super::error::{AisCode, AisCodeExt, Error};
use super::retry::RetryPolicy;

/// An AIS interface version: release code, major, minor (`(b'B', 4, 1)` is B.04.01).
pub(crate) type Version = (u8, u8, u8);

/// Runs a `sa*Initialize*` call through `policy` and returns the new handle. The call
/// overwrites the version with what the service supports, so each try asks afresh.
pub(crate) fn initialize(
    call: &'static str,
    version: Version,
    policy: &RetryPolicy,
    mut init: impl FnMut(&mut u64, &mut SaVersionT) -> AisCode,
) -> Result<u64, Error> {
    policy.run(call, || {
        let mut asked = SaVersionT {
            releaseCode: version.0,
            majorVersion: version.1,
            minorVersion: version.2,
        };
        let mut handle = 0;
        init(&mut handle, &mut asked).into_result().map(|()| handle)
    })
}

/// Runs a `sa*SelectionObjectGet` call: the fd to poll, readable while callbacks wait.
pub(crate) fn selection_fd(
    call: &'static str,
    get: impl FnOnce(&mut SaSelectionObjectT) -> AisCode,
) -> Result<RawFd, Error> {
    let mut fd: SaSelectionObjectT = 0;
    get(&mut fd).check(call)?;
    RawFd::try_from(fd).map_err(|_| Error::Invalid(format!("selection object {fd} is not an fd")))
}

/// The answer of a `sa*Finalize` called from `Drop`: logged unless OK, or BAD_HANDLE (the
/// service's agent is gone already, e.g. after an IMM node director restart).
pub(crate) fn log_finalize(call: &'static str, rc: AisCode) {
    if rc != AisCode::OK && rc != AisCode::BAD_HANDLE {
        log::warn!("{call}: {rc}");
    }
}
