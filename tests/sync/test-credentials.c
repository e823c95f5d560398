/* test-credentials.c: where the sign-in token is kept when no keyring answers
 *
 * kh-credentials.c keeps the token in "<database>.token", readable by its owner only, when
 * KHUYENHOC_TOKEN_STORE=file is set or no session bus runs (the CLI on a server). Both are
 * forced here, so the test never touches a real keyring: each case checks the file itself (its
 * place, its mode, its contents) as well as what lookup gives back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kh-credentials.h"
#include "kh-test-dir.h"

#define SERVER "https://sync.example.org"

typedef struct
{
  char *dir;
  char *db_a;
  char *db_b;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = kh_test_tmpdir ();
  f->db_a = g_build_filename (f->dir, "a.sqlite", NULL);
  f->db_b = g_build_filename (f->dir, "b.sqlite", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->db_a);
  g_free (f->db_b);
}

/* The permission bits of @path; asserts it exists. */
static mode_t
mode_of (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  return st.st_mode & 07777;
}

static char *
contents_of (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* The folder holds exactly the files named (NULL-terminated): no temporary copy is left. */
static void
assert_dir_holds (const char *dir,
                  ...)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) want = g_ptr_array_new ();
  const char *name;
  va_list ap;
  guint seen = 0;

  va_start (ap, dir);
  while ((name = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (want, (gpointer) name);
  va_end (ap);

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      gboolean expected = FALSE;

      for (guint i = 0; i < want->len; i++)
        expected |= g_strcmp0 (want->pdata[i], name) == 0;
      if (!expected)
        g_error ("unexpected file %s in %s", name, dir);
      seen++;
    }
  g_assert_cmpuint (seen, ==, want->len);
}

/* Store, look up, replace and clear one token; the file is where kh_credentials_file() says,
 * and 0600 whatever the umask and whatever mode an older file had. */
static void
test_store_lookup_clear (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = kh_credentials_file (f->db_a);
  g_autofree char *expected_file = g_strconcat (f->db_a, ".token", NULL);
  g_autofree char *token = NULL;
  g_autofree char *text = NULL;
  mode_t old_umask;

  g_assert_cmpstr (file, ==, expected_file);
  g_assert_null (kh_credentials_lookup (f->db_a, SERVER, "officer_a"));

  /* With no umask at all, only the code's own mode keeps others out. */
  old_umask = umask (0);
  g_assert_true (kh_credentials_store (f->db_a, SERVER, "officer_a", "tok-1", &error));
  g_assert_no_error (error);
  g_assert_cmpint (mode_of (file), ==, 0600);
  text = contents_of (file);
  g_assert_cmpstr (text, ==, "tok-1");
  assert_dir_holds (f->dir, "a.sqlite.token", NULL);

  token = kh_credentials_lookup (f->db_a, SERVER, "officer_a");
  g_assert_cmpstr (token, ==, "tok-1");
  g_clear_pointer (&token, g_free);
  /* The file is the replica's: the server and the name are not needed to find it. */
  token = kh_credentials_lookup (f->db_a, NULL, NULL);
  g_assert_cmpstr (token, ==, "tok-1");
  g_clear_pointer (&token, g_free);

  /* A new token replaces the old one, and a file someone opened up is closed again. */
  g_assert_cmpint (g_chmod (file, 0644), ==, 0);
  g_assert_true (kh_credentials_store (f->db_a, SERVER, "officer_a", "tok-2", &error));
  g_assert_no_error (error);
  g_assert_cmpint (mode_of (file), ==, 0600);
  token = kh_credentials_lookup (f->db_a, SERVER, "officer_a");
  g_assert_cmpstr (token, ==, "tok-2");
  g_clear_pointer (&token, g_free);
  assert_dir_holds (f->dir, "a.sqlite.token", NULL);
  umask (old_umask);

  kh_credentials_clear (f->db_a, SERVER, "officer_a");
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
  g_assert_null (kh_credentials_lookup (f->db_a, SERVER, "officer_a"));
  /* Clearing again, with nothing kept, is harmless. */
  kh_credentials_clear (f->db_a, SERVER, "officer_a");
  assert_dir_holds (f->dir, NULL);
}

