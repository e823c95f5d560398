/* kh-cli-sync.h: khuyenhoc-cli's sync commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-store.h"

G_BEGIN_DECLS

#include <stdio.h>

gboolean kh_cli_is_sync_command (const char  *command);
void     kh_cli_sync_usage      (FILE        *out);
int      kh_cli_sync            (KhStore     *store,
                                 const char  *command,
                                 gboolean     json,
                                 int          argc,
                                 char       **argv);

G_END_DECLS
