/* kh-evaluation-dialog.h: scoring a registration against the criteria set in force
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_EVALUATION_DIALOG (kh_evaluation_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KhEvaluationDialog, kh_evaluation_dialog, KH, EVALUATION_DIALOG, AdwWindow)

GtkWidget *kh_evaluation_dialog_new (KhStore    *store,
                                     const char *registration_id);

G_END_DECLS
