/* SPDX-License-Identifier: MIT */
#pragma once

/* Secrets come only from systemd credentials: files in $CREDENTIALS_DIRECTORY (LoadCredential=,
 * SetCredentialEncrypted=), or, for runs without systemd, a directory of the same layout named
 * with --credentials-dir=. Never from the config file, the environment or argv. */

#include <stddef.h>

#include "macro.h"

typedef struct Secret {
        size_t size;
        char data[];     /* NUL-terminated as well, for text credentials */
} Secret;

/* Overrides $CREDENTIALS_DIRECTORY (a copy is kept; NULL drops the override). Returns 0 or -ENOMEM. */
int creds_set_directory(const char *dir);

/* Reads credential @name (at most @max bytes; one trailing newline is dropped). Returns 0 and
 * hands *ret to the caller; -ENXIO when no credentials directory is set, -ENOENT when the
 * credential is absent, -EFBIG when larger than @max, -EINVAL for a bad name, other -errno. */
int creds_read(const char *name, size_t max, Secret **ret);

/* Reads file @name in directory @dir as creds_read() reads a credential (-ENXIO when @dir is
 * empty). */
int secret_read_file(const char *dir, const char *name, size_t max, Secret **ret);

/* For tools an admin runs from a shell (a command-line tool): like creds_read(), but when the credentials
 * directory is not set or lacks @name, reads /etc/credstore/@name, where the units load it from.
 * Errors are those of the credentials directory when both fail. */
int creds_read_admin(const char *name, size_t max, Secret **ret);

/* Like creds_read(), for a credential that may be absent: returns 0 with *ret NULL when it (or
 * the whole credentials directory) is missing. */
int creds_read_optional(const char *name, size_t max, Secret **ret);

/* A secret holding a copy of @size bytes at @data (NUL-terminated too), or NULL on -ENOMEM. */
Secret *secret_new(const void *data, size_t size);

/* Wipes and frees @s; accepts NULL; returns NULL. */
Secret *secret_free(Secret *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Secret, secret_free);

/* Constant-time equality of two byte strings: the time depends on the lengths only. */
bool secret_equal(const void *a, size_t alen, const void *b, size_t blen);
