/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log-fields.h"
#include "migrate.h"
#include "pg.h"

/* Any fixed 64-bit number; the same for every tgfleet process that migrates. */
#define MIGRATE_LOCK_KEY "7362500001"

typedef struct Migration {
        unsigned version;
        char *name;      /* file name */
        char *sql;
        char checksum[65];
} Migration;

static void migrations_free(Migration *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].name);
                free(m[i].sql);
        }
        free(m);
}

/* NNNN_name.sql with name of [a-z0-9_]. */
static int parse_name(const char *f, unsigned *ret) {
        size_t l = strlen(f);
        unsigned v = 0;

        if (l < 10 || !streq(f + l - 4, ".sql") || f[4] != '_')
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                if (f[i] < '0' || f[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (unsigned) (f[i] - '0');
        }
        for (size_t i = 5; i < l - 4; i++)
                if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') || f[i] == '_'))
                        return -EBADMSG;
        if (v == 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int read_file(int dfd, const char *name, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf;
        size_t n = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size > 16 * 1024 * 1024)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t) st.st_size - n);
                if (k <= 0) {
                        free(buf);
                        return k < 0 ? -errno : -EIO;
                }
                n += (size_t) k;
        }
        buf[n] = 0;
        *ret = buf;
        *ret_len = n;
        return 0;
}

static int filter_sql(const struct dirent *d) {
        size_t l = strlen(d->d_name);
        return d->d_name[0] != '.' && l > 4 && streq(d->d_name + l - 4, ".sql");
}

static int load_dir(const char *dir, Migration **ret, size_t *ret_n) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent **list = NULL;
        Migration *m = NULL;
        int n, r = 0;

        if (dfd < 0)
                return log_error_errno(errno, "Cannot open migrations directory %s: %m", dir);
        n = scandir(dir, &list, filter_sql, alphasort);
        if (n < 0)
                return log_error_errno(errno, "Cannot list %s: %m", dir);
        m = calloc((size_t) MAX(n, 1), sizeof *m);
        if (!m)
                r = -ENOMEM;
        for (int i = 0; i < n; i++) {
                unsigned char digest[32];
                gnutls_datum_t d = { digest, sizeof digest };
                size_t len = 0, hexlen = sizeof m[i].checksum;
                if (r == 0 && parse_name(list[i]->d_name, &m[i].version) < 0)
                        r = log_error_errno(EBADMSG, "%s/%s: migration names are NNNN_name.sql.", dir, list[i]->d_name);
                if (r == 0 && i > 0 && m[i].version == m[i - 1].version)
                        r = log_error_errno(EBADMSG, "%s: two migrations have version %04u.", dir, m[i].version);
                if (r == 0 && !(m[i].name = strdup(list[i]->d_name)))
                        r = -ENOMEM;
                if (r == 0 && (r = read_file(dfd, list[i]->d_name, &m[i].sql, &len)) < 0)
                        log_error_errno(r, "Cannot read %s/%s: %m", dir, list[i]->d_name);
                if (r == 0 && (gnutls_hash_fast(GNUTLS_DIG_SHA256, m[i].sql, len, digest) < 0 ||
                               gnutls_hex_encode(&d, m[i].checksum, &hexlen) < 0))
                        r = -EIO;
                free(list[i]);
        }
        free(list);
        if (r < 0) {
                if (m)
                        migrations_free(m, (size_t) n);
                return r;
        }
        *ret = m;
        *ret_n = (size_t) n;
        return 0;
}

static int exec_ok(PGconn *conn, const char *sql, int n, const char *const *params, const char *what) {
        /* Without parameters PQexec, which (unlike PQexecParams) runs a multi-statement file. */
        _cleanup_(PQclearp) PGresult *res = n == 0 ? PQexec(conn, sql) : PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);

        if (pg_result_to_errno(res) < 0)
                return log_error_errno(EIO, "%s: %s", what, PQerrorMessage(conn));
        return 0;
}

static int apply_pending(PGconn *conn, const Migration *m, size_t n) {
        _cleanup_(PQclearp) PGresult *applied = NULL;
        int count = 0;

        applied = PQexec(conn, "SELECT version, checksum FROM schema_migrations ORDER BY version");
        if (pg_result_to_errno(applied) < 0)
                return log_error_errno(EIO, "Reading schema_migrations: %s", PQerrorMessage(conn));

        for (size_t i = 0; i < n; i++) {
                const char *done_sum = NULL;
                char version[16];

                for (int row = 0; row < PQntuples(applied); row++)
                        if ((unsigned) atoi(PQgetvalue(applied, row, 0)) == m[i].version)
                                done_sum = PQgetvalue(applied, row, 1);
                if (done_sum) {
                        if (!streq(done_sum, m[i].checksum))
                                return log_error_errno(EBADMSG, "Migration %s was changed after it was applied; "
                                                       "add a new migration instead.", m[i].name);
                        continue;
                }
                snprintf(version, sizeof version, "%u", m[i].version);
                if (exec_ok(conn, "BEGIN", 0, NULL, "BEGIN") < 0)
                        return -EIO;
                if (exec_ok(conn, m[i].sql, 0, NULL, m[i].name) < 0 ||
                    exec_ok(conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
                            (const char *[]) { version, m[i].name, m[i].checksum }, "recording migration") < 0 ||
                    exec_ok(conn, "COMMIT", 0, NULL, "COMMIT") < 0) {
                        PQclear(PQexec(conn, "ROLLBACK"));
                        return -EIO;
                }
                log_struct(LOG_INFO, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_MIGRATION_APPLIED)), "Applied migration %s.", m[i].name);
                count++;
        }
        return count;
}

int migrate_apply(PGconn *conn, const char *dir) {
        Migration *m = NULL;
        size_t n = 0;
        int r;

        r = load_dir(dir, &m, &n);
        if (r < 0)
                return r;
        /* The lock comes first: it also serialises the CREATE TABLE below. */
        r = exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, "Taking the migration lock");
        if (r >= 0)
                r = exec_ok(conn,
                            "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            " version integer PRIMARY KEY CHECK (version > 0),"
                            " name text NOT NULL,"
                            " checksum text NOT NULL,"
                            " applied_at timestamptz NOT NULL DEFAULT now())",
                            0, NULL, "Creating schema_migrations");
        if (r >= 0)
                r = apply_pending(conn, m, n);
        PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
        migrations_free(m, n);
        return r;
}
