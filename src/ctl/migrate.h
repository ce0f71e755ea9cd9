/* SPDX-License-Identifier: MIT */
#pragma once

/* Schema migrations: migrations/NNNN_name.sql applied in order, each in its own transaction,
 * under a session advisory lock so concurrent runs serialise; recorded with a SHA-256 of the file
 * so an edited, already-applied migration is reported instead of silently skipped. A migration
 * file must not contain transaction control statements. */

#include <libpq-fe.h>

/* Applies what is pending in @dir over @conn. Logs each applied migration (MESSAGE_ID=MSGID_MIGRATION_APPLIED).
 * Returns the number applied (≥ 0), or -ENOENT (no such directory), -EBADMSG (a bad file name,
 * duplicate version, or an applied migration whose file changed), -EIO (a statement failed;
 * that migration is rolled back and the ones before it stay). */
int migrate_apply(PGconn *conn, const char *dir);
