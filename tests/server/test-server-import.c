/* test-server-import.c: the server's bulk imports, in process: the official unit list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "kh-server-import.h"

typedef struct
{
  char     *dir;
  KhServer *server;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  f->dir = g_dir_make_tmp ("khuyenhoc-import-XXXXXX", &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("sqlite:%s/server.db", f->dir);
  f->server = kh_server_new (url, 1, &error);
  g_assert_no_error (error);
  g_assert_true (kh_server_init_schema (f->server, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  g_clear_object (&f->server);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static char *
write_list (Fixture    *f,
            const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->dir, "units.csv", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
  return path;
}

static json_object *
unit (Fixture    *f,
      const char *code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = kh_server_find_unit (f->server, code, &error);
  gint64 version = 0;

  g_assert_no_error (error);
  g_assert_nonnull (id);
  return kh_server_get_record (f->server, "org_unit", id, &version, NULL);
}

static const char *
field (json_object *record,
       const char  *name)
{
  return json_object_get_string (json_object_object_get (record, name));
}

/* A name written by a spreadsheet over two lines is one quoted field: the row stays whole, and
 * the rows after it are read as rows, not as the rest of a broken one. */
static void
test_org_quoted_newline (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_list (f, "code,name,kind,parent_code,valid_from\r\n"
                                         "56N,Tỉnh Khánh Hòa,province,,01/07/2025\r\n"
                                         "N001,\"Phường Nha Trang\nkhu trung tâm\",ward,56N,01/07/2025\r\n"
                                         "N002,\"Xã Vĩnh Lương, mới\",commune,56N,01/07/2025\r\n");
  g_autoptr(json_object) n001 = NULL;
  g_autoptr(json_object) n002 = NULL;
  g_autofree char *province_id = NULL;
  KhServerImportReport report;

  kh_server_import_report_init (&report);
  g_assert_true (kh_server_import_org (f->server, path, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.records, ==, 3);
  g_assert_cmpuint (report.rejected, ==, 0);
  kh_server_import_report_clear (&report);

  province_id = kh_server_find_unit (f->server, "56N", NULL);
  n001 = unit (f, "N001");
  n002 = unit (f, "N002");
  g_assert_cmpstr (field (n001, "name"), ==, "Phường Nha Trang\nkhu trung tâm");
  g_assert_cmpstr (field (n001, "kind"), ==, "ward");
  g_assert_cmpstr (field (n001, "valid_from"), ==, "2025-07-01");
  g_assert_cmpstr (field (n001, "parent_id"), ==, province_id);
  g_assert_cmpstr (field (n002, "parent_id"), ==, province_id);
  g_assert_cmpstr (field (n002, "name"), ==, "Xã Vĩnh Lương, mới");
}

/* Importing the same list again writes nothing new: every unit keeps its id. */
static void
test_org_again (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_list (f, "code,name,kind\n56N,Tỉnh Khánh Hòa,province\n");
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  KhServerImportReport report;

  for (int i = 0; i < 2; i++)
    {
      kh_server_import_report_init (&report);
      g_assert_true (kh_server_import_org (f->server, path, &report, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (report.rejected, ==, 0);
      kh_server_import_report_clear (&report);
      if (i == 0)
        first = kh_server_find_unit (f->server, "56N", NULL);
      else
        second = kh_server_find_unit (f->server, "56N", NULL);
    }
  g_assert_cmpstr (first, ==, second);
}

/* A list without the columns a unit needs is refused before anything is written. */
static void
test_org_missing_columns (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_list (f, "code,name\n56N,Tỉnh Khánh Hòa\n");
  g_autofree char *id = NULL;
  KhServerImportReport report;

  kh_server_import_report_init (&report);
  g_assert_false (kh_server_import_org (f->server, path, &report, &error));
  g_assert_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "code, name and kind"));
  kh_server_import_report_clear (&report);
  id = kh_server_find_unit (f->server, "56N", NULL);
  g_assert_null (id);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/server/import/org/quoted-newline", Fixture, NULL, fixture_setup,
              test_org_quoted_newline, fixture_teardown);
  g_test_add ("/server/import/org/again", Fixture, NULL, fixture_setup, test_org_again,
              fixture_teardown);
  g_test_add ("/server/import/org/missing-columns", Fixture, NULL, fixture_setup,
              test_org_missing_columns, fixture_teardown);
  return g_test_run ();
}
