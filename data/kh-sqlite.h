/* kh-sqlite.h: opening a connection and the small helpers every user of SQLite here shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

int      kh_sqlite_open               (const char  *path,
                                       sqlite3    **db,
                                       gboolean     create);
void     kh_sqlite_make_private       (const char  *path);
void     kh_sqlite_make_private_folder (const char *folder);
gboolean kh_sqlite_exec               (sqlite3     *db,
                                       const char  *sql,
                                       GError     **error);
void     kh_sqlite_set_error          (GError     **error,
                                       sqlite3     *db,
                                       const char  *what);
gboolean kh_sqlite_step_done          (sqlite3_stmt *stmt,
                                       const char   *what,
                                       GError      **error);
gboolean kh_sqlite_register_functions (sqlite3     *db,
                                       GError     **error);

G_END_DECLS
