/* kh-conflict-card.c: one conflict, this computer's value beside the server's
 *
 * The card shows the two values with who changed each and when, and offers "Keep mine", "Take
 * theirs" or a value typed by hand; it says which with its "resolve" signal and leaves the
 * resolving to the page, which knows what to do after it. A registration the server already
 * had from another computer (KH_CONFLICT_REGISTERED) shows the two registrations and offers
 * "Keep the other" or "Merge into one" instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-conflict-card.h"
#include "kh-record-item.h"

struct _KhConflictCard
{
  GtkBox      parent_instance;

  KhConflict *conflict;

  GtkLabel   *heading;
  GtkLabel   *mine_label;
  GtkLabel   *mine_meta;
  GtkLabel   *theirs_label;
  GtkLabel   *theirs_meta;
  GtkButton  *keep_button;
  GtkButton  *take_button;
  GtkEntry   *entry;
  GtkButton  *use_button;
  GtkLabel   *error_label;
  GtkLabel   *note;
  GtkWidget  *value_box;
  GtkWidget  *registered_box;
  GtkButton  *keep_other_button;
  GtkButton  *merge_button;
};

G_DEFINE_FINAL_TYPE (KhConflictCard, kh_conflict_card, GTK_TYPE_BOX)

enum
{
  RESOLVE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* A side's value as a person reads it: a reference by the title of the record it points to. */
static char *
display_value (KhStore          *store,
               const KhConflict *conflict,
               const KhField    *field,
               json_object      *value)
{
  char *shown = NULL;

  if (value == NULL)
    return g_strdup (_("(empty)"));
  if (conflict != NULL && g_strcmp0 (conflict->field, KH_CONFLICT_DELETED) == 0)
    return g_strdup (json_object_get_boolean (value) ? _("Deleted") : _("Kept, not deleted"));
  if (field == NULL)
    return g_strdup (json_object_is_type (value, json_type_string)
                     ? json_object_get_string (value)
                     : json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN));
  if (field->type == KH_FIELD_REF && field->ref_entity != NULL
      && json_object_is_type (value, json_type_string))
    shown = kh_store_dup_title (store, field->ref_entity, json_object_get_string (value));
  if (shown == NULL)
    shown = kh_value_format (field, value);
  return shown;
}

static char *
format_when (const char *iso)
{
  g_autoptr(GDateTime) utc = iso ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

  return local ? g_date_time_format (local, "%d/%m/%Y %H:%M") : NULL;
}

static void
set_widget_name (gpointer    widget,
                 const char *what,
                 gint64      seq)
{
  g_autofree char *name = g_strdup_printf ("%s-%" G_GINT64_FORMAT, what, seq);

  gtk_widget_set_name (GTK_WIDGET (widget), name);
}

/* What tells two registrations of one subject apart, one "Label: value" a line: their unit and
 * the details a person enters (a merge brings them over). NULL when there is nothing to say. */
static char *
registration_details (KhStore    *store,
                      const char *id)
{
  static const char * const shown[] = { "org_unit_id", "registered_on", "subject_group" };
  const KhEntity *entity = kh_entity_lookup ("registration");
  json_object *record = kh_store_get (store, "registration", id, NULL);
  GString *text;

  if (record == NULL)
    return NULL;
  text = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    {
      const KhField *f = kh_entity_get_field (entity, shown[i]);
      json_object *v = NULL;
      g_autofree char *value = NULL;

      if (!json_object_object_get_ex (record, shown[i], &v) || v == NULL)
        continue;
      value = display_value (store, NULL, f, v);
      if (text->len > 0)
        g_string_append_c (text, '\n');
      /* TRANSLATORS: a field of a record and its value, e.g. "Subject group: Hội viên phụ nữ" */
      g_string_append_printf (text, _("%s: %s"), _(f->label), value);
    }
  json_object_put (record);
  return g_string_free (text, text->len == 0);
}

/* A conflict of its own kind: the same subject registered for the same model and year here and
 * on another computer, which reached the server first. */
