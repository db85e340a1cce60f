/*
 * What opensaf-sys binds. The same file works against the project's headers (include/)
 * or a real OpenSAF install (OPENSAF_INCLUDE_DIR / pkg-config), so the two can be diffed.
 *
 * Functions are not linked: OpenSAF's libraries are loaded at run time by soname (a 5.21.03
 * install has no unversioned libSaImmOm.so to link against). For each function the loader
 * needs, a function *type* is derived from the declaration itself with __typeof__, so the
 * loader's pointer types cannot drift from the declarations.
 */
#define SA_EXTENDED_NAME_SOURCE 1
#include <saAis.h>
#include <saAmf.h>
#include <saImmOm.h>
#include <saImmOi.h>
#include <saClm.h>

#define MACSYNC_FN(f) typedef __typeof__(f) f##_fn;

/* libSaAmf.so.0 (also exports the name helpers) */
MACSYNC_FN(saAisNameLend)
MACSYNC_FN(saAisNameBorrow)
MACSYNC_FN(saAmfInitialize_4)
MACSYNC_FN(saAmfSelectionObjectGet)
MACSYNC_FN(saAmfDispatch)
MACSYNC_FN(saAmfFinalize)
MACSYNC_FN(saAmfComponentNameGet)
MACSYNC_FN(saAmfComponentRegister)
MACSYNC_FN(saAmfComponentUnregister)
MACSYNC_FN(saAmfHealthcheckStart)
MACSYNC_FN(saAmfHealthcheckStop)
MACSYNC_FN(saAmfResponse_4)
MACSYNC_FN(saAmfCSIQuiescingComplete)
MACSYNC_FN(saAmfComponentErrorReport_4)

/* libSaImmOm.so.0 */
MACSYNC_FN(saImmOmInitialize)
MACSYNC_FN(saImmOmFinalize)
MACSYNC_FN(saImmOmSearchInitialize_2)
MACSYNC_FN(saImmOmSearchNext_2)
MACSYNC_FN(saImmOmSearchFinalize)
MACSYNC_FN(saImmOmAccessorInitialize)
MACSYNC_FN(saImmOmAccessorGet_2)
MACSYNC_FN(saImmOmAccessorFinalize)

/* libSaImmOi.so.0 */
MACSYNC_FN(saImmOiInitialize_2)
MACSYNC_FN(saImmOiSelectionObjectGet)
MACSYNC_FN(saImmOiDispatch)
MACSYNC_FN(saImmOiFinalize)
MACSYNC_FN(saImmOiImplementerSet)
MACSYNC_FN(saImmOiImplementerClear)
MACSYNC_FN(saImmOiRtObjectCreate_2)
MACSYNC_FN(saImmOiRtObjectDelete)
MACSYNC_FN(saImmOiRtObjectUpdate_2)
MACSYNC_FN(saImmOiAdminOperationResult)

/* libSaClm.so.0 (the name helpers come from libSaAmf.so.0) */
MACSYNC_FN(saClmInitialize_4)
MACSYNC_FN(saClmSelectionObjectGet)
MACSYNC_FN(saClmDispatch)
MACSYNC_FN(saClmFinalize)
MACSYNC_FN(saClmClusterTrack_4)
MACSYNC_FN(saClmClusterTrackStop)
MACSYNC_FN(saClmClusterNotificationFree_4)
MACSYNC_FN(saClmClusterNodeGet_4)
MACSYNC_FN(saClmClusterNodeGetAsync)
MACSYNC_FN(saClmResponse_4)
