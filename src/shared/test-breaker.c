/* SPDX-License-Identifier: MIT */
#include "breaker.h"
#include "test-util.h"

int main(void) {
        Breaker b = BREAKER_INIT(5, 60 * USEC_PER_SEC);
        uint64_t t = 1000;

        /* Four failures keep it closed; a success resets the count. */
        for (int i = 0; i < 4; i++) {
                assert(breaker_allow(&b, t));
                breaker_record(&b, false, t);
        }
        assert(b.state == BREAKER_CLOSED);
        breaker_record(&b, true, t);
        assert(b.failures == 0);

        /* Five in a row open it: calls are refused at once. */
        for (int i = 0; i < 5; i++) {
                assert(breaker_allow(&b, t));
                breaker_record(&b, false, t);
        }
        assert(b.state == BREAKER_OPEN && streq(breaker_state_to_string(b.state), "open"));
        assert(!breaker_allow(&b, t + 59 * USEC_PER_SEC));

        /* After the cooldown one probe goes through, others wait for it. */
        t += 60 * USEC_PER_SEC;
        assert(breaker_allow(&b, t));
        assert(b.state == BREAKER_HALF_OPEN && streq(breaker_state_to_string(b.state), "half-open"));
        assert(!breaker_allow(&b, t));
        /* The probe fails: open again, for a full cooldown from now. */
        breaker_record(&b, false, t);
        assert(b.state == BREAKER_OPEN);
        assert(!breaker_allow(&b, t + 30 * USEC_PER_SEC));
        t += 60 * USEC_PER_SEC;
        assert(breaker_allow(&b, t));
        /* The probe succeeds: closed, everything flows. */
        breaker_record(&b, true, t);
        assert(b.state == BREAKER_CLOSED && streq(breaker_state_to_string(b.state), "closed"));
        assert(breaker_allow(&b, t) && breaker_allow(&b, t));
        return 0;
}
