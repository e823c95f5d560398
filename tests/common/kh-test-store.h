/* kh-test-store.h: a throwaway store, valid records and row counts, for every suite's tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"
#include "kh-test-dir.h"

G_BEGIN_DECLS

/* Opens (making it) @dir/@name with the actor "tester"; asserts it worked. */
KhStore     *kh_test_open_store      (const char     *dir,
                                      const char     *name);
/* Creates a record of @entity from the JSON object @json; asserts it worked; the new id. */
char        *kh_test_create          (KhStore        *store,
                                      const char     *entity,
                                      const char     *json);
json_object *kh_test_valid_record    (const KhEntity *entity,
                                      KhStore        *store,
                                      gboolean        all_fields);
json_object *kh_test_field_value     (const KhField  *field);
gint64       kh_test_count           (KhStore        *store,
                                      const char     *table);
/* The one integer @sql (a constant statement such as SELECT count(*) …) reads. */
gint64       kh_test_query_int       (KhStore        *store,
                                      const char     *sql);
void         kh_test_assert_counts   (KhStore        *store,
                                      const char     *entity,
                                      gint64          records,
                                      gint64          outbox,
                                      gint64          audit);

G_END_DECLS
