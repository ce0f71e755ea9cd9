/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>

#include "heleket-sign.h"
#include "intake.h"
#include "json-util.h"
#include "redis-keys.h"

/* Ids go into Redis key names and logs: printable, no separators, bounded. */
static bool id_valid(const char *s) {
        size_t l = s ? strlen(s) : 0;

        if (l == 0 || l > INTAKE_ID_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("._-", *p)))
                        return false;
        return true;
}

static Reject parse_object(const char *body, size_t len, json_object **ret) {
        json_object *o;

        if (json_parse(body, len, &o) < 0)
                return REJECT_NOT_JSON;
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return REJECT_NOT_OBJECT;
        }
        *ret = o;
        return REJECT_NONE;
}

/* A payment notification of @provider about @id reaching @status (or @event): one entry in
 * "payments", deduped per (provider, id, status). */
static Reject payment_event(const char *provider, const char *id, const char *status, IntakeEvent *ret) {
        IntakeEvent ev = { .provider = provider };

        snprintf(ev.id, sizeof ev.id, "%s", id);
        snprintf(ev.status, sizeof ev.status, "%s", status);
        ev.stream = (RedisName) { STREAM_PAYMENTS };
        ev.dedupe_key = redis_key_dedupe_payment(provider, id, status);
        *ret = ev;
        return REJECT_NONE;
}

Reject intake_telegram(const char *bot, const char *body, size_t len, IntakeEvent *ret) {
        _cleanup_json_ json_object *o = NULL;
        IntakeEvent ev = { .provider = "telegram" };
        int64_t update_id;
        Reject r;

        if ((r = parse_object(body, len, &o)) != REJECT_NONE)
                return r;
        if (json_get_int64(o, "update_id", &update_id) < 0 || update_id < 0)
                return REJECT_MISSING_ID;
        snprintf(ev.id, sizeof ev.id, "%" PRIi64, update_id);
        ev.stream = redis_stream_updates(bot);
        ev.dedupe_key = redis_key_dedupe_update(bot, ev.id);
        *ret = ev;
        return REJECT_NONE;
}

Reject intake_heleket(const Secret *key, const char *body, size_t len, IntakeEvent *ret) {
        _cleanup_json_ json_object *o = NULL;
        const char *uuid, *status;
        Reject r;
        int k;

        if ((r = parse_object(body, len, &o)) != REJECT_NONE)
                return r;
        uuid = json_get_string(o, "uuid");
        status = json_get_string(o, "status");
        if (!id_valid(uuid) || !id_valid(status))
                return REJECT_MISSING_ID;
        k = heleket_verify(body, len, o, key->data, key->size);
        if (k <= 0)
                return REJECT_BAD_SIGNATURE;
        return payment_event("heleket", uuid, status, ret);
}

Reject intake_yookassa(const char *body, size_t len, IntakeEvent *ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *object;
        const char *id, *event;
        Reject r;

        if ((r = parse_object(body, len, &o)) != REJECT_NONE)
                return r;
        event = json_get_string(o, "event");
        if (!json_object_object_get_ex(o, "object", &object) || !json_object_is_type(object, json_type_object))
                return REJECT_MISSING_ID;
        id = json_get_string(object, "id");
        if (!id_valid(id) || !id_valid(event))
                return REJECT_MISSING_ID;
        return payment_event("yookassa", id, event, ret);
}
