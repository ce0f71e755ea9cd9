/* SPDX-License-Identifier: MIT */
/* The request head checks: input is "METHOD\nPATH\nCONTENT-TYPE\nCONTENT-LENGTH". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = malloc(size + 1), *parts[4] = {}, *save = NULL;
        RouteMatch m;
        size_t n = 0;

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        for (char *p = strtok_r(buf, "\n", &save); p && n < 4; p = strtok_r(NULL, "\n", &save))
                parts[n++] = p;
        if (n >= 2) {
                RequestHead h = { parts[0], parts[1], parts[2], parts[3] };
                Reject r = request_check_head(&h, 1024 * 1024, &m);
                if (r == REJECT_NONE && m.id == ROUTE_TELEGRAM && !bot_name_valid(m.bot, strlen(m.bot)))
                        abort();
                (void) reject_status(r);
        }
        free(buf);
        return 0;
}
