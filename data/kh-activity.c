/* kh-activity.c: a supervisor's report of the changes made in an area
 *
 * The server sends ids and raw values (GET /v1/activity); people read names: a reference is
 * shown as the title of what it names, a list by its title, a field by its label, a value as
 * the window shows it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-activity.h"
#include "kh-csv.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-format.h"
#include "kh-record-item.h"
#include "kh-xlsx-writer.h"

static const char *
string_of (json_object *obj,
           const char  *name)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, name, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

static char *
value_text (KhStore        *store,
            const KhField  *field,
            json_object    *value)
{
  if (value == NULL)
    return g_strdup (_("(empty)"));
  if (field != NULL && field->type == KH_FIELD_REF && field->ref_entity != NULL
      && json_object_is_type (value, json_type_string))
    {
      char *title = kh_store_dup_title (store, field->ref_entity, json_object_get_string (value));

      if (title != NULL)
        return title;
    }
  if (field != NULL)
    return kh_value_format (field, value);
  return g_strdup (json_object_get_string (value));
}

static const char *
op_label (const char *op)
{
  if (g_strcmp0 (op, "create") == 0)
    return _("Created");
  if (g_strcmp0 (op, "delete") == 0)
    return _("Deleted");
  if (g_strcmp0 (op, "restore") == 0)
    return _("Restored");
  return _("Changed");
}

GPtrArray *
kh_activity_table (KhStore     *store,
                   json_object *rows)
{
  GPtrArray *table = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  const char *header[] = {
    _("When"), _("Who"), _("Device"), _("Change"), _("Kind of record"), _("Record"),
    _("Award list"), _("What changed"), NULL
  };

  g_ptr_array_add (table, g_strdupv ((char **) header));
  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      json_object *row = json_object_array_get_idx (rows, i);
      const KhEntity *entity = kh_entity_lookup (string_of (row, "entity") ? string_of (row, "entity") : "");
      const char *list = string_of (row, "list_id");
      json_object *changes = NULL;
      gboolean created = g_strcmp0 (string_of (row, "op"), "create") == 0;
      g_autoptr(GString) what = g_string_new (NULL);
      g_autofree char *list_title = list != NULL ? kh_store_dup_title (store, "award_list", list) : NULL;
      GStrvBuilder *b = g_strv_builder_new ();

      json_object_object_get_ex (row, "changes", &changes);
      if (changes != NULL && json_object_is_type (changes, json_type_object))
        {
          json_object_object_foreach (changes, name, pair)
            {
              const KhField *field = entity != NULL ? kh_entity_get_field (entity, name) : NULL;
              g_autofree char *a = NULL;
              g_autofree char *c = NULL;

              if (!json_object_is_type (pair, json_type_array) || json_object_array_length (pair) != 2)
                continue;
              a = value_text (store, field, json_object_array_get_idx (pair, 0));
              c = value_text (store, field, json_object_array_get_idx (pair, 1));
              if (what->len > 0)
                g_string_append (what, "; ");
              /* A record made has no values before: "(empty) →" on every field says nothing. */
              if (created && json_object_array_get_idx (pair, 0) == NULL)
                /* TRANSLATORS: a field of a record made, in the activity report: "Amount: 500.000 ₫" */
                g_string_append_printf (what, _("%s: %s"), field != NULL ? _(field->label) : name, c);
              else
                /* TRANSLATORS: one change in the activity report: "Status: Submitted → Approved" */
                g_string_append_printf (what, _("%s: %s → %s"), field != NULL ? _(field->label) : name, a, c);
            }
        }
      g_strv_builder_add (b, string_of (row, "at") ? string_of (row, "at") : "");
      g_strv_builder_add (b, string_of (row, "user") ? string_of (row, "user") : "");
      g_strv_builder_add (b, string_of (row, "device") ? string_of (row, "device") : "");
      g_strv_builder_add (b, op_label (string_of (row, "op")));
      g_strv_builder_add (b, entity != NULL ? _(entity->label) : "");
      /* A record whose title field is empty on the server is named as this computer has it. */
      if (string_of (row, "title") != NULL && *string_of (row, "title") != '\0')
        g_strv_builder_add (b, string_of (row, "title"));
      else
        {
          g_autofree char *local = entity != NULL && string_of (row, "id") != NULL
                                   ? kh_store_dup_title (store, entity->name, string_of (row, "id")) : NULL;

          g_strv_builder_add (b, local != NULL ? local : "");
        }
      g_strv_builder_add (b, list_title != NULL ? list_title : list != NULL ? list : "");
      g_strv_builder_add (b, what->str);
      g_ptr_array_add (table, g_strv_builder_end (b));
      g_strv_builder_unref (b);
    }
  return table;
}

gboolean
kh_activity_write (KhStore      *store,
                   json_object  *rows,
                   const char   *path,
                   GError      **error)
{
  g_autoptr(GPtrArray) table = kh_activity_table (store, rows);

  if (g_str_has_suffix (path, ".xlsx"))
    {
      lxw_workbook_options options = { .constant_memory = LXW_TRUE };
      KhXlsxWriter *writer = kh_xlsx_writer_new (path, &options);
      lxw_workbook *wb = writer != NULL ? kh_xlsx_writer_get (writer) : NULL;
      lxw_worksheet *ws = wb != NULL ? workbook_add_worksheet (wb, NULL) : NULL;
      lxw_format *bold = wb != NULL ? workbook_add_format (wb) : NULL;
      lxw_error rc;

      if (ws == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”."), path);
          if (writer != NULL)
            kh_xlsx_writer_close (writer);
          return FALSE;
        }
      format_set_bold (bold);
      for (guint r = 0; r < table->len; r++)
        {
          char **cells = table->pdata[r];

          for (guint c = 0; cells[c] != NULL; c++)
            worksheet_write_string (ws, r, (lxw_col_t) c, cells[c], r == 0 ? bold : NULL);
        }
      rc = kh_xlsx_writer_close (writer);
      if (rc != LXW_NO_ERROR)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s” (%s)."), path,
                       lxw_strerror (rc));
          return FALSE;
        }
      return TRUE;
    }
  {
    g_autoptr(GString) text = g_string_new ("\xEF\xBB\xBF");

    for (guint r = 0; r < table->len; r++)
      {
        char **cells = table->pdata[r];

        for (guint c = 0; cells[c] != NULL; c++)
          kh_csv_append_cell (text, cells[c], ',', c == 0);
        g_string_append (text, "\r\n");
      }
    return g_file_set_contents (path, text->str, (gssize) text->len, error);
  }
}