static void
fill_registered (KhConflictCard *self,
                 KhStore        *store)
{
  const KhConflict *c = self->conflict;
  const char *other_id = c->remote != NULL && json_object_is_type (c->remote, json_type_string)
                         ? json_object_get_string (c->remote) : NULL;
  g_autofree char *heading = kh_conflict_describe_registered (c);
  g_autofree char *mine = kh_store_dup_title (store, "registration", c->record_id);
  g_autofree char *theirs = other_id ? kh_store_dup_title (store, "registration", other_id) : NULL;
  g_autofree char *local_when = format_when (c->local_at);
  g_autofree char *local_meta = NULL;
  g_autofree char *remote_meta = NULL;

  gtk_label_set_text (self->heading, heading);
  gtk_label_set_text (self->note,
                      _("The same subject was registered for this learning model and year on this computer "
                        "and on another one. Keep the other registration (this one goes; its evaluations, "
                        "recognitions and attachments move to the other), or merge the details entered here "
                        "into it."));
  gtk_widget_set_visible (GTK_WIDGET (self->note), TRUE);
  gtk_label_set_text (self->mine_label, mine ? mine : c->record_id);
  /* The other one is not here when it is outside this computer's area or not pulled yet. */
  gtk_label_set_text (self->theirs_label, theirs ? theirs : _("Not on this computer yet"));
  local_meta = local_when ? g_strdup_printf (_("Registered on this computer, %s"), local_when)
                          : g_strdup (_("Registered on this computer"));
  remote_meta = c->remote_by ? g_strdup_printf (_("Registered by %s, on the server first"), c->remote_by)
                             : g_strdup (_("On the server first"));
  {
    g_autofree char *mine_details = registration_details (store, c->record_id);
    g_autofree char *theirs_details = other_id ? registration_details (store, other_id) : NULL;
    g_autofree char *mine_text = mine_details ? g_strconcat (mine_details, "\n", local_meta, NULL) : NULL;
    g_autofree char *theirs_text = theirs_details ? g_strconcat (theirs_details, "\n", remote_meta, NULL) : NULL;

    gtk_label_set_text (self->mine_meta, mine_text ? mine_text : local_meta);
    gtk_label_set_text (self->theirs_meta, theirs_text ? theirs_text : remote_meta);
  }
  gtk_widget_set_visible (GTK_WIDGET (self->keep_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->take_button), FALSE);
  gtk_widget_set_visible (self->value_box, FALSE);
  gtk_widget_set_visible (self->registered_box, TRUE);
  set_widget_name (self->keep_other_button, "keep-other", c->seq);
  set_widget_name (self->merge_button, "merge", c->seq);
}

static void
fill (KhConflictCard *self,
      KhStore        *store)
{
  const KhConflict *c = self->conflict;
  const KhEntity *entity = kh_entity_lookup (c->entity);
  const KhField *field = entity ? kh_entity_get_field (entity, c->field) : NULL;
  g_autofree char *title = kh_store_dup_title (store, c->entity, c->record_id);
  g_autofree char *heading = NULL;
  g_autofree char *mine = display_value (store, c, field, c->local);
  g_autofree char *theirs = display_value (store, c, field, c->remote);
  g_autofree char *local_when = format_when (c->local_at);
  g_autofree char *remote_when = format_when (c->remote_at);
  g_autofree char *local_meta = NULL;
  g_autofree char *remote_meta = NULL;

  /* TRANSLATORS: a conflict's heading: kind of record, its name, the field, e.g.
   * "Award entry “Nguyễn Văn An” · Amount (đồng)" */
  heading = g_strdup_printf (_("%s “%s” · %s"), entity ? _(entity->label) : c->entity,
                             title ? title : c->record_id, field ? _(field->label) : c->field);
  gtk_label_set_text (self->heading, heading);
  gtk_label_set_text (self->mine_label, mine);
  gtk_label_set_text (self->theirs_label, theirs);

  local_meta = local_when ? g_strdup_printf (_("Changed on this computer, %s"), local_when)
                          : g_strdup (_("Changed on this computer"));
  if (c->remote_by != NULL && remote_when != NULL)
    remote_meta = g_strdup_printf (_("Changed by %s, %s"), c->remote_by, remote_when);
  else if (c->remote_by != NULL)
    remote_meta = g_strdup_printf (_("Changed by %s"), c->remote_by);
  else
    remote_meta = g_strdup (_("Changed on the server"));
  gtk_label_set_text (self->mine_meta, local_meta);
  gtk_label_set_text (self->theirs_meta, remote_meta);

  /* Named by the conflict, so tests and screen readers' scripts find each card's controls. */
  set_widget_name (self->keep_button, "keep-mine", c->seq);
  set_widget_name (self->take_button, "take-theirs", c->seq);
  set_widget_name (self->entry, "entry", c->seq);
  set_widget_name (self->use_button, "use", c->seq);
}

