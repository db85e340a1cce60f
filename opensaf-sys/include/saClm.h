/*
 * macsync's own declarations of the SA Forum CLM B.04.01 API (cluster membership: who is
 * in the cluster, and tracking changes), written from the interface facts in the project's
 * ABI record (tests/data/abi-5.21.03.json). Checked against it by `cargo test --test abi`.
 */
#ifndef MACSYNC_SA_CLM_H
#define MACSYNC_SA_CLM_H

#include "saAis.h"
#include "saNtf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef SaUint64T SaClmHandleT;
typedef SaUint32T SaClmNodeIdT;

/* saClmClusterNodeGet_4's node id for "the node this process runs on". */
#define SA_CLM_LOCAL_NODE_ID 0XFFFFFFFF
#define SA_CLM_MAX_ADDRESS_LENGTH 64

typedef enum SaClmNodeAddressFamilyT {
    SA_CLM_AF_INET = 1,
    SA_CLM_AF_INET6 = 2
} SaClmNodeAddressFamilyT;

typedef struct SaClmNodeAddressT {
    SaClmNodeAddressFamilyT family;
    SaUint16T length;
    SaUint8T value[SA_CLM_MAX_ADDRESS_LENGTH];
} SaClmNodeAddressT;

typedef struct SaClmClusterNodeT_4 {
    SaClmNodeIdT nodeId;
    SaClmNodeAddressT nodeAddress;
    SaNameT nodeName;
    SaNameT executionEnvironment;
    SaBoolT member;
    SaTimeT bootTimestamp;
    SaUint64T initialViewNumber;
} SaClmClusterNodeT_4;

/* What happened to a node, per item of a track notification. */
typedef enum SaClmClusterChangesT {
    SA_CLM_NODE_NO_CHANGE = 1,
    SA_CLM_NODE_JOINED = 2,
    SA_CLM_NODE_LEFT = 3,
    SA_CLM_NODE_RECONFIGURED = 4,
    SA_CLM_NODE_UNLOCK = 5,
    SA_CLM_NODE_SHUTDOWN = 6
} SaClmClusterChangesT;

typedef struct SaClmClusterNotificationT_4 {
    SaClmClusterNodeT_4 clusterNode;
    SaClmClusterChangesT clusterChange;
} SaClmClusterNotificationT_4;

typedef struct SaClmClusterNotificationBufferT_4 {
    SaUint64T viewNumber;
    SaUint32T numberOfItems;
    SaClmClusterNotificationT_4 *notification;
} SaClmClusterNotificationBufferT_4;

typedef enum SaClmChangeStepT {
    SA_CLM_CHANGE_VALIDATE = 1,
    SA_CLM_CHANGE_START = 2,
    SA_CLM_CHANGE_ABORTED = 3,
    SA_CLM_CHANGE_COMPLETED = 4
} SaClmChangeStepT;

typedef enum SaClmResponseT {
    SA_CLM_CALLBACK_RESPONSE_OK = 1,
    SA_CLM_CALLBACK_RESPONSE_REJECTED = 2,
    SA_CLM_CALLBACK_RESPONSE_ERROR = 3
} SaClmResponseT;

typedef enum SaClmStateT {
    SA_CLM_CLUSTER_CHANGE_STATUS = 1,
    SA_CLM_ADMIN_STATE = 2
} SaClmStateT;

typedef enum SaClmAdminStateT {
    SA_CLM_ADMIN_UNLOCKED = 1,
    SA_CLM_ADMIN_LOCKED = 2,
    SA_CLM_ADMIN_SHUTTING_DOWN = 3
} SaClmAdminStateT;

/* Admin operations on CLM nodes (1-3) and, OpenSAF's own, on the cluster (4-5). */
typedef enum SaClmAdminOperationIdT {
    SA_CLM_ADMIN_UNLOCK = 1,
    SA_CLM_ADMIN_LOCK = 2,
    SA_CLM_ADMIN_SHUTDOWN = 3,
    SA_CLM_ADMIN_RESET = 4,
    SA_CLM_ADMIN_ACTION = 5
} SaClmAdminOperationIdT;

typedef enum SaClmNotificationMinorIdT {
    SA_CLM_NTFID_NODE_JOIN = 0x065,
    SA_CLM_NTFID_NODE_LEAVE = 0x066,
    SA_CLM_NTFID_NODE_RECONFIG = 0x067,
    SA_CLM_NTFID_NODE_ADMIN_STATE = 0x068
} SaClmNotificationMinorIdT;

typedef enum SaClmAdditionalInfoIdT_4 {
    SA_CLM_ROOT_CAUSE_ENTITY = 1
} SaClmAdditionalInfoIdT_4;

typedef void (*SaClmClusterNodeGetCallbackT_4)(SaInvocationT invocation,
                                               const SaClmClusterNodeT_4 *clusterNode,
                                               SaAisErrorT error);
typedef void (*SaClmClusterTrackCallbackT_4)(
    const SaClmClusterNotificationBufferT_4 *notificationBuffer, SaUint32T numberOfMembers,
    SaInvocationT invocation, const SaNameT *rootCauseEntity,
    const SaNtfCorrelationIdsT *correlationIds, SaClmChangeStepT step, SaTimeT timeSupervision,
    SaAisErrorT error);

typedef struct SaClmCallbacksT_4 {
    SaClmClusterNodeGetCallbackT_4 saClmClusterNodeGetCallback;
    SaClmClusterTrackCallbackT_4 saClmClusterTrackCallback;
} SaClmCallbacksT_4;

extern SaAisErrorT saClmInitialize_4(SaClmHandleT *clmHandle, const SaClmCallbacksT_4 *clmCallbacks,
                                     SaVersionT *version);
extern SaAisErrorT saClmSelectionObjectGet(SaClmHandleT clmHandle,
                                           SaSelectionObjectT *selectionObject);
extern SaAisErrorT saClmDispatch(SaClmHandleT clmHandle, SaDispatchFlagsT dispatchFlags);
extern SaAisErrorT saClmFinalize(SaClmHandleT clmHandle);
extern SaAisErrorT saClmClusterTrack_4(SaClmHandleT clmHandle, SaUint8T trackFlags,
                                       SaClmClusterNotificationBufferT_4 *notificationBuffer);
extern SaAisErrorT saClmClusterTrackStop(SaClmHandleT clmHandle);
extern SaAisErrorT saClmClusterNotificationFree_4(SaClmHandleT clmHandle,
                                                  SaClmClusterNotificationT_4 *notification);
extern SaAisErrorT saClmClusterNodeGet_4(SaClmHandleT clmHandle, SaClmNodeIdT nodeId,
                                         SaTimeT timeout, SaClmClusterNodeT_4 *clusterNode);
extern SaAisErrorT saClmClusterNodeGetAsync(SaClmHandleT clmHandle, SaInvocationT invocation,
                                            SaClmNodeIdT nodeId);
extern SaAisErrorT saClmResponse_4(SaClmHandleT clmHandle, SaInvocationT invocation,
                                   SaClmResponseT response);

#ifdef __cplusplus
}
#endif

#endif
