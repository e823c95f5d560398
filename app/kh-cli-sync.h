/* kh-cli-sync.h: khuyenhoc-cli's sync commands, and what every command of khuyenhoc-cli is given
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stdio.h>

#include "kh-cli-common.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* The handlers' data (KhCliHandler): the global options and the words after the command. */
typedef struct
{
  const char *db_path;
  const char *actor;
  const char *passphrase_file;
  gboolean    json;
  int         argc;
  char      **argv;
  KhStore    *store;  /* open for every command but "entities" */
} KhCliContext;

extern const KhCliCommand kh_cli_sync_commands[];

void     kh_cli_sync_usage      (FILE        *out);

G_END_DECLS
