/* SPDX-License-Identifier: MIT */
/* tgfleet-sandbox's whole request path: the input is a raw HTTP request, written to a real
 * connection of the sandbox's own server (libmicrohttpd, its form parser, the JSON bodies, every
 * emulated API and the control API), with Heleket, YooKassa and a bot whose token is
 * 123456:AAEfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz set up. It must answer or close, never crash. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "http-client.h"
#include "http-server.h"
#include "sandbox.h"

#define FUZZ_TOKEN "123456:AAEfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Sandbox sb = {
        .limits = { .bot_per_sec = 30, .chat_per_sec = 1, .chat_burst = 3, .group_per_min = 20,
                    .retry_base_usec = 3600 * USEC_PER_SEC, .retry_max_usec = 3600 * USEC_PER_SEC },
        .next_update_id = 1,
        .known_bots_only = true,
};
static struct sockaddr_in addr;

static void setup(void) {
        socklen_t len = sizeof addr;
        int fd;

        sb.heleket_merchant = strdup("fuzz-merchant");
        sb.heleket_key = strdup("fuzz-heleket-key");
        sb.yk_shop_id = strdup("123456");
        sb.yk_secret = strdup("test_fuzz");
        sb.calls = json_object_new_array();
        if (daemon_event_new(&sb.event) < 0 || http_client_new(sb.event, &sb.client) < 0 ||
            http_listen("127.0.0.1:0", &fd) < 0 || getsockname(fd, (struct sockaddr *) &addr, &len) < 0 ||
            sandbox_serve(&sb, fd) < 0 || !telegram_create_bot(&sb, "fuzz_bot", FUZZ_TOKEN))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool ready;
        char buf[4096];
        int fd;

        if (!ready) {
                setup();
                ready = true;
        }
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof addr) < 0)
                abort();
        /* The request, then the end of it: the server answers what it got, or closes. */
        for (size_t off = 0; off < size;) {
                struct pollfd p = { fd, POLLOUT, 0 };
                ssize_t n;
                (void) sd_event_run(sb.event, 0);
                if (poll(&p, 1, 10) <= 0)
                        continue;
                n = send(fd, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno != EAGAIN)
                        break;   /* the server closed already: fine */
                off += n > 0 ? (size_t) n : 0;
        }
        /* The end of the request only once the server has read it: with both in one read its
         * edge-triggered loop would not look at the connection again until it times out. */
        for (int turns = 0; turns < 3; turns++)
                (void) sd_event_run(sb.event, 1000);
        (void) shutdown(fd, SHUT_WR);
        /* Until it closes, or answered and then quiet for a few turns (libmicrohttpd may keep the
         * connection), or 0.5 s at the most. */
        for (int turns = 0, quiet = -1; turns < 500 && quiet < 5; turns++) {
                struct pollfd p = { fd, POLLIN, 0 };
                (void) sd_event_run(sb.event, 1000);
                if (poll(&p, 1, 0) > 0) {
                        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                        if (n == 0 || (n < 0 && errno != EAGAIN))
                                break;   /* answered and closed, or reset */
                        quiet = 0;
                } else if (quiet >= 0)
                        quiet++;
        }
        close(fd);
        return 0;
}
