/* kh-store-sql.h: the store at the level of SQL, for what writes beside it in the same
 * transactions (the journal, the replica) and for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

sqlite3       *kh_store_get_db         (KhStore        *self);
sqlite3_stmt  *kh_store_prepare        (KhStore        *self,
                                        const char     *sql,
                                        GError        **error);
/* kh_store_prepare() for SQL text that lives as long as the program (built once), looked up by
 * its address rather than hashed: for long multi-row statements. The bindings of the last use
 * are not cleared: the caller binds every parameter. */
sqlite3_stmt *kh_store_prepare_static (KhStore     *self,
                                       const char  *sql,
                                       GError     **error);
json_object   *kh_store_row_to_json    (const KhEntity *entity,
                                        sqlite3_stmt   *stmt,
                                        int             first_field_column);
void           kh_store_bind_value     (sqlite3_stmt   *stmt,
                                        int             index,
                                        const KhField  *field,
                                        json_object    *value);
char          *kh_store_value_to_text  (json_object    *value);
char          *kh_store_now            (void);
char          *kh_store_select_columns (const KhEntity *entity);
void           kh_store_emit_changed   (KhStore        *self,
                                        const char     *entity,
                                        const char     *id);

G_END_DECLS
