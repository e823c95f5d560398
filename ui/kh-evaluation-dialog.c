/* kh-evaluation-dialog.c: scoring a registration against the criteria set in force
 *
 * The dialog finds the criteria set in force for the registration's model and year, shows one
 * row per criterion (points with a spin button, a checklist with a check box), and computes the
 * total and the result from the set's pass rule as the scores are entered; nobody types a
 * result. Saving records the evaluation and marks the registration evaluated.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"

#include <string.h>

#include "kh-evaluate.h"
#include "kh-models.h"
#include "kh-evaluation-dialog.h"
#include "kh-ui-test-private.h"

struct _KhEvaluationDialog
{
  AdwWindow            parent_instance;

  KhStore             *store;
  char                *registration_id;
  json_object         *registration;
  json_object         *criteria_set;
  json_object         *criteria;
  GPtrArray           *inputs;      /* parallel to criteria: GtkSpinButton or GtkCheckButton */

  AdwWindowTitle      *title_widget;
  GtkStack            *stack;
  GtkLabel            *error_label;
  AdwPreferencesGroup *criteria_group;
  AdwActionRow        *total_row;
  AdwActionRow        *result_row;
  GtkLabel            *total_label;
  GtkLabel            *result_label;
  AdwEntryRow         *evaluator_row;
  AdwStatusPage       *missing_page;
  GtkWidget           *save_button;
};

G_DEFINE_FINAL_TYPE (KhEvaluationDialog, kh_evaluation_dialog, ADW_TYPE_WINDOW)

enum {
  SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
is_checklist (KhEvaluationDialog *self)
{
  return g_strcmp0 (json_object_get_string (json_object_object_get (self->criteria_set, "method")),
                    "checklist") == 0;
}

static json_object *
current_scores (KhEvaluationDialog *self)
{
  json_object *scores = json_object_new_object ();

  for (guint i = 0; i < self->inputs->len; i++)
    {
      json_object *criterion = json_object_array_get_idx (self->criteria, i);
      const char *code = json_object_get_string (json_object_object_get (criterion, "code"));
      GtkWidget *input = self->inputs->pdata[i];
      int points = GTK_IS_SPIN_BUTTON (input)
                   ? gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (input))
                   : gtk_check_button_get_active (GTK_CHECK_BUTTON (input)) ? 1 : 0;

      json_object_object_add (scores, code, json_object_new_int (points));
    }
  return scores;
}

static gboolean
is_share (KhEvaluationDialog *self)
{
  return g_strcmp0 (json_object_get_string (json_object_object_get (self->criteria_set, "level_rule")),
                    "citizen_share") == 0;
}

/* The scores the dialog stands for: its inputs, or for a set by the share of learning
 * citizens, the share counted from the records. */
static json_object *
scores_shown (KhEvaluationDialog *self)
{
  json_object *scores;
  gint64 members = 0, citizens = 0;

  if (!is_share (self))
    return current_scores (self);
  scores = json_object_new_object ();
  if (kh_unit_citizen_share (self->store,
                             json_object_get_string (json_object_object_get (self->registration, "subject_id")),
                             json_object_get_int (json_object_object_get (self->registration, "year")),
                             &members, &citizens, NULL))
    {
      json_object_object_add (scores, "members", json_object_new_int64 (members));
      json_object_object_add (scores, "learning_citizens", json_object_new_int64 (citizens));
    }
  return scores;
}

const char *
kh_evaluation_dialog_get_result (KhEvaluationDialog *self,
                                 int                *total)
{
  json_object *scores;
  const char *result;

  g_return_val_if_fail (KH_IS_EVALUATION_DIALOG (self), NULL);

  if (self->criteria_set == NULL)
    return NULL;
  scores = scores_shown (self);
  result = kh_evaluate_result (self->criteria_set, self->criteria, scores, total);
  json_object_put (scores);
  return result;
}

static void
update_result (KhEvaluationDialog *self)
{
  const KhField *field = kh_entity_get_field (kh_entity_lookup ("evaluation"), "result");
  int total = 0;
  const char *result = kh_evaluation_dialog_get_result (self, &total);
  g_autofree char *total_text = NULL;
  json_object *max = json_object_object_get (self->criteria_set, "max_total");

  if (max != NULL && !is_checklist (self))
    /* TRANSLATORS: a score out of a maximum, e.g. "86 / 100" */
    total_text = g_strdup_printf (_("%d / %d"), total, json_object_get_int (max));
  else
    total_text = g_strdup_printf ("%d", total);
  gtk_label_set_text (self->total_label, total_text);
  gtk_label_set_text (self->result_label, kh_field_enum_label (field, result));
}

