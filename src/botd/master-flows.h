/* SPDX-License-Identifier: MIT */
#pragma once

/* The master role's flows, one file each: master-add.c (a new client: token, owner, name,
 * confirm), master-clients.c (the pages of clients, one client, its actions and extension),
 * master-queue.c (the deploy queue and the stats); master.c dispatches to them. What they share
 * is here, in master-chat.c. Each flow ends the work it is given with work_commit(), directly or
 * through master_api_call(). */

#include "i18n.h"
#include "master.h"
#include "tenant.h"


/* An inline keyboard with ✖️ Cancel ("cancel"); the caller owns it. */
json_object *master_cancel_keyboard(Lang l);

/* An inline keyboard back to client @client ("c:ID"); the caller owns it. */
json_object *master_back_keyboard(Lang l, int64_t client);

/* A client's status ("active", …) as the operator reads it, in @l; the status itself when it is
 * not one of tenant.h's. Static storage or @status. */
const char *master_status_label(Lang l, const char *status);

/* An API time ("2026-11-21T09:05:00Z") as the operator reads it, written into @buf; @none when it
 * is NULL or not such a time. */
const char *master_api_time(Lang l, const char *iso, const char *none, char *buf, size_t size);

/* Says @text: as a pop-up for a button press, else as a message. */
void master_say(Work *w, const char *text);

/* Whether the API refused or failed; if so writes why into @text (as HTML when @html). */
bool master_api_refused(Work *w, const ApiAnswer *a, bool html, char *text, size_t size);

/* Whether the API refused or failed; if so tells the operator why (a pop-up for a press) and
 * ends the work with work_commit(). */
bool master_api_failed(Work *w, const ApiAnswer *a);

/* Reads "PREFIX<id>" or "PREFIX<id>:<rest>" from the pressed button's @data: the rest (after the
 * colon, "" when none), with the id in @ret_id; NULL when @data is not such a button. */
const char *master_data_id(const char *data, const char *prefix, int64_t *ret_id);

/* botd's CLOCK_MONOTONIC time, in µs. */
uint64_t master_now(Work *w);

/* Ends an add or an extension being entered, forgetting its token. */
void master_flow_end(Work *w);

/* --- master-add.c --- */

/* "➕ Add client": asks for the token. */
void master_add_start(Work *w);

/* The answers to its three steps (the token, the owner's id, the name), as @w's text. */
void master_add_token(Work *w);
void master_add_owner(Work *w);
void master_add_name(Work *w);

/* "add": the client entered is added through the API. */
void master_add_confirmed(Work *w);

/* Deletes the message @w came with (one holding a token). */
void master_delete_message(Work *w);

/* --- master-clients.c --- */

/* A page of clients from @offset. */
void master_show_clients(Work *w, int64_t offset);

/* The answer to "how many days?" for an extension, as @w's text. */
void master_extend_days(Work *w);

/* Handles the press @data if it is one of the clients' buttons ("cl:", "c:", "e:", "eo:", "ed:",
 * "ey:", "x:", "y:"); returns whether it was. */
bool master_clients_button(Work *w, const char *data);

/* --- master-queue.c --- */

/* The deploy queue, and the stats. */
void master_show_queue(Work *w);
void master_show_stats(Work *w);

/* "rt:TASK": queues the dead task @task again; returns false (handling nothing) when @task is not
 * a task id. */
bool master_retry(Work *w, const char *task);
