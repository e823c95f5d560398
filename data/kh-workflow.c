/* kh-workflow.c: records that are approved step by step, and locked once approved
 *
 * One set of rules, which the local store and the server both apply: an award list goes draft →
 * submitted → approved → paid (→ closed), a recognition is issued by a decision, a unit's dossier
 * is submitted to the level above. Each state needs a permission of the account to enter; the
 * locked states refuse every change but the next step, and only an approver leaves them
 * backwards, with a reason, which the record keeps (and the history every earlier one).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-workflow.h"

typedef struct
{
  const char *name;
  guint       permit;    /* what entering the state needs */
  gboolean    locked;
} State;

typedef struct
{
  const char         *entity;
  const char         *field;
  const State        *states;    /* in order, ended by a NULL name */
  const char * const *details;   /* fields an approver or treasurer may set on a locked record */
} Workflow;

static const State list_states[] = {
  { "draft", KH_PERMIT_SUBMIT | KH_PERMIT_APPROVE, FALSE },
  { "submitted", KH_PERMIT_SUBMIT, FALSE },
  { "approved", KH_PERMIT_APPROVE, TRUE },
  { "paid", KH_PERMIT_PAY, TRUE },
  { "closed", KH_PERMIT_PAY, TRUE },
  { NULL, 0, FALSE },
};
static const char * const list_details[] = {
  "approved_by", "decision_number", "decision_date", "accountant", NULL
};

static const State recognition_states[] = {
  { "draft", KH_PERMIT_SUBMIT | KH_PERMIT_APPROVE, FALSE },
  { "issued", KH_PERMIT_APPROVE, TRUE },
  { NULL, 0, FALSE },
};
static const char * const no_details[] = { NULL };

static const State dossier_states[] = {
  { "draft", KH_PERMIT_SUBMIT | KH_PERMIT_APPROVE, FALSE },
  { "submitted", KH_PERMIT_SUBMIT, TRUE },
  { NULL, 0, FALSE },
};
/* The level above marks the dossier it evaluated. */
static const char * const dossier_details[] = { "status", NULL };

static const Workflow workflows[] = {
  { "award_list", "status", list_states, list_details },
  { "recognition", "status", recognition_states, no_details },
  { "registration", "dossier", dossier_states, dossier_details },
};

/* What a treasurer records on the entries of a locked list. */
static const char * const payment_fields[] = {
  "status", "received_on", "received_by", "voucher_number", NULL
};

#define REASON_FIELD "reopen_reason"

static const Workflow *
find (const char *entity)
{
  for (guint i = 0; entity != NULL && i < G_N_ELEMENTS (workflows); i++)
    if (strcmp (workflows[i].entity, entity) == 0)
      return &workflows[i];
  return NULL;
}

static const char * const permit_words[] = { "submit", "approve", "pay" };

int
kh_permits_parse (const char *text)
{
  g_auto(GStrv) words = NULL;
  int permits = 0;

  if (text == NULL || *text == '\0' || strcmp (text, "none") == 0)
    return 0;
  words = g_strsplit (text, ",", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *w = g_strstrip (words[i]);
      guint k;

      for (k = 0; k < G_N_ELEMENTS (permit_words); k++)
        if (strcmp (w, permit_words[k]) == 0)
          break;
      if (k == G_N_ELEMENTS (permit_words))
        return -1;
      permits |= 1 << k;
    }
  return permits;
}

char *
kh_permits_to_string (guint permits)
{
  GString *s = g_string_new (NULL);

  for (guint k = 0; k < G_N_ELEMENTS (permit_words); k++)
    if (permits & (1u << k))
      g_string_append_printf (s, "%s%s", s->len ? "," : "", permit_words[k]);
  return g_string_free (s, FALSE);
}

guint
kh_permits_for_role (const char *role)
{
  /* Approving and paying are given by name: an administrator runs the server, which does not
   * make them the chair or the treasurer. */
  if (g_strcmp0 (role, "officer") == 0 || g_strcmp0 (role, "admin") == 0)
    return KH_PERMIT_SUBMIT;
  return 0;
}

const char *
kh_workflow_state_field (const char *entity)
{
  const Workflow *w = find (entity);

  return w != NULL ? w->field : NULL;
}