static void
merge_cb (KhConflictCard *self)
{
  g_signal_emit (self, signals[RESOLVE], 0, KH_RESOLVE_MERGE, NULL);
}

static void
keep_mine_cb (KhConflictCard *self)
{
  g_signal_emit (self, signals[RESOLVE], 0, KH_RESOLVE_MINE, NULL);
}

static void
take_theirs_cb (KhConflictCard *self)
{
  g_signal_emit (self, signals[RESOLVE], 0, KH_RESOLVE_THEIRS, NULL);
}

static void
use_typed_cb (KhConflictCard *self)
{
  g_signal_emit (self, signals[RESOLVE], 0, KH_RESOLVE_VALUE,
                 gtk_editable_get_text (GTK_EDITABLE (self->entry)));
}

static void
kh_conflict_card_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), KH_TYPE_CONFLICT_CARD);
  G_OBJECT_CLASS (kh_conflict_card_parent_class)->dispose (object);
}

static void
kh_conflict_card_finalize (GObject *object)
{
  KhConflictCard *self = KH_CONFLICT_CARD (object);

  g_clear_pointer (&self->conflict, kh_conflict_free);
  G_OBJECT_CLASS (kh_conflict_card_parent_class)->finalize (object);
}

static void
kh_conflict_card_class_init (KhConflictCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_conflict_card_dispose;
  object_class->finalize = kh_conflict_card_finalize;

  /**
   * KhConflictCard::resolve:
   * @choice: a KhResolveChoice
   * @value: the typed value for KH_RESOLVE_VALUE, else NULL
   *
   * A person chose how to resolve the conflict.
   */
  signals[RESOLVE] = g_signal_new ("resolve", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-conflict-card.ui");
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, heading);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, mine_label);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, mine_meta);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, theirs_label);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, theirs_meta);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, keep_button);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, take_button);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, entry);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, use_button);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, error_label);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, note);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, value_box);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, registered_box);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, keep_other_button);
  gtk_widget_class_bind_template_child (widget_class, KhConflictCard, merge_button);
  gtk_widget_class_bind_template_callback (widget_class, merge_cb);
  gtk_widget_class_bind_template_callback (widget_class, keep_mine_cb);
  gtk_widget_class_bind_template_callback (widget_class, take_theirs_cb);
  gtk_widget_class_bind_template_callback (widget_class, use_typed_cb);
}

static void
kh_conflict_card_init (KhConflictCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* A card for @conflict; @store gives the titles of the records it names. */
GtkWidget *
kh_conflict_card_new (KhStore          *store,
                      const KhConflict *conflict)
{
  KhConflictCard *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (conflict != NULL, NULL);

  self = g_object_new (KH_TYPE_CONFLICT_CARD, NULL);
  self->conflict = kh_conflict_copy (conflict);
  if (g_strcmp0 (conflict->field, KH_CONFLICT_REGISTERED) == 0)
    fill_registered (self, store);
  else
    fill (self, store);
  return GTK_WIDGET (self);
}

const KhConflict *
kh_conflict_card_get_conflict (KhConflictCard *self)
{
  g_return_val_if_fail (KH_IS_CONFLICT_CARD (self), NULL);
  return self->conflict;
}

/* Says under the card why resolving it failed. */
void
kh_conflict_card_show_error (KhConflictCard *self,
                             const char     *message)
{
  g_return_if_fail (KH_IS_CONFLICT_CARD (self));

  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
}
