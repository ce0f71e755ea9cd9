/* SPDX-License-Identifier: MIT */
/* The bot tokens operators send in "Add client", held in memory between the steps of the
 * conversation: a few slots, wiped on use, replacement and expiry. */

#include "master.h"

static void slot_clear(HeldToken *h) {
        h->token = secret_free(h->token);
        h->chat = 0;
        h->until = 0;
}

static HeldToken *slot_find(Master *m, int64_t chat) {
        for (size_t i = 0; i < MASTER_HELD_MAX; i++)
                if (m->held[i].token && m->held[i].chat == chat)
                        return &m->held[i];
        return NULL;
}

void master_hold_token(Master *m, int64_t chat, Secret *token, uint64_t now) {
        HeldToken *h = slot_find(m, chat);

        for (size_t i = 0; !h && i < MASTER_HELD_MAX; i++)
                if (!m->held[i].token || m->held[i].until <= now)
                        h = &m->held[i];
        if (!h) {
                h = &m->held[0];
                for (size_t i = 1; i < MASTER_HELD_MAX; i++)
                        if (m->held[i].until < h->until)
                                h = &m->held[i];
        }
        slot_clear(h);
        *h = (HeldToken) { .chat = chat, .token = token, .until = now + MASTER_HOLD_USEC };
}

const Secret *master_held_token(Master *m, int64_t chat, uint64_t now) {
        HeldToken *h = slot_find(m, chat);

        if (h && h->until <= now) {
                slot_clear(h);
                return NULL;
        }
        return h ? h->token : NULL;
}

void master_drop_token(Master *m, int64_t chat) {
        HeldToken *h = slot_find(m, chat);

        if (h)
                slot_clear(h);
}

void master_drop_all_tokens(Master *m) {
        for (size_t i = 0; i < MASTER_HELD_MAX; i++)
                slot_clear(&m->held[i]);
}
