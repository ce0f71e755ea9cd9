/* SPDX-License-Identifier: MIT */
#pragma once

/* Logging: structured journald records when stderr is connected to the journal, plain lines on
 * stderr otherwise. Never pass a secret or a whole payload to these functions. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

/* One structured field of a record: a journal field name ("REASON") and its value; a NULL value is
 * left out. */
typedef struct LogField {
        const char *key;
        const char *value;
} LogField;

#define LOG_FIELDS_MAX 8

/* The structured fields of one record, in the order given; see LOG_FIELDS(). */
typedef struct LogFields {
        LogField f[LOG_FIELDS_MAX];
} LogFields;

/* Chooses the target (journal when $JOURNAL_STREAM names our stderr, else stderr) and sets the
 * identifier used as SYSLOG_IDENTIFIER and as the stderr prefix. Records less important than
 * @level ("debug", "info", …; NULL or unknown: "info") are dropped. Safe to call again. */
void log_setup(const char *identifier, const char *level);


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

/* log_struct(LOG_WARNING, 0, LOG_FIELDS({ "MESSAGE_ID", id }, { "REASON", why }), "format", …): at
 * most LOG_FIELDS_MAX fields. On stderr only a "REASON" field is shown, after the message. */
#define LOG_FIELDS(...) (&(const LogFields) { { __VA_ARGS__ } })
#define log_struct(level, error, fields, ...) \
        log_internal(level, error, fields, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Returns -ENOMEM after logging it; for allocation failures. */
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
