/* kh-workflow.h: records that are approved step by step, and locked once approved
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "kh-store.h"

G_BEGIN_DECLS

/* What an account may do beyond editing records in its area: a set of these bits. */
typedef enum
{
  KH_PERMIT_SUBMIT  = 1 << 0,   /* the officer: prepare and submit */
  KH_PERMIT_APPROVE = 1 << 1,   /* the chair of the association: approve, issue, reopen */
  KH_PERMIT_PAY     = 1 << 2,   /* the treasurer: record the payment */
} KhPermit;

#define KH_PERMIT_ALL (KH_PERMIT_SUBMIT | KH_PERMIT_APPROVE | KH_PERMIT_PAY)
/* A store whose writes are not judged: one bound to no server (there are no accounts to ask,
 * and the demo and lists made by hand hold approved lists of past years). */
#define KH_PERMIT_UNCHECKED (1u << 8)

/* "submit,approve,pay" and back; an unknown word makes kh_permits_parse() fail (-1). "none" or
 * "" is the empty set. */
int          kh_permits_parse          (const char   *text);
char        *kh_permits_to_string      (guint         permits);
/* What an account of @role may do when no permissions were set for it. */
guint        kh_permits_for_role       (const char   *role);

/* Whether @entity has approval states, and which field holds them. */
const char  *kh_workflow_state_field   (const char   *entity);
/* Whether a record of @entity with @data is locked (approved, paid, issued, submitted). */
gboolean     kh_workflow_is_locked     (const char   *entity,
                                        json_object  *data);
/* For an entity whose records a locked owner locks too (an award entry, by its list): the
 * owner's entity, and the field that names it; NULL otherwise. */
const char  *kh_workflow_owner         (const char   *entity,
                                        const char  **owner_field);

typedef enum
{
  KH_WORKFLOW_OK,
  KH_WORKFLOW_LOCKED,      /* the record or its owner is locked */
  KH_WORKFLOW_FORBIDDEN,   /* the step is not one this account may take */
  KH_WORKFLOW_INVALID,     /* a step out of order, or a reopening without a reason */
} KhWorkflowVerdict;

/* Judges one write: @old is the record before (NULL: a new one), @data after, @deleting whether
 * it is deleted (or restored), @changes the fields the write sets, @owner_locked whether the
 * record's owner (kh_workflow_owner()) is locked, before or after, and @owner_state its state,
 * @permits what the account may do. On a refusal, *@reason says why in the reader's words. */
KhWorkflowVerdict kh_workflow_judge    (const char   *entity,
                                        json_object  *old,
                                        json_object  *data,
                                        gboolean      deleting,
                                        json_object  *changes,
                                        gboolean      owner_locked,
                                        guint         permits,
                                        char        **reason);

/* The steps of a record's approval @entity's record in @state may take next, for the window:
 * each a target state the account with @permits may move it to (the array is NULL-terminated,
 * of static strings; free only the array). */
const char **kh_workflow_next_states   (const char   *entity,
                                        const char   *state,
                                        guint         permits);
/* Whether moving from @from to @to is a reopening (it then needs a reason). */
gboolean     kh_workflow_is_reopening  (const char   *entity,
                                        const char   *from,
                                        const char   *to);

/* The steps the store's writer may take: a replica bound to an account takes that account's
 * (read when the store opens, set again by the window at each sign-in); one bound to no server
 * is KH_PERMIT_UNCHECKED. */
void         kh_store_set_permits      (KhStore      *self,
                                        guint         permits);
guint        kh_store_get_permits      (KhStore      *self);

G_END_DECLS
