/* kh-record-picker.h: a button that chooses one record, searched as it is typed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-record-list.h"
#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_RECORD_PICKER (kh_record_picker_get_type ())

G_DECLARE_FINAL_TYPE (KhRecordPicker, kh_record_picker, KH, RECORD_PICKER, GtkWidget)

/* How many matches the picker shows at most: it reads no more than that from the store. */
#define KH_RECORD_PICKER_MAX_SHOWN 200

GtkWidget    *kh_record_picker_new             (KhStore        *store,
                                                const char     *entity);
void          kh_record_picker_set_entity      (KhRecordPicker *self,
                                                const char     *entity);
const char   *kh_record_picker_get_entity      (KhRecordPicker *self);
void          kh_record_picker_set_none_label  (KhRecordPicker *self,
                                                const char     *label);
KhRecordItem *kh_record_picker_get_selected    (KhRecordPicker *self);
const char   *kh_record_picker_get_selected_id (KhRecordPicker *self);
gboolean      kh_record_picker_set_selected_id (KhRecordPicker *self,
                                                const char     *id);
char         *kh_record_picker_dup_title       (KhRecordPicker *self,
                                                KhRecordItem   *record);
void          kh_record_picker_set_has_frame   (KhRecordPicker *self,
                                                gboolean        has_frame);
void          kh_record_picker_popup           (KhRecordPicker *self);
void          kh_record_picker_set_filter      (KhRecordPicker *self,
                                                const char     *field,
                                                json_object    *value);

G_END_DECLS
