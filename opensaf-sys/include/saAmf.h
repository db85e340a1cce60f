/*
 * macsync's own declarations of the SA Forum AMF B.04.01 component API (the subset an
 * SA-aware component uses). Checked against the ABI record by `cargo test --test abi`.
 */
#ifndef MACSYNC_SA_AMF_H
#define MACSYNC_SA_AMF_H

#include "saAis.h"
#include "saNtf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef SaUint64T SaAmfHandleT;

typedef enum SaAmfHAStateT {
    SA_AMF_HA_ACTIVE = 1,
    SA_AMF_HA_STANDBY = 2,
    SA_AMF_HA_QUIESCED = 3,
    SA_AMF_HA_QUIESCING = 4
} SaAmfHAStateT;

typedef enum SaAmfHAReadinessStateT {
    SA_AMF_HARS_READY_FOR_ASSIGNMENT = 1,
    SA_AMF_HARS_READY_FOR_ACTIVE_DEGRADED = 2,
    SA_AMF_HARS_NOT_READY_FOR_ACTIVE = 3,
    SA_AMF_HARS_NOT_READY_FOR_ASSIGNMENT = 4
} SaAmfHAReadinessStateT;

typedef SaUint32T SaAmfCSIFlagsT;
#define SA_AMF_CSI_ADD_ONE 0X1
#define SA_AMF_CSI_TARGET_ONE 0X2
#define SA_AMF_CSI_TARGET_ALL 0X4

typedef enum SaAmfCSITransitionDescriptorT {
    SA_AMF_CSI_NEW_ASSIGN = 1,
    SA_AMF_CSI_QUIESCED = 2,
    SA_AMF_CSI_NOT_QUIESCED = 3,
    SA_AMF_CSI_STILL_ACTIVE = 4
} SaAmfCSITransitionDescriptorT;

typedef struct SaAmfCSIActiveDescriptorT {
    SaAmfCSITransitionDescriptorT transitionDescriptor;
    SaNameT activeCompName;
} SaAmfCSIActiveDescriptorT;

typedef struct SaAmfCSIStandbyDescriptorT {
    SaNameT activeCompName;
    SaUint32T standbyRank;
} SaAmfCSIStandbyDescriptorT;

typedef union SaAmfCSIStateDescriptorT {
    SaAmfCSIActiveDescriptorT activeDescriptor;
    SaAmfCSIStandbyDescriptorT standbyDescriptor;
} SaAmfCSIStateDescriptorT;

typedef struct SaAmfCSIAttributeT {
    SaUint8T *attrName;
    SaUint8T *attrValue;
} SaAmfCSIAttributeT;

typedef struct SaAmfCSIAttributeListT {
    SaAmfCSIAttributeT *attr;
    SaUint32T number;
} SaAmfCSIAttributeListT;

typedef struct SaAmfCSIDescriptorT {
    SaAmfCSIFlagsT csiFlags;
    SaNameT csiName;
    SaAmfCSIStateDescriptorT csiStateDescriptor;
    SaAmfCSIAttributeListT csiAttr;
} SaAmfCSIDescriptorT;

#define SA_AMF_HEALTHCHECK_KEY_MAX 32

typedef struct SaAmfHealthcheckKeyT {
    SaUint8T key[SA_AMF_HEALTHCHECK_KEY_MAX];
    SaUint16T keyLen;
} SaAmfHealthcheckKeyT;

typedef enum SaAmfHealthcheckInvocationT {
    SA_AMF_HEALTHCHECK_AMF_INVOKED = 1,
    SA_AMF_HEALTHCHECK_COMPONENT_INVOKED = 2
} SaAmfHealthcheckInvocationT;

typedef enum SaAmfRecommendedRecoveryT {
    SA_AMF_NO_RECOMMENDATION = 1,
    SA_AMF_COMPONENT_RESTART = 2,
    SA_AMF_COMPONENT_FAILOVER = 3,
    SA_AMF_NODE_SWITCHOVER = 4,
    SA_AMF_NODE_FAILOVER = 5,
    SA_AMF_NODE_FAILFAST = 6,
    SA_AMF_CLUSTER_RESET = 7,
    SA_AMF_APPLICATION_RESTART = 8,
    SA_AMF_CONTAINER_RESTART = 9
} SaAmfRecommendedRecoveryT;

typedef enum SaAmfProtectionGroupChangesT {
    SA_AMF_PROTECTION_GROUP_NO_CHANGE = 1,
    SA_AMF_PROTECTION_GROUP_ADDED = 2,
    SA_AMF_PROTECTION_GROUP_REMOVED = 3,
    SA_AMF_PROTECTION_GROUP_STATE_CHANGE = 4
} SaAmfProtectionGroupChangesT;

typedef struct SaAmfProtectionGroupMemberT_4 {
    SaNameT compName;
    SaAmfHAStateT haState;
    SaAmfHAReadinessStateT haReadinessState;
    SaUint32T rank;
} SaAmfProtectionGroupMemberT_4;

typedef struct SaAmfProtectionGroupNotificationT_4 {
    SaAmfProtectionGroupMemberT_4 member;
    SaAmfProtectionGroupChangesT change;
} SaAmfProtectionGroupNotificationT_4;

