/* macsync's own declarations of the SA Forum IMM types shared by the OM and OI APIs (A.02.x). */
#ifndef MACSYNC_SA_IMM_H
#define MACSYNC_SA_IMM_H

#include "saAis.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef SaStringT SaImmClassNameT;
typedef SaStringT SaImmAttrNameT;
typedef SaStringT SaImmAdminOwnerNameT;
typedef void *SaImmAttrValueT;
typedef SaUint64T SaImmHandleT;
typedef SaUint64T SaImmSearchHandleT;
typedef SaUint64T SaImmAccessorHandleT;
typedef SaUint64T SaImmAdminOperationIdT;
typedef SaUint64T SaImmContinuationIdT;

typedef enum SaImmValueTypeT {
    SA_IMM_ATTR_SAINT32T = 1,
    SA_IMM_ATTR_SAUINT32T = 2,
    SA_IMM_ATTR_SAINT64T = 3,
    SA_IMM_ATTR_SAUINT64T = 4,
    SA_IMM_ATTR_SATIMET = 5,
    SA_IMM_ATTR_SANAMET = 6,
    SA_IMM_ATTR_SAFLOATT = 7,
    SA_IMM_ATTR_SADOUBLET = 8,
    SA_IMM_ATTR_SASTRINGT = 9,
    SA_IMM_ATTR_SAANYT = 10
} SaImmValueTypeT;

typedef enum SaImmClassCategoryT {
    SA_IMM_CLASS_CONFIG = 1,
    SA_IMM_CLASS_RUNTIME = 2
} SaImmClassCategoryT;

typedef SaUint64T SaImmAttrFlagsT;
#define SA_IMM_ATTR_MULTI_VALUE 0x00000001
#define SA_IMM_ATTR_RDN 0x00000002
#define SA_IMM_ATTR_CONFIG 0x00000100
#define SA_IMM_ATTR_WRITABLE 0x00000200
#define SA_IMM_ATTR_INITIALIZED 0x00000400
#define SA_IMM_ATTR_RUNTIME 0x00010000
#define SA_IMM_ATTR_PERSISTENT 0x00020000
#define SA_IMM_ATTR_CACHED 0x00040000

typedef enum SaImmScopeT {
    SA_IMM_ONE = 1,
    SA_IMM_SUBLEVEL = 2,
    SA_IMM_SUBTREE = 3
} SaImmScopeT;

typedef SaUint64T SaImmSearchOptionsT;
#define SA_IMM_SEARCH_ONE_ATTR 0x0001
#define SA_IMM_SEARCH_GET_ALL_ATTR 0x0100
#define SA_IMM_SEARCH_GET_NO_ATTR 0x0200
#define SA_IMM_SEARCH_GET_SOME_ATTR 0x0400

#define SA_IMM_ATTR_CLASS_NAME "SaImmAttrClassName"
#define SA_IMM_ATTR_IMPLEMENTER_NAME "SaImmAttrImplementerName"

typedef enum SaImmAttrModificationTypeT {
    SA_IMM_ATTR_VALUES_ADD = 1,
    SA_IMM_ATTR_VALUES_DELETE = 2,
    SA_IMM_ATTR_VALUES_REPLACE = 3
} SaImmAttrModificationTypeT;

typedef struct SaImmAttrValuesT_2 {
    SaImmAttrNameT attrName;
    SaImmValueTypeT attrValueType;
    SaUint32T attrValuesNumber;
    SaImmAttrValueT *attrValues;
} SaImmAttrValuesT_2;

typedef struct SaImmAttrModificationT_2 {
    SaImmAttrModificationTypeT modType;
    SaImmAttrValuesT_2 modAttr;
} SaImmAttrModificationT_2;

typedef struct SaImmSearchOneAttrT_2 {
    SaImmAttrNameT attrName;
    SaImmValueTypeT attrValueType;
    SaImmAttrValueT attrValue;
} SaImmSearchOneAttrT_2;

typedef union SaImmSearchParametersT_2 {
    SaImmSearchOneAttrT_2 searchOneAttr;
} SaImmSearchParametersT_2;

typedef struct SaImmAdminOperationParamsT_2 {
    SaStringT paramName;
    SaImmValueTypeT paramType;
    SaImmAttrValueT paramBuffer;
} SaImmAdminOperationParamsT_2;

#ifdef __cplusplus
}
#endif

#endif
