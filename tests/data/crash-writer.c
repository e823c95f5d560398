/* crash-writer.c: writes in a loop until it is killed; the helper of test-crash
 *
 * Prints "C <id>" once kh_store_create() has returned (the write is committed), "U <id>"
 * after an edit committed, and "B <id> <id> <id>" after a batch of three committed. The
 * parent kills it with SIGKILL at random moments and checks that every printed write is there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include "kh-store.h"

static char *
add (KhStore    *store,
     const char *unit,
     guint       n)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("Nguyễn Văn Đức %u", n);
  json_object *v = json_object_new_object ();
  char *id;

  json_object_object_add (v, "full_name", json_object_new_string (name));
  json_object_object_add (v, "org_unit_id", json_object_new_string (unit));
  id = kh_store_create (store, "person", v, &error);
  json_object_put (v);
  if (id == NULL)
    g_error ("create: %s", error->message);
  return id;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = NULL;
  g_autofree char *unit = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GRand *rand;

  if (argc != 4)
    {
      fprintf (stderr, "usage: crash-writer DB UNIT-ID SEED\n");
      return 2;
    }
  store = kh_store_open (argv[1], &error);
  if (store == NULL)
    g_error ("open: %s", error->message);
  unit = g_strdup (argv[2]);
  rand = g_rand_new_with_seed ((guint32) g_ascii_strtoull (argv[3], NULL, 10));
  setvbuf (stdout, NULL, _IOLBF, 0);

  for (guint n = 0;; n++)
    {
      int what = g_rand_int_range (rand, 0, 10);

      if (what < 6 || ids->len == 0)
        {
          char *id = add (store, unit, n);

          printf ("C %s\n", id);
          g_ptr_array_add (ids, id);
        }
      else if (what < 9)
        {
          const char *id = ids->pdata[g_rand_int_range (rand, 0, (gint32) ids->len)];
          g_autofree char *phone = g_strdup_printf ("09%08u", n);
          json_object *v = json_object_new_object ();

          json_object_object_add (v, "phone", json_object_new_string (phone));
          if (!kh_store_update (store, "person", id, v, &error))
            g_error ("update: %s", error->message);
          json_object_put (v);
          printf ("U %s %s\n", id, phone);
        }
      else
        {
          g_autofree char *a = NULL;
          g_autofree char *b = NULL;
          g_autofree char *c = NULL;

          if (!kh_store_begin (store, &error))
            g_error ("begin: %s", error->message);
          a = add (store, unit, n);
          b = add (store, unit, n);
          c = add (store, unit, n);
          if (!kh_store_commit (store, &error))
            g_error ("commit: %s", error->message);
          printf ("B %s %s %s\n", a, b, c);
          g_ptr_array_add (ids, g_steal_pointer (&a));
          g_ptr_array_add (ids, g_steal_pointer (&b));
          g_ptr_array_add (ids, g_steal_pointer (&c));
        }
    }
  return 0;
}
