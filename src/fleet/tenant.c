/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "tenant.h"
#include "utf8.h"

int tenant_name_clean(const char *s, char *buf, size_t size) {
        const char *start = s + strspn(s, " \t\n");
        size_t len = strlen(start);

        while (len > 0 && strchr(" \t\n", start[len - 1]))
                len--;
        if (len == 0 || len >= size || len > TENANT_NAME_MAX_BYTES)
                return -EINVAL;
        memcpy(buf, start, len);
        buf[len] = 0;
        return utf8_chars(buf) <= TENANT_NAME_MAX_CHARS ? 0 : -EINVAL;
}

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

int tenant_of_user(const char *name, int64_t *ret) {
        const char *id = name ? startswith(name, TENANT_USER_PREFIX) : NULL;

        return id ? tenant_id_parse(id, ret) : -EINVAL;
}