/* Two replicas keep their own tokens: each sees its own, and clearing one leaves the other. */
static void
test_two_replicas (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *file_b = kh_credentials_file (f->db_b);

  g_assert_true (kh_credentials_store (f->db_a, SERVER, "officer_a", "token-of-a", &error));
  g_assert_no_error (error);
  g_assert_null (kh_credentials_lookup (f->db_b, SERVER, "officer_a"));
  g_assert_true (kh_credentials_store (f->db_b, SERVER, "officer_b", "token-of-b", &error));
  g_assert_no_error (error);

  a = kh_credentials_lookup (f->db_a, SERVER, "officer_a");
  b = kh_credentials_lookup (f->db_b, SERVER, "officer_b");
  g_assert_cmpstr (a, ==, "token-of-a");
  g_assert_cmpstr (b, ==, "token-of-b");
  g_clear_pointer (&b, g_free);

  kh_credentials_clear (f->db_a, SERVER, "officer_a");
  g_assert_null (kh_credentials_lookup (f->db_a, SERVER, "officer_a"));
  b = kh_credentials_lookup (f->db_b, SERVER, "officer_b");
  g_assert_cmpstr (b, ==, "token-of-b");
  g_assert_cmpint (mode_of (file_b), ==, 0600);
  assert_dir_holds (f->dir, "b.sqlite.token", NULL);
}

/* A replica never signed in, a path that does not exist, and a file with nothing in it all give
 * no token; the line end an editor adds is not part of it. */
static void
test_lookup_unknown (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (f->dir, "no", "such", "db.sqlite", NULL);
  g_autofree char *file = kh_credentials_file (f->db_a);
  g_autofree char *token = NULL;

  g_assert_null (kh_credentials_lookup (f->db_a, SERVER, "officer_a"));
  g_assert_null (kh_credentials_lookup (missing, SERVER, "officer_a"));

  g_assert_true (g_file_set_contents (file, "", 0, NULL));
  g_assert_null (kh_credentials_lookup (f->db_a, SERVER, "officer_a"));
  g_assert_true (g_file_set_contents (file, " \n", -1, NULL));
  g_assert_null (kh_credentials_lookup (f->db_a, SERVER, "officer_a"));

  g_assert_true (g_file_set_contents (file, "tok-edited\n", -1, NULL));
  token = kh_credentials_lookup (f->db_a, SERVER, "officer_a");
  g_assert_cmpstr (token, ==, "tok-edited");
}

/* A token that cannot be saved is an error naming the file, and nothing is left behind. */
static void
test_store_fails (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "no-such-folder", "db.sqlite", NULL);
  g_autofree char *file = kh_credentials_file (missing);

  g_assert_false (kh_credentials_store (missing, SERVER, "officer_a", "tok", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, file));
  assert_dir_holds (f->dir, NULL);
}

/* Without a session bus (and without KHUYENHOC_TOKEN_STORE) the token still goes to the file. */
static void
test_no_session_bus (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = kh_credentials_file (f->db_a);
  g_autofree char *token = NULL;

  g_unsetenv ("KHUYENHOC_TOKEN_STORE");
  g_assert_true (kh_credentials_store (f->db_a, SERVER, "officer_a", "tok-nobus", &error));
  g_assert_no_error (error);
  g_assert_cmpint (mode_of (file), ==, 0600);
  token = kh_credentials_lookup (f->db_a, SERVER, "officer_a");
  g_assert_cmpstr (token, ==, "tok-nobus");
  kh_credentials_clear (f->db_a, SERVER, "officer_a");
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Never the desktop's keyring: the file, and no bus to reach a keyring through. */
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");

  g_test_add ("/credentials/store-lookup-clear", Fixture, NULL, fixture_setup,
              test_store_lookup_clear, fixture_teardown);
  g_test_add ("/credentials/two-replicas", Fixture, NULL, fixture_setup, test_two_replicas,
              fixture_teardown);
  g_test_add ("/credentials/lookup-unknown", Fixture, NULL, fixture_setup, test_lookup_unknown,
              fixture_teardown);
  g_test_add ("/credentials/store-fails", Fixture, NULL, fixture_setup, test_store_fails,
              fixture_teardown);
  g_test_add ("/credentials/no-session-bus", Fixture, NULL, fixture_setup, test_no_session_bus,
              fixture_teardown);
  return g_test_run ();
}
