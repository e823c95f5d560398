/* kh-schema.h: the local store's schema and its migrations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "kh-entity.h"
#include "kh-sqlite.h"

G_BEGIN_DECLS

/* The schema version this build writes. Version 1: the entity tables, outbox, audit and meta;
 * version 2: the sync engine's tables (base state, conflicts) and the fields added since;
 * version 3: what a reset re-pull has seen, and an index of open conflicts; version 4: indexes
 * of the folded names lists sort by; version 5: the search index fed from a queue at COMMIT,
 * and the figures' covering indexes; version 6: a leaner search index (no per-record sizes,
 * which only ranking reads) and no indexes the figures' covering ones already serve; version
 * 10: criteria sets by subject group and level rule, evaluation stages, registration states;
 * version 11: the figures' covering index of recognitions; version 12: the fund ledger's fields
 * (a fund's opening balance, earmarks, a payment's category); version 13: the approval states of
 * recognitions and dossiers, and the reason a locked record was reopened; version 18: the
 * figures' covering index of evaluations with their stage. */
#define KH_SCHEMA_VERSION 18
/* Version 14: attachments (the entity, and what this replica knows of each file). */
#define KH_ATTACH_VERSION 14
/* Version 17: a unit's search text holds the names of the units above it (kh-search-path.c). */
#define KH_UNIT_PATH_VERSION 17

int      kh_schema_get_version        (sqlite3  *db);
gboolean kh_schema_migrate            (sqlite3  *db,
                                       int       target,
                                       GError  **error);
char   **kh_entity_search_flush_sql   (const KhEntity *entity);
char    *kh_entity_search_queued_sql  (const KhEntity *entity);
gboolean kh_schema_flush_search       (sqlite3  *db,
                                       GError  **error);
gboolean kh_schema_defer_upkeep       (sqlite3  *db,
                                       GError  **error);
gboolean kh_schema_upkeep_deferred    (sqlite3  *db);
gboolean kh_schema_restore_upkeep     (sqlite3  *db,
                                       GError  **error);

G_END_DECLS
