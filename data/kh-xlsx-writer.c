/* kh-xlsx-writer.c: one way to open and close a libxlsxwriter workbook
 *
 * libxlsxwriter writes the numbers in its XML (column widths, margins, cell values, cached
 * formula results) with the C library's printf, which uses the thread's LC_NUMERIC: under
 * vi_VN.UTF-8 a width came out as "12,7109375", a file Excel calls corrupt and whose fractions
 * LibreOffice drops. Every workbook is therefore written, from its creation to its close, with
 * LC_NUMERIC set to "C" for this thread only (uselocale(), so other threads and the rest of
 * the locale, the messages above all, are untouched), and every XLSX writer opens its workbook
 * here.
 *
 * The file's creation time is taken from SOURCE_DATE_EPOCH when that is set, the usual way to
 * ask for reproducible output; the tests use it to compare files byte for byte.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>

#include "kh-xlsx-writer.h"

struct _KhXlsxWriter
{
  lxw_workbook *workbook;
  locale_t      c_numeric;  /* the thread's locale with LC_NUMERIC "C", or 0 */
  locale_t      previous;   /* what uselocale() gave back, to put back on close */
};

/* Switches this thread to its own locale with LC_NUMERIC "C". */
static void
c_numeric_begin (KhXlsxWriter *w)
{
  locale_t current = uselocale ((locale_t) 0);
  locale_t base = duplocale (current);

  w->c_numeric = base != (locale_t) 0 ? newlocale (LC_NUMERIC_MASK, "C", base) : (locale_t) 0;
  if (w->c_numeric == (locale_t) 0)
    {
      /* newlocale() frees its base only when it succeeds. */
      if (base != (locale_t) 0)
        freelocale (base);
      g_warning ("Could not make a C numeric locale; numbers in XLSX files may be malformed");
      return;
    }
  w->previous = uselocale (w->c_numeric);
}

static void
c_numeric_end (KhXlsxWriter *w)
{
  if (w->c_numeric == (locale_t) 0)
    return;
  uselocale (w->previous);
  freelocale (w->c_numeric);
  w->c_numeric = (locale_t) 0;
}

/* Opens a workbook at @path (see workbook_new_opt()); NULL with errno set when it cannot. */
KhXlsxWriter *
kh_xlsx_writer_new (const char                 *path,
                    const lxw_workbook_options *options)
{
  KhXlsxWriter *w = g_new0 (KhXlsxWriter, 1);
  const char *epoch = g_getenv ("SOURCE_DATE_EPOCH");

  c_numeric_begin (w);
  w->workbook = workbook_new_opt (path, (lxw_workbook_options *) options);
  if (w->workbook == NULL)
    {
      int saved = errno;

      c_numeric_end (w);
      g_free (w);
      errno = saved;
      return NULL;
    }
  if (epoch != NULL && *epoch != '\0')
    {
      lxw_doc_properties props = { .created = (time_t) g_ascii_strtoll (epoch, NULL, 10) };

      workbook_set_properties (w->workbook, &props);
    }
  return w;
}

lxw_workbook *
kh_xlsx_writer_get (KhXlsxWriter *writer)
{
  return writer->workbook;
}

/* Writes the file out and frees @writer, putting the thread's locale back. */
lxw_error
kh_xlsx_writer_close (KhXlsxWriter *writer)
{
  lxw_error err = workbook_close (writer->workbook);

  c_numeric_end (writer);
  g_free (writer);
  return err;
}
