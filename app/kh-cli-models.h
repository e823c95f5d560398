/* kh-cli-models.h: khuyenhoc-cli's commands for the learning models: recognitions by one
 * decision, the built-in criteria sets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-cli-sync.h"

G_BEGIN_DECLS

int kh_cli_recognize        (const KhCliCommand  *command,
                             int                  argc,
                             char               **argv,
                             gpointer             data);
int kh_cli_criteria_builtin (const KhCliCommand  *command,
                             int                  argc,
                             char               **argv,
                             gpointer             data);

G_END_DECLS
