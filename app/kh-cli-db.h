/* kh-cli-db.h: why a database file could not be opened, for khuyenhoc-cli and khuyenhoc-server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* After opening the SQLite database at @path failed: what is wrong with the path (a folder, a
 * missing folder, a file that is not SQLite, a folder that cannot be written) and what to do,
 * as a translated sentence naming @option; NULL when none of these is the cause. */
char *kh_cli_explain_db_path (const char *path,
                              const char *option);

/* Before writing a new file at @path: what is wrong with its folder (missing, cannot be written
 * to), as a translated sentence; NULL when the file can be made there. */
char *kh_cli_explain_output_path (const char *path);

G_END_DECLS