static const char *
string_member (json_object *obj,
               const char  *name)
{
  json_object *v = NULL;

  if (obj == NULL || !json_object_object_get_ex (obj, name, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

/* The index of @state (NULL or unknown: the first). */
static int
state_index (const Workflow *w,
             const char     *state)
{
  for (int i = 0; state != NULL && w->states[i].name != NULL; i++)
    if (strcmp (w->states[i].name, state) == 0)
      return i;
  return 0;
}

gboolean
kh_workflow_is_locked (const char  *entity,
                       json_object *data)
{
  const Workflow *w = find (entity);

  return w != NULL && data != NULL && w->states[state_index (w, string_member (data, w->field))].locked;
}

const char *
kh_workflow_owner (const char  *entity,
                   const char **owner_field)
{
  if (g_strcmp0 (entity, "award_entry") == 0)
    {
      *owner_field = "list_id";
      return "award_list";
    }
  *owner_field = NULL;
  return NULL;
}

static gboolean
in_list (const char * const *list,
         const char         *name)
{
  for (guint i = 0; list[i] != NULL; i++)
    if (strcmp (list[i], name) == 0)
      return TRUE;
  return FALSE;
}

static const char *
state_label (const char *entity,
             const char *field,
             const char *state)
{
  const KhField *f = kh_entity_get_field (kh_entity_lookup (entity), field);

  for (guint i = 0; f != NULL && state != NULL && f->enum_values[i] != NULL; i++)
    if (strcmp (f->enum_values[i], state) == 0)
      return _(f->enum_labels[i]);
  return state != NULL ? state : "—";
}

static const char *
permit_label (guint permit)
{
  if (permit & KH_PERMIT_SUBMIT)
    return _("submit");
  if (permit & KH_PERMIT_APPROVE)
    return _("approve");
  return _("pay");
}

gboolean
kh_workflow_is_reopening (const char *entity,
                          const char *from,
                          const char *to)
{
  const Workflow *w = find (entity);
  int s, t;

  if (w == NULL)
    return FALSE;
  s = state_index (w, from);
  t = state_index (w, to);
  return w->states[s].locked && t < s;
}

/* Whether the account with @permits may move a record from state @s to @t (not the reason). */
static gboolean
may_move (const Workflow *w,
          int             s,
          int             t,
          guint           permits,
          gboolean       *in_order)
{
  *in_order = TRUE;
  if (w->states[s].locked && t < s)
    return (permits & KH_PERMIT_APPROVE) != 0;
  if (w->states[t].locked && t != s + 1)
    {
      *in_order = FALSE;
      return FALSE;
    }
  return (permits & w->states[t].permit) != 0;
}

KhWorkflowVerdict
kh_workflow_judge (const char   *entity,
                   json_object  *old,
                   json_object  *data,
                   gboolean      deleting,
                   json_object  *changes,
                   gboolean      owner_locked,
                   guint         permits,
                   char        **reason)
{
  const Workflow *w = find (entity);
  const KhEntity *e = kh_entity_lookup (entity);
  int s, t;
  gboolean in_order;
  g_autofree char *label = e != NULL ? g_utf8_strdown (_(e->label), -1) : NULL;

  *reason = NULL;
  if (owner_locked)
    {
      const char *owner_field;
      const char *owner = kh_workflow_owner (entity, &owner_field);
      gboolean payment = old != NULL && !deleting && changes != NULL;

      if (payment)
        {
          json_object_object_foreach (changes, pkey, pval)
            {
              (void) pval;
              if (!in_list (payment_fields, pkey))
                payment = FALSE;
            }
        }
      if (payment && (permits & KH_PERMIT_PAY))
        return KH_WORKFLOW_OK;
      g_autofree char *owner_label = g_utf8_strdown (owner != NULL ? _(kh_entity_lookup (owner)->label) : "", -1);

      *reason = g_strdup_printf (_("The %s it belongs to is approved and locked: its entries cannot "
                                   "be changed (a treasurer records only the payment). An approver "
                                   "can reopen it, with a reason."), owner_label);
      return KH_WORKFLOW_LOCKED;
    }
  if (w == NULL)
    return KH_WORKFLOW_OK;

  s = old != NULL ? state_index (w, string_member (old, w->field)) : 0;
  t = data != NULL ? state_index (w, string_member (data, w->field)) : s;

  if (deleting)
    {
      if (!w->states[s].locked)
        return KH_WORKFLOW_OK;
      *reason = g_strdup_printf (_("This %s is “%s” and locked: it cannot be deleted. An approver can "
                                   "reopen it, with a reason."),
                                 label, state_label (entity, w->field, w->states[s].name));
      return KH_WORKFLOW_LOCKED;
    }

  if (t == s)
    {
      /* No step: a locked record takes only what an approver or a treasurer adds to it. */
      if (old == NULL || !w->states[s].locked || changes == NULL)
        return KH_WORKFLOW_OK;
      json_object_object_foreach (changes, lkey, lval)
        {
          (void) lval;
          if (strcmp (lkey, w->field) == 0
              || (in_list (w->details, lkey) && (permits & (KH_PERMIT_APPROVE | KH_PERMIT_PAY))))
            continue;
          *reason = g_strdup_printf (_("This %s is “%s” and locked: it cannot be changed. An approver "
                                       "can reopen it, with a reason."),
                                     label, state_label (entity, w->field, w->states[s].name));
          return KH_WORKFLOW_LOCKED;
        }
      return KH_WORKFLOW_OK;
    }

  /* A record entered already past its first steps (a past year's list, approved and paid
   * before it was typed in) is written by an account that may take every one of them. */
  if (old == NULL && t > 0)
    {
      guint needed = 0;

      for (int k = 1; k <= t; k++)
        needed |= w->states[k].permit;
      if ((permits & needed) == needed)
        return KH_WORKFLOW_OK;
    }
  if (!may_move (w, s, t, permits, &in_order))
    {
      const char *from = state_label (entity, w->field, w->states[s].name);
      const char *to = state_label (entity, w->field, w->states[t].name);

      if (!in_order)
        {
          *reason = g_strdup_printf (_("Each %s goes through its steps in order: it cannot go from "
                                       "“%s” to “%s”."), label, from, to);
          return KH_WORKFLOW_INVALID;
        }
      *reason = g_strdup_printf (_("Your account may not take this step (“%s” to “%s”): it needs "
                                   "the permission to %s, which the server's administrator gives."),
                                 from, to,
                                 permit_label (w->states[s].locked && t < s ? KH_PERMIT_APPROVE
                                                                            : w->states[t].permit));
      return KH_WORKFLOW_FORBIDDEN;
    }
  if (w->states[s].locked && t < s)
    {
      const char *why = string_member (changes, REASON_FIELD);

      if (why == NULL || *why == '\0')
        {
          *reason = g_strdup (_("Reopening needs a reason: write it in “Reason for reopening”."));
          return KH_WORKFLOW_INVALID;
        }
      return KH_WORKFLOW_OK;
    }
  /* A step forward from a locked state carries its details and nothing else. */
  if (w->states[s].locked && changes != NULL)
    {
      json_object_object_foreach (changes, skey, sval)
        {
          (void) sval;
          if (strcmp (skey, w->field) == 0 || in_list (w->details, skey))
            continue;
          *reason = g_strdup_printf (_("This %s is “%s” and locked: it cannot be changed. An approver "
                                       "can reopen it, with a reason."),
                                     label, state_label (entity, w->field, w->states[s].name));
          return KH_WORKFLOW_LOCKED;
        }
    }
  return KH_WORKFLOW_OK;
}

const char **
kh_workflow_next_states (const char *entity,
                         const char *state,
                         guint       permits)
{
  const Workflow *w = find (entity);
  GPtrArray *out = g_ptr_array_new ();

  if (w != NULL)
    {
      int s = state_index (w, state);

      for (int t = 0; w->states[t].name != NULL; t++)
        {
          gboolean in_order;

          if (t != s && may_move (w, s, t, permits, &in_order))
            g_ptr_array_add (out, (gpointer) w->states[t].name);
        }
    }
  g_ptr_array_add (out, NULL);
  return (const char **) g_ptr_array_free (out, FALSE);
}
