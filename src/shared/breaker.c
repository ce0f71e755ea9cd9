/* SPDX-License-Identifier: MIT */
#include "breaker.h"
#include "macro.h"

bool breaker_allow(Breaker *b, uint64_t now) {
        switch (b->state) {
        case BREAKER_CLOSED:
                return true;
        case BREAKER_OPEN:
                if (now < b->opened_at + b->cooldown_usec)
                        return false;
                b->state = BREAKER_HALF_OPEN;
                b->probing = false;
                _fallthrough_;
        case BREAKER_HALF_OPEN:
                if (b->probing)
                        return false;
                b->probing = true;
                return true;
        default:
                return false;
        }
}

void breaker_record(Breaker *b, bool success, uint64_t now) {
        if (success) {
                b->state = BREAKER_CLOSED;
                b->failures = 0;
                b->probing = false;
                return;
        }
        b->failures++;
        if (b->state == BREAKER_HALF_OPEN || b->failures >= b->threshold) {
                b->state = BREAKER_OPEN;
                b->opened_at = now;
                b->probing = false;
        }
}

const char *breaker_state_to_string(BreakerState s) {
        static const char *const names[_BREAKER_STATE_MAX] = {
                [BREAKER_CLOSED] = "closed",
                [BREAKER_OPEN] = "open",
                [BREAKER_HALF_OPEN] = "half-open",
        };
        return s >= 0 && s < _BREAKER_STATE_MAX ? names[s] : NULL;
}
