/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleetctl verbs. Each gets the loaded configuration and its own arguments (argv[0] is the
 * verb) and returns the process exit status. */

#include <curl/curl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "config.h"
#include "creds.h"
#include "pg.h"

/* Sends @method @path to the HTTP service at @base (@what names it in errors) with @body (may be
 * NULL) and the extra NULL-terminated @headers. Returns the HTTP status and the answer in *ret
 * (parsed JSON, or a JSON string of the raw text; NULL when empty), or -errno when the service
 * cannot be reached (logged). */
long ctl_http_json(const char *base, const char *what, const char *method, const char *path,
                   const char *const *headers, json_object *body, json_object **ret);

/* Calls Bot API @method with @token at [Telegram] URL=: a multipart POST of what @form (may be
 * NULL: no parameters) builds on the handle, given @userdata; the form builder returns NULL after
 * saying why it cannot. The URL holding the token is wiped. Returns the HTTP status and
 * Telegram's answer in *ret (NULL when empty), or -errno (logged). */
long ctl_telegram_call(const Config *c, const Secret *token, const char *method,
                       curl_mime *(*form)(CURL *h, void *userdata), void *userdata, json_object **ret);

/* ctl_http_json() on the sandbox's control API, at [Sandbox] URL=. */
long ctl_sandbox_json(const Config *c, const char *method, const char *path, json_object *body, json_object **ret);

/* The REST API, for the verbs that go through it. */
typedef struct CtlApi {
        const Config *config;
        char auth[4200];            /* "Authorization: Bearer …", wiped by ctl_api_close() */
} CtlApi;

/* Reads the api-token credential (the credentials directory, else /etc/credstore). Returns 0 or
 * -errno (logged). */
int ctl_api_open(const Config *c, CtlApi *api);
void ctl_api_close(CtlApi *api);

/* Calls the API, with @extra_header (or NULL) and an actor header naming the local user. Returns
 * the HTTP status and the answer as ctl_http_json(), or -errno (logged). */
long ctl_api_call(CtlApi *api, const char *method, const char *path, const char *extra_header, json_object *body,
                  json_object **ret);

/* Prints the API's error and returns 1, or prints the answer with @print (may be NULL) and
 * returns 0. Consumes @answer. */
int ctl_api_finish(long status, json_object *answer, void (*print)(json_object *));

/* Prints a page of a list ({"items", "total", "offset"}): @header, each item with @line, then how
 * many of how many ("3 of 10 order(s)", or "No order matches") of @noun it showed. */
void ctl_print_page(json_object *page, const char *header, void (*line)(json_object *), const char *noun);

/* Prints @o as indented JSON. */
void ctl_print_json(json_object *o);

/* A list request (GET @base?…) from a verb's options, answered as ctl_api_finish() does: each
 * option given in @argv whose getopt value indexes @keys (of @n_keys) becomes that query
 * argument; the option whose value is 'j' prints the answer as JSON instead of with @print.
 * Returns the exit status: 2 after printing @usage for an unknown option or a stray argument. */
int ctl_api_list(CtlApi *api, const char *base, int argc, char *argv[], const struct option *options,
                 const char *const *keys, size_t n_keys, const char *usage, void (*print)(json_object *));

/* Each verb's usage, printed for --help and on a wrong call. */
extern const char migrate_usage[], check_config_usage[], check_usage[], webhooks_usage[], sandbox_usage[], clients_usage[], queue_usage[],
        orders_usage[], payments_usage[], subscriptions_usage[];

int verb_migrate(const Config *c, int argc, char *argv[]);
int verb_check_config(const Config *c, int argc, char *argv[]);
int verb_check_connections(const Config *c, int argc, char *argv[]);
int verb_webhooks(const Config *c, int argc, char *argv[]);
int verb_sandbox(const Config *c, int argc, char *argv[]);
int verb_clients(const Config *c, int argc, char *argv[]);
int verb_queue(const Config *c, int argc, char *argv[]);
int verb_orders(const Config *c, int argc, char *argv[]);
int verb_payments(const Config *c, int argc, char *argv[]);
int verb_subscriptions(const Config *c, int argc, char *argv[]);

/* A connection to [Database] URL=, or NULL after saying why. */
PGconn *ctl_pg_connect(const Config *c);
