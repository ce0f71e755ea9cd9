/* SPDX-License-Identifier: MIT */
#include "receipt.h"
#include "test-util.h"

static void ok(const char *text, int kind, const char *want) {
        char got[RECEIPT_CONTACT_MAX];

        assert(receipt_contact_parse(text, got) == kind);
        assert(streq(got, want));
}

static void bad(const char *text) {
        char got[RECEIPT_CONTACT_MAX];

        assert(receipt_contact_parse(text, got) == -EINVAL);
}

int main(void) {
        char long_mail[300];

        ok("anna@example.ru", RECEIPT_EMAIL, "anna@example.ru");
        ok("  Anna.Petrova+shop@mail.example.com \n", RECEIPT_EMAIL, "Anna.Petrova+shop@mail.example.com");
        ok("+7 900 123-45-67", RECEIPT_PHONE, "79001234567");
        ok("8 (900) 1234567", RECEIPT_PHONE, "79001234567");
        ok("79001234567", RECEIPT_PHONE, "79001234567");
        ok("+375 29 123 45 67", RECEIPT_PHONE, "375291234567");
        ok("+8 800 123 45 67", RECEIPT_PHONE, "78001234567");   /* no country code is 8: a trunk prefix */
        ok("+880 1712 345678", RECEIPT_PHONE, "8801712345678");  /* Bangladesh: 13 digits */
        bad("");
        bad("   ");
        bad("anna");
        bad("@example.ru");
        bad("anna@");
        bad("anna@example");
        bad("anna@.ru");
        bad("anna@example.");
        bad("anna@@example.ru");
        bad("an na@example.ru");
        bad("anna@exa<mple.ru");
        bad("900 123 45 67");                 /* 10 digits: no country */
        bad("+7 900 123 45 67 890 12");       /* 16 digits */
        bad("7 900 123 45 67 ext 5");
        bad("79001234567+");
        memset(long_mail, 'a', sizeof long_mail);
        memcpy(long_mail + sizeof long_mail - 13, "@example.ru", 12);
        bad(long_mail);
        return 0;
}
