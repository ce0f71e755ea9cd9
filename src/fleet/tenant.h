/* SPDX-License-Identifier: MIT */
#pragma once

/* How a tenant (a business with its own bot) is named outside the database. */

#include <stddef.h>
#include <stdint.h>

/* Tenant @id's bot name in webhook routes and stream names: "tenant-<id>". */
void tenant_bot_name(int64_t id, char *buf, size_t size);

/* Tenant @id's unit: "tgfleet-bot@<id>.service". */
void tenant_unit_name(int64_t id, char *buf, size_t size);

/* A business's name is 1 to TENANT_NAME_MAX_CHARS characters once trimmed. */
#define TENANT_NAME_MAX_CHARS 100
#define TENANT_NAME_MAX_BYTES (TENANT_NAME_MAX_CHARS * 4)

/* Writes @s without its leading and trailing blanks into @buf (of at least TENANT_NAME_MAX_BYTES + 1
 * bytes). Returns 0, or -EINVAL when that is not 1 to TENANT_NAME_MAX_CHARS characters. */
int tenant_name_clean(const char *s, char *buf, size_t size);

/* Parses a tenant id (a decimal integer from 1 to 2^53). Returns 0 or -EINVAL. */
int tenant_id_parse(const char *s, int64_t *ret);

/* Tenant @id's bot runs as the user "tgfleet-bot-<id>" (User= of tgfleet-bot@.service). */
#define TENANT_USER_PREFIX "tgfleet-bot-"

/* The tenant whose bot runs as user @name: 0 and its id in *@ret, or -EINVAL for any other name. */
int tenant_of_user(const char *name, int64_t *ret);
