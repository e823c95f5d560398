/* kh-record-item.h: one record of an entity, as an item of a list model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-format.h"
#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_RECORD_ITEM (kh_record_item_get_type ())

G_DECLARE_FINAL_TYPE (KhRecordItem, kh_record_item, KH, RECORD_ITEM, GObject)

KhRecordItem       *kh_record_item_new            (const KhEntity *entity,
                                          json_object    *data);
const KhEntity *kh_record_item_get_entity     (KhRecordItem       *self);
const char     *kh_record_item_get_id         (KhRecordItem       *self);
json_object    *kh_record_item_get_data       (KhRecordItem       *self);
const char     *kh_record_item_get_string     (KhRecordItem       *self,
                                          const char     *field);
char           *kh_record_item_dup_title      (KhRecordItem       *self);

char           *kh_store_dup_title       (KhStore        *store,
                                          const char     *entity,
                                          const char     *id);

G_END_DECLS
