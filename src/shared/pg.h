/* SPDX-License-Identifier: MIT */
#pragma once

/* A libpq connection on an sd-event loop: non-blocking connect (PQconnectStart/PQconnectPoll),
 * reconnect with backoff, and queries from a FIFO pipelined (libpq's pipeline mode, a Sync after
 * each: every query is its own implicit transaction, answered in order), however large (what the
 * socket does not take at once is flushed as it drains). Queries never block the loop: a query not
 * answered within the timeout drops the connection, failing it and every query queued behind it,
 * and the connection is made again. A lost connection fails every query not answered yet, whether
 * or not the server ran it: callers send only what is safe to send again. */

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Pg Pg;

/* Gets the final result of a query (NULL when the connection failed before one arrived). The
 * result is owned by the callee's caller: it is cleared after the callback returns. */
typedef void (*PgResultFn)(Pg *pg, const PGresult *res, void *userdata);

DEFINE_TRIVIAL_CLEANUP_FUNC(PGresult, PQclear);
DEFINE_TRIVIAL_CLEANUP_FUNC(PGconn, PQfinish);

/* Creates the client and starts connecting to @conninfo (libpq URI or key=value). A query, or a
 * connection, not answered within @query_timeout_usec (0: 30 s) fails. Returns 0 or -ENOMEM. Connection errors are
 * retried, not returned. */
int pg_new(sd_event *e, const char *conninfo, uint64_t query_timeout_usec, Pg **ret);

/* @cb is called each time the connection is (re-)established (@up true), and once for each
 * outage: when an established connection is lost, or when the first attempt fails; pg_error()
 * then says why. */
typedef void (*PgStateFn)(Pg *pg, bool up, void *userdata);
void pg_set_state_callback(Pg *pg, PgStateFn cb, void *userdata);

/* Whether queries can be sent now. Accepts NULL (false). */
bool pg_is_up(const Pg *pg);

/* Judges the answer to the check query (NULL when none came): returns 0 to take the connection,
 * or -errno after writing why not, one line, into @why. */
typedef int (*PgCheckFn)(const PGresult *res, char *why, size_t size, void *userdata);

/* Before each new connection counts as up, @sql (copied; no parameters) runs on it and @check
 * judges its answer; refused, the connection is closed and tried again with backoff, and
 * pg_error() says @check's reason. Call it right after pg_new(). Returns 0 or -ENOMEM. */
int pg_set_check(Pg *pg, const char *sql, PgCheckFn check, void *userdata);

/* Gets the payload of a notification on the channel of pg_listen(). */
typedef void (*PgNotifyFn)(Pg *pg, const char *payload, void *userdata);

/* LISTENs on @channel (lower-case letters, digits and '_') on every connection, before any other
 * query, and hands @cb each notification another session sends on it (those this connection's own
 * statements send are not: the caller knows of them). What is sent while the connection is down is
 * lost: a caller catches up when the state callback says up. Call it right after pg_new().
 * Returns 0, -EINVAL for a bad channel name, or -ENOMEM. */
int pg_listen(Pg *pg, const char *channel, PgNotifyFn cb, void *userdata);

/* Why the connection last failed or was dropped, one line without a secret (libpq's message);
 * valid until the next call into @pg. */
const char *pg_error(const Pg *pg);

/* Queues @sql with @n text parameters (copied). @cb (may be NULL) gets exactly one call. Returns 0,
 * -ENOTCONN when not connected (nothing queued), -ENOMEM. */
int pg_query(Pg *pg, const char *sql, int n, const char *const *params, PgResultFn cb, void *userdata);

/* Fails queued queries (NULL results), closes and frees. May be called from a query's callback.
 * Accepts NULL; returns NULL. */
Pg *pg_free(Pg *pg);

/* Converts a libpq result status to 0 (command or tuples OK) or -EIO. */
int pg_result_to_errno(const PGresult *res);
