/* SPDX-License-Identifier: MIT */
/* tgfleetctl sandbox chat: a Telegram client in the terminal, on the sandbox's control API. It
 * shows what a client shows: the bot's formatting (bold, italic, code, links), inline buttons and
 * the reply keyboard, messages the bot edits (again, marked), and the notices and alerts that
 * answer a press. Typing sends text; "#N" or "/press N" presses button N of those shown last. */

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "chat.h"
#include "json-util.h"
#include "log.h"

#define BUTTONS_MAX 100

typedef struct Button {
        unsigned number;             /* as shown: numbers are never reused */
        bool reply;                  /* of the reply keyboard: pressing sends its label */
        char label[256];
        int64_t message_id;          /* an inline button: the message and its place there */
        unsigned index;
} Button;

typedef struct Seen {
        int64_t id;
        char *rendering;             /* as last shown, without numbers: to notice an edit */
        unsigned first;              /* the number of its first button, 0 for none */
        bool mine, gone;             /* the user's own; deleted (and said so) */
} Seen;

typedef struct Chat {
        const Config *config;
        const char *bot, *user, *language;
        bool ansi;
        Seen *seen;
        size_t n_seen;
        Button buttons[BUTTONS_MAX]; /* the buttons that can be pressed now */
        size_t n_buttons;
        unsigned next_number;
        int64_t sent_id;             /* the user's last message, until it is shown or found deleted */
        char *sent_text;
} Chat;

/* --- formatting ---------------------------------------------------------------------------------- */

static const char *ansi_of(const char *type, bool open) {
        static const struct { const char *type, *on; } styles[] = {
                { "bold", "\033[1m" }, { "italic", "\033[3m" }, { "underline", "\033[4m" },
                { "strikethrough", "\033[9m" }, { "code", "\033[36m" }, { "pre", "\033[36m" },
                { "spoiler", "\033[2m" }, { "text_link", "\033[4m" }, { "blockquote", "\033[2m" },
        };
        for (size_t i = 0; i < ELEMENTSOF(styles); i++)
                if (streq(type, styles[i].type))
                        return open ? styles[i].on : "\033[0m";
        return NULL;
}

/* @text with its @entities (UTF-16 offsets) as the terminal shows it: ANSI styles when @ansi,
 * links followed by their URL, continuation lines indented. */
static void render_text(struct printbuf *out, const char *text, json_object *entities, bool ansi) {
        size_t n = json_object_is_type(entities, json_type_array) ? json_object_array_length(entities) : 0;
        int64_t at = 0;

        for (const char *s = text;; ) {
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(entities, i);
                        int64_t offset = 0, length = 0;
                        const char *type = strempty(json_get_string(e, "type")), *style;
                        (void) json_get_int64(e, "offset", &offset);
                        (void) json_get_int64(e, "length", &length);
                        if (offset + length == at && length > 0) {
                                if (ansi && (style = ansi_of(type, false)))
                                        printbuf_memappend(out, style, (int) strlen(style));
                                if (streq(type, "text_link") && json_get_string(e, "url"))
                                        sprintbuf(out, " (%s)", json_get_string(e, "url"));
                        }
                }
                for (size_t i = 0; i < n && ansi; i++) {
                        json_object *e = json_object_array_get_idx(entities, i);
                        int64_t offset = -1, length = 0;
                        const char *style = ansi_of(strempty(json_get_string(e, "type")), true);
                        (void) json_get_int64(e, "offset", &offset);
                        (void) json_get_int64(e, "length", &length);
                        if (offset == at && length > 0 && style)
                                printbuf_memappend(out, style, (int) strlen(style));
                }
                if (!*s)
                        break;
                size_t len = 1;
                while ((((unsigned char) s[len]) & 0xC0) == 0x80)
                        len++;
                if (*s == '\n')
                        printbuf_strappend(out, "\n      ");
                else
                        printbuf_memappend(out, s, (int) len);
                at += 1 + ((unsigned char) *s >= 0xF0);
                s += len;
        }
}

