/* SPDX-License-Identifier: MIT */
/* The two HTTP glues on one sd-event loop: a libmicrohttpd server (http-server.c) answers
 * requests made with the curl multi client (http-client.c), over loopback. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http-client.h"
#include "http-server.h"
#include "test-util.h"

static unsigned port;
static int done;

static bool waiting;

static bool on_head(HttpExchange *x, void *userdata) {
        /* Refused on the head, before any of the body is read. */
        if (streq(http_exchange_path(x), "/refused")) {
                (void) http_reply(x, 415, "text/plain", "no", 2);
                return false;
        }
        return true;
}

static void on_body(HttpExchange *x, void *userdata) {
        struct MHD_Connection *c = http_exchange_connection(x);
        const char *url = http_exchange_path(x);
        char body[160];
        size_t size;

        if (streq(url, "/big"))
                return (void) http_reply(x, 200, "text/plain", "0123456789", 10);
        if (streq(url, "/auth")) {
                char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
                bool ok = user && pass && streq(user, "shop") && streq(pass, "s3cret");
                MHD_free(user);
                MHD_free(pass);
                return (void) http_reply(x, ok ? 200 : 401, "text/plain", ok ? "in" : "out", ok ? 2 : 3);
        }
        if (streq(url, "/wait")) {
                waiting = true;   /* never answered: the server, freed, answers 503 */
                return;
        }
        snprintf(body, sizeof body, "%s %s %s %s", http_exchange_method(x), url,
                 strempty(http_exchange_header(x, "X-Test")), http_exchange_body(x, &size));
        (void) http_reply(x, 201, "text/plain", body, strlen(body));
}

static void expect(HttpClient *c, const HttpResponse *r, void *userdata) {
        const char *want = userdata;
        (void) c;

        if (streq(want, "timeout"))
                assert(r->error == -ETIMEDOUT);
        else if (streq(want, "refused"))
                assert(r->error == -ECONNREFUSED);
        else if (streq(want, "too large"))
                assert(r->error == -EFBIG);
        else if (streq(want, "415") || streq(want, "503"))
                assert(r->error == 0 && r->status == (unsigned) atoi(want));
        else if (streq(want, "in") || streq(want, "out")) {
                assert(r->error == 0 && r->status == (streq(want, "in") ? 200 : 401));
                assert(streq(r->body, want));
        } else {
                assert(r->error == 0 && r->status == 201);
                assert(streq(r->body, want));
        }
        done++;
}

int main(void) {
        sd_event *e = NULL;
        HttpServer *server = NULL;
        HttpClient *client = NULL;
        struct sockaddr_in sa;
        socklen_t salen = sizeof sa;
        char url[128], url2[128], url3[128], url4[128], url5[128], url6[128], url7[128];
        int fd, blackhole, closed;

        assert(sd_event_new(&e) >= 0);
        assert(http_server_new(e, &(HttpServerOptions) { .max_connections = 16, .max_connections_per_address = 16,
                                                         .connection_timeout_sec = 5, .connection_memory = 16384,
                                                         .on_head = on_head, .on_body = on_body }, &server) == 0);
        assert(http_listen("127.0.0.1:0", &fd) == 0);
        assert(getsockname(fd, (struct sockaddr *) &sa, &salen) == 0);
        port = ntohs(sa.sin_port);
        assert(http_server_add_fd(server, fd) == 0);

        /* A listening socket that never accepts: requests to it time out. */
        assert(http_listen("127.0.0.1:0", &blackhole) == 0);
        assert(getsockname(blackhole, (struct sockaddr *) &sa, &salen) == 0);

        assert(http_client_new(e, &client) == 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%u/a/b", port);
        assert(http_client_request(client, &(HttpRequest) { .method = "POST", .url = url, .body = "{}", .body_size = 2,
                                                            .headers = (const char *[]) { "X-Test: yes", NULL } },
                                   expect, (void *) "POST /a/b yes {}") == 0);
        assert(http_client_request(client, &(HttpRequest) { .method = "GET", .url = url }, expect, (void *) "GET /a/b  ") == 0);
        snprintf(url2, sizeof url2, "http://127.0.0.1:%u/big", port);
        assert(http_client_request(client, &(HttpRequest) { .method = "GET", .url = url2, .max_response = 5 },
                                   expect, (void *) "too large") == 0);
        snprintf(url3, sizeof url3, "http://127.0.0.1:%u/auth", port);
        assert(http_client_request(client, &(HttpRequest) { .method = "GET", .url = url3, .userpwd = "shop:s3cret" },
                                   expect, (void *) "in") == 0);
        assert(http_client_request(client, &(HttpRequest) { .method = "GET", .url = url3, .userpwd = "shop:wrong" },
                                   expect, (void *) "out") == 0);
        /* The blackhole's kernel completes the handshake, nobody answers: a timeout. */
        snprintf(url4, sizeof url4, "http://127.0.0.1:%u/", ntohs(sa.sin_port));
        assert(http_client_request(client, &(HttpRequest) { .method = "GET", .url = url4, .timeout_usec = 300 * 1000 },
                                   expect, (void *) "timeout") == 0);
        /* A port nobody listens on: refused. */
        assert(http_listen("127.0.0.1:0", &closed) == 0);
        assert(getsockname(closed, (struct sockaddr *) &sa, &salen) == 0);
        close(closed);
        snprintf(url5, sizeof url5, "http://127.0.0.1:%u/", ntohs(sa.sin_port));
        assert(http_client_request(client, &(HttpRequest) { .method = "GET", .url = url5 }, expect, (void *) "refused") == 0);
        snprintf(url6, sizeof url6, "http://127.0.0.1:%u/refused", port);
        assert(http_client_request(client, &(HttpRequest) { .method = "POST", .url = url6, .body = "x", .body_size = 1 },
                                   expect, (void *) "415") == 0);

        while (done < 8)
                assert(sd_event_run(e, 5 * USEC_PER_SEC) > 0);
        assert(http_client_n_active(client) == 0);

        /* Freed while an answer is awaited, the server answers it 503 instead of aborting. */
        snprintf(url7, sizeof url7, "http://127.0.0.1:%u/wait", port);
        assert(http_client_request(client, &(HttpRequest) { .method = "GET", .url = url7 }, expect, (void *) "503") == 0);
        while (!waiting)
                assert(sd_event_run(e, 5 * USEC_PER_SEC) > 0);
        server = http_server_free(server);
        while (done < 9)
                assert(sd_event_run(e, 5 * USEC_PER_SEC) > 0);

        close(blackhole);
        http_client_free(client);
        sd_event_unref(e);
        return 0;
}
