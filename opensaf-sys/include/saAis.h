/*
 * macsync's own declarations of the SA Forum AIS base types (saAis), written from the
 * interface facts in the project's ABI record (tests/data/abi-5.21.03.json). Only the
 * subset macsync and its simulator use. Layout is checked against the record by
 * `cargo test --test abi`.
 */
#ifndef MACSYNC_SA_AIS_H
#define MACSYNC_SA_AIS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef char SaInt8T;
typedef short SaInt16T;
typedef int SaInt32T;
typedef long long SaInt64T;
typedef unsigned char SaUint8T;
typedef unsigned short SaUint16T;
typedef unsigned int SaUint32T;
typedef unsigned long long SaUint64T;
typedef float SaFloatT;
typedef double SaDoubleT;
typedef char *SaStringT;
typedef const char *SaConstStringT;
typedef SaUint64T SaSizeT;
typedef SaUint64T SaOffsetT;
typedef SaInt64T SaTimeT;
typedef SaUint64T SaInvocationT;
typedef SaUint64T SaSelectionObjectT;

typedef enum SaBoolT { SA_FALSE = 0, SA_TRUE = 1 } SaBoolT;

#define SA_TIME_END 0x7FFFFFFFFFFFFFFFLL
#define SA_TIME_BEGIN 0x0LL
#define SA_TIME_UNKNOWN 0x8000000000000000LL
#define SA_TIME_ONE_MICROSECOND 1000LL
#define SA_TIME_ONE_MILLISECOND 1000000LL
#define SA_TIME_ONE_SECOND 1000000000LL
#define SA_TIME_ONE_MINUTE 60000000000LL
#define SA_TIME_ONE_HOUR 3600000000000LL
#define SA_TIME_ONE_DAY 86400000000000LL
#define SA_TIME_MAX SA_TIME_END

#define SA_MAX_UNEXTENDED_NAME_LENGTH 256

/* trackFlags of the *Track calls (an SaUint8T). */
#define SA_TRACK_CURRENT 0x01
#define SA_TRACK_CHANGES 0x02
#define SA_TRACK_CHANGES_ONLY 0x04
#define SA_TRACK_LOCAL 0x08
#define SA_TRACK_START_STEP 0x10
#define SA_TRACK_VALIDATE_STEP 0x20

/*
 * With SA_EXTENDED_NAME_SOURCE the name is opaque: 258 bytes, 2-aligned. Short names are
 * stored inline (legacy view: u16 length + 256 bytes); long ones by pointer. Always go
 * through saAisNameLend / saAisNameBorrow.
 */
typedef struct SaNameT {
    SaUint16T _opaque[129];
} SaNameT;

typedef struct SaVersionT {
    SaUint8T releaseCode;
    SaUint8T majorVersion;
    SaUint8T minorVersion;
} SaVersionT;

typedef struct SaAnyT {
    SaSizeT bufferSize;
    SaUint8T *bufferAddr;
} SaAnyT;

typedef enum SaDispatchFlagsT {
    SA_DISPATCH_ONE = 1,
    SA_DISPATCH_ALL = 2,
    SA_DISPATCH_BLOCKING = 3
} SaDispatchFlagsT;

typedef enum SaAisErrorT {
    SA_AIS_OK = 1,
    SA_AIS_ERR_LIBRARY = 2,
    SA_AIS_ERR_VERSION = 3,
    SA_AIS_ERR_INIT = 4,
    SA_AIS_ERR_TIMEOUT = 5,
    SA_AIS_ERR_TRY_AGAIN = 6,
    SA_AIS_ERR_INVALID_PARAM = 7,
    SA_AIS_ERR_NO_MEMORY = 8,
    SA_AIS_ERR_BAD_HANDLE = 9,
    SA_AIS_ERR_BUSY = 10,
    SA_AIS_ERR_ACCESS = 11,
    SA_AIS_ERR_NOT_EXIST = 12,
    SA_AIS_ERR_NAME_TOO_LONG = 13,
    SA_AIS_ERR_EXIST = 14,
    SA_AIS_ERR_NO_SPACE = 15,
    SA_AIS_ERR_INTERRUPT = 16,
    SA_AIS_ERR_NAME_NOT_FOUND = 17,
    SA_AIS_ERR_NO_RESOURCES = 18,
    SA_AIS_ERR_NOT_SUPPORTED = 19,
    SA_AIS_ERR_BAD_OPERATION = 20,
    SA_AIS_ERR_FAILED_OPERATION = 21,
    SA_AIS_ERR_MESSAGE_ERROR = 22,
    SA_AIS_ERR_QUEUE_FULL = 23,
    SA_AIS_ERR_QUEUE_NOT_AVAILABLE = 24,
    SA_AIS_ERR_BAD_FLAGS = 25,
    SA_AIS_ERR_TOO_BIG = 26,
    SA_AIS_ERR_NO_SECTIONS = 27,
    SA_AIS_ERR_NO_OP = 28,
    SA_AIS_ERR_REPAIR_PENDING = 29,
    SA_AIS_ERR_NO_BINDINGS = 30,
    SA_AIS_ERR_UNAVAILABLE = 31,
    SA_AIS_ERR_CAMPAIGN_ERROR_DETECTED = 32,
    SA_AIS_ERR_CAMPAIGN_PROC_FAILED = 33,
    SA_AIS_ERR_CAMPAIGN_CANCELED = 34,
    SA_AIS_ERR_CAMPAIGN_FAILED = 35,
    SA_AIS_ERR_CAMPAIGN_SUSPENDED = 36,
    SA_AIS_ERR_CAMPAIGN_SUSPENDING = 37,
    SA_AIS_ERR_ACCESS_DENIED = 38,
    SA_AIS_ERR_NOT_READY = 39,
    SA_AIS_ERR_DEPLOYMENT = 40
} SaAisErrorT;

/* Copies names shorter than 256 bytes into the SaNameT; longer ones are kept by pointer. */
extern void saAisNameLend(SaConstStringT value, SaNameT *name);
/* Returns the string held by the SaNameT (NUL terminated), or NULL. */
extern SaConstStringT saAisNameBorrow(const SaNameT *name);

#ifdef __cplusplus
}
#endif

#endif
