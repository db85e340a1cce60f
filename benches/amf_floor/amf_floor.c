/*
 * amf_floor: the least an SA-aware AMF component can do, to measure what OpenSAF's AMF agent
 * costs by itself (`cargo bench --bench amf_floor`). It registers, starts an AMF-invoked
 * healthcheck and then only answers AMF: every healthcheck OK, CSI set and remove OK,
 * terminate OK and exit. No logging, no timers, no other threads than the AMF library's.
 * It counts its healthchecks in /dev/shm/amf_floor.<pid> (a u64 in a shared mapping: one
 * store per healthcheck, no system call), so the benchmark knows the real healthcheck rate.
 *
 * Built with macsync's own AIS declarations (opensaf-sys/include), never OpenSAF's headers,
 * and linked against the node's libSaAmf.so.0. Started by macsync-clc (MACSYNC_BIN), which
 * passes `--log-file FILE`: arguments are ignored. The healthcheck key comes from
 * AMF_FLOOR_HC_KEY (default "amf_floor").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "saAmf.h"

static SaAmfHandleT amf;
static int terminating;
static uint64_t unmapped;
static volatile uint64_t *healthchecks = &unmapped;
static char count_file[64];

/* Maps the healthcheck counter; without it the component still works, uncounted. */
static void map_counter(void)
{
    snprintf(count_file, sizeof count_file, "/dev/shm/amf_floor.%d", (int)getpid());
    int fd = open(count_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    void *p = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, sizeof(uint64_t)) == 0)
        p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("amf_floor: healthcheck counter");
        count_file[0] = '\0';
    } else {
        healthchecks = p;
    }
    if (fd >= 0)
        close(fd);
}

static void answer(SaInvocationT inv)
{
    SaAisErrorT rc = saAmfResponse_4(amf, inv, NULL, SA_AIS_OK);
    if (rc != SA_AIS_OK)
        fprintf(stderr, "amf_floor: saAmfResponse_4: %d\n", (int)rc);
}

static void on_healthcheck(SaInvocationT inv, const SaNameT *comp, SaAmfHealthcheckKeyT *key)
{
    (void)comp;
    (void)key;
    answer(inv);
    (*healthchecks)++;
}

static void on_terminate(SaInvocationT inv, const SaNameT *comp)
{
    (void)comp;
    answer(inv);
    terminating = 1;
}

static void on_csi_set(SaInvocationT inv, const SaNameT *comp, SaAmfHAStateT ha,
                       SaAmfCSIDescriptorT csi)
{
    (void)comp;
    (void)csi;
    answer(inv);
    /* Nothing to wind down: QUIESCING completes at once. */
    if (ha == SA_AMF_HA_QUIESCING)
        saAmfCSIQuiescingComplete(amf, inv, SA_AIS_OK);
}

static void on_csi_remove(SaInvocationT inv, const SaNameT *comp, const SaNameT *csi,
                          SaAmfCSIFlagsT flags)
{
    (void)comp;
    (void)csi;
    (void)flags;
    answer(inv);
}

/* AMF may answer TRY_AGAIN while the node director is busy: retry for up to 8 s, the
 * instantiate timeout of the model being 10 s. */
#define RETRY(call)                                                                     \
    ({                                                                                  \
        SaAisErrorT rc_;                                                                \
        int tries_ = 80;                                                                \
        while ((rc_ = (call)) == SA_AIS_ERR_TRY_AGAIN && --tries_ > 0)                  \
            nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);          \
        rc_;                                                                            \
    })

static int fail(const char *what, SaAisErrorT rc)
{
    fprintf(stderr, "amf_floor: %s: SaAisErrorT %d\n", what, (int)rc);
    if (count_file[0] != '\0')
        unlink(count_file);
    return 1;
}

int main(void)
{
    SaAmfCallbacksT_4 callbacks = {
        .saAmfHealthcheckCallback = on_healthcheck,
        .saAmfComponentTerminateCallback = on_terminate,
        .saAmfCSISetCallback = on_csi_set,
        .saAmfCSIRemoveCallback = on_csi_remove,
    };
    SaVersionT version = {'B', 4, 1};
    SaSelectionObjectT sel;
    SaNameT comp;
    SaAmfHealthcheckKeyT key = {{0}, 0};
    const char *k = getenv("AMF_FLOOR_HC_KEY");
    SaAisErrorT rc;

    if (k == NULL || *k == '\0')
        k = "amf_floor";
    if (strlen(k) > SA_AMF_HEALTHCHECK_KEY_MAX) {
        fprintf(stderr, "amf_floor: healthcheck key longer than %d bytes\n",
                SA_AMF_HEALTHCHECK_KEY_MAX);
        return 1;
    }
    memcpy(key.key, k, strlen(k));
    key.keyLen = (SaUint16T)strlen(k);

    map_counter();
    if ((rc = RETRY(saAmfInitialize_4(&amf, &callbacks, &version))) != SA_AIS_OK)
        return fail("saAmfInitialize_4", rc);
    if ((rc = saAmfSelectionObjectGet(amf, &sel)) != SA_AIS_OK)
        return fail("saAmfSelectionObjectGet", rc);
    if ((rc = saAmfComponentNameGet(amf, &comp)) != SA_AIS_OK)
        return fail("saAmfComponentNameGet (is SA_AMF_COMPONENT_NAME set?)", rc);
    if ((rc = RETRY(saAmfComponentRegister(amf, &comp, NULL))) != SA_AIS_OK)
        return fail("saAmfComponentRegister", rc);
    if ((rc = RETRY(saAmfHealthcheckStart(amf, &comp, &key, SA_AMF_HEALTHCHECK_AMF_INVOKED,
                                          SA_AMF_COMPONENT_RESTART))) != SA_AIS_OK)
        return fail("saAmfHealthcheckStart", rc);
    fprintf(stderr, "amf_floor: registered %s, healthcheck key %s\n",
            saAisNameBorrow(&comp), k);

    struct pollfd fd = {.fd = (int)sel, .events = POLLIN};
    while (!terminating) {
        if (poll(&fd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("amf_floor: poll");
            return 1;
        }
        if ((rc = saAmfDispatch(amf, SA_DISPATCH_ALL)) != SA_AIS_OK)
            return fail("saAmfDispatch", rc);
    }
    saAmfFinalize(amf);
    if (count_file[0] != '\0')
        unlink(count_file);
    return 0;
}
