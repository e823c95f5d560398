/* kh-unit-time.h: records in time: a record's date against its unit's life
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* The span of days ("YYYY-MM-DD", both ends included) a record of @entity with the values
 * @record is dated in, and the field that dates it, when it has one and the write @changes
 * (NULL: a new record) touches it or the unit: a year is its whole year, a date its day.
 * FALSE when there is nothing to judge. */
gboolean  kh_unit_time_span      (const KhEntity  *entity,
                                  json_object     *record,
                                  json_object     *changes,
                                  char           **from,
                                  char           **to,
                                  const char     **field);
/* Whether a unit valid from @valid_from to @valid_to (either NULL: open) existed on some day
 * of [@from, @to]. */
gboolean  kh_unit_time_covers    (const char      *valid_from,
                                  const char      *valid_to,
                                  const char      *from,
                                  const char      *to);
/* The refusal of a record of @entity dated by @field in [@from, @to] in the unit @name, valid
 * [@valid_from, @valid_to], that did not exist then; @then names the units valid then, found
 * through the successions (its predecessors when the date is before it began, its successors
 * after it ended), or is NULL. */
char     *kh_unit_time_refusal   (const KhEntity  *entity,
                                  const char      *field,
                                  const char      *from,
                                  const char      *to,
                                  const char      *name,
                                  const char      *valid_from,
                                  const char      *valid_to,
                                  const char      *then);

/* The store's side (kh-store-write.c): refuses, in @store's own units and successions, a
 * record of @entity with @record (after the write of @changes; NULL: new) dated when its unit
 * did not exist. A unit the store does not hold is not judged (the server is). */
gboolean  kh_unit_time_check_store (KhStore         *store,
                                    const KhEntity  *entity,
                                    json_object     *record,
                                    json_object     *changes,
                                    GError         **error);

/* For an import of a past year: when the unit of @record (of @entity) did not exist on its
 * date and exactly one unit did, through the same code or the successions (a list of 2023
 * given the code of the commune that succeeded the one of that time), puts that unit in
 * @record and returns TRUE. Several (a merge: which one?) or none leave it to the refusal. */
gboolean  kh_unit_time_unit_then  (KhStore         *store,
                                   const KhEntity  *entity,
                                   json_object     *record);

G_END_DECLS
