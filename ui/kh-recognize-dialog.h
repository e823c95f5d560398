/* kh-recognize-dialog.h: one decision recognizing many registrations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_RECOGNIZE_DIALOG (kh_recognize_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KhRecognizeDialog, kh_recognize_dialog, KH, RECOGNIZE_DIALOG, AdwWindow)

GtkWidget *kh_recognize_dialog_new            (KhStore           *store,
                                               const char        *model,
                                               int                year,
                                               const char        *org_unit_id);
guint      kh_recognize_dialog_get_n_selected (KhRecognizeDialog *self);
void       kh_recognize_dialog_set_decision   (KhRecognizeDialog *self,
                                               const char        *number,
                                               const char        *date,
                                               const char        *issuing_level);
guint      kh_recognize_dialog_recognize      (KhRecognizeDialog *self);

G_END_DECLS