/* The rows of buttons of @markup, numbered from *@number when @number is not NULL (and made the
 * buttons that can be pressed). */
static void render_buttons(Chat *c, struct printbuf *out, int64_t message_id, json_object *rows, bool reply,
                           unsigned *number) {
        unsigned index = 0;

        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                json_object *row = json_object_array_get_idx(rows, i);
                sprintbuf(out, "%s", reply ? "\n     ⌨" : "\n      ");
                for (size_t j = 0; j < json_object_array_length(row); j++) {
                        json_object *btn = json_object_array_get_idx(row, j);
                        const char *label = json_object_is_type(btn, json_type_string) ? json_object_get_string(btn)
                                                                                       : json_get_string(btn, "text");
                        const char *url = reply ? NULL : json_get_string(btn, "url");
                        index++;
                        if (number && c->n_buttons < BUTTONS_MAX) {
                                Button *b = &c->buttons[c->n_buttons++];
                                b->number = (*number)++;
                                b->reply = reply;
                                b->message_id = message_id;
                                b->index = index;
                                snprintf(b->label, sizeof b->label, "%s", strempty(label));
                                sprintbuf(out, " [#%u %s]", b->number, strempty(label));
                        } else
                                sprintbuf(out, " [%s]", strempty(label));
                        if (url)
                                sprintbuf(out, " → %s", url);
                }
        }
}

/* --- the view ----------------------------------------------------------------------------------- */

/* The message at @index of @list as it shows now. When @number is not NULL and the message holds
 * the inline keyboard in force (the last one sent) or the reply keyboard in force, its buttons are
 * numbered from *@number and can be pressed. */
static char *render_message(Chat *c, json_object *list, size_t index, size_t inline_at, size_t reply_at,
                            unsigned *number) {
        json_object *m = json_object_array_get_idx(list, index), *markup, *rows, *v;
        struct printbuf *out = printbuf_new();
        bool bot = streq_ptr(json_get_string(m, "from"), "bot");
        int64_t id = 0;
        char *s;

        (void) json_get_int64(m, "message_id", &id);

        sprintbuf(out, "%s ", bot ? "[bot]" : "[you]");
        render_text(out, strempty(json_get_string(m, "text")), json_object_object_get(m, "entities"), c->ansi);
        if (json_object_object_get_ex(m, "location", &v))
                sprintbuf(out, "📍 %s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        if (json_object_object_get_ex(m, "contact", &v))
                sprintbuf(out, "👤 %s", strempty(json_get_string(v, "phone_number")));
        if (json_object_object_get_ex(m, "reply_markup", &markup)) {
                if (json_object_object_get_ex(markup, "inline_keyboard", &rows))
                        render_buttons(c, out, id, rows, false, index == inline_at ? number : NULL);
                if (json_object_object_get_ex(markup, "keyboard", &rows))
                        render_buttons(c, out, id, rows, true, index == reply_at ? number : NULL);
        }
        s = strdup(out->buf);
        printbuf_free(out);
        return s;
}

static Seen *seen_find(Chat *c, int64_t id) {
        for (size_t i = 0; i < c->n_seen; i++)
                if (c->seen[i].id == id)
                        return &c->seen[i];
        return NULL;
}

/* Whether the message @id is in @list. */
static bool listed(json_object *list, int64_t id) {
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                int64_t x = 0;
                (void) json_get_int64(json_object_array_get_idx(list, i), "message_id", &x);
                if (x == id)
                        return true;
        }
        return false;
}

