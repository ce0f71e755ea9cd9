/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <sys/epoll.h>

#include "http-client.h"
#include "macro.h"

#define DEFAULT_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define DEFAULT_MAX_RESPONSE (1024 * 1024)
/* Easy handles kept for the next requests: setting one up costs more than a request to a
 * kept-alive connection (libcurl's advice: reuse handles). curl_easy_reset() clears every option
 * of the last request, credentials included. */
#define IDLE_MAX 64

struct HttpClient {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        unsigned n_active;
        struct Transfer *transfers;   /* under way; for cancellation on free */
        CURL *idle[IDLE_MAX];
        unsigned n_idle;
};

typedef struct Transfer {
        struct Transfer *prev, *next;
        HttpClient *client;
        CURL *easy;
        struct curl_slist *headers;
        char *body;
        char *userpwd;
        char *response;
        size_t size, max;
        bool too_large;
        HttpClientFn cb;
        void *userdata;
} Transfer;

static int curl_to_errno(CURLcode c) {
        switch (c) {
        case CURLE_OK:
                return 0;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                return -EIO;
        }
}

static void transfer_free(Transfer *t) {
        HttpClient *c = t->client;

        if (t->easy) {
                curl_multi_remove_handle(c->multi, t->easy);
                if (c->n_idle < IDLE_MAX) {
                        curl_easy_reset(t->easy);
                        c->idle[c->n_idle++] = t->easy;
                } else
                        curl_easy_cleanup(t->easy);
        }
        curl_slist_free_all(t->headers);
        free(t->body);
        if (t->userpwd) {
                explicit_bzero(t->userpwd, strlen(t->userpwd));
                free(t->userpwd);
        }
        free(t->response);
        free(t);
}

static void finish(Transfer *t, int error) {
        HttpResponse r = { .error = error, .body = t->response ? t->response : "", .size = t->size };

        if (error == 0)
                curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
        t->client->n_active--;
        if (t->prev)
                t->prev->next = t->next;
        else
                t->client->transfers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        t->cb(t->client, &r, t->userdata);
        transfer_free(t);
}

static void check_done(HttpClient *c) {
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(c->multi, &left))) {
                Transfer *t = NULL;
                if (m->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                finish(t, t->too_large ? -EFBIG : curl_to_errno(m->data.result));
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HttpClient *c = userdata;
        int action = 0, running;
        (void) s;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        (void) curl_multi_socket_action(c->multi, fd, action, &running);
        check_done(c);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HttpClient *c = userdata;
        int running;
        (void) s, (void) usec;

        (void) curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(c);
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one io source per socket, kept as the socket's private pointer. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        HttpClient *c = userp;
        sd_event_source *src = socketp;
        uint32_t events = 0;
        (void) easy;

        if (what == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(src);
                curl_multi_assign(c->multi, fd, NULL);
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (src)
                return sd_event_source_set_io_events(src, events) < 0 ? -1 : 0;
        if (sd_event_add_io(c->event, &src, fd, events, on_io, c) < 0)
                return -1;
        curl_multi_assign(c->multi, fd, src);
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, 0 means "call me from the loop now". */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        HttpClient *c = userp;
        uint64_t now;
        (void) multi;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (sd_event_source_set_time(c->timer, now + (uint64_t) timeout_ms * USEC_PER_MSEC) < 0 ||
            sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

int http_client_new(sd_event *e, HttpClient **ret) {
        HttpClient *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->multi = curl_multi_init();
        if (!c->multi) {
                http_client_free(c);
                return -EIO;
        }
        /* Accuracy 1 µs: curl's timeouts drive connection progress, coalescing would stall it. */
        r = sd_event_add_time(e, &c->timer, CLOCK_MONOTONIC, 0, 1, on_timer, c);
        if (r < 0) {
                http_client_free(c);
                return r;
        }
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        *ret = c;
        return 0;
}

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t len = size * n;
        char *grown;

        if (t->size + len > t->max) {
                t->too_large = true;
                return 0; /* aborts the transfer */
        }
        grown = realloc(t->response, t->size + len + 1);
        if (!grown)
                return 0;
        t->response = grown;
        memcpy(t->response + t->size, ptr, len);
        t->size += len;
        t->response[t->size] = 0;
        return len;
}

int http_client_request(HttpClient *c, const HttpRequest *req, HttpClientFn cb, void *userdata) {
        Transfer *t;
        uint64_t timeout = req->timeout_usec ?: DEFAULT_TIMEOUT_USEC;

        if (!req->url || !req->method)
                return -EINVAL;
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        *t = (Transfer) { .client = c, .cb = cb, .userdata = userdata,
                          .max = req->max_response ?: DEFAULT_MAX_RESPONSE };
        t->easy = c->n_idle > 0 ? c->idle[--c->n_idle] : curl_easy_init();
        if (!t->easy)
                goto fail;
        for (const char *const *h = req->headers; h && *h; h++) {
                struct curl_slist *l = curl_slist_append(t->headers, *h);
                if (!l)
                        goto fail;
                t->headers = l;
        }
        if (req->body) {
                t->body = malloc(req->body_size + 1);
                if (!t->body)
                        goto fail;
                memcpy(t->body, req->body, req->body_size);
                curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
                curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_size);
        }
        if (req->userpwd) {
                t->userpwd = strdup(req->userpwd);
                if (!t->userpwd)
                        goto fail;
                curl_easy_setopt(t->easy, CURLOPT_USERPWD, t->userpwd);
        }
        /* libcurl copies the path (GnuTLS builds take no in-memory CA blob). */
        if (req->ca_file && curl_easy_setopt(t->easy, CURLOPT_CAINFO, req->ca_file) != CURLE_OK)
                goto fail;
        curl_easy_setopt(t->easy, CURLOPT_URL, req->url);
        curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
        curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long) (timeout / USEC_PER_MSEC));
        curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
        if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
                goto fail;
        c->n_active++;
        t->next = c->transfers;
        if (c->transfers)
                c->transfers->prev = t;
        c->transfers = t;
        return 0;
fail:
        if (t->easy) {
                curl_easy_cleanup(t->easy);
                t->easy = NULL;
        }
        transfer_free(t);
        return -ENOMEM;
}

unsigned http_client_n_active(const HttpClient *c) {
        return c->n_active;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        while (c->transfers)
                finish(c->transfers, -ECANCELED);
        while (c->n_idle > 0)
                curl_easy_cleanup(c->idle[--c->n_idle]);
        if (c->multi)
                curl_multi_cleanup(c->multi);
        sd_event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}
