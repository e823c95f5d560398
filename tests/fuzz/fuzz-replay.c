/* fuzz-replay.c: runs a fuzz target without libFuzzer (when the compiler is not clang)
 *
 * Each file of the corpus is given to the target as it is, then in a few hundred mutated forms
 * (bits flipped, bytes inserted, deleted or repeated, the tail cut off) from a fixed seed, so
 * ./dev test exercises the readers on hostile input on every compiler. Prints TAP.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Per corpus file; --mutations=N sets it for a slow target. */
#define MUTATIONS 1000

static void
mutate (GRand   *rand,
        GString *s)
{
  guint kind = g_rand_int_range (rand, 0, 5);
  guint at = s->len > 0 ? (guint) g_rand_int_range (rand, 0, (gint32) s->len) : 0;

  switch (kind)
    {
    case 0:
      if (s->len > 0)
        s->str[at] ^= (char) (1 << g_rand_int_range (rand, 0, 8));
      break;
    case 1:
      g_string_insert_c (s, at, (char) g_rand_int_range (rand, 0, 256));
      break;
    case 2:
      if (s->len > 0)
        {
          gssize n = g_rand_int_range (rand, 1, 16);

          g_string_erase (s, at, MIN (n, (gssize) (s->len - at)));
        }
      break;
    case 3:
      g_string_truncate (s, at);
      break;
    default:
      {
        g_autofree char *piece = g_strndup (s->str + at, MIN (64u, s->len - at));

        g_string_insert (s, at, piece);
      }
      break;
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  GRand *rand = g_rand_new_with_seed (20251128);
  int mutations = MUTATIONS;

  for (int i = 1; i < argc; i++)
    {
      GDir *dir;
      const char *name;

      if (g_str_has_prefix (argv[i], "--mutations="))
        {
          mutations = atoi (argv[i] + strlen ("--mutations="));
          continue;
        }
      dir = g_dir_open (argv[i], 0, NULL);
      if (dir == NULL)
        {
          g_ptr_array_add (files, g_strdup (argv[i]));
          continue;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (files, g_build_filename (argv[i], name, NULL));
      g_dir_close (dir);
    }
  g_ptr_array_sort (files, (GCompareFunc) g_strcmp0);

  g_print ("1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++)
    {
      char *data = NULL;
      gsize len = 0;

      if (!g_file_get_contents (files->pdata[i], &data, &len, NULL))
        {
          g_print ("not ok %u %s (unreadable)\n", i + 1, (char *) files->pdata[i]);
          continue;
        }
      LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
      for (int m = 0; m < mutations; m++)
        {
          GString *s = g_string_new_len (data, (gssize) len);
          int rounds = g_rand_int_range (rand, 1, 6);

          for (int r = 0; r < rounds; r++)
            mutate (rand, s);
          LLVMFuzzerTestOneInput ((const uint8_t *) s->str, s->len);
          g_string_free (s, TRUE);
        }
      g_print ("ok %u %s and %d mutations\n", i + 1, (char *) files->pdata[i], mutations);
      g_free (data);
    }
  g_rand_free (rand);
  return 0;
}
