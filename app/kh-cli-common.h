/* kh-cli-common.h: what khuyenhoc-cli and khuyenhoc-server share: the command table, why a
 * file could not be opened or written, and reading a password
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

enum {
  KH_CLI_EXIT_OK = 0,
  KH_CLI_EXIT_FAILED = 1,
  KH_CLI_EXIT_USAGE = 2,
};

typedef struct _KhCliCommand KhCliCommand;

/* Runs @command with the words after its name; @data is the program's (kh_cli_dispatch()). */
typedef int (*KhCliHandler) (const KhCliCommand  *command,
                             int                  argc,
                             char               **argv,
                             gpointer             data);

/* One command: its synopsis (after the program's name) and summary are N_() strings, shown by
 * --help, by "PROGRAM COMMAND --help" and in every usage error, so they cannot drift apart. */
struct _KhCliCommand
{
  const char   *name;      /* one word, or two ("user add") */
  const char   *synopsis;
  const char   *summary;
  int           min_args;
  int           max_args;  /* -1: the command parses its own options */
  KhCliHandler  handler;
  const char   *details;   /* N_(), shown under the command's --help, or NULL */
};

/* How a program names itself in its usage lines, set once by its main(). */
typedef struct
{
  const char *name;          /* "khuyenhoc-cli", before a synopsis in a usage error */
  const char *help_name;     /* the same with the global options, before it under --help */
  const char *error_prefix;  /* before every usage error ("" for none) */
  int         column;        /* where the summaries start in a list of commands */
} KhCliProgram;

void                kh_cli_set_program    (const KhCliProgram  *program);
const KhCliCommand *kh_cli_command_find   (const KhCliCommand  *table,
                                           const char          *name);
void                kh_cli_print_commands (FILE                *out,
                                           const char          *heading,
                                           const KhCliCommand  *table);
void                kh_cli_print_help     (const KhCliCommand  *command);
/* Prints "@message Usage: PROGRAM SYNOPSIS" on one line; returns KH_CLI_EXIT_USAGE. */
int                 kh_cli_usage_error    (const KhCliCommand  *command,
                                           const char          *message);
/* Checks the number of arguments against min_args and max_args, with a usage error. */
gboolean            kh_cli_check_args     (const KhCliCommand  *command,
                                           int                  argc);
/* A usage error for @argc words where @expected were wanted. */
int                 kh_cli_wrong_count    (const KhCliCommand  *command,
                                           int                  argc,
                                           int                  expected);
int                 kh_cli_unknown_option (const KhCliCommand  *command,
                                           const char          *option);
int                 kh_cli_missing_value  (const KhCliCommand  *command,
                                           const char          *option);
/* Checks the arguments and runs the command's handler. */
int                 kh_cli_dispatch       (const KhCliCommand  *command,
                                           int                  argc,
                                           char               **argv,
                                           gpointer             data);

/* After opening the SQLite database at @path failed: what is wrong with the path (a folder, a
 * missing folder, a file that is not SQLite, a folder that cannot be written) and what to do,
 * as a translated sentence naming @option; NULL when none of these is the cause. */
char *kh_cli_explain_db_path (const char *path,
                              const char *option);

/* Before writing a new file at @path: what is wrong with its folder (missing, cannot be written
 * to), as a translated sentence; NULL when the file can be made there. */
char *kh_cli_explain_output_path (const char *path);

/* The first line of @file, or of standard input when @file is NULL (with a prompt on a
 * terminal); a password file that is missing, unreadable or empty is an error that names it.
 * The caller wipes the result. */
char *kh_cli_read_password (const char  *file,
                            GError     **error);

G_END_DECLS
