/* kh-award-list-workflow.h: an award list's steps (draft, submitted, approved, paid) on its
 * page, and the payment recorded from there
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_AWARD_LIST_WORKFLOW (kh_award_list_workflow_get_type ())

G_DECLARE_FINAL_TYPE (KhAwardListWorkflow, kh_award_list_workflow, KH, AWARD_LIST_WORKFLOW, AdwPreferencesGroup)

GtkWidget  *kh_award_list_workflow_new        (KhStore             *store,
                                               const char          *list_id);
void        kh_award_list_workflow_reload     (KhAwardListWorkflow *self);
const char *kh_award_list_workflow_get_status (KhAwardListWorkflow *self);
void        kh_award_list_workflow_add_step   (KhAwardListWorkflow *self,
                                               GtkWidget           *button);
gboolean    kh_award_list_workflow_record_payment (KhAwardListWorkflow *self,
                                                   const char          *paid_on,
                                                   const char          *voucher_number,
                                                   guint               *n_paid,
                                                   GError             **error);

G_END_DECLS
