/* SPDX-License-Identifier: MIT */
#pragma once

/* For the provider clients' tests: tgfleet-sandbox ($TGFLEET_SANDBOX) run on a free loopback port
 * with a configuration and credentials of the test's, and its control API. */

#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "creds.h"
#include "http-client.h"
#include "test-util.h"

typedef struct TestSandbox {
        sd_event *event;
        HttpClient *http;
        pid_t pid;
        unsigned port;
        char url[64];            /* http://127.0.0.1:PORT */
        char dir[64];
} TestSandbox;

static inline void test_run_until(TestSandbox *t, const bool *done) {
        for (int i = 0; i < 2000 && !*done; i++)
                assert(sd_event_run(t->event, 100 * USEC_PER_MSEC) >= 0);
        assert(*done);
}

typedef struct TestControl {
        bool done;
        int status;
} TestControl;

static inline void test_on_control(HttpClient *c, const HttpResponse *r, void *userdata) {
        TestControl *res = userdata;
        (void) c;
        res->done = true;
        res->status = r->error ? r->error : (int) r->status;
}

/* @method @path with @body (JSON, NULL for {}) at the sandbox; returns the HTTP status or -errno. */
static inline int test_control(TestSandbox *t, const char *method, const char *path, const char *body) {
        char url[256];
        TestControl r = {};

        body = body ?: "{}";
        snprintf(url, sizeof url, "%s%s", t->url, path);
        assert(http_client_request(t->http, &(HttpRequest) { .method = method, .url = url, .body = body,
                                                             .body_size = strlen(body),
                                                             .headers = (const char *[]) { "Content-Type: application/json", NULL } },
                                   test_on_control, &r) == 0);
        test_run_until(t, &r.done);
        return r.status;
}

/* Starts the sandbox with @config as its configuration and the NULL-terminated @creds (name,
 * value, …) as its credentials; exits 77 when there is no sandbox binary. */
static inline void test_sandbox_start(TestSandbox *t, const char *config, const char *const *creds) {
        const char *sandbox = getenv("TGFLEET_SANDBOX");
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t salen = sizeof sa;
        char listen[64], conf[128], dir[128];
        int fd;

        if (!sandbox || access(sandbox, X_OK) < 0) {
                fprintf(stderr, "no tgfleet-sandbox to talk to, skipping\n");
                exit(EXIT_TEST_SKIP);
        }
        *t = (TestSandbox) {};
        snprintf(t->dir, sizeof t->dir, "/tmp/test-sandbox-XXXXXX");
        assert(mkdtemp(t->dir));
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert(bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0 && getsockname(fd, (struct sockaddr *) &sa, &salen) == 0);
        t->port = ntohs(sa.sin_port);
        close(fd);
        test_write_file(t->dir, "sandbox.conf", config);
        for (const char *const *c = creds; c && c[0] && c[1]; c += 2)
                test_write_file(t->dir, c[0], c[1]);
        snprintf(listen, sizeof listen, "--listen=127.0.0.1:%u", t->port);
        snprintf(conf, sizeof conf, "--config=%s/sandbox.conf", t->dir);
        snprintf(dir, sizeof dir, "--credentials-dir=%s", t->dir);
        t->pid = fork();
        assert(t->pid >= 0);
        if (t->pid == 0) {
                execl(sandbox, sandbox, listen, conf, dir, (char *) NULL);
                _exit(127);
        }
        assert(sd_event_new(&t->event) >= 0);
        assert(http_client_new(t->event, &t->http) == 0);
        snprintf(t->url, sizeof t->url, "http://127.0.0.1:%u", t->port);
        for (int i = 0; i < 100 && test_control(t, "GET", "/sandbox/health", NULL) != 200; i++)
                usleep(50 * 1000);
}

/* Ends the sandbox (the provider is gone from now on). */
static inline void test_sandbox_kill(TestSandbox *t) {
        if (t->pid > 0) {
                kill(t->pid, SIGTERM);
                waitpid(t->pid, NULL, 0);
                t->pid = 0;
        }
}

static inline Secret *test_secret(const char *s) {
        return secret_new(s, strlen(s));
}
