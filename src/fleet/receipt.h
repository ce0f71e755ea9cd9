/* SPDX-License-Identifier: MIT */
#pragma once

/* 54-FZ receipts of subscription payments ([YooKassa] Receipt=): the payer's contact YooKassa
 * sends the receipt to, as the sales bot takes it from the owner and YooKassa wants it (an e-mail,
 * or a phone number as digits of its international form, "79001234567"). */

#include <stddef.h>

#define RECEIPT_CONTACT_MAX 255   /* an e-mail's longest, with its NUL */

typedef enum ReceiptContactKind {
        RECEIPT_EMAIL,
        RECEIPT_PHONE,
} ReceiptContactKind;

/* Reads @text, trimmed, as an e-mail (one '@', no spaces, a dot in the domain) or a phone
 * number ("+7 900 123-45-67", "8 (900) 1234567": digits, spaces, dashes, dots and parentheses,
 * an optional leading '+'; 11 digits beginning with 8, Russia's trunk prefix, begin with 7; 11 to
 * 15 digits). Writes
 * the normal form to @ret (RECEIPT_CONTACT_MAX bytes). Returns the kind, or -EINVAL. */
int receipt_contact_parse(const char *text, char ret[static RECEIPT_CONTACT_MAX]);
