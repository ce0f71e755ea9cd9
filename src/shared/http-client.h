/* SPDX-License-Identifier: MIT */
#pragma once

/* Outbound HTTP(S) on an sd-event loop: libcurl's multi interface with its sockets and timer
 * driven by the loop (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION). Requests never block. libcurl's
 * error codes stop here: callers see -errno. */

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct HttpClient HttpClient;

typedef struct HttpResponse {
        int error;          /* 0, or -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -EFBIG, -EIO */
        long status;        /* HTTP status when error == 0 */
        const char *body;   /* NUL-terminated; valid during the callback only */
        size_t size;
} HttpResponse;

typedef void (*HttpClientFn)(HttpClient *c, const HttpResponse *r, void *userdata);

typedef struct HttpRequest {
        const char *method;            /* "GET", "POST", … */
        const char *url;
        const char *const *headers;    /* "Name: value", NULL-terminated; may be NULL */
        const char *body;              /* sent as is (copied); NULL for none */
        size_t body_size;
        const char *userpwd;           /* "user:password" for Basic auth, or NULL (copied) */
        const char *ca_file;           /* a PEM file of the certificates to trust instead of the
                                        * system's CAs (a self-signed server's); NULL for the
                                        * system's (copied) */
        uint64_t timeout_usec;         /* whole request; 0 for 30 s */
        size_t max_response;           /* larger bodies fail with -EFBIG; 0 for 1 MiB */
} HttpRequest;

/* Creates a client on @e. Returns 0, -ENOMEM or -EIO. */
int http_client_new(sd_event *e, HttpClient **ret);

/* Starts @req; @cb gets exactly one call, from the loop, unless this returns < 0 (-ENOMEM,
 * -EINVAL for a bad request). Everything in @req is copied. */
int http_client_request(HttpClient *c, const HttpRequest *req, HttpClientFn cb, void *userdata);

/* Number of requests under way. */
unsigned http_client_n_active(const HttpClient *c);

/* Aborts what is under way (callbacks get -ECANCELED) and frees. Accepts NULL; returns NULL. */
HttpClient *http_client_free(HttpClient *c);
