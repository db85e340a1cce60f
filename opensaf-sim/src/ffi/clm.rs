//! libSaClm.so.0: the CLM API (B.04.01).

use opensaf_sys::{
    SaAisErrorT, SaAisErrorT as Ais, SaClmCallbacksT_4, SaClmClusterNodeT_4,
    SaClmClusterNotificationBufferT_4, SaClmClusterNotificationT_4, SaClmHandleT, SaClmNodeIdT,
    SaDispatchFlagsT, SaSelectionObjectT, SaTimeT, SaUint8T, SaVersionT,
};

use super::{code, guard};
use crate::clm::deliver::CallerBuffer;
use crate::clm::{self, Buffer, CLM_VERSION};

/// Initializes the CLM library: release 'B', major 4; the version is overwritten with
/// B.04.01 either way.
///
/// # Safety
/// `clm_handle` and `version` must be NULL or writable; `callbacks` NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn saClmInitialize_4(
    clm_handle: *mut SaClmHandleT,
    callbacks: *const SaClmCallbacksT_4,
    version: *mut SaVersionT,
) -> SaAisErrorT {
    // SAFETY: the caller's contract is `initialize`'s.
    unsafe { super::initialize(clm_handle, callbacks, version, CLM_VERSION, clm::initialize) }
}

/// # Safety
/// `selection_object` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn saClmSelectionObjectGet(
    clm_handle: SaClmHandleT,
    selection_object: *mut SaSelectionObjectT,
) -> SaAisErrorT {
    let fd = || clm::selection_object(clm_handle).map(|fd| fd as SaSelectionObjectT);
    // SAFETY: the caller's contract is `answer`'s.
    unsafe { super::answer(selection_object, fd) }
}

/// # Safety
/// The track callback registered at initialize is called from here.
#[no_mangle]
pub unsafe extern "C" fn saClmDispatch(
    clm_handle: SaClmHandleT,
    flags: SaDispatchFlagsT,
) -> SaAisErrorT {
    guard(|| code(clm::dispatch(clm_handle, flags.0)))
}

/// # Safety
/// No pointers; unsafe only for symmetry with the C declaration.
#[no_mangle]
pub unsafe extern "C" fn saClmFinalize(clm_handle: SaClmHandleT) -> SaAisErrorT {
    guard(|| code(clm::finalize(clm_handle)))
}

/// # Safety
/// `buffer` must be NULL or point to a writable buffer struct whose `notification` is NULL
/// or an array of `numberOfItems` writable entries.
#[no_mangle]
pub unsafe extern "C" fn saClmClusterTrack_4(
    clm_handle: SaClmHandleT,
    track_flags: SaUint8T,
    buffer: *mut SaClmClusterNotificationBufferT_4,
) -> SaAisErrorT {
    guard(|| {
        let buffer = if buffer.is_null() {
            Buffer::Callback
        } else {
            // SAFETY: the caller's contract is `CallerBuffer::new`'s.
            Buffer::Fill(unsafe { CallerBuffer::new(buffer) })
        };
        code(clm::track(clm_handle, track_flags, buffer))
    })
}

/// # Safety
/// No pointers; unsafe only for symmetry with the C declaration.
#[no_mangle]
pub unsafe extern "C" fn saClmClusterTrackStop(clm_handle: SaClmHandleT) -> SaAisErrorT {
    guard(|| code(clm::track_stop(clm_handle)))
}

/// # Safety
/// `notification` is only compared with the arrays this library allocated, never read.
#[no_mangle]
pub unsafe extern "C" fn saClmClusterNotificationFree_4(
    clm_handle: SaClmHandleT,
    notification: *mut SaClmClusterNotificationT_4,
) -> SaAisErrorT {
    guard(|| {
        if notification.is_null() {
            return Ais::INVALID_PARAM;
        }
        code(clm::notification_free(clm_handle, notification as usize))
    })
}

/// # Safety
/// `cluster_node` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn saClmClusterNodeGet_4(
    clm_handle: SaClmHandleT,
    node_id: SaClmNodeIdT,
    timeout: SaTimeT,
    cluster_node: *mut SaClmClusterNodeT_4,
) -> SaAisErrorT {
    let node = || match timeout {
        ..0 => Err(Ais::INVALID_PARAM),
        _ => clm::node_get(clm_handle, node_id).map(|n| clm::deliver::c_node(&n)),
    };
    // SAFETY: the caller's contract is `answer`'s.
    unsafe { super::answer(cluster_node, node) }
}
