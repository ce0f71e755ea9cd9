/* SPDX-License-Identifier: MIT */
#pragma once

/* Per-key FIFOs (a key is a chat id, or any 64-bit key): the items of one key are worked on one
 * at a time and in arrival order, while different keys proceed in parallel. Items embed a
 * ChatItem. */

#include <stdbool.h>
#include <stdint.h>

typedef struct ChatItem {
        struct ChatItem *next;
} ChatItem;

typedef struct ChatQueue {
        int64_t chat;
        ChatItem *head, *tail;
        bool busy;                    /* the head item is being worked on */
        struct ChatQueue *bucket_next;
} ChatQueue;

typedef struct ChatMap {
        ChatQueue **buckets;
        unsigned n_buckets;
        unsigned n_queues;
        uint64_t n_items;
} ChatMap;

/* Returns 0 or -ENOMEM. */
int chatmap_init(ChatMap *m, unsigned n_buckets);

/* Appends @item to @chat's queue (created on demand) and returns the queue, or NULL on -ENOMEM.
 * *ret_first tells whether @item is now at the head of an idle queue: the caller starts it. */
ChatQueue *chatmap_push(ChatMap *m, int64_t chat, ChatItem *item, bool *ret_first);

/* Removes the head item of @q (which must be busy) and returns the next one, or NULL, in which
 * case @q is freed. */
ChatItem *chatmap_pop(ChatMap *m, ChatQueue *q);

/* Frees every queue; calls @free_item on each item still queued. */
void chatmap_done(ChatMap *m, void (*free_item)(ChatItem *item));
