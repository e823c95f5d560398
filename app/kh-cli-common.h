/* kh-cli-common.h: what khuyenhoc-cli and khuyenhoc-server share: why a file could not be
 * opened or written, and reading a password
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

/* The first line of @file, or of standard input when @file is NULL (with a prompt on a
 * terminal); a password file that is missing, unreadable or empty is an error that names it.
 * The caller wipes the result. */
char *kh_cli_read_password (const char  *file,
                            GError     **error);

G_END_DECLS
