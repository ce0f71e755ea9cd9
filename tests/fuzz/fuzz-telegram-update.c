/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include "intake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        IntakeEvent ev;

        if (intake_telegram("fuzz_bot", (const char *) data, size, &ev) == REJECT_NONE &&
            (!startswith(ev.dedupe_key.s, "dedupe:tg:fuzz_bot:") || ev.id[0] == 0))
                abort();
        return 0;
}
