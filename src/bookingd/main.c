/* SPDX-License-Identifier: MIT */
#include "bookingd.h"
#include "cli.h"

static const char help[] =
        "Usage: tgfleet-bookingd [OPTIONS]\n"
        "The businesses' bookings, for their own bots (D-Bus org.tgfleet.Booking1).\n\n"
        CLI_HELP_COMMON
        CLI_HELP_END;

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                {},
        };

        return cli_daemon_main(argc, argv, "tgfleet-bookingd", options, help, bookingd_run);
}
