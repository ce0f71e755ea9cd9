/* SPDX-License-Identifier: MIT */
#undef NDEBUG
#include <assert.h>
#include <stddef.h>

#include "chatmap.h"

typedef struct Item {
        ChatItem item;
        int n;
} Item;

int main(void) {
        ChatMap m;
        Item a = { .n = 1 }, b = { .n = 2 }, c = { .n = 3 };
        ChatQueue *q1, *q2;
        bool first;

        assert(chatmap_init(&m, 7) == 0);
        /* The first item of an idle chat starts; the next waits behind it, in order. */
        q1 = chatmap_push(&m, 42, &a.item, &first);
        assert(q1 && first);
        q1->busy = true;
        assert(chatmap_push(&m, 42, &b.item, &first) == q1 && !first);
        /* Another chat (also a negative group id, and one in the same bucket) is independent. */
        q2 = chatmap_push(&m, -42 - 7, &c.item, &first);
        assert(q2 && q2 != q1 && first);
        assert(m.n_queues == 2 && m.n_items == 3);

        assert(chatmap_pop(&m, q1) == &b.item);
        q1->busy = true;
        assert(chatmap_pop(&m, q1) == NULL);       /* empty: the queue is gone */
        assert(m.n_queues == 1 && m.n_items == 1);
        /* A chat seen again starts afresh. */
        q1 = chatmap_push(&m, 42, &a.item, &first);
        assert(q1 && first);
        chatmap_done(&m, NULL);
        assert(m.buckets == NULL);
        return 0;
}
