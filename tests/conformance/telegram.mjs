// SPDX-License-Identifier: MIT
// grammY, the widely used Bot API client, against tgfleet-sandbox as it would run against
// Telegram: its methods, its errors parsed into GrammyError, webhookCallback receiving messages,
// presses and shared contacts, and long polling with bot.start(). Environment: SANDBOX (base
// URL), TOKEN and BOT (a bot registered in the sandbox), NODE_MODULES (grammy's install).
import assert from "node:assert/strict";
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(process.env.NODE_MODULES + "/");
const { Bot, GrammyError, InputFile, webhookCallback } = require("grammy");
const { SANDBOX, TOKEN, BOT } = process.env;

async function control(method, path, body) {
        const r = await fetch(SANDBOX + path, {
                method, headers: { "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined,
        });
        return [r.status, await r.json()];
}

const says = (user, text) => control("POST", `/sandbox/bots/${BOT}/users/${user}/send`, { text, language_code: "en" });
const messages = async (user) => (await control("GET", `/sandbox/bots/${BOT}/users/${user}/messages`))[1];

async function waitFor(what, test, seconds = 10) {
        for (const end = Date.now() + seconds * 1000; Date.now() < end;) {
                if (await test())
                        return;
                await new Promise((r) => setTimeout(r, 50));
        }
        assert.fail("timed out waiting for " + what);
}

// The call fails as Telegram fails it: a GrammyError with its code and description.
async function refused(call, code, description) {
        try {
                await call;
        } catch (e) {
                assert(e instanceof GrammyError, String(e));
                assert.equal(e.error_code, code, e.description);
                if (description instanceof RegExp)
                        assert.match(e.description, description);
                else if (description)
                        assert.equal(e.description, description);
                return e;
        }
        assert.fail(`no error, expected ${code} ${description}`);
}

const client = { apiRoot: SANDBOX };
const bot = new Bot(TOKEN, { client });

// getMe, with the fields the real one has.
const me = await bot.api.getMe();
assert.equal(me.username, BOT);
assert.equal(me.is_bot, true);
for (const field of ["id", "first_name", "can_join_groups", "can_read_all_group_messages", "supports_inline_queries"])
        assert(field in me, field);
await refused(new Bot("123456789:" + "A".repeat(35), { client }).api.getMe(), 401, "Unauthorized");

// Formatted messages, edits and their refusals.
assert.equal((await says(501, "hi"))[0], 200);
const sent = await bot.api.sendMessage(501, "<b>Nails &amp; Co</b> <code>st-1</code>", { parse_mode: "HTML" });
assert.equal(sent.text, "Nails & Co st-1");
assert.deepEqual(sent.entities, [{ offset: 0, length: 10, type: "bold" }, { offset: 11, length: 4, type: "code" }]);
const md = await bot.api.sendMessage(501, "*Price:* 1\\.50", { parse_mode: "MarkdownV2" });
assert.equal(md.text, "Price: 1.50");
await refused(bot.api.sendMessage(501, "<p>x</p>", { parse_mode: "HTML" }), 400,
              "Bad Request: can't parse entities: Unsupported start tag \"p\" at byte offset 0");
await refused(bot.api.sendMessage(501, "1.50", { parse_mode: "MarkdownV2" }), 400,
              /^Bad Request: can't parse entities: Character '\.' is reserved/);
await refused(bot.api.sendMessage(999, "x"), 400, "Bad Request: chat not found");
await refused(bot.api.sendMessage(501, ""), 400, "Bad Request: message text is empty");
await refused(bot.api.editMessageText(501, sent.message_id, "<b>Nails &amp; Co</b> <code>st-1</code>",
                                      { parse_mode: "HTML" }), 400, /^Bad Request: message is not modified/);
await refused(bot.api.sendMessage(501, "x", { reply_markup: { inline_keyboard: [[{ text: "No action" }]] } }), 400);

// Commands, chat actions, chats, places and contacts.
const commands = [{ command: "start", description: "Menu" }, { command: "book", description: "Book a slot" }];
assert.equal(await bot.api.setMyCommands(commands), true);
assert.deepEqual(await bot.api.getMyCommands(), commands);
await refused(bot.api.setMyCommands([{ command: "Start", description: "x" }]), 400, "Bad Request: BOT_COMMAND_INVALID");
assert.equal((await says(502, "hi"))[0], 200);
assert.equal(await bot.api.sendChatAction(502, "typing"), true);
assert.equal((await bot.api.getChat(502)).type, "private");
const place = await bot.api.sendVenue(502, 55.75, 37.62, "Salon", "Tverskaya 1");
assert.equal(place.venue.title, "Salon");
assert.deepEqual((await bot.api.sendLocation(502, 55.75, 37.62)).location, { latitude: 55.75, longitude: 37.62 });

// Files: multipart uploads (InputFile), then the same file again by its file_id.
assert.equal((await says(505, "hi"))[0], 200);
assert.equal((await says(506, "hi"))[0], 200);
const doc = await bot.api.sendDocument(505, new InputFile(Buffer.from("hello"), "notes.txt"),
                                       { caption: "<b>Notes</b>", parse_mode: "HTML" });
assert.equal(doc.document.file_name, "notes.txt");
assert.equal(doc.document.file_size, 5);
assert.equal(doc.caption, "Notes");
assert.deepEqual(doc.caption_entities, [{ offset: 0, length: 5, type: "bold" }]);
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100)]);
const photo = await bot.api.sendPhoto(506, new InputFile(png, "logo.png"));
assert(Array.isArray(photo.photo) && photo.photo[0].file_id && photo.photo[0].file_size === 108, JSON.stringify(photo));
const again = await bot.api.sendDocument(506, doc.document.file_id);
assert.equal(again.document.file_id, doc.document.file_id);
await refused(bot.api.sendPhoto(505, new InputFile(Buffer.from("not an image"), "x.txt")), 400,
              "Bad Request: IMAGE_PROCESS_FAILED");
