/* macsync's own declarations of the SA Forum IMM object-implementer API (runtime objects). */
#ifndef MACSYNC_SA_IMM_OI_H
#define MACSYNC_SA_IMM_OI_H

#include "saImm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef SaUint64T SaImmOiHandleT;
typedef SaStringT SaImmOiImplementerNameT;
typedef SaUint64T SaImmOiCcbIdT;

typedef void (*SaImmOiAdminOperationCallbackT_2)(SaImmOiHandleT immOiHandle, SaInvocationT invocation,
                                                 const SaNameT *objectName,
                                                 SaImmAdminOperationIdT operationId,
                                                 const SaImmAdminOperationParamsT_2 **params);
typedef void (*SaImmOiCcbAbortCallbackT)(SaImmOiHandleT immOiHandle, SaImmOiCcbIdT ccbId);
typedef void (*SaImmOiCcbApplyCallbackT)(SaImmOiHandleT immOiHandle, SaImmOiCcbIdT ccbId);
typedef SaAisErrorT (*SaImmOiCcbCompletedCallbackT)(SaImmOiHandleT immOiHandle, SaImmOiCcbIdT ccbId);
typedef SaAisErrorT (*SaImmOiCcbObjectCreateCallbackT_2)(SaImmOiHandleT immOiHandle,
                                                         SaImmOiCcbIdT ccbId,
                                                         const SaImmClassNameT className,
                                                         const SaNameT *parentName,
                                                         const SaImmAttrValuesT_2 **attr);
typedef SaAisErrorT (*SaImmOiCcbObjectDeleteCallbackT)(SaImmOiHandleT immOiHandle, SaImmOiCcbIdT ccbId,
                                                       const SaNameT *objectName);
typedef SaAisErrorT (*SaImmOiCcbObjectModifyCallbackT_2)(SaImmOiHandleT immOiHandle,
                                                         SaImmOiCcbIdT ccbId,
                                                         const SaNameT *objectName,
                                                         const SaImmAttrModificationT_2 **attrMods);
typedef SaAisErrorT (*SaImmOiRtAttrUpdateCallbackT)(SaImmOiHandleT immOiHandle,
                                                    const SaNameT *objectName,
                                                    const SaImmAttrNameT *attributeNames);

typedef struct SaImmOiCallbacksT_2 {
    SaImmOiAdminOperationCallbackT_2 saImmOiAdminOperationCallback;
    SaImmOiCcbAbortCallbackT saImmOiCcbAbortCallback;
    SaImmOiCcbApplyCallbackT saImmOiCcbApplyCallback;
    SaImmOiCcbCompletedCallbackT saImmOiCcbCompletedCallback;
    SaImmOiCcbObjectCreateCallbackT_2 saImmOiCcbObjectCreateCallback;
    SaImmOiCcbObjectDeleteCallbackT saImmOiCcbObjectDeleteCallback;
    SaImmOiCcbObjectModifyCallbackT_2 saImmOiCcbObjectModifyCallback;
    SaImmOiRtAttrUpdateCallbackT saImmOiRtAttrUpdateCallback;
} SaImmOiCallbacksT_2;

extern SaAisErrorT saImmOiInitialize_2(SaImmOiHandleT *immOiHandle,
                                       const SaImmOiCallbacksT_2 *immOiCallbacks, SaVersionT *version);
extern SaAisErrorT saImmOiSelectionObjectGet(SaImmOiHandleT immOiHandle,
                                             SaSelectionObjectT *selectionObject);
extern SaAisErrorT saImmOiDispatch(SaImmOiHandleT immOiHandle, SaDispatchFlagsT dispatchFlags);
extern SaAisErrorT saImmOiFinalize(SaImmOiHandleT immOiHandle);
extern SaAisErrorT saImmOiImplementerSet(SaImmOiHandleT immOiHandle,
                                         const SaImmOiImplementerNameT implementerName);
extern SaAisErrorT saImmOiImplementerClear(SaImmOiHandleT immOiHandle);
extern SaAisErrorT saImmOiRtObjectCreate_2(SaImmOiHandleT immOiHandle, const SaImmClassNameT className,
                                           const SaNameT *parentName,
                                           const SaImmAttrValuesT_2 **attrValues);
extern SaAisErrorT saImmOiRtObjectDelete(SaImmOiHandleT immOiHandle, const SaNameT *objectName);
extern SaAisErrorT saImmOiRtObjectUpdate_2(SaImmOiHandleT immOiHandle, const SaNameT *objectName,
                                           const SaImmAttrModificationT_2 **attrMods);
extern SaAisErrorT saImmOiAdminOperationResult(SaImmOiHandleT immOiHandle, SaInvocationT invocation,
                                               SaAisErrorT result);

#ifdef __cplusplus
}
#endif

#endif
