/* kh-csv.c: reading and writing CSV as Excel and LibreOffice make it
 *
 * Schools send lists saved from Excel: UTF-8 with or without a byte order mark, "Unicode text"
 * (UTF-16 with a mark), separated by commas, or by semicolons where the decimal mark is a comma
 * (as in Vietnamese Windows), or by tabs; fields in double quotes may hold separators, doubled
 * quotes and line breaks. Anything else (a legacy TCVN3 or VNI file, a binary file) is refused
 * with the line where it went wrong and what to do, never guessed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-csv.h"
#include "kh-error.h"

static char
detect_separator (const char *p,
                  const char *end)
{
  gsize commas = 0, semicolons = 0, tabs = 0;
  gboolean quoted = FALSE;

  for (; p < end; p++)
    {
      if (*p == '"')
        quoted = !quoted;
      else if (quoted)
        continue;
      else if (*p == '\n' || *p == '\r')
        break;
      else if (*p == ',')
        commas++;
      else if (*p == ';')
        semicolons++;
      else if (*p == '\t')
        tabs++;
    }
  if (tabs > commas && tabs > semicolons)
    return '\t';
  if (semicolons > commas)
    return ';';
  return ',';
}

static guint
line_of (const char *start,
         const char *at)
{
  guint line = 1;

  for (const char *p = start; p < at; p++)
    if (*p == '\n')
      line++;
  return line;
}

typedef struct
{
  const KhSheetLimits *limits;
  GPtrArray           *cells;   /* of GString, reused */
  guint                n_cells;
  KhCell              *out;
  guint                out_size;
} Row;

static GString *
row_cell (Row *row)
{
  if (row->n_cells == row->cells->len)
    g_ptr_array_add (row->cells, g_string_sized_new (32));
  return row->cells->pdata[row->n_cells];
}

static void
free_gstring (gpointer data)
{
  g_string_free (data, TRUE);
}

static gboolean
emit_row (Row        *row,
          guint       number,
          KhRowFunc   func,
          gpointer    user_data,
          GError    **error)
{
  gboolean empty = TRUE;

  if (row->out_size < row->n_cells)
    {
      row->out = g_renew (KhCell, row->out, row->n_cells);
      row->out_size = row->n_cells;
    }
  for (guint i = 0; i < row->n_cells; i++)
    {
      GString *s = row->cells->pdata[i];

      row->out[i].text = s->str;
      row->out[i].type = s->len > 0 ? KH_CELL_TEXT : KH_CELL_EMPTY;
      if (s->len > 0)
        empty = FALSE;
    }
  if (empty)
    return TRUE;
  return func (number, row->out, row->n_cells, user_data, error);
}

static gboolean
parse (const char           *data,
       gsize                 length,
       const KhSheetLimits  *limits,
       KhRowFunc             func,
       gpointer              user_data,
       GError              **error)
{
  const char *p = data;
  const char *end = data + length;
  char sep;
  Row row = { 0 };
  guint record = 0;
  gboolean ok = TRUE;

  sep = detect_separator (p, end);
  row.limits = limits;
  row.cells = g_ptr_array_new_with_free_func (free_gstring);

  while (ok && p < end)
    {
      const char *record_start = p;
      gboolean end_of_record = FALSE;

      record++;
      if (record > limits->max_rows)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                       _("The file has more than %u rows; split it into smaller files."),
                       limits->max_rows);
          ok = FALSE;
          break;
        }
      row.n_cells = 0;
      while (!end_of_record)
        {
          GString *cell;

          if (row.n_cells >= limits->max_columns)
            {
              g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                           _("Row %u has more than %u columns."), record, limits->max_columns);
              ok = FALSE;
              break;
            }
          cell = row_cell (&row);
          g_string_truncate (cell, 0);
          row.n_cells++;

          if (p < end && *p == '"')
            {
              /* A quoted field runs to the next lone quote. */
              p++;
              for (;;)
                {
                  const char *q = memchr (p, '"', end - p);

                  if (q == NULL)
                    {
                      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                                   _("Line %u: a quoted field is never closed."),
                                   line_of (data, record_start));
                      ok = FALSE;
                      break;
                    }
                  g_string_append_len (cell, p, q - p);
                  p = q + 1;
                  if (p < end && *p == '"')
                    {
                      g_string_append_c (cell, '"');
                      p++;
                      continue;
                    }
                  break;
                }
              if (!ok)
                break;
              /* Text after the closing quote belongs to the field, as spreadsheets read it. */
              while (p < end && *p != sep && *p != '\n' && *p != '\r')
                g_string_append_c (cell, *p++);
            }
          else
            {
              const char *start = p;

              while (p < end && *p != sep && *p != '\n' && *p != '\r')
                p++;
              g_string_append_len (cell, start, p - start);
            }

          if (cell->len > limits->max_cell)
            {
              g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                           _("Line %u: a field is longer than %lu bytes."),
                           line_of (data, record_start), (gulong) limits->max_cell);
              ok = FALSE;
              break;
            }

          if (p >= end)
            end_of_record = TRUE;
          else if (*p == sep)
            p++;
          else
            {
              if (*p == '\r')
                p++;
              if (p < end && *p == '\n')
                p++;
              end_of_record = TRUE;
            }
        }
      if (ok)
        ok = emit_row (&row, record, func, user_data, error);
    }

  g_ptr_array_unref (row.cells);
  g_free (row.out);
  return ok;
}

