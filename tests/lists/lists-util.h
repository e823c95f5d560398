/* lists-util.h: a throwaway store with a unit and an award list, for the lists tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib/gstdio.h>
#include <string.h>

#include "kh-store.h"

typedef struct
{
  char    *dir;
  char    *path;
  KhStore *store;
} TestStore;

static inline json_object *
test_obj (const char *first_key,
          ...)
{
  json_object *o = json_object_new_object ();
  const char *key = first_key;
  va_list ap;

  va_start (ap, first_key);
  while (key != NULL)
    {
      const char *value = va_arg (ap, const char *);

      /* A value starting with '#' is a number. */
      if (value[0] == '#')
        json_object_object_add (o, key, json_object_new_int64 (g_ascii_strtoll (value + 1, NULL, 10)));
      else
        json_object_object_add (o, key, json_object_new_string (value));
      key = va_arg (ap, const char *);
    }
  va_end (ap);
  return o;
}

/* Creates a record from FIELD, VALUE pairs; asserts it worked. */
static inline char *
test_make (KhStore    *store,
           const char *entity,
           const char *first_key,
           ...)
{
  json_object *o = json_object_new_object ();
  const char *key = first_key;
  g_autoptr(GError) error = NULL;
  char *id;
  va_list ap;

  va_start (ap, first_key);
  while (key != NULL)
    {
      const char *value = va_arg (ap, const char *);

      if (value[0] == '#')
        json_object_object_add (o, key, json_object_new_int64 (g_ascii_strtoll (value + 1, NULL, 10)));
      else
        json_object_object_add (o, key, json_object_new_string (value));
      key = va_arg (ap, const char *);
    }
  va_end (ap);
  id = kh_store_create (store, entity, o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  json_object_put (o);
  return id;
}

static inline void
test_store_init (TestStore *t)
{
  g_autoptr(GError) error = NULL;

  t->dir = g_dir_make_tmp ("kh-lists-XXXXXX", &error);
  g_assert_no_error (error);
  t->path = g_build_filename (t->dir, "kh.db", NULL);
  t->store = kh_store_open (t->path, &error);
  g_assert_no_error (error);
}

static inline void
test_remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      g_unlink (p);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
}

static inline void
test_store_clear (TestStore *t)
{
  g_clear_object (&t->store);
  test_remove_tree (t->dir);
  g_free (t->dir);
  g_free (t->path);
}

static inline char *
test_file (TestStore  *t,
           const char *name,
           const char *contents,
           gssize      length)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (t->dir, name, NULL);

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
  return path;
}

static inline gint64
test_count (KhStore    *store,
            const char *entity)
{
  g_autoptr(GError) error = NULL;
  gint64 n = kh_store_count (store, entity, NULL, &error);

  g_assert_no_error (error);
  return n;
}
