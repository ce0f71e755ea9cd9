/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleetctl verbs. Each gets the loaded configuration and its own arguments (argv[0] is the
 * verb) and returns the process exit status. */

#include <json-c/json.h>

#include "config.h"

/* Sends @method @path to the HTTP service at @base (@what names it in errors) with @body (may be
 * NULL) and the extra NULL-terminated @headers. Returns the HTTP status and the answer in *ret
 * (parsed JSON, or a JSON string of the raw text; NULL when empty), or -errno when the service
 * cannot be reached (logged). */
long ctl_http_json(const char *base, const char *what, const char *method, const char *path,
                   const char *const *headers, json_object *body, json_object **ret);

/* ctl_http_json() on the sandbox's control API, at [Sandbox] URL=. */
long ctl_sandbox_json(const Config *c, const char *method, const char *path, json_object *body, json_object **ret);

int verb_migrate(const Config *c, int argc, char *argv[]);
int verb_check_connections(const Config *c, int argc, char *argv[]);
int verb_webhooks(const Config *c, int argc, char *argv[]);
int verb_sandbox(const Config *c, int argc, char *argv[]);
int verb_clients(const Config *c, int argc, char *argv[]);
int verb_queue(const Config *c, int argc, char *argv[]);
