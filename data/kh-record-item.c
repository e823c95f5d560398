/* kh-record-item.c: one record of an entity, as an item of a list model
 *
 * A KhRecordItem holds the JSON form of a row as the store gives it (kh_store_row_to_json), so
 * list rows and forms read the same values the store validated.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-format.h"
#include "kh-record-item.h"
#include "kh-store-sql.h"

struct _KhRecordItem
{
  GObject         parent_instance;

  const KhEntity *entity;
  json_object    *data;
};

G_DEFINE_FINAL_TYPE (KhRecordItem, kh_record_item, G_TYPE_OBJECT)

static void
kh_record_item_finalize (GObject *object)
{
  KhRecordItem *self = (KhRecordItem *) object;

  g_clear_pointer (&self->data, json_object_put);

  G_OBJECT_CLASS (kh_record_item_parent_class)->finalize (object);
}

static void
kh_record_item_class_init (KhRecordItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kh_record_item_finalize;
}

static void
kh_record_item_init (KhRecordItem *self)
{
}

/* Takes ownership of @data. */
KhRecordItem *
kh_record_item_new (const KhEntity *entity,
               json_object    *data)
{
  KhRecordItem *self;

  g_return_val_if_fail (entity != NULL, NULL);
  g_return_val_if_fail (data != NULL, NULL);

  self = g_object_new (KH_TYPE_RECORD_ITEM, NULL);
  self->entity = entity;
  self->data = data;
  return self;
}

const KhEntity *
kh_record_item_get_entity (KhRecordItem *self)
{
  g_return_val_if_fail (KH_IS_RECORD_ITEM (self), NULL);
  return self->entity;
}

const char *
kh_record_item_get_id (KhRecordItem *self)
{
  g_return_val_if_fail (KH_IS_RECORD_ITEM (self), NULL);
  return kh_record_item_get_string (self, "id");
}

json_object *
kh_record_item_get_data (KhRecordItem *self)
{
  g_return_val_if_fail (KH_IS_RECORD_ITEM (self), NULL);
  return self->data;
}

const char *
kh_record_item_get_string (KhRecordItem   *self,
                      const char *field)
{
  json_object *v;

  g_return_val_if_fail (KH_IS_RECORD_ITEM (self), NULL);

  if (!json_object_object_get_ex (self->data, field, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

char *
kh_record_item_dup_title (KhRecordItem *self)
{
  const KhField *field;
  json_object *v = NULL;

  g_return_val_if_fail (KH_IS_RECORD_ITEM (self), NULL);

  field = kh_entity_get_field (self->entity, self->entity->title_field);
  json_object_object_get_ex (self->data, self->entity->title_field, &v);
  if (field == NULL || v == NULL)
    return g_strdup (_(self->entity->label));
  return kh_value_format (field, v);
}

/* A village's name with its commune's: every commune has its "Thôn 1". */
static char *
dup_unit_title (KhStore    *store,
                const char *id)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT u.name, u.kind, p.name FROM org_unit u "
                                         "LEFT JOIN org_unit p ON p.id = u.parent_id WHERE u.id = ?", NULL);
  char *title = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);
      const char *kind = (const char *) sqlite3_column_text (stmt, 1);
      const char *parent = (const char *) sqlite3_column_text (stmt, 2);

      if (g_strcmp0 (kind, "village") == 0 && parent != NULL)
        /* TRANSLATORS: a village and the commune it belongs to: "Thôn 6, Xã Vĩnh Lương" */
        title = g_strdup_printf (C_("village, commune", "%s, %s"), name, parent);
      else
        title = g_strdup (name);
    }
  sqlite3_reset (stmt);
  return title;
}

/* The title of the record @id of @entity (a unit's name, a list's title), or NULL. */
char *
kh_store_dup_title (KhStore    *store,
                    const char *entity_name,
                    const char *id)
{
  const KhEntity *entity;
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;
  char *title = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  if (entity_name == NULL || id == NULL || (entity = kh_entity_lookup (entity_name)) == NULL)
    return NULL;
  if (strcmp (entity->name, "org_unit") == 0)
    return dup_unit_title (store, id);
  sql = g_strdup_printf ("SELECT %s FROM %s WHERE id = ?", entity->title_field, entity->name);
  stmt = kh_store_prepare (store, sql, NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    {
      const KhField *field = kh_entity_get_field (entity, entity->title_field);
      const char *text = (const char *) sqlite3_column_text (stmt, 0);

      if (field != NULL && field->type == KH_FIELD_ENUM)
        title = g_strdup (kh_field_enum_label (field, text));
      else
        title = g_strdup (text);
    }
  sqlite3_reset (stmt);
  return title;
}
