/* kh-sync-test-util.c: replicas signed in to the real khuyenhoc-server, for the sync engine's tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-sync-test-util.h"
#include "kh-test-store.h"

/* Replicas ------------------------------------------------------------------------------------ */

KhTReplica *
kh_treplica_new (KhTestServer *s,
                 const char   *dir,
                 const char   *name,
                 const char   *url,
                 const char   *user)
{
  g_autofree char *password = g_strdup_printf ("password-%s", user);

  return kh_treplica_new_full (dir, name, url, user, password);
}

KhTReplica *
kh_treplica_new_full (const char *dir,
                      const char *name,
                      const char *url,
                      const char *user,
                      const char *password)
{
  KhTReplica *r = g_new0 (KhTReplica, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strdup_printf ("%s.db", name);

  r->path = g_build_filename (dir, file, NULL);
  r->store = kh_test_open_store (dir, file);
  kh_store_set_actor (r->store, user);
  r->engine = kh_sync_engine_new (r->path);
  g_object_set (r->engine, "low-speed-time", 2, "connect-timeout", 2, "max-attempts", 8,
                "backoff-base", 0.02, NULL);
  g_assert_true (kh_sync_engine_login (r->engine, url, user, password, NULL, &error));
  g_assert_no_error (error);
  return r;
}

void
kh_treplica_free (KhTReplica *r)
{
  if (r == NULL)
    return;
  g_clear_object (&r->engine);
  g_clear_object (&r->store);
  g_free (r->path);
  g_free (r);
}

gboolean
kh_treplica_try_sync (KhTReplica    *r,
                      KhSyncReport  *report,
                      GError       **error)
{
  return kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_VERIFY, report, NULL, error);
}

KhSyncReport
kh_treplica_sync (KhTReplica *r)
{
  g_autoptr(GError) error = NULL;
  KhSyncReport report;

  if (!kh_treplica_try_sync (r, &report, &error))
    g_error ("sync of %s failed: %s", r->path, error->message);
  return report;
}

static int
compare_lines (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

char *
kh_treplica_dump (KhTReplica *r)
{
  GString *out = g_string_new (NULL);
  const KhEntity * const *entities;
  guint n;

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      g_autoptr(GError) error = NULL;
      KhQuery q = { .include_deleted = TRUE };
      json_object *rows = kh_store_list (r->store, entities[e]->name, &q, &error);
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

      g_assert_no_error (error);
      for (size_t i = 0; i < json_object_array_length (rows); i++)
        {
          json_object *row = json_object_array_get_idx (rows, i);
          GString *line;

          /* A record created and deleted here before it was sent never existed elsewhere. */
          if (json_object_get_int64 (json_object_object_get (row, "version")) == 0
              && json_object_get_boolean (json_object_object_get (row, "deleted")))
            continue;
          line = g_string_new (NULL);

          g_string_append_printf (line, "%s %s v%s%s", entities[e]->name, kh_tstr (row, "id"),
                                  kh_tstr (row, "version"),
                                  json_object_get_boolean (json_object_object_get (row, "deleted")) ? " deleted" : "");
          for (guint k = 0; k < entities[e]->n_fields; k++)
            {
              json_object *v = json_object_object_get (row, entities[e]->fields[k].name);

              if (v != NULL)
                g_string_append_printf (line, " %s=%s", entities[e]->fields[k].name,
                                        json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
            }
          g_ptr_array_add (lines, g_string_free (line, FALSE));
        }
      g_ptr_array_sort (lines, compare_lines);
      for (guint i = 0; i < lines->len; i++)
        g_string_append_printf (out, "%s\n", (char *) lines->pdata[i]);
      json_object_put (rows);
    }
  return g_string_free (out, FALSE);
}

char *
kh_treplica_add (KhTReplica *r,
                 const char *entity,
                 const char *json)
{
  return kh_test_create (r->store, entity, json);
}

void
kh_treplica_set (KhTReplica *r,
                 const char *entity,
                 const char *id,
                 const char *json)
{
  g_autoptr(GError) error = NULL;
  json_object *values = json_tokener_parse (json);

  g_assert_nonnull (values);
  kh_store_update (r->store, entity, id, values, &error);
  g_assert_no_error (error);
  json_object_put (values);
}

json_object *
kh_treplica_get (KhTReplica *r,
                 const char *entity,
                 const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *rec = kh_store_get (r->store, entity, id, &error);

  g_assert_no_error (error);
  return rec;
}

const char *
kh_treplica_unit (KhTReplica *r,
                  const char *code)
{
  static char id[64];
  g_autoptr(GError) error = NULL;
  KhQuery q = { 0 };
  json_object *rows;

  q.where = json_object_new_object ();
  json_object_object_add (q.where, "code", json_object_new_string (code));
  rows = kh_store_list (r->store, "org_unit", &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (rows), ==, 1);
  g_strlcpy (id, kh_tstr (json_object_array_get_idx (rows, 0), "id"), sizeof id);
  json_object_put (rows);
  json_object_put (q.where);
  return id;
}

gint64
kh_treplica_count_named (KhTReplica *r,
                         const char *full_name)
{
  KhQuery q = { .include_deleted = TRUE };
  gint64 n;

  q.where = json_object_new_object ();
  json_object_object_add (q.where, "full_name", json_object_new_string (full_name));
  n = kh_store_count (r->store, "person", &q, NULL);
  json_object_put (q.where);
  return n;
}

const char *
kh_tstr (json_object *obj,
         const char  *name)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}
