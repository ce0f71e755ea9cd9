/* SPDX-License-Identifier: MIT */
/* The contact an owner types for 54-FZ receipts: whatever receipt_contact_parse() accepts is what
 * YooKassa takes (an e-mail with one '@' and no space, or 11 to 15 digits) and reads back as
 * itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char out[RECEIPT_CONTACT_MAX], again[RECEIPT_CONTACT_MAX], *in = strndup((const char *) data, size);
        int kind;

        if (!in)
                return 0;
        kind = receipt_contact_parse(in, out);
        if (kind >= 0) {
                size_t n = strlen(out);
                if (kind == RECEIPT_PHONE && (n < 11 || n > 15 || strspn(out, "0123456789") != n))
                        abort();
                if (kind == RECEIPT_EMAIL && (!strchr(out, '@') || strchr(out, '@') != strrchr(out, '@') ||
                                              strpbrk(out, " \t\n") || n >= RECEIPT_CONTACT_MAX))
                        abort();
                if (receipt_contact_parse(out, again) != kind || !streq(again, out))
                        abort();
        }
        free(in);
        return 0;
}
