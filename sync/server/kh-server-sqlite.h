/* kh-server-sqlite.h: the server's storage on SQLite (the default: one file, no set-up)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-server-backend.h"

G_BEGIN_DECLS

#define KH_TYPE_SERVER_SQLITE (kh_server_sqlite_get_type ())

G_DECLARE_FINAL_TYPE (KhServerSqlite, kh_server_sqlite, KH, SERVER_SQLITE, GObject)

KhServerSqlite *kh_server_sqlite_open (const char  *path,
                                       GError     **error);

G_END_DECLS
