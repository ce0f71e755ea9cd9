/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <sys/stat.h>

#include "creds.h"

static char *directory_override;

int creds_set_directory(const char *dir) {
        char *d = NULL;

        if (dir && !(d = strdup(dir)))
                return -ENOMEM;
        free(directory_override);
        directory_override = d;
        return 0;
}

static bool name_valid(const char *name) {
        if (isempty(name) || streq(name, ".") || streq(name, ".."))
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("._-", *p)))
                        return false;
        return true;
}

Secret *secret_new(const void *data, size_t size) {
        Secret *s = malloc(sizeof *s + size + 1);

        if (!s)
                return NULL;
        s->size = size;
        memcpy(s->data, data, size);
        s->data[size] = 0;
        return s;
}

Secret *secret_free(Secret *s) {
        if (!s)
                return NULL;
        explicit_bzero(s->data, s->size);
        free(s);
        return NULL;
}

int creds_read(const char *name, size_t max, Secret **ret) {
        return secret_read_file(directory_override ?: getenv("CREDENTIALS_DIRECTORY"), name, max, ret);
}

int creds_read_admin(const char *name, size_t max, Secret **ret) {
        int r = creds_read(name, max, ret);

        if (r < 0 && secret_read_file("/etc/credstore", name, max, ret) == 0)
                return 0;
        return r;
}

int secret_read_file(const char *dir, const char *name, size_t max, Secret **ret) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        _cleanup_(secret_freep) Secret *s = NULL;
        struct stat st;
        size_t n = 0;

        if (!name_valid(name))
                return -EINVAL;
        if (isempty(dir))
                return -ENXIO;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;

        s = malloc(sizeof *s + (size_t) st.st_size + 1);
        if (!s)
                return -ENOMEM;
        s->size = (size_t) st.st_size;
        while (n < s->size) {
                ssize_t k = read(fd, s->data + n, s->size - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        s->size = n;
        if (n > 0 && s->data[n - 1] == '\n')
                s->size = --n;
        if (n > 0 && s->data[n - 1] == '\r')
                s->size = --n;
        s->data[n] = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

bool secret_equal(const void *a, size_t alen, const void *b, size_t blen) {
        /* Compare over the shorter length so no byte past either buffer is read; the length check
         * is folded in afterwards. Lengths of our secrets are not secret. */
        int diff = gnutls_memcmp(a, b, MIN(alen, blen));
        return diff == 0 && alen == blen;
}

int creds_read_optional(const char *name, size_t max, Secret **ret) {
        int r = creds_read(name, max, ret);

        if (r == -ENOENT || r == -ENXIO) {
                *ret = NULL;
                return 0;
        }
        return r;
}
