/* kh-workflow-bar.h: a record's approval state and the steps the account may take
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-award-list-workflow.h"
#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_WORKFLOW_BAR (kh_workflow_bar_get_type ())

G_DECLARE_FINAL_TYPE (KhWorkflowBar, kh_workflow_bar, KH, WORKFLOW_BAR, AdwPreferencesGroup)

/* For a record of an entity with approval steps (kh_workflow_state_field()). Emits "stepped"
 * after a step was taken. */
GtkWidget  *kh_workflow_bar_new        (KhStore        *store,
                                        const char     *entity,
                                        const char     *id);
void        kh_workflow_bar_refresh    (KhWorkflowBar  *self);
/* Takes the step to @state, with @reason when it reopens the record; what a button does. */
gboolean    kh_workflow_bar_take_step  (KhWorkflowBar  *self,
                                        const char     *state,
                                        const char     *reason,
                                        GError        **error);
/* The button that moves the record to @state, or NULL when the account may not. */
GtkWidget  *kh_workflow_bar_get_button (KhWorkflowBar  *self,
                                        const char     *state);
/* An award list's payment, which its "paid" step records; NULL for other records. */
KhAwardListWorkflow *kh_workflow_bar_get_payment (KhWorkflowBar *self);
/* The steps the store's account may take (all for a replica bound to no server). */
guint       kh_workflow_bar_permits    (KhStore        *store);
/* Whether a record of @entity with @data is locked for this window's account: the record
 * itself, or (an award entry) its list; never in a replica bound to no server, whose store
 * does not judge. */
gboolean    kh_workflow_bar_locks      (KhStore        *store,
                                        const char     *entity,
                                        json_object    *data);

G_END_DECLS
