/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tenant.h"

void tenant_bot_name(int64_t id, char *buf, size_t size) {
        snprintf(buf, size, "tenant-%" PRId64, id);
}

void tenant_unit_name(int64_t id, char *buf, size_t size) {
        snprintf(buf, size, "tgfleet-bot@%" PRId64 ".service", id);
}

int tenant_id_parse(const char *s, int64_t *ret) {
        char *end;
        long long v;

        if (!s || *s < '1' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end || v > (1LL << 53))
                return -EINVAL;
        *ret = v;
        return 0;
}