gboolean
kh_evaluation_dialog_set_score (KhEvaluationDialog *self,
                                const char         *code,
                                int                 points)
{
  g_return_val_if_fail (KH_IS_EVALUATION_DIALOG (self), FALSE);

  for (guint i = 0; i < self->inputs->len; i++)
    {
      json_object *criterion = json_object_array_get_idx (self->criteria, i);
      GtkWidget *input = self->inputs->pdata[i];

      if (g_strcmp0 (json_object_get_string (json_object_object_get (criterion, "code")), code) != 0)
        continue;
      if (GTK_IS_SPIN_BUTTON (input))
        gtk_spin_button_set_value (GTK_SPIN_BUTTON (input), points);
      else
        gtk_check_button_set_active (GTK_CHECK_BUTTON (input), points > 0);
      return TRUE;
    }
  return FALSE;
}

static char *
describe_rule (KhEvaluationDialog *self)
{
  json_object *set = self->criteria_set;
  const char *method = json_object_get_string (json_object_object_get (set, "method"));
  json_object *v;

  if (g_strcmp0 (method, "levels") == 0)
    return g_strdup_printf (_("Level 1 from %d points, level 2 from %d, level 3 from %d."),
                            json_object_get_int (json_object_object_get (set, "level1_min")),
                            json_object_get_int (json_object_object_get (set, "level2_min")),
                            json_object_get_int (json_object_object_get (set, "level3_min")));
  if (g_strcmp0 (method, "checklist") == 0)
    return g_strdup (_("Achieved when every criterion is met."));
  if (json_object_object_get_ex (set, "pass_min_item", &v) && v != NULL)
    return g_strdup_printf (_("Achieved from %d points, with at least %d on every criterion."),
                            json_object_get_int (json_object_object_get (set, "pass_min_total")),
                            json_object_get_int (v));
  return g_strdup_printf (_("Achieved from %d points."),
                          json_object_get_int (json_object_object_get (set, "pass_min_total")));
}

static void
build (KhEvaluationDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rule = NULL;
  g_autofree char *description = NULL;
  g_autofree char *subtitle = NULL;
  const char *model;
  const char *set_id;
  int year;

  self->registration = kh_store_get (self->store, "registration", self->registration_id, &error);
  if (self->registration == NULL)
    goto missing;
  model = json_object_get_string (json_object_object_get (self->registration, "model"));
  year = json_object_get_int (json_object_object_get (self->registration, "year"));
  /* TRANSLATORS: the evaluation dialog's subtitle: "Learning unit, 2025" */
  subtitle = g_strdup_printf (_("%s, %d"),
                              kh_field_enum_label (kh_entity_get_field (kh_entity_lookup ("registration"), "model"), model),
                              year);
  adw_window_title_set_title (self->title_widget,
                              json_object_get_string (json_object_object_get (self->registration, "subject_name")));
  adw_window_title_set_subtitle (self->title_widget, subtitle);

  /* The set of the registration's place and level (kh-models.c). */
  self->criteria_set = kh_criteria_set_for_registration (self->store, self->registration, &error);
  if (self->criteria_set == NULL)
    goto missing;
  set_id = json_object_get_string (json_object_object_get (self->criteria_set, "id"));
  self->criteria = kh_criteria_list (self->store, set_id, &error);
  if (self->criteria == NULL)
    goto missing;
  /* A set by the share of learning citizens has no criteria to score: the share is counted. */
  if (json_object_array_length (self->criteria) == 0
      && g_strcmp0 (json_object_get_string (json_object_object_get (self->criteria_set, "level_rule")),
                    "citizen_share") != 0)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The criteria set “%s” has no criteria yet. Add its criteria before evaluating."),
                   json_object_get_string (json_object_object_get (self->criteria_set, "name")));
      goto missing;
    }

  rule = describe_rule (self);
  description = g_strdup_printf ("%s · %s",
                                 json_object_get_string (json_object_object_get (self->criteria_set, "legal_basis"))
                                 ? json_object_get_string (json_object_object_get (self->criteria_set, "legal_basis")) : "",
                                 rule);
  /* A group's title and description are markup: the set's own words are escaped. */
  {
    const char *name = json_object_get_string (json_object_object_get (self->criteria_set, "name"));
    g_autofree char *title = g_markup_escape_text (name ? name : "", -1);
    g_autofree char *text = g_markup_escape_text (description, -1);

    adw_preferences_group_set_title (self->criteria_group, title);
    adw_preferences_group_set_description (self->criteria_group, text);
  }

  for (size_t i = 0; i < json_object_array_length (self->criteria); i++)
    {
      json_object *criterion = json_object_array_get_idx (self->criteria, i);
      g_autofree char *title = g_strdup_printf ("%s. %s",
                                                json_object_get_string (json_object_object_get (criterion, "code")),
                                                json_object_get_string (json_object_object_get (criterion, "title")));
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *input;

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      if (is_checklist (self))
        {
          input = gtk_check_button_new ();
          g_signal_connect_swapped (input, "toggled", G_CALLBACK (update_result), self);
        }
      else
        {
          int max = json_object_get_int (json_object_object_get (criterion, "max_points"));
          g_autofree char *hint = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Up to %d point",
                                                                "Up to %d points", (gulong) max), max);

          input = gtk_spin_button_new_with_range (0, max > 0 ? max : 1000, 1);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), hint);
          g_signal_connect_swapped (input, "value-changed", G_CALLBACK (update_result), self);
        }
      gtk_widget_set_valign (input, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (input), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), input);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), input);
      adw_preferences_group_add (self->criteria_group, row);
      g_ptr_array_add (self->inputs, input);
    }
  update_result (self);
  gtk_stack_set_visible_child_name (self->stack, "form");
  return;

