/* kh-schema.h: the local store's schema and its migrations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "kh-entity.h"

G_BEGIN_DECLS

/* The schema version this build writes. Version 1: the entity tables, outbox, audit and meta;
 * version 2: the sync engine's tables (base state, conflicts) and the fields added since;
 * version 3: what a reset re-pull has seen, and an index of open conflicts; version 4: indexes
 * of the folded names lists sort by; version 5: the search index fed from a queue at COMMIT,
 * and the figures' covering indexes; version 6: a leaner search index (no per-record sizes,
 * which only ranking reads) and no indexes the figures' covering ones already serve. */
#define KH_SCHEMA_VERSION 6

gboolean kh_schema_register_functions (sqlite3  *db,
                                       GError  **error);
int      kh_schema_get_version        (sqlite3  *db);
gboolean kh_schema_migrate            (sqlite3  *db,
                                       int       target,
                                       GError  **error);
int      kh_sqlite_open               (const char  *path,
                                       sqlite3    **db,
                                       gboolean     create);
gboolean kh_sqlite_exec               (sqlite3     *db,
                                       const char  *sql,
                                       GError     **error);
void     kh_sqlite_set_error          (GError     **error,
                                       sqlite3     *db,
                                       const char  *what);
char    *kh_entity_search_sql         (const KhEntity *entity,
                                       const char     *prefix);
char   **kh_entity_search_flush_sql   (const KhEntity *entity);
char    *kh_entity_search_queued_sql  (const KhEntity *entity);
gboolean kh_schema_flush_search       (sqlite3  *db,
                                       GError  **error);
gboolean kh_schema_defer_upkeep       (sqlite3  *db,
                                       GError  **error);
gboolean kh_schema_upkeep_deferred    (sqlite3  *db);
gboolean kh_schema_restore_upkeep     (sqlite3  *db,
                                       GError  **error);

typedef struct _KhSearchBuild KhSearchBuild;

KhSearchBuild *kh_search_build_start        (sqlite3        *db);
gboolean       kh_search_build_finish       (KhSearchBuild  *build,
                                             sqlite3        *db,
                                             GError        **error);
gboolean       kh_search_build_covers       (KhSearchBuild  *build,
                                             const char     *name);
void           kh_search_build_free         (KhSearchBuild  *build);
void           kh_search_build_set_min_rows (gint64          rows);
void           kh_search_build_end          (sqlite3        *db);
void           kh_search_build_remove_leftover (sqlite3     *db);

G_END_DECLS
