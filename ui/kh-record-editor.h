/* kh-record-editor.h: a form for one record, built from the entity registry
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>
#include <json-c/json.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_RECORD_EDITOR (kh_record_editor_get_type ())

G_DECLARE_FINAL_TYPE (KhRecordEditor, kh_record_editor, KH, RECORD_EDITOR, AdwWindow)

GtkWidget  *kh_record_editor_new            (KhStore        *store,
                                             const char     *entity,
                                             const char     *id,
                                             json_object    *defaults);
const char *kh_record_editor_get_id         (KhRecordEditor *self);
GtkWidget  *kh_record_editor_get_row        (KhRecordEditor *self,
                                             const char     *field);
gboolean    kh_record_editor_set_ref        (KhRecordEditor *self,
                                             const char     *field,
                                             const char     *id);
const char *kh_record_editor_get_error      (KhRecordEditor *self);
gboolean    kh_record_editor_save           (KhRecordEditor *self);
gboolean    kh_record_editor_delete         (KhRecordEditor *self);
guint       kh_record_editor_show_history   (KhRecordEditor *self);
const char *kh_record_editor_get_history_title (KhRecordEditor *self,
                                                guint           n);

G_END_DECLS
