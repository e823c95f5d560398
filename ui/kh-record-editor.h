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

GtkWidget *kh_record_editor_new (KhStore     *store,
                                 const char  *entity,
                                 const char  *id,
                                 json_object *defaults);

G_END_DECLS