/* Shows what is new or changed in @list: new messages, and edited ones again, marked. */
static void show(Chat *c, json_object *list) {
        size_t n = json_object_array_length(list), inline_at = SIZE_MAX, reply_at = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(list, i), *markup;
                if (!streq_ptr(json_get_string(m, "from"), "bot") || !json_object_object_get_ex(m, "reply_markup", &markup))
                        continue;
                if (json_object_object_get_ex(markup, "inline_keyboard", NULL))
                        inline_at = i;
                if (json_object_object_get_ex(markup, "keyboard", NULL) ||
                    json_object_object_get_ex(markup, "remove_keyboard", NULL))
                        reply_at = i;
        }
        /* What can be pressed is rebuilt: the keyboards in force, with the numbers they were shown with. */
        c->n_buttons = 0;
        for (size_t i = 0; i < n; i++) {
                int64_t id = 0;
                json_object *m = json_object_array_get_idx(list, i);
                char *key = render_message(c, list, i, SIZE_MAX, SIZE_MAX, NULL), *now;
                bool current = i == inline_at || i == reply_at;
                Seen *s;

                (void) json_get_int64(m, "message_id", &id);
                s = seen_find(c, id);
                if (s && streq(s->rendering, key)) {
                        /* Unchanged: its buttons keep their numbers. */
                        unsigned number = s->first;
                        if (current && number)
                                free(render_message(c, list, i, inline_at, reply_at, &number));
                        free(key);
                        continue;
                }
                if (!s) {
                        Seen *more = realloc(c->seen, (c->n_seen + 1) * sizeof *more);
                        if (!more) {
                                free(key);
                                continue;
                        }
                        c->seen = more;
                        s = &c->seen[c->n_seen++];
                        *s = (Seen) { .id = id, .mine = !streq_ptr(json_get_string(m, "from"), "bot") };
                } else {
                        fputs("(edited) ", stdout);
                        free(s->rendering);
                }
                /* New or changed: shown (again), its buttons with new numbers. */
                unsigned number = c->next_number + 1;
                s->first = current ? number : 0;
                now = render_message(c, list, i, inline_at, reply_at, current ? &number : NULL);
                if (current)
                        c->next_number = number - 1;
                puts(now);
                free(now);
                s->rendering = key;
        }
        /* A message deleted (as the bot deletes one holding a token): said, not shown again. */
        for (size_t k = 0; k < c->n_seen; k++) {
                if (!listed(list, c->seen[k].id) && !c->seen[k].gone) {
                        c->seen[k].gone = true;
                        puts(c->seen[k].mine ? "(the bot deleted your message above)" : "(the bot deleted a message of its own)");
                }
        }
        /* The user's last message, deleted by the bot before it could be shown: shown, and said
         * gone. Shown or not, it is in the list now or never again. */
        if (c->sent_id > 0 && !seen_find(c, c->sent_id) && !listed(list, c->sent_id))
                printf("[you] %s\n(the bot deleted your message above)\n", c->sent_text);
        c->sent_id = 0;
        c->sent_text = mfree(c->sent_text);
        fflush(stdout);
}

/* --- what the user does ------------------------------------------------------------------------- */

/* Waits briefly for the bot's answer to the press @id and shows it. */
static void show_answer(Chat *c, const char *id) {
        char path[300];

        snprintf(path, sizeof path, "/sandbox/bots/%s/callbacks/%s", c->bot, id);
        for (int i = 0; i < 30; i++) {
                json_object *a = NULL;
                if (ctl_sandbox_json(c->config, "GET", path, NULL, &a) == 200 && json_object_get_boolean(json_object_object_get(a, "answered"))) {
                        const char *text = json_get_string(a, "text");
                        if (text)
                                printf("(%s: %s)\n", json_object_get_boolean(json_object_object_get(a, "alert")) ? "alert"
                                                                                                                : "notice", text);
                        json_object_put(a);
                        return;
                }
                json_object_put(a);
                usleep(100 * 1000);
        }
}

