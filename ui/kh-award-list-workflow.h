/* kh-award-list-workflow.h: an award list's payment, recorded from its steps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_AWARD_LIST_WORKFLOW (kh_award_list_workflow_get_type ())

G_DECLARE_FINAL_TYPE (KhAwardListWorkflow, kh_award_list_workflow, KH, AWARD_LIST_WORKFLOW, GObject)

/* @anchor (not referenced) is the widget whose window the payment dialog belongs to, and
 * whose toast overlay says what was recorded. */
KhAwardListWorkflow *kh_award_list_workflow_new        (KhStore             *store,
                                                        const char          *list_id,
                                                        GtkWidget           *anchor);
void                 kh_award_list_workflow_reload     (KhAwardListWorkflow *self);
const char          *kh_award_list_workflow_get_status (KhAwardListWorkflow *self);
/* Opens the dialog that records the payment: the date (today) and the voucher number. */
GtkWidget           *kh_award_list_workflow_open_payment (KhAwardListWorkflow *self);
gboolean             kh_award_list_workflow_record_payment (KhAwardListWorkflow *self,
                                                            const char          *paid_on,
                                                            const char          *voucher_number,
                                                            guint               *n_paid,
                                                            GError             **error);

G_END_DECLS
