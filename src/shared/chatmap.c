/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "chatmap.h"

static unsigned slot(const ChatMap *m, int64_t chat) {
        uint64_t h = (uint64_t) chat * 0x9E3779B97F4A7C15ULL;
        return (unsigned) (h >> 32) % m->n_buckets;
}

int chatmap_init(ChatMap *m, unsigned n_buckets) {
        *m = (ChatMap) { .n_buckets = n_buckets };
        m->buckets = calloc(n_buckets, sizeof *m->buckets);
        return m->buckets ? 0 : -ENOMEM;
}

ChatQueue *chatmap_push(ChatMap *m, int64_t chat, ChatItem *item, bool *ret_first) {
        unsigned s = slot(m, chat);
        ChatQueue *q;

        for (q = m->buckets[s]; q && q->chat != chat; q = q->bucket_next)
                ;
        if (!q) {
                q = calloc(1, sizeof *q);
                if (!q)
                        return NULL;
                q->chat = chat;
                q->bucket_next = m->buckets[s];
                m->buckets[s] = q;
                m->n_queues++;
        }
        item->next = NULL;
        if (q->tail)
                q->tail->next = item;
        else
                q->head = item;
        q->tail = item;
        m->n_items++;
        *ret_first = q->head == item && !q->busy;
        return q;
}

static void unlink_queue(ChatMap *m, ChatQueue *q) {
        ChatQueue **p = &m->buckets[slot(m, q->chat)];

        while (*p != q)
                p = &(*p)->bucket_next;
        *p = q->bucket_next;
        m->n_queues--;
        free(q);
}

ChatItem *chatmap_pop(ChatMap *m, ChatQueue *q) {
        ChatItem *head = q->head;

        if (head) {
                q->head = head->next;
                if (!q->head)
                        q->tail = NULL;
                m->n_items--;
        }
        q->busy = false;
        if (!q->head) {
                unlink_queue(m, q);
                return NULL;
        }
        return q->head;
}

void chatmap_done(ChatMap *m, void (*free_item)(ChatItem *item)) {
        for (unsigned i = 0; m->buckets && i < m->n_buckets; i++)
                while (m->buckets[i]) {
                        ChatQueue *q = m->buckets[i];
                        m->buckets[i] = q->bucket_next;
                        while (q->head) {
                                ChatItem *it = q->head;
                                q->head = it->next;
                                if (free_item)
                                        free_item(it);
                        }
                        free(q);
                }
        free(m->buckets);
        *m = (ChatMap) {};
}
