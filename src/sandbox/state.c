/* SPDX-License-Identifier: MIT */
/* What the sandbox keeps across a restart: the update_id counter. Telegram never gives an
 * update_id twice, and webhookd drops a repeated one as already seen, so a restarted sandbox
 * must go on above every id it gave out. Ids are reserved in blocks, the end of the block
 * written (atomically) before the first id of it is used: one write per UPDATE_ID_BLOCK
 * updates, and a crash loses at most the rest of a block, never an id's uniqueness. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

#define UPDATE_ID_BLOCK 10000

int64_t sandbox_first_update_id(void) {
        /* 4 a second since late 2023, so within 32 bits until 2042: a sandbox started afresh
         * does not repeat what one before it gave out unless that one averaged more than 4
         * updates a second; a state file keeps even that from happening. */
        time_t now = time(NULL);
        return 100000001 + 4 * (int64_t) MAX(now - (time_t) 1700000000, (time_t) 0);
}

int sandbox_state_load(Sandbox *sb, const char *path) {
        FILE *f;
        int64_t next;
        int n;

        sb->state_path = path;
        sb->update_id_reserved = 0;   /* nothing reserved yet: the first id writes */
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Cannot read %s: %m", path);
        n = fscanf(f, "%" SCNd64, &next);
        fclose(f);
        if (n != 1 || next < 1 || next > INT32_MAX)
                return log_error_errno(EINVAL, "%s does not hold an update_id.", path);
        sb->next_update_id = MAX(sb->next_update_id, next);
        return 0;
}

static int write_reserved(const char *path, int64_t until) {
        _cleanup_free_ char *tmp = NULL;
        FILE *f;
        int r = 0;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        if (fprintf(f, "%" PRId64 "\n", until) < 0 || fflush(f) != 0 || fsync(fileno(f)) < 0)
                r = -errno ?: -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int64_t sandbox_next_update_id(Sandbox *sb) {
        if (sb->state_path && sb->next_update_id >= sb->update_id_reserved) {
                int64_t until = sb->next_update_id + UPDATE_ID_BLOCK;
                int r = write_reserved(sb->state_path, until);
                if (r < 0)
                        log_warning_errno(r, "Cannot keep the update_id counter in %s (a restart would "
                                             "repeat ids): %m", sb->state_path);
                else
                        sb->update_id_reserved = until;
        }
        return sb->next_update_id++;
}
