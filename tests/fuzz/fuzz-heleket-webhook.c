/* SPDX-License-Identifier: MIT */
#include <json-c/printbuf.h>
#include <stdint.h>
#include <stdlib.h>

#include "heleket-sign.h"
#include "intake.h"
#include "json-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Secret *key;
        json_object *o = NULL;
        IntakeEvent ev;

        if (!key) {
                key = malloc(sizeof *key + 15);
                key->size = 14;
                memcpy(key->data, "webhook-secret", 15);
        }
        (void) intake_heleket(key, (const char *) data, size, &ev);
        /* The raw splice on its own, for any valid JSON. */
        if (json_parse((const char *) data, size, &o) == 0) {
                struct printbuf *pb = printbuf_new();
                (void) heleket_raw_without_sign((const char *) data, size, pb);
                printbuf_free(pb);
                json_object_put(o);
        }
        return 0;
}
