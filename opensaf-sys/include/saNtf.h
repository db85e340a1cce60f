/* macsync's own declarations: the NTF types AMF's *_4 calls take. */
#ifndef MACSYNC_SA_NTF_H
#define MACSYNC_SA_NTF_H

#include "saAis.h"

typedef SaUint64T SaNtfIdentifierT;

#define SA_NTF_IDENTIFIER_UNUSED ((SaNtfIdentifierT) 0LL)

typedef struct SaNtfCorrelationIdsT {
    SaNtfIdentifierT rootCorrelationId;
    SaNtfIdentifierT parentCorrelationId;
    SaNtfIdentifierT notificationId;
} SaNtfCorrelationIdsT;

#endif
