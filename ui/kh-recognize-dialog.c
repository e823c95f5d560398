/* kh-recognize-dialog.c: one decision recognizing many registrations
 *
 * A commune's People's Committee recognizes the year's learning families in one decision: the
 * dialog lists the registrations that passed and are not yet recognized (of a model and year,
 * in a unit or the whole replica), all ticked, and writes one recognition for each ticked one
 * with the decision's number, date and issuing level, all or none (kh_recognize()).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"
#include "kh-models.h"
#include "kh-recognize-dialog.h"
#include "kh-toast.h"
#include "kh-validate.h"

struct _KhRecognizeDialog
{
  AdwWindow      parent_instance;

  KhStore       *store;
  char          *model;
  int            year;
  json_object   *candidates;
  GPtrArray     *checks;       /* GtkCheckButton, one per candidate */
  AdwEntryRow   *number_row;
  AdwEntryRow   *date_row;
  AdwComboRow   *level_row;
  AdwEntryRow   *title_row;
  AdwPreferencesGroup *list_group;
  GtkLabel      *error_label;
  GtkButton     *recognize_button;
};

G_DEFINE_FINAL_TYPE (KhRecognizeDialog, kh_recognize_dialog, ADW_TYPE_WINDOW)

static const KhField *
level_field (void)
{
  return kh_entity_get_field (kh_entity_lookup ("recognition"), "issuing_level");
}

guint
kh_recognize_dialog_get_n_selected (KhRecognizeDialog *self)
{
  guint n = 0;

  g_return_val_if_fail (KH_IS_RECOGNIZE_DIALOG (self), 0);
  for (guint i = 0; i < self->checks->len; i++)
    n += gtk_check_button_get_active (self->checks->pdata[i]) ? 1 : 0;
  return n;
}

static void
update (KhRecognizeDialog *self)
{
  guint n = kh_recognize_dialog_get_n_selected (self);
  g_autofree char *label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "_Recognize %u", "_Recognize %u", n), n);
  g_autofree char *description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u selected",
                                                               "%u of %u selected", self->checks->len),
                                                  n, self->checks->len);

  gtk_button_set_label (self->recognize_button, label);
  gtk_widget_set_sensitive (GTK_WIDGET (self->recognize_button), n > 0);
  adw_preferences_group_set_description (self->list_group, description);
}

void
kh_recognize_dialog_set_decision (KhRecognizeDialog *self,
                                  const char        *number,
                                  const char        *date,
                                  const char        *issuing_level)
{
  const KhField *f = level_field ();

  g_return_if_fail (KH_IS_RECOGNIZE_DIALOG (self));
  gtk_editable_set_text (GTK_EDITABLE (self->number_row), number);
  gtk_editable_set_text (GTK_EDITABLE (self->date_row), date);
  for (guint i = 0; f->enum_values[i] != NULL; i++)
    if (g_strcmp0 (f->enum_values[i], issuing_level) == 0)
      adw_combo_row_set_selected (self->level_row, i);
}

/* Writes the recognitions; returns how many, 0 with the reason shown. */
guint
kh_recognize_dialog_recognize (KhRecognizeDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  const KhField *date_field = kh_entity_get_field (kh_entity_lookup ("recognition"), "decision_date");
  json_object *date = NULL;
  const char *number;
  const char *title;
  KhDecision decision = { 0 };
  guint n = 0;

  g_return_val_if_fail (KH_IS_RECOGNIZE_DIALOG (self), 0);

  for (guint i = 0; i < self->checks->len; i++)
    if (gtk_check_button_get_active (self->checks->pdata[i]))
      g_ptr_array_add (ids, (gpointer) json_object_get_string (
        json_object_object_get (json_object_array_get_idx (self->candidates, i), "id")));
  g_ptr_array_add (ids, NULL);
  number = gtk_editable_get_text (GTK_EDITABLE (self->number_row));
  title = gtk_editable_get_text (GTK_EDITABLE (self->title_row));
  if (*gtk_editable_get_text (GTK_EDITABLE (self->date_row)) != '\0'
      && !kh_field_parse (date_field, gtk_editable_get_text (GTK_EDITABLE (self->date_row)), &date, &error))
    goto out;
  decision.decision_number = *number != '\0' ? number : NULL;
  decision.decision_date = date != NULL ? json_object_get_string (date) : NULL;
  decision.issuing_level = level_field ()->enum_values[adw_combo_row_get_selected (self->level_row)];
  decision.title = *title != '\0' ? title : NULL;
  n = kh_recognize (self->store, (const char * const *) ids->pdata, &decision, &error);

out:
  json_object_put (date);
  if (n == 0)
    {
      gtk_label_set_text (self->error_label, error != NULL ? error->message : "");
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return 0;
    }
  {
    g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u registration recognized",
                                                          "%u registrations recognized", n), n);
    GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

    if (parent != NULL)
      kh_widget_add_toast (GTK_WIDGET (parent), adw_toast_new (text));
  }
  gtk_window_close (GTK_WINDOW (self));
  return n;
}

static void
recognize_clicked_cb (KhRecognizeDialog *self)
{
  kh_recognize_dialog_recognize (self);
}