static void send_text(Chat *c, const char *text) {
        json_object *body = json_object_new_object(), *answer = NULL;
        char path[300];

        json_object_object_add(body, "text", json_object_new_string(text));
        if (c->language)
                json_object_object_add(body, "language_code", json_object_new_string(c->language));
        snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/send", c->bot, c->user);
        if (ctl_sandbox_json(c->config, "POST", path, body, &answer) != 200)
                printf("(not sent: %s)\n", strempty(json_get_string(answer, "error")));
        else if (json_get_int64(answer, "message_id", &c->sent_id) == 0) {
                free(c->sent_text);
                c->sent_text = strdup(text);
                if (!c->sent_text)
                        c->sent_id = 0;
        }
        json_object_put(body);
        json_object_put(answer);
}

static void press(Chat *c, const char *number) {
        char *end, path[300];
        long n = strtol(number, &end, 10);
        json_object *body, *answer = NULL;
        const Button *b;

        b = NULL;
        for (size_t i = 0; !*end && i < c->n_buttons; i++)
                if ((long) c->buttons[i].number == n)
                        b = &c->buttons[i];
        if (!b) {
                if (!*end && n >= 1 && (unsigned long) n <= c->next_number)
                        printf("(#%s was a button of an earlier message: press one of those shown last)\n", number);
                else
                        printf("(no button #%s)\n", number);
                return;
        }
        if (b->reply)
                return send_text(c, b->label);   /* a reply keyboard sends its label, as Telegram does */
        body = json_object_new_object();
        json_object_object_add(body, "message_id", json_object_new_int64(b->message_id));
        json_object_object_add(body, "button", json_object_new_int64(b->index));
        snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/press", c->bot, c->user);
        if (ctl_sandbox_json(c->config, "POST", path, body, &answer) != 200)
                printf("(the button is gone)\n");
        else if (json_get_string(answer, "url"))
                printf("(opens %s — open it in a browser to pay there)\n", json_get_string(answer, "url"));
        else if (json_get_string(answer, "callback_query_id"))
                show_answer(c, json_get_string(answer, "callback_query_id"));
        json_object_put(body);
        json_object_put(answer);
}

int sandbox_chat(const Config *config, const char *bot, const char *user, const char *language) {
        Chat c = { .config = config, .bot = bot, .user = user, .language = language,
                   .ansi = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") };
        char path[300], line[4096];
        bool stdin_open = true;
        int r = 0;

        printf("Chatting with %s as user %s%s%s. Type a message; #N or /press N presses button N; Ctrl-D ends.\n",
               bot, user, language ? ", language " : "", strempty(language));
        snprintf(path, sizeof path, "/sandbox/bots/%s/users/%s/messages", bot, user);
        for (;;) {
                json_object *list = NULL;
                struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
                long status = ctl_sandbox_json(config, "GET", path, NULL, &list);

                if (status < 0) {
                        r = 1;
                        break;
                }
                if (status == 404) {
                        log_error("No such bot: %s.", bot);
                        json_object_put(list);
                        r = 1;
                        break;
                }
                if (status == 200 && json_object_is_type(list, json_type_array))
                        show(&c, list);
                json_object_put(list);
                if (!stdin_open)
                        break;
                if (poll(&p, 1, 300) <= 0)
                        continue;
                if (!fgets(line, sizeof line, stdin)) {
                        /* Input ended: show what the bot still answers, then stop. */
                        stdin_open = false;
                        usleep(1500 * 1000);
                        continue;
                }
                line[strcspn(line, "\n")] = 0;
                if (!*line)
                        continue;
                if (line[0] == '#')
                        press(&c, line + 1);
                else if (startswith(line, "/press "))
                        press(&c, line + strlen("/press "));
                else
                        send_text(&c, line);
        }
        for (size_t i = 0; i < c.n_seen; i++)
                free(c.seen[i].rendering);
        free(c.seen);
        free(c.sent_text);
        return r;
}

void sandbox_print_messages(json_object *list) {
        Chat c = { .ansi = false };

        show(&c, list);
        for (size_t i = 0; i < c.n_seen; i++)
                free(c.seen[i].rendering);
        free(c.seen);
        free(c.sent_text);
}
