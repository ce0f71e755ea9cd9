/* SPDX-License-Identifier: MIT */
#include "metrics.h"
#include "test-util.h"

int main(void) {
        Metrics m = {};
        struct printbuf *pb = printbuf_new();

        metrics_count_request(&m, ROUTE_TELEGRAM, 200);
        metrics_count_request(&m, ROUTE_TELEGRAM, 200);
        metrics_count_request(&m, ROUTE_HELEKET, 403);
        metrics_count_request(&m, ROUTE_HEALTH, 418);
        metrics_count_reject(&m, REJECT_BAD_SIGNATURE);
        metrics_observe_enqueue(&m, 300);
        metrics_observe_enqueue(&m, 4000000);
        assert(metrics_render(&m, true, false, pb) == 0);

        assert(strstr(pb->buf, "tgfleet_webhook_requests_total{route=\"telegram\",status=\"200\"} 2\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_requests_total{route=\"heleket\",status=\"403\"} 1\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_requests_total{route=\"health\",status=\"other\"} 1\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_rejects_total{reason=\"bad_signature\"} 1\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_rejects_total{reason=\"too_large\"} 0\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_enqueue_seconds_bucket{le=\"0.00025\"} 0\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_enqueue_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_enqueue_seconds_bucket{le=\"1\"} 1\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_enqueue_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert(strstr(pb->buf, "tgfleet_webhook_enqueue_seconds_sum 4.000300\n"));
        assert(strstr(pb->buf, "tgfleet_up{dependency=\"redis\"} 1\n"));
        assert(strstr(pb->buf, "tgfleet_up{dependency=\"database\"} 0\n"));
        printbuf_free(pb);
        return 0;
}
