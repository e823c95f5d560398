/* kh-search-build.h: the search index's text, and its building beside the database
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "kh-entity.h"

G_BEGIN_DECLS

typedef struct _KhSearchBuild KhSearchBuild;

char          *kh_entity_search_sql         (const KhEntity *entity,
                                             const char     *prefix);
/* kh-search-path.c: a record's path (a unit's parents) in its search text */
const KhField *kh_entity_path_field         (const KhEntity *entity);
char          *kh_entity_search_path_sql    (const KhEntity *entity,
                                             const char     *prefix);
char          *kh_entity_search_text_sql    (const KhEntity *entity,
                                             const char     *prefix);
void           kh_entity_append_path_triggers (GString      *sql,
                                             const KhEntity *entity);

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