missing:
  adw_status_page_set_description (self->missing_page, error->message);
  gtk_stack_set_visible_child_name (self->stack, "missing");
  gtk_widget_set_sensitive (self->save_button, FALSE);
}

gboolean
kh_evaluation_dialog_save (KhEvaluationDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *id = NULL;
  json_object *scores;

  g_return_val_if_fail (KH_IS_EVALUATION_DIALOG (self), FALSE);

  if (self->criteria_set == NULL)
    return FALSE;
  /* The store counts a share itself. */
  scores = is_share (self) ? NULL : current_scores (self);
  id = kh_evaluate_save (self->store, self->registration_id, self->criteria_set, self->criteria, scores,
                         gtk_editable_get_text (GTK_EDITABLE (self->evaluator_row)), today, &error);
  json_object_put (scores);
  if (id == NULL)
    {
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return FALSE;
    }
  g_signal_emit (self, signals[SAVED], 0, id);
  gtk_window_close (GTK_WINDOW (self));
  return TRUE;
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  kh_evaluation_dialog_save (KH_EVALUATION_DIALOG (widget));
}

static void
kh_evaluation_dialog_dispose (GObject *object)
{
  KhEvaluationDialog *self = (KhEvaluationDialog *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_EVALUATION_DIALOG);
  g_clear_pointer (&self->inputs, g_ptr_array_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_evaluation_dialog_parent_class)->dispose (object);
}

static void
kh_evaluation_dialog_finalize (GObject *object)
{
  KhEvaluationDialog *self = (KhEvaluationDialog *) object;

  g_clear_pointer (&self->registration_id, g_free);
  g_clear_pointer (&self->registration, json_object_put);
  g_clear_pointer (&self->criteria_set, json_object_put);
  g_clear_pointer (&self->criteria, json_object_put);

  G_OBJECT_CLASS (kh_evaluation_dialog_parent_class)->finalize (object);
}

static void
kh_evaluation_dialog_class_init (KhEvaluationDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_evaluation_dialog_dispose;
  object_class->finalize = kh_evaluation_dialog_finalize;

  signals[SAVED] = g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-evaluation-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, title_widget);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, criteria_group);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, total_row);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, result_row);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, total_label);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, result_label);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, evaluator_row);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, missing_page);
  gtk_widget_class_bind_template_child (widget_class, KhEvaluationDialog, save_button);

  gtk_widget_class_install_action (widget_class, "evaluation.save", NULL, save_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "evaluation.save", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kh_evaluation_dialog_init (KhEvaluationDialog *self)
{
  self->inputs = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));

  /* The rows are titled as the fields they fill, from the registry. */
  {
    const KhEntity *evaluation = kh_entity_lookup ("evaluation");

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->total_row),
                                   _(kh_entity_get_field (evaluation, "total")->label));
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->result_row),
                                   _(kh_entity_get_field (evaluation, "result")->label));
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->evaluator_row),
                                   _(kh_entity_get_field (evaluation, "evaluator")->label));
  }
}

GtkWidget *
kh_evaluation_dialog_new (KhStore    *store,
                          const char *registration_id)
{
  KhEvaluationDialog *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (registration_id != NULL, NULL);

  self = g_object_new (KH_TYPE_EVALUATION_DIALOG, NULL);
  self->store = g_object_ref (store);
  self->registration_id = g_strdup (registration_id);
  build (self);
  return GTK_WIDGET (self);
}
