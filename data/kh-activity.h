/* kh-activity.h: a supervisor's report of the changes made in an area (GET /v1/activity)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-store.h"

G_BEGIN_DECLS

/* The header and the cells of each row of @rows (the server's activity rows) as people read
 * them: the time, who, from which device, what was done to which kind of record, its name, the
 * award list it belongs to and each change with field labels and values, references by what
 * they name in @store (never an id, unless the record is not on this computer). An array of
 * GStrv, the first the header. */
GPtrArray *kh_activity_table (KhStore      *store,
                              json_object  *rows);
/* Writes kh_activity_table() to @path: XLSX when it ends in .xlsx, else CSV (UTF-8, with a BOM
 * so spreadsheet programs read the tone marks). */
gboolean   kh_activity_write (KhStore      *store,
                              json_object  *rows,
                              const char   *path,
                              GError      **error);

G_END_DECLS
