/* SPDX-License-Identifier: MIT */
#pragma once

/* Turning an accepted webhook body into the stream entry that carries it: which stream, which
 * dedupe key, which id fields. One parser per sender; each sees untrusted bytes and is fuzzed. */

#include <stddef.h>

#include "creds.h"
#include "redis-keys.h"
#include "route.h"

#define INTAKE_ID_MAX 128

typedef struct IntakeEvent {
        RedisName stream;                 /* "updates:<bot>" or "payments" */
        RedisName dedupe_key;             /* "dedupe:…", see redis-keys.h */
        const char *provider;             /* "telegram", "heleket", "yookassa" */
        char id[INTAKE_ID_MAX + 1];       /* update_id, invoice uuid or payment id (for logs) */
        char status[INTAKE_ID_MAX + 1];   /* Heleket status or YooKassa event; "" for Telegram */
} IntakeEvent;

/* A Telegram update for @bot: a JSON object with a non-negative integer "update_id". Deduped per
 * (bot, update_id). Returns REJECT_NONE or REJECT_NOT_JSON/NOT_OBJECT/MISSING_ID. */
Reject intake_telegram(const char *bot, const char *body, size_t len, IntakeEvent *ret);

/* A Heleket payment webhook: JSON object with string "uuid" and "status" and a "sign" valid for
 * @key (heleket-sign.h). Deduped per (uuid, status). Returns REJECT_NONE, REJECT_NOT_JSON,
 * REJECT_NOT_OBJECT, REJECT_MISSING_ID or REJECT_BAD_SIGNATURE. */
Reject intake_heleket(const Secret *key, const char *body, size_t len, IntakeEvent *ret);

/* A YooKassa notification: {"type":"notification","event":…,"object":{"id":…}}. Not signed:
 * the caller checks the source address, paymentd re-fetches the object. Deduped per (object.id,
 * event). Returns REJECT_NONE, REJECT_NOT_JSON, REJECT_NOT_OBJECT or REJECT_MISSING_ID. */
Reject intake_yookassa(const char *body, size_t len, IntakeEvent *ret);
