/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "tokens.h"

#define TOKEN_MAX 256

int token_store(const char *dir, int64_t tenant, const char *token) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        char name[32], tmp[48];
        size_t len = strlen(token), n = 0;

        snprintf(name, sizeof name, "%" PRId64, tenant);
        snprintf(tmp, sizeof tmp, ".%s.tmp", name);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0600) < 0)
                return -errno;
        while (n < len) {
                ssize_t k = write(fd, token + n, len - n);
                if (k < 0) {
                        int e = -errno;
                        (void) unlinkat(dfd, tmp, 0);
                        return e;
                }
                n += (size_t) k;
        }
        if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
                int e = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return e;
        }
        return fsync(dfd) < 0 ? -errno : 0;
}

int token_load(const char *dir, int64_t tenant, Secret **ret) {
        char name[32];

        snprintf(name, sizeof name, "%" PRId64, tenant);
        return secret_read_file(dir, name, TOKEN_MAX, ret);
}

int token_remove(const char *dir, int64_t tenant) {
        char path[PATH_MAX];

        snprintf(path, sizeof path, "%s/%" PRId64, dir, tenant);
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}