gboolean
kh_csv_read_data (const char           *data,
                  gsize                 length,
                  const KhSheetLimits  *limits,
                  KhRowFunc             func,
                  gpointer              user_data,
                  GError              **error)
{
  KhSheetLimits defaults;
  g_autofree char *converted = NULL;
  const char *bad = NULL;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (limits == NULL)
    {
      kh_sheet_limits_init (&defaults);
      limits = &defaults;
    }
  if (length == 0)
    data = "";
  if (length > limits->max_bytes)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("The file is larger than %lu MB; split it into smaller files."),
                   (gulong) (limits->max_bytes >> 20));
      return FALSE;
    }

  if (length >= 4 && memcmp (data, "PK\003\004", 4) == 0)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                           _("This is an Excel workbook, not a CSV file; give it the .xlsx extension."));
      return FALSE;
    }
  if (length >= 2 && (((guchar) data[0] == 0xFF && (guchar) data[1] == 0xFE)
                      || ((guchar) data[0] == 0xFE && (guchar) data[1] == 0xFF)))
    {
      gsize written = 0;
      g_autoptr(GError) local = NULL;
      const char *from = (guchar) data[0] == 0xFF ? "UTF-16LE" : "UTF-16BE";

      converted = g_convert (data + 2, length - 2, "UTF-8", from, NULL, &written, &local);
      if (converted == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                       _("The file says it is Unicode (UTF-16) text but is not: %s"),
                       local->message);
          return FALSE;
        }
      data = converted;
      length = written;
    }
  else if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    {
      data += 3;
      length -= 3;
    }

  if (memchr (data, '\0', length) != NULL)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                           _("This is not a text file. Save the list as CSV UTF-8 or as .xlsx."));
      return FALSE;
    }
  if (!g_utf8_validate (data, length, &bad))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("Line %u is not UTF-8 text (the file may use an old Vietnamese encoding such "
                     "as TCVN3 or VNI). In Excel choose Save As → “CSV UTF-8”, or save it as .xlsx."),
                   line_of (data, bad));
      return FALSE;
    }
  return parse (data, length, limits, func, user_data, error);
}

gboolean
kh_csv_read_file (const char           *path,
                  const KhSheetLimits  *limits,
                  KhRowFunc             func,
                  gpointer              user_data,
                  GError              **error)
{
  KhSheetLimits defaults;
  g_autoptr(GMappedFile) map = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  if (limits == NULL)
    {
      kh_sheet_limits_init (&defaults);
      limits = &defaults;
    }
  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("Could not read “%s”: %s"), path, local->message);
      return FALSE;
    }
  return kh_csv_read_data (g_mapped_file_get_contents (map), g_mapped_file_get_length (map),
                           limits, func, user_data, error);
}

/* Appends one field, quoted when it must be. A text that a spreadsheet would run as a formula
 * (starting with =, +, -, @) gets a leading apostrophe, so a name typed as "=HYPERLINK(…)" is
 * shown, not executed, when the file is opened in Excel. */
void
kh_csv_append_cell (GString    *line,
                    const char *text,
                    char        separator,
                    gboolean    first)
{
  gboolean quote;

  if (!first)
    g_string_append_c (line, separator);
  if (text == NULL || *text == '\0')
    return;
  quote = strchr (text, separator) != NULL || strchr (text, '"') != NULL
          || strchr (text, '\n') != NULL || strchr (text, '\r') != NULL;
  if (quote)
    g_string_append_c (line, '"');
  if (strchr ("=+-@", text[0]) != NULL || text[0] == '\t')
    g_string_append_c (line, '\'');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (line, '"');
      g_string_append_c (line, *p);
    }
  if (quote)
    g_string_append_c (line, '"');
}