await refused(bot.api.sendDocument(505, "no-such-file-id"), 400, "Bad Request: wrong file identifier/HTTP URL specified");
await refused(bot.api.sendPhoto(505, doc.document.file_id), 400, "Bad Request: wrong file identifier/HTTP URL specified");

// A grammY bot behind node's http server, as a webhook.
const hook = new Bot(TOKEN, { client, botInfo: me });
hook.command("start", (ctx) => ctx.reply(`Welcome, <b>${ctx.from.first_name}</b>`, {
        parse_mode: "HTML",
        reply_markup: { inline_keyboard: [[{ text: "Press", callback_data: "p:1" }]] },
}));
hook.callbackQuery("p:1", (ctx) => ctx.answerCallbackQuery({ text: "Pressed" }));
hook.on("message:contact", (ctx) => ctx.reply("Got " + ctx.message.contact.phone_number));
hook.on("pre_checkout_query", (ctx) => ctx.answerPreCheckoutQuery(ctx.preCheckoutQuery.invoice_payload === "order-1"));
hook.on("message:successful_payment", (ctx) =>
        ctx.reply(`Paid ${ctx.message.successful_payment.total_amount} Stars for ${ctx.message.successful_payment.invoice_payload}`));
const server = http.createServer(webhookCallback(hook, "http", { secretToken: "s3cret-token" }));
await new Promise((r) => server.listen(0, "127.0.0.1", r));
assert.equal(await bot.api.setWebhook(`http://127.0.0.1:${server.address().port}/`, { secret_token: "s3cret-token" }), true);
await refused(bot.api.getUpdates(), 409, /^Conflict: can't use getUpdates method while webhook is active/);
assert.equal((await says(503, "/start"))[0], 200);
await waitFor("the welcome", async () => (await messages(503)).some((m) => m.html === "Welcome, <b>User503</b>"));
const [status, press] = await control("POST", `/sandbox/bots/${BOT}/users/503/press`, { label: "Press" });
assert.equal(status, 200);
await waitFor("the press answered", async () =>
        (await control("GET", `/sandbox/bots/${BOT}/callbacks/${press.callback_query_id}`))[1].text === "Pressed");
assert.equal((await control("POST", `/sandbox/bots/${BOT}/users/503/contact`, { phone_number: "+79991112233" }))[0], 200);
await waitFor("the contact answered", async () => (await messages(503)).some((m) => m.text === "Got +79991112233"));
// Telegram Stars: an invoice, the pre-checkout query answered, the successful payment.
assert.equal((await says(507, "hi"))[0], 200);   // a chat of its own: a chat's burst is 3
const invoice = await bot.api.sendInvoice(507, "100 Stars", "A package", "order-1", "XTR", [{ label: "100", amount: 100 }]);
assert.equal(invoice.invoice.total_amount, 100);
assert(!JSON.stringify(invoice).includes("order-1"), "the payload is shown");
await refused(bot.api.sendInvoice(507, "x", "y", "p", "USD", [{ label: "1", amount: 1 }]), 400, "Bad Request: CURRENCY_INVALID");
await refused(bot.api.answerPreCheckoutQuery("123", true), 400, /query is too old/);
const [paying, checkout] = await control("POST", `/sandbox/bots/${BOT}/users/507/pay`, { message_id: invoice.message_id });
assert.equal(paying, 200);
await waitFor("the payment thanked", async () => (await messages(507)).some((m) => m.text === "Paid 100 Stars for order-1"));
assert.equal((await control("GET", `/sandbox/bots/${BOT}/checkouts/${checkout.pre_checkout_query_id}`))[1].ok, true);
server.close();

// Long polling: bot.start() drops the webhook and polls; stop() ends the poll under way.
const poller = new Bot(TOKEN, { client });
poller.on("message:text", (ctx) => ctx.reply("echo " + ctx.message.text));
let started;
const running = new Promise((r) => (started = r));
const done = poller.start({ timeout: 2, onStart: started });
await running;
assert.equal((await says(504, "ping"))[0], 200);
await waitFor("the echo", async () => (await messages(504)).some((m) => m.text === "echo ping"));
await poller.stop();
await done;
assert.equal((await bot.api.getWebhookInfo()).url, "");
console.log("grammY: every check passed");
