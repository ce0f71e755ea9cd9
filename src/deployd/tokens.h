/* SPDX-License-Identifier: MIT */
#pragma once

/* Tenant bot tokens, one file per tenant in [Deploy] TokenDirectory, named by the tenant id,
 * mode 0600, owned by deployd; each tenant's unit loads its file as credential "bot-token"
 * (systemd reads it as root). Nothing else ever holds a tenant's token. */

#include <stdint.h>

#include "creds.h"

/* Writes @token for @tenant atomically (a temporary file, fsync, rename). Returns 0 or -errno. */
int token_store(const char *dir, int64_t tenant, const char *token);

/* Reads @tenant's token. Returns 0, -ENOENT when none is stored, other -errno. */
int token_load(const char *dir, int64_t tenant, Secret **ret);

/* Deletes @tenant's token; none stored is fine. Returns 0 or -errno. */
int token_remove(const char *dir, int64_t tenant);
