/* SPDX-License-Identifier: MIT */
#pragma once

/* Logging: structured journald records when stderr is connected to the journal, plain lines on
 * stderr otherwise. Never pass a secret or a whole payload to these functions. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

/* Fixed MESSAGE_IDs for money and security events, so `journalctl MESSAGE_ID=…` finds them. */
#define MSGID_WEBHOOK_AUTH_FAILED  "657af4a830d144409ee19e0d5b6b61ec"
#define MSGID_WEBHOOK_SOURCE_DENIED "266a5c1fb2474fbdae840bda51acb567"
#define MSGID_WEBHOOK_ACCEPTED     "78268f5c4eff45e2a0843355485ea811"
#define MSGID_REDIS_DOWN           "0c8099bb4da2455b8f11e614a47cb534"
#define MSGID_REDIS_UP             "f78c13aa1fce4bc386d9c2339c840444"
#define MSGID_CONFIG_RELOADED      "9d083acc93ed44f190d7e2d70fbdd3f2"
#define MSGID_MIGRATION_APPLIED    "848c0ec2b07c44be82d7c68c5b4de0df"
#define MSGID_ORDER_STATUS         "fe917f72293e4051b5d4fe096a60fe30"
#define MSGID_INVOICE_CREATED      "839e063d88db4cd0bac67f18a18c6ef9"
#define MSGID_PROVIDER_DOWN        "ce9c21ca298e444bb3c28156941113f8"
#define MSGID_PROVIDER_UP          "d7fe1e73745e44f2bf7a61d4a6b09269"
#define MSGID_USER_RATE_LIMITED    "99099cf70c714eae87751f938fbf5e8f"
#define MSGID_FLOOD_WAIT           "a48e1a38c9a34005b56b8deab820138a"
#define MSGID_DEPLOY_DEAD          "eed9ce3c2eef41cab6af044000d38774"

/* Optional structured fields of one record; NULL members are left out. */
typedef struct LogFields {
        const char *message_id;  /* MESSAGE_ID= */
        const char *bot;         /* BOT= */
        const char *tenant;      /* TENANT= */
        const char *order;       /* ORDER= */
        const char *payment;     /* PAYMENT= */
        const char *update_id;   /* UPDATE_ID= */
        const char *route;       /* ROUTE= */
        const char *reason;      /* REASON= */
        const char *remote;      /* REMOTE_ADDR= */
} LogFields;

/* Chooses the target (journal when $JOURNAL_STREAM names our stderr, else stderr) and sets the
 * identifier used as SYSLOG_IDENTIFIER and as the stderr prefix. Records less important than
 * $TGFLEET_LOG_LEVEL ("debug", "info", …; default "info") are dropped. Safe to call again. */
void log_setup(const char *identifier);


/* Writes one record. @error is an errno value (either sign) or 0; it is added as ERRNO= and,
 * via %m, available to @format. Returns -abs(@error), so callers can `return log_…_errno()`. */
int log_internal(int level, int error, const LogFields *fields, const char *file, int line,
                 const char *func, const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...) \
        log_internal(level, error, NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* log_struct(LOG_WARNING, 0, LOG_FIELDS(.message_id = MSGID_…, .bot = bot), "format", …) */
#define LOG_FIELDS(...) (&(const LogFields) { __VA_ARGS__ })
#define log_struct(level, error, fields, ...) \
        log_internal(level, error, fields, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Returns -ENOMEM after logging it; for allocation failures. */
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
