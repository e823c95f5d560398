/* test-xlsx-locale.c: every XLSX writer writes the same bytes in every locale
 *
 * libxlsxwriter formats numbers with the C library, in the thread's LC_NUMERIC; under
 * vi_VN.UTF-8 that put decimal commas in the XML (width="12,7109375"). The same list and the
 * same figures are written under vi_VN.UTF-8 and en_US.UTF-8 and compared byte for byte
 * (SOURCE_DATE_EPOCH fixes the creation time), and each file is read back by LibreOffice,
 * converted to CSV, to check the values a person would see.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <locale.h>

#include "kh-error.h"
#include "kh-export.h"
#include "kh-report.h"
#include "lists-util.h"

typedef struct
{
  TestStore t;
  char     *commune;
  char     *list;
} Fixture;

#define MAKE(...) g_free (test_make (f->t.store, __VA_ARGS__, NULL))

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_store_init (&f->t);
  f->commune = test_make (f->t.store, "org_unit", "code", "N001", "name", "Xã Diên Khánh",
                          "kind", "commune", NULL);
  f->list = test_make (f->t.store, "award_list", "title", "Học bổng Tết 2025", "occasion", "tet",
                       "school_year", "2024-2025", "org_unit_id", f->commune, "status", "approved", NULL);
  MAKE ("award_entry", "list_id", f->list, "org_unit_id", f->commune, "recipient_name", "Nguyễn Văn Đức",
        "birth_date", "2010-06-03", "category", "hardship", "amount", "#1250000", "status", "approved");
  MAKE ("award_entry", "list_id", f->list, "org_unit_id", f->commune, "recipient_name", "Trần Thị Ánh",
        "category", "merit", "amount", "#3000000", "status", "approved");
  /* Three citizens of seven: a share with a fraction in the figures. */
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("Người %d", i);
      g_autofree char *person = test_make (f->t.store, "person", "full_name", name,
                                           "org_unit_id", f->commune, NULL);

      MAKE ("registration", "model", "citizen", "year", "#2025", "org_unit_id", f->commune,
            "subject_kind", "person", "subject_id", person, "subject_name", name,
            "status", "registered");
    }
  MAKE ("population", "org_unit_id", f->commune, "year", "#2025", "model", "citizen", "eligible", "#7");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_free (f->commune);
  g_free (f->list);
  test_store_clear (&f->t);
}

/* Writes the list's export and the commune's figures under @locale into @dir; FALSE when the
 * locale is missing on this machine. */
static gboolean
write_files (Fixture    *f,
             const char *locale,
             char      **list_path,
             char      **report_path)
{
  KhExportOptions options = { .list_id = f->list };
  g_autoptr(GError) error = NULL;
  g_autofree char *old = g_strdup (setlocale (LC_ALL, NULL));
  json_object *report;
  gboolean ok;

  if (setlocale (LC_ALL, locale) == NULL)
    return FALSE;
  *list_path = g_strdup_printf ("%s/list-%s.xlsx", f->t.dir, locale);
  *report_path = g_strdup_printf ("%s/figures-%s.xlsx", f->t.dir, locale);
  ok = kh_export_file (f->t.store, "award_entry", *list_path, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  report = kh_report_compute (f->t.store, "N001", 2025, FALSE, &error);
  g_assert_no_error (error);
  ok = kh_report_export_xlsx (report, *report_path, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  json_object_put (report);
  setlocale (LC_ALL, old);
  return TRUE;
}

static void
assert_same_bytes (const char *a,
                   const char *b)
{
  g_autofree char *ca = NULL, *cb = NULL;
  gsize la, lb;

  g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
  g_assert_cmpmem (ca, la, cb, lb);
}

/* The first sheet of @xlsx as CSV, read by LibreOffice: cell values unformatted, with a '.'
 * decimal point. NULL when LibreOffice is not installed. */
static char *
read_with_libreoffice (const char *dir,
                       const char *xlsx)
{
  g_autofree char *soffice = g_find_program_in_path ("soffice");
  g_autofree char *profile = NULL;
  g_autofree char *outdir = g_build_filename (dir, "csv", NULL);
  g_autofree char *base = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  char *text = NULL;
  int status = 0;

  if (soffice == NULL)
    return NULL;
  profile = g_strdup_printf ("-env:UserInstallation=file://%s/lo-profile", dir);
  {
    /* Separator, quote, UTF-8, first line, column formats, language en-US, quoted text,
     * special numbers, "save cell contents as shown" off: the values, not their display. */
    const char *argv[] = {
      soffice, profile, "--headless", "--norestore", "--convert-to",
      "csv:Text - txt - csv (StarCalc):44,34,76,1,,1033,false,false,false",
      "--outdir", outdir, xlsx, NULL
    };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  }
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("soffice failed: %s%s", out, err);
  base = g_path_get_basename (xlsx);
  strcpy (strrchr (base, '.'), ".csv");
  csv = g_build_filename (outdir, base, NULL);
  if (!g_file_get_contents (csv, &text, NULL, &error))
    g_error ("soffice wrote no %s: %s%s (%s)", csv, out, err, error->message);
  return text;
}

static void
test_same_bytes (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *vi_list = NULL, *vi_report = NULL, *en_list = NULL, *en_report = NULL;
  g_autofree char *csv = NULL;

  /* The words are the same in both (LANGUAGE decides them, not LC_ALL), so only the
   * formatting of numbers could make the files differ. */
  g_setenv ("LANGUAGE", "en", TRUE);
  g_setenv ("SOURCE_DATE_EPOCH", "1735689600", TRUE);
  if (!write_files (f, "vi_VN.UTF-8", &vi_list, &vi_report)
      || !write_files (f, "en_US.UTF-8", &en_list, &en_report))
    {
      g_test_skip ("the vi_VN.UTF-8 or en_US.UTF-8 locale is missing (./dev makes them)");
      return;
    }
  g_unsetenv ("SOURCE_DATE_EPOCH");

  assert_same_bytes (vi_list, en_list);
  assert_same_bytes (vi_report, en_report);

  csv = read_with_libreoffice (f->t.dir, vi_list);
  if (csv == NULL)
    {
      g_test_skip ("LibreOffice is not installed (Debian package libreoffice-calc-nogui); "
                   "the files were compared but not read back");
      return;
    }
  g_assert_nonnull (strstr (csv, "Nguyễn Văn Đức"));
  g_assert_nonnull (strstr (csv, "1250000"));
  g_assert_nonnull (strstr (csv, "3000000"));
  /* The totals row's SUM, with its cached value. */
  g_assert_nonnull (strstr (csv, "4250000"));
  g_free (csv);

  /* The figures: three registered of seven eligible, a share (in per cent) LibreOffice must
   * read with its fraction. */
  csv = read_with_libreoffice (f->t.dir, vi_report);
  g_assert_nonnull (strstr (csv, "42.857142857"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lists/xlsx-locale/same-bytes", Fixture, NULL, fixture_setup, test_same_bytes, fixture_teardown);
  return g_test_run ();
}
