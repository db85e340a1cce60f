/* macsync's own declarations of the SA Forum IMM object-management API (read side only). */
#ifndef MACSYNC_SA_IMM_OM_H
#define MACSYNC_SA_IMM_OM_H

#include "saImm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*SaImmOmAdminOperationInvokeCallbackT)(SaInvocationT invocation,
                                                     SaAisErrorT operationReturnValue,
                                                     SaAisErrorT error);

typedef struct SaImmCallbacksT {
    SaImmOmAdminOperationInvokeCallbackT saImmOmAdminOperationInvokeCallback;
} SaImmCallbacksT;

extern SaAisErrorT saImmOmInitialize(SaImmHandleT *immHandle, const SaImmCallbacksT *immCallbacks,
                                     SaVersionT *version);
extern SaAisErrorT saImmOmFinalize(SaImmHandleT immHandle);
extern SaAisErrorT saImmOmSearchInitialize_2(SaImmHandleT immHandle, const SaNameT *rootName,
                                             SaImmScopeT scope, SaImmSearchOptionsT searchOptions,
                                             const SaImmSearchParametersT_2 *searchParam,
                                             const SaImmAttrNameT *attributeNames,
                                             SaImmSearchHandleT *searchHandle);
extern SaAisErrorT saImmOmSearchNext_2(SaImmSearchHandleT searchHandle, SaNameT *objectName,
                                       SaImmAttrValuesT_2 ***attributes);
extern SaAisErrorT saImmOmSearchFinalize(SaImmSearchHandleT searchHandle);
extern SaAisErrorT saImmOmAccessorInitialize(SaImmHandleT immHandle,
                                             SaImmAccessorHandleT *accessorHandle);
extern SaAisErrorT saImmOmAccessorGet_2(SaImmAccessorHandleT accessorHandle, const SaNameT *objectName,
                                        const SaImmAttrNameT *attributeNames,
                                        SaImmAttrValuesT_2 ***attributes);
extern SaAisErrorT saImmOmAccessorFinalize(SaImmAccessorHandleT accessorHandle);

#ifdef __cplusplus
}
#endif

#endif
