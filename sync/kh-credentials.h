/* kh-credentials.h: where the sync token is kept
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  kh_credentials_store   (const char  *db_path,
                                  const char  *server_url,
                                  const char  *username,
                                  const char  *token,
                                  GError     **error);
char     *kh_credentials_lookup  (const char  *db_path,
                                  const char  *server_url,
                                  const char  *username);
void      kh_credentials_clear   (const char  *db_path,
                                  const char  *server_url,
                                  const char  *username);
char     *kh_credentials_file    (const char  *db_path);

G_END_DECLS
