/* kh-store-trash.c: the records deleted lately
 *
 * A delete is a tombstone (deleted = 1), so the Trash is a query. It reads every entity's table
 * (there is no index on deleted: the Trash is opened now and then, and an index would cost
 * every write), which is why the window runs it on a connection of its own, off the main thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"
#include "kh-store-trash.h"

/* One statement for all entities: the names are the registry's, the values are bound. */
static const char *
trash_sql (void)
{
  static gsize once = 0;
  static char *sql;

  if (g_once_init_enter (&once))
    {
      guint n = 0;
      const KhEntity * const *entities = kh_entities (&n);
      GString *s = g_string_new (NULL);

      for (guint i = 0; i < n; i++)
        {
          const KhEntity *e = entities[i];
          const KhField *title = e->title_field != NULL ? kh_entity_get_field (e, e->title_field) : NULL;

          if (s->len > 0)
            g_string_append (s, " UNION ALL ");
          g_string_append_printf (s, "SELECT '%s', id, %s, updated_at, updated_by FROM %s "
                                  "WHERE deleted = 1 AND updated_at >= ?1",
                                  e->name, title != NULL && title->type == KH_FIELD_TEXT ? title->name : "NULL",
                                  e->name);
        }
      g_string_append (s, " ORDER BY 4 DESC LIMIT ?2");
      sql = g_string_free (s, FALSE);
      g_once_init_leave (&once, 1);
    }
  return sql;
}

static json_object *
text_or_null (sqlite3_stmt *stmt,
              int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return text != NULL ? json_object_new_string (text) : NULL;
}

json_object *
kh_store_list_trash (KhStore     *self,
                     const char  *since,
                     int          limit,
                     GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare_static (self, trash_sql (), error);
  json_object *list;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, since, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, limit);
  list = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();

      json_object_object_add (row, "entity", text_or_null (stmt, 0));
      json_object_object_add (row, "id", text_or_null (stmt, 1));
      json_object_object_add (row, "title", text_or_null (stmt, 2));
      json_object_object_add (row, "deleted_at", text_or_null (stmt, 3));
      json_object_object_add (row, "deleted_by", text_or_null (stmt, 4));
      json_object_array_add (list, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (self), "trash");
      json_object_put (list);
      return NULL;
    }
  return list;
}
