/* kh-record.h: one record of an entity, as an item of a list model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_RECORD (kh_record_get_type ())

G_DECLARE_FINAL_TYPE (KhRecord, kh_record, KH, RECORD, GObject)

KhRecord       *kh_record_new            (const KhEntity *entity,
                                          json_object    *data);
const KhEntity *kh_record_get_entity     (KhRecord       *self);
const char     *kh_record_get_id         (KhRecord       *self);
json_object    *kh_record_get_data       (KhRecord       *self);
const char     *kh_record_get_string     (KhRecord       *self,
                                          const char     *field);
char           *kh_record_dup_title      (KhRecord       *self);

char           *kh_value_format          (const KhField  *field,
                                          json_object    *value);
char           *kh_store_dup_title       (KhStore        *store,
                                          const char     *entity,
                                          const char     *id);

G_END_DECLS
