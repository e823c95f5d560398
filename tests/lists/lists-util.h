/* lists-util.h: a throwaway store with a unit and an award list, for the lists tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib/gstdio.h>
#include <string.h>

#include "kh-store.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"

typedef struct
{
  char    *dir;
  char    *path;
  KhStore *store;
} TestStore;

/* FIELD, VALUE pairs into an object; a value starting with '#' is a number. */
static inline json_object *
test_obj_valist (const char *first_key,
                 va_list     ap)
{
  json_object *o = json_object_new_object ();

  for (const char *key = first_key; key != NULL; key = va_arg (ap, const char *))
    {
      const char *value = va_arg (ap, const char *);

      if (value[0] == '#')
        json_object_object_add (o, key, json_object_new_int64 (g_ascii_strtoll (value + 1, NULL, 10)));
      else
        json_object_object_add (o, key, json_object_new_string (value));
    }
  return o;
}

static inline json_object *
test_obj (const char *first_key,
          ...)
{
  json_object *o;
  va_list ap;

  va_start (ap, first_key);
  o = test_obj_valist (first_key, ap);
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
  g_autoptr(GError) error = NULL;
  json_object *o;
  char *id;
  va_list ap;

  va_start (ap, first_key);
  o = test_obj_valist (first_key, ap);
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
  t->dir = kh_test_tmpdir ();
  t->path = g_build_filename (t->dir, "kh.db", NULL);
  t->store = kh_test_open_store (t->dir, "kh.db");
}

static inline void
test_store_clear (TestStore *t)
{
  g_clear_object (&t->store);
  kh_test_rmdir (t->dir);
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
