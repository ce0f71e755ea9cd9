/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* The caller's CODE_FILE, CODE_LINE and CODE_FUNC are sent below; without this sd-journal.h adds
 * its own, this file's, and every entry has each field twice. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool to_journal;
static const char *identifier = "?";

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *ident, const char *lvl) {
        max_level = LOG_INFO;
        if (ident)
                identifier = ident;
        to_journal = stderr_is_journal();
        if (lvl)
                for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                        if (streq(lvl, level_names[i]))
                                max_level = (int) i;
}

static int journal_write(int level, int error, const LogFields *f, const char *file, int line,
                         const char *func, const char *message) {
        char prio[16], errnobuf[32], linebuf[32];
        _cleanup_free_ char *msg = NULL, *ident = NULL, *cfile = NULL, *cfunc = NULL;
        /* Fields are formatted into heap strings; the journal protocol wants KEY=value iovecs. */
        char *extra[LOG_FIELDS_MAX] = {};
        struct iovec iov[32];
        size_t n = 0, k = 0;
        int r;

        if (asprintf(&msg, "MESSAGE=%s", message) < 0 ||
            asprintf(&ident, "SYSLOG_IDENTIFIER=%s", identifier) < 0 ||
            asprintf(&cfile, "CODE_FILE=%s", file) < 0 ||
            asprintf(&cfunc, "CODE_FUNC=%s", func) < 0)
                return -ENOMEM;
        snprintf(prio, sizeof prio, "PRIORITY=%i", level);
        snprintf(linebuf, sizeof linebuf, "CODE_LINE=%i", line);

        iov[n++] = (struct iovec) { msg, strlen(msg) };
        iov[n++] = (struct iovec) { prio, strlen(prio) };
        iov[n++] = (struct iovec) { ident, strlen(ident) };
        iov[n++] = (struct iovec) { cfile, strlen(cfile) };
        iov[n++] = (struct iovec) { linebuf, strlen(linebuf) };
        iov[n++] = (struct iovec) { cfunc, strlen(cfunc) };
        if (error != 0) {
                snprintf(errnobuf, sizeof errnobuf, "ERRNO=%i", abs(error));
                iov[n++] = (struct iovec) { errnobuf, strlen(errnobuf) };
        }
        for (size_t i = 0; f && i < LOG_FIELDS_MAX; i++) {
                if (!f->f[i].key || !f->f[i].value)
                        continue;
                if (asprintf(&extra[k], "%s=%s", f->f[i].key, f->f[i].value) < 0) {
                        extra[k] = NULL;
                        break;
                }
                iov[n++] = (struct iovec) { extra[k], strlen(extra[k]) };
                k++;
        }
        r = sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < k; i++)
                free(extra[i]);
        return r;
}

int log_internal(int level, int error, const LogFields *fields, const char *file, int line,
                 const char *func, const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        if (level > max_level)
                return -abs(error);

        errno = abs(error); /* lets callers use %m */
        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        if (!to_journal || journal_write(level, error, fields, file, line, func, buf) < 0) {
                const char *reason = NULL;
                for (size_t i = 0; fields && i < LOG_FIELDS_MAX; i++)
                        if (streq_ptr(fields->f[i].key, "REASON"))
                                reason = fields->f[i].value;
                if (reason)
                        fprintf(stderr, "%s: %s (%s)\n", identifier, buf, reason);
                else
                        fprintf(stderr, "%s: %s\n", identifier, buf);
        }
        errno = saved;
        return -abs(error);
}
