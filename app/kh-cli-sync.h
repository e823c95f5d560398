/* kh-cli-sync.h: khuyenhoc-cli's sync commands, and the command table both halves use
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stdio.h>

#include "kh-store.h"

G_BEGIN_DECLS

enum {
  KH_CLI_EXIT_OK = 0,
  KH_CLI_EXIT_FAILED = 1,
  KH_CLI_EXIT_USAGE = 2,
};

/* One command: its synopsis (after "khuyenhoc-cli ") and summary are N_() strings, shown by
 * --help, by "khuyenhoc-cli COMMAND --help" and in every usage error, so they cannot drift
 * apart. */
typedef struct
{
  const char *name;
  const char *synopsis;
  const char *summary;
  int         min_args;
  int         max_args;  /* -1: the command parses its own options */
} KhCliCommand;

const KhCliCommand *kh_cli_command_find   (const KhCliCommand *table,
                                           const char         *name);
void                kh_cli_print_commands (FILE               *out,
                                           const char         *heading,
                                           const KhCliCommand *table);
void                kh_cli_print_help     (const KhCliCommand *command);
/* Prints "@message Usage: khuyenhoc-cli SYNOPSIS" on one line; returns KH_CLI_EXIT_USAGE. */
int                 kh_cli_usage_error    (const KhCliCommand *command,
                                           const char         *message);
/* Checks the number of arguments against min_args and max_args, with a usage error. */
gboolean            kh_cli_check_args     (const KhCliCommand *command,
                                           int                 argc);
int                 kh_cli_unknown_option (const KhCliCommand *command,
                                           const char         *option);
int                 kh_cli_missing_value  (const KhCliCommand *command,
                                           const char         *option);

extern const KhCliCommand kh_cli_sync_commands[];

void     kh_cli_sync_usage      (FILE        *out);
int      kh_cli_sync            (KhStore     *store,
                                 const char  *command,
                                 gboolean     json,
                                 int          argc,
                                 char       **argv);

G_END_DECLS
