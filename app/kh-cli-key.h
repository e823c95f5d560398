/* kh-cli-key.h: the CLI asks for the passphrase of a replica's key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean kh_cli_unlock (const char  *db_path,
                        const char  *passphrase_file,
                        GError     **error);

G_END_DECLS
