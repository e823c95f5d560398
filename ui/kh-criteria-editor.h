/* kh-criteria-editor.h: a criteria set and its criteria, edited together
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_CRITERIA_EDITOR (kh_criteria_editor_get_type ())

G_DECLARE_FINAL_TYPE (KhCriteriaEditor, kh_criteria_editor, KH, CRITERIA_EDITOR, AdwWindow)

GtkWidget *kh_criteria_editor_new           (KhStore          *store,
                                             const char       *criteria_set_id);
gboolean   kh_criteria_editor_is_used       (KhCriteriaEditor *self);
void       kh_criteria_editor_set_field     (KhCriteriaEditor *self,
                                             const char       *name,
                                             const char       *text);
void       kh_criteria_editor_add_criterion (KhCriteriaEditor *self,
                                             const char       *code,
                                             const char       *title,
                                             int               max_points);
guint      kh_criteria_editor_get_n_criteria (KhCriteriaEditor *self);
char      *kh_criteria_editor_save          (KhCriteriaEditor *self);

G_END_DECLS