static GtkWidget *
entry_row (const char *title)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  return row;
}

static void
build (KhRecognizeDialog *self,
       const char        *org_unit_id)
{
  const KhField *result_field = kh_entity_get_field (kh_entity_lookup ("registration"), "result");
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkStringList) levels = gtk_string_list_new (NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *title = adw_window_title_new (_("Recognize by One Decision"), NULL);
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *decision = adw_preferences_group_new ();
  g_autofree char *subtitle = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%d/%m/%Y");

  /* TRANSLATORS: the recognition dialog's subtitle: "Learning family, 2025" */
  subtitle = g_strdup_printf (_("%s, %d"), self->model != NULL ? kh_model_label (self->model) : _("All models"),
                              self->year);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (title), subtitle);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title);
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_close), self);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  self->recognize_button = GTK_BUTTON (gtk_button_new_with_mnemonic (""));
  gtk_widget_add_css_class (GTK_WIDGET (self->recognize_button), "suggested-action");
  g_signal_connect_swapped (self->recognize_button, "clicked", G_CALLBACK (recognize_clicked_cb), self);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), GTK_WIDGET (self->recognize_button));
  gtk_box_append (GTK_BOX (box), header);

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (decision), _("Decision"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (decision),
                                         _("One decision recognizes every registration ticked below."));
  self->number_row = ADW_ENTRY_ROW (entry_row (_("Decision number")));
  self->date_row = ADW_ENTRY_ROW (entry_row (_("Decision date")));
  gtk_editable_set_text (GTK_EDITABLE (self->date_row), today);
  for (guint i = 0; level_field ()->enum_values[i] != NULL; i++)
    gtk_string_list_append (levels, _(level_field ()->enum_labels[i]));
  self->level_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->level_row), _("Recognized at"));
  adw_combo_row_set_model (self->level_row, G_LIST_MODEL (levels));
  self->title_row = ADW_ENTRY_ROW (entry_row (_("Honorary title")));
  if (self->model != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->title_row), kh_model_label (self->model));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (decision), GTK_WIDGET (self->number_row));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (decision), GTK_WIDGET (self->date_row));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (decision), GTK_WIDGET (self->level_row));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (decision), GTK_WIDGET (self->title_row));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (decision));

  self->list_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->list_group, _("Passed, not yet recognized"));
  self->candidates = kh_registrations_to_recognize (self->store, self->model, self->year, org_unit_id, &error);
  if (self->candidates == NULL)
    self->candidates = json_object_new_array ();
  for (size_t i = 0; i < json_object_array_length (self->candidates); i++)
    {
      json_object *reg = json_object_array_get_idx (self->candidates, i);
      const char *result = json_object_get_string (json_object_object_get (reg, "result"));
      json_object *total = json_object_object_get (reg, "total");
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *check = gtk_check_button_new ();
      g_autofree char *detail = NULL;

      if (total != NULL)
        /* TRANSLATORS: a registration's result and score: "Achieved · 88 points" */
        detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s · %d point", "%s · %d points",
                                               (gulong) json_object_get_int (total)),
                                  kh_field_enum_label (result_field, result), json_object_get_int (total));
      else
        detail = g_strdup (kh_field_enum_label (result_field, result));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     json_object_get_string (json_object_object_get (reg, "subject_name")));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), detail);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (update), self);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      adw_preferences_group_add (self->list_group, row);
      g_ptr_array_add (self->checks, check);
    }
  if (self->checks->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     _("No registration has passed and waits for recognition."));
      adw_preferences_group_add (self->list_group, row);
    }
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), self->list_group);

  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_set_margin_start (GTK_WIDGET (self->error_label), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->error_label), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->error_label), 12);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->error_label));
  adw_window_set_content (ADW_WINDOW (self), box);
  update (self);
}

static void
kh_recognize_dialog_finalize (GObject *object)
{
  KhRecognizeDialog *self = (KhRecognizeDialog *) object;

  g_clear_object (&self->store);
  g_free (self->model);
  json_object_put (self->candidates);
  g_ptr_array_unref (self->checks);
  G_OBJECT_CLASS (kh_recognize_dialog_parent_class)->finalize (object);
}

static void
kh_recognize_dialog_class_init (KhRecognizeDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kh_recognize_dialog_finalize;
}

static void
kh_recognize_dialog_init (KhRecognizeDialog *self)
{
  self->checks = g_ptr_array_new ();
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (self), 560, 640);
  gtk_window_set_title (GTK_WINDOW (self), _("Recognize by One Decision"));
}

/* The registrations of @model (NULL: every model) and @year that passed, in @org_unit_id and
 * under it (NULL: all this replica holds). */
GtkWidget *
kh_recognize_dialog_new (KhStore    *store,
                         const char *model,
                         int         year,
                         const char *org_unit_id)
{
  KhRecognizeDialog *self = g_object_new (KH_TYPE_RECOGNIZE_DIALOG, NULL);

  self->store = g_object_ref (store);
  self->model = g_strdup (model);
  self->year = year;
  build (self, org_unit_id);
  return GTK_WIDGET (self);
}