typedef struct SaAmfProtectionGroupNotificationBufferT_4 {
    SaUint32T numberOfItems;
    SaAmfProtectionGroupNotificationT_4 *notification;
} SaAmfProtectionGroupNotificationBufferT_4;

typedef void (*SaAmfHealthcheckCallbackT)(SaInvocationT invocation, const SaNameT *compName,
                                          SaAmfHealthcheckKeyT *healthcheckKey);
typedef void (*SaAmfComponentTerminateCallbackT)(SaInvocationT invocation, const SaNameT *compName);
typedef void (*SaAmfCSISetCallbackT)(SaInvocationT invocation, const SaNameT *compName,
                                     SaAmfHAStateT haState, SaAmfCSIDescriptorT csiDescriptor);
typedef void (*SaAmfCSIRemoveCallbackT)(SaInvocationT invocation, const SaNameT *compName,
                                        const SaNameT *csiName, SaAmfCSIFlagsT csiFlags);
typedef void (*SaAmfProtectionGroupTrackCallbackT_4)(
    const SaNameT *csiName, SaAmfProtectionGroupNotificationBufferT_4 *notificationBuffer,
    SaUint32T numberOfMembers, SaAisErrorT error);
typedef void (*SaAmfProxiedComponentInstantiateCallbackT)(SaInvocationT invocation,
                                                          const SaNameT *proxiedCompName);
typedef void (*SaAmfProxiedComponentCleanupCallbackT)(SaInvocationT invocation,
                                                      const SaNameT *proxiedCompName);
typedef void (*SaAmfContainedComponentInstantiateCallbackT)(SaInvocationT invocation,
                                                            const SaNameT *containedCompName);
typedef void (*SaAmfContainedComponentCleanupCallbackT)(SaInvocationT invocation,
                                                        const SaNameT *containedCompName);

typedef struct SaAmfCallbacksT_4 {
    SaAmfHealthcheckCallbackT saAmfHealthcheckCallback;
    SaAmfComponentTerminateCallbackT saAmfComponentTerminateCallback;
    SaAmfCSISetCallbackT saAmfCSISetCallback;
    SaAmfCSIRemoveCallbackT saAmfCSIRemoveCallback;
    SaAmfProtectionGroupTrackCallbackT_4 saAmfProtectionGroupTrackCallback;
    SaAmfProxiedComponentInstantiateCallbackT saAmfProxiedComponentInstantiateCallback;
    SaAmfProxiedComponentCleanupCallbackT saAmfProxiedComponentCleanupCallback;
    SaAmfContainedComponentInstantiateCallbackT saAmfContainedComponentInstantiateCallback;
    SaAmfContainedComponentCleanupCallbackT saAmfContainedComponentCleanupCallback;
} SaAmfCallbacksT_4;

extern SaAisErrorT saAmfInitialize_4(SaAmfHandleT *amfHandle, const SaAmfCallbacksT_4 *amfCallbacks,
                                     SaVersionT *version);
extern SaAisErrorT saAmfSelectionObjectGet(SaAmfHandleT amfHandle,
                                           SaSelectionObjectT *selectionObject);
extern SaAisErrorT saAmfDispatch(SaAmfHandleT amfHandle, SaDispatchFlagsT dispatchFlags);
extern SaAisErrorT saAmfFinalize(SaAmfHandleT amfHandle);
extern SaAisErrorT saAmfComponentNameGet(SaAmfHandleT amfHandle, SaNameT *compName);
extern SaAisErrorT saAmfComponentRegister(SaAmfHandleT amfHandle, const SaNameT *compName,
                                          const SaNameT *proxyCompName);
extern SaAisErrorT saAmfComponentUnregister(SaAmfHandleT amfHandle, const SaNameT *compName,
                                            const SaNameT *proxyCompName);
extern SaAisErrorT saAmfHealthcheckStart(SaAmfHandleT amfHandle, const SaNameT *compName,
                                         const SaAmfHealthcheckKeyT *healthcheckKey,
                                         SaAmfHealthcheckInvocationT invocationType,
                                         SaAmfRecommendedRecoveryT recommendedRecovery);
extern SaAisErrorT saAmfHealthcheckStop(SaAmfHandleT amfHandle, const SaNameT *compName,
                                        const SaAmfHealthcheckKeyT *healthcheckKey);
extern SaAisErrorT saAmfResponse_4(SaAmfHandleT amfHandle, SaInvocationT invocation,
                                   SaNtfCorrelationIdsT *correlationIds, SaAisErrorT error);
extern SaAisErrorT saAmfCSIQuiescingComplete(SaAmfHandleT amfHandle, SaInvocationT invocation,
                                             SaAisErrorT error);
extern SaAisErrorT saAmfComponentErrorReport_4(SaAmfHandleT amfHandle, const SaNameT *erroneousComponent,
                                               SaTimeT errorDetectionTime,
                                               SaAmfRecommendedRecoveryT recommendedRecovery,
                                               SaNtfCorrelationIdsT *correlationIds);

#ifdef __cplusplus
}
#endif

#endif
