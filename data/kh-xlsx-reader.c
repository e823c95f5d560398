/* kh-xlsx-reader.c: the first sheet of an Excel workbook, row by row
 *
 * An .xlsx file is a ZIP archive of XML parts. libzip opens the archive and libxml2's streaming
 * reader parses the parts straight out of it, so a sheet of a million rows is never held in
 * memory. A hostile file is stopped, not trusted: every part's uncompressed size is capped
 * (whatever its header claims, the bytes really read are counted, which defeats a ZIP bomb), a
 * document type declaration is refused (no entity tricks; Office never writes one), and the
 * network is never touched. Formulas are never evaluated: a cell's cached value is what counts.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <libxml/xmlreader.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "kh-error.h"
#include "kh-xlsx-reader.h"

#define NS_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define MAX_PART_SMALL (16u << 20) /* workbook.xml and its relationships */

typedef struct
{
  zip_file_t *file;
  gsize       read;
  gsize       cap;
  gboolean    over;
  gboolean    failed;
} PartInput;

typedef struct
{
  char *message;
  int   line;
} XmlFailure;

static int
part_read_cb (void *context,
              char *buffer,
              int   len)
{
  PartInput *in = context;
  zip_int64_t n;

  if (in->read >= in->cap)
    {
      /* One byte more than allowed tells a file at the cap from one beyond it. */
      char probe;

      if (zip_fread (in->file, &probe, 1) > 0)
        {
          in->over = TRUE;
          return -1;
        }
      return 0;
    }
  n = zip_fread (in->file, buffer, MIN ((gsize) len, in->cap - in->read));
  if (n < 0)
    {
      in->failed = TRUE;
      return -1;
    }
  in->read += (gsize) n;
  return (int) n;
}

static int
part_close_cb (void *context)
{
  return 0;
}

static void
xml_error_cb (void        *data,
              const xmlError *err)
{
  XmlFailure *failure = data;

  if (failure->message == NULL && err != NULL && err->level >= XML_ERR_ERROR)
    {
      failure->message = g_strchomp (g_strdup (err->message ? err->message : "?"));
      failure->line = err->line;
    }
}

typedef struct
{
  zip_t       *zip;
  const char  *part;
  PartInput    input;
  XmlFailure   failure;
  xmlTextReaderPtr reader;
} Part;

static void
broken (GError     **error,
        const char  *part,
        const char  *why)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
               _("The workbook is damaged (%s: %s). Open it in Excel or LibreOffice and save it again."),
               part, why);
}

static gboolean
part_open (Part        *p,
           zip_t       *zip,
           const char  *name,
           gsize        cap,
           gboolean     optional,
           GError     **error)
{
  zip_stat_t st;
  zip_int64_t index;

  memset (p, 0, sizeof *p);
  p->zip = zip;
  p->part = name;
  index = zip_name_locate (zip, name, ZIP_FL_NOCASE);
  if (index < 0)
    {
      if (!optional)
        broken (error, name, _("the part is missing"));
      return FALSE;
    }
  zip_stat_init (&st);
  if (zip_stat_index (zip, (zip_uint64_t) index, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE)
      && st.size > cap)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("The workbook is too large to import (%s holds more than %lu MB); split it into smaller files."),
                   name, (gulong) (cap >> 20));
      return FALSE;
    }
  p->input.file = zip_fopen_index (zip, (zip_uint64_t) index, 0);
  if (p->input.file == NULL)
    {
      broken (error, name, zip_strerror (zip));
      return FALSE;
    }
  p->input.cap = cap;
  p->reader = xmlReaderForIO (part_read_cb, part_close_cb, &p->input, name, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
  if (p->reader == NULL)
    {
      zip_fclose (p->input.file);
      p->input.file = NULL;
      broken (error, name, _("it cannot be parsed"));
      return FALSE;
    }
  xmlTextReaderSetStructuredErrorHandler (p->reader, (xmlStructuredErrorFunc) xml_error_cb, &p->failure);
  return TRUE;
}

/* Reads the next node; 1 on a node, 0 at the end, -1 with @error set. */
static int
part_next (Part    *p,
           GError **error)
{
  int ret = xmlTextReaderRead (p->reader);

  if (ret == 1 && xmlTextReaderNodeType (p->reader) == XML_READER_TYPE_DOCUMENT_TYPE)
    {
      broken (error, p->part, _("it declares a document type, which a workbook never does"));
      return -1;
    }
  if (ret < 0)
    {
      if (p->input.over)
        g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                     _("The workbook is too large to import (%s unpacks to more than %lu MB); split it into smaller files."),
                     p->part, (gulong) (p->input.cap >> 20));
      else if (p->input.failed)
        broken (error, p->part, zip_file_strerror (p->input.file));
      else
        {
          g_autofree char *why = g_strdup_printf (_("line %d: %s"), p->failure.line,
                                                  p->failure.message ? p->failure.message : "?");
          broken (error, p->part, why);
        }
      return -1;
    }
  return ret;
}

static void
part_close (Part *p)
{
  if (p->reader != NULL)
    xmlFreeTextReader (p->reader);
  if (p->input.file != NULL)
    zip_fclose (p->input.file);
  g_free (p->failure.message);
  memset (p, 0, sizeof *p);
}

static gboolean
is_element (Part       *p,
            const char *name)
{
  return xmlTextReaderNodeType (p->reader) == XML_READER_TYPE_ELEMENT
         && strcmp ((const char *) xmlTextReaderConstLocalName (p->reader), name) == 0;
}

static gboolean
is_end (Part       *p,
        const char *name)
{
  return xmlTextReaderNodeType (p->reader) == XML_READER_TYPE_END_ELEMENT
         && strcmp ((const char *) xmlTextReaderConstLocalName (p->reader), name) == 0;
}

static gboolean
is_text (Part *p)
{
  int t = xmlTextReaderNodeType (p->reader);

  return t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA
         || t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE || t == XML_READER_TYPE_WHITESPACE;
}

/* The workbook: which part is the first sheet, and which date system it uses. */
static char *
find_first_sheet (zip_t     *zip,
                  gboolean  *date1904,
                  GError   **error)
{
  Part p;
  g_autofree char *rid = NULL;
  char *target = NULL;
  int ret;

  *date1904 = FALSE;
  if (part_open (&p, zip, "xl/workbook.xml", MAX_PART_SMALL, FALSE, error))
    {
      while ((ret = part_next (&p, error)) == 1)
        {
          if (is_element (&p, "workbookPr"))
            {
              g_autofree char *v = (char *) xmlTextReaderGetAttribute (p.reader, BAD_CAST "date1904");

              *date1904 = v != NULL && (strcmp (v, "1") == 0 || g_ascii_strcasecmp (v, "true") == 0);
            }
          else if (is_element (&p, "sheet") && rid == NULL)
            {
              xmlChar *v = xmlTextReaderGetAttributeNs (p.reader, BAD_CAST "id", BAD_CAST NS_REL);

              rid = g_strdup ((const char *) v);
              xmlFree (v);
            }
        }
      part_close (&p);
      if (ret < 0)
        return NULL;
    }
  else
    return NULL;

  if (rid != NULL && part_open (&p, zip, "xl/_rels/workbook.xml.rels", MAX_PART_SMALL, TRUE, NULL))
    {
      while (target == NULL && part_next (&p, NULL) == 1)
        if (is_element (&p, "Relationship"))
          {
            g_autofree char *id = (char *) xmlTextReaderGetAttribute (p.reader, BAD_CAST "Id");
            g_autofree char *t = (char *) xmlTextReaderGetAttribute (p.reader, BAD_CAST "Target");

            if (id != NULL && t != NULL && strcmp (id, rid) == 0 && strstr (t, "..") == NULL)
              target = t[0] == '/' ? g_strdup (t + 1) : g_strconcat ("xl/", t, NULL);
          }
      part_close (&p);
    }
  if (target == NULL)
    target = g_strdup ("xl/worksheets/sheet1.xml");
  return target;
}

typedef struct
{
  GStringChunk *chunk;
  GPtrArray    *strings;   /* borrowed from chunk */
} SharedStrings;

static gboolean
read_shared_strings (zip_t                *zip,
                     const KhSheetLimits  *limits,
                     SharedStrings        *ss,
                     GError              **error)
{
  Part p;
  g_autoptr(GString) text = g_string_new (NULL);
  gboolean in_si = FALSE, in_t = FALSE;
  int skip_depth = 0;   /* inside <rPh> (phonetic runs), whose text is not the cell's */
  int ret;

  ss->chunk = g_string_chunk_new (64 * 1024);
  ss->strings = g_ptr_array_new ();
  if (!part_open (&p, zip, "xl/sharedStrings.xml", limits->max_bytes, TRUE, error))
    return error == NULL || *error == NULL;

  while ((ret = part_next (&p, error)) == 1)
    {
      if (is_element (&p, "si"))
        {
          in_si = TRUE;
          g_string_truncate (text, 0);
          if (xmlTextReaderIsEmptyElement (p.reader))
            {
              g_ptr_array_add (ss->strings, g_string_chunk_insert (ss->chunk, ""));
              in_si = FALSE;
            }
        }
      else if (is_end (&p, "si"))
        {
          g_ptr_array_add (ss->strings, g_string_chunk_insert_len (ss->chunk, text->str, text->len));
          in_si = FALSE;
        }
      else if (is_element (&p, "rPh") && !xmlTextReaderIsEmptyElement (p.reader))
        skip_depth++;
      else if (is_end (&p, "rPh"))
        skip_depth--;
      else if (is_element (&p, "t") && !xmlTextReaderIsEmptyElement (p.reader))
        in_t = TRUE;
      else if (is_end (&p, "t"))
        in_t = FALSE;
      else if (in_si && in_t && skip_depth == 0 && is_text (&p))
        {
          g_string_append (text, (const char *) xmlTextReaderConstValue (p.reader));
          if (text->len > limits->max_cell)
            {
              broken (error, p.part, _("a text is longer than any cell can hold"));
              ret = -1;
              break;
            }
        }
    }
  part_close (&p);
  return ret == 0;
}

static void
shared_strings_clear (SharedStrings *ss)
{
  g_clear_pointer (&ss->strings, g_ptr_array_unref);
  if (ss->chunk != NULL)
    g_string_chunk_free (ss->chunk);
  ss->chunk = NULL;
}

/* "BC12" → column 54 (0-based), row 12. Returns FALSE for anything else. */
static gboolean
parse_ref (const char *ref,
           guint      *column,
           guint      *row)
{
  guint64 c = 0, r = 0;
  const char *p = ref;

  while (g_ascii_isalpha (*p) && c < 100000)
    c = c * 26 + (g_ascii_toupper (*p++) - 'A' + 1);
  if (c == 0)
    return FALSE;
  while (g_ascii_isdigit (*p) && r < G_MAXUINT32)
    r = r * 10 + (*p++ - '0');
  if (*p != '\0' || c > G_MAXUINT32)
    return FALSE;
  *column = (guint) (c - 1);
  if (row != NULL)
    *row = (guint) r;
  return TRUE;
}

static void
free_gstring (gpointer data)
{
  g_string_free (data, TRUE);
}

typedef struct
{
  const KhSheetLimits *limits;
  SharedStrings       *ss;
  GPtrArray           *values;  /* GString per column */
  GArray              *types;   /* KhCellType per column */
  guint                width;   /* columns used in this row */
  KhCell              *out;
  guint                out_size;
} SheetRow;

static gboolean
emit_row (SheetRow   *row,
          guint       number,
          KhRowFunc   func,
          gpointer    user_data,
          GError    **error)
{
  gboolean empty = TRUE;

  if (row->width == 0)
    return TRUE;
  if (row->out_size < row->width)
    {
      row->out = g_renew (KhCell, row->out, row->width);
      row->out_size = row->width;
    }
  for (guint i = 0; i < row->width; i++)
    {
      GString *s = row->values->pdata[i];

      row->out[i].type = g_array_index (row->types, KhCellType, i);
      row->out[i].text = s->str;
      if (row->out[i].type != KH_CELL_EMPTY)
        empty = FALSE;
    }
  if (empty)
    return TRUE;
  return func (number, row->out, row->width, user_data, error);
}

/* A <row> starts: its number is its r attribute when that goes forward, else the one after
 * the last. Fails past the row limit. */
static gboolean
start_row (Part                 *p,
           const KhSheetLimits  *limits,
           guint                *row_number,
           guint                *rows_seen,
           GError              **error)
{
  g_autofree char *r = (char *) xmlTextReaderGetAttribute (p->reader, BAD_CAST "r");
  guint64 n = r != NULL ? g_ascii_strtoull (r, NULL, 10) : 0;

  *row_number = n > *row_number && n <= G_MAXUINT32 ? (guint) n : *row_number + 1;
  if (++*rows_seen > limits->max_rows || *row_number > G_MAXUINT32 - 1)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("The sheet has more than %u rows; split it into smaller files."),
                   limits->max_rows);
      return FALSE;
    }
  return TRUE;
}

/* What a finished cell holds, from its t attribute and its value: shared strings are looked
 * up, an ISO date loses its time, and an empty formula cell is an error (never computed).
 * Fails if the cell refers to a shared string that is not there. */
static gboolean
cell_value (SheetRow     *row,
            const char   *part,
            const char   *cell_type,
            GString      *value,
            gboolean      has_formula,
            KhCellType   *type_out,
            const char  **text_out,
            GError      **error)
{
  KhCellType type = KH_CELL_EMPTY;
  const char *text = value->str;
  const char *t = cell_type != NULL ? cell_type : "n";

  if (strcmp (t, "inlineStr") == 0 || strcmp (t, "str") == 0)
    type = value->len > 0 ? KH_CELL_TEXT : KH_CELL_EMPTY;
  else if (strcmp (t, "s") == 0)
    {
      char *end = NULL;
      guint64 index = g_ascii_strtoull (value->str, &end, 10);

      if (value->len == 0 || *end != '\0' || index >= row->ss->strings->len)
        {
          broken (error, part, _("a cell refers to a text that is not there"));
          return FALSE;
        }
      text = row->ss->strings->pdata[index];
      type = *text != '\0' ? KH_CELL_TEXT : KH_CELL_EMPTY;
    }
  else if (strcmp (t, "b") == 0)
    type = value->len > 0 ? KH_CELL_BOOL : KH_CELL_EMPTY;
  else if (strcmp (t, "e") == 0)
    type = KH_CELL_ERROR;
  else if (strcmp (t, "d") == 0)
    {
      /* An ISO 8601 date, perhaps with a time: the date is what counts. */
      if (value->len > 10 && value->str[10] == 'T')
        g_string_truncate (value, 10);
      text = value->str;
      type = value->len > 0 ? KH_CELL_TEXT : KH_CELL_EMPTY;
    }
  else
    type = value->len > 0 ? KH_CELL_NUMBER : KH_CELL_EMPTY;

  if (type == KH_CELL_EMPTY && has_formula)
    type = KH_CELL_ERROR;   /* a formula that was never computed */
  *type_out = type;
  *text_out = text;
  return TRUE;
}

/* Puts a cell that is not empty into @row at @column, blanking the columns skipped since the
 * last one. Fails past the column limit. */
static gboolean
put_cell (SheetRow    *row,
          guint        row_number,
          guint        column,
          const char  *text,
          KhCellType   type,
          GError     **error)
{
  if (column >= row->limits->max_columns)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("Row %u has more than %u columns."), row_number, row->limits->max_columns);
      return FALSE;
    }
  while (row->values->len <= column)
    {
      KhCellType empty = KH_CELL_EMPTY;

      g_ptr_array_add (row->values, g_string_new (NULL));
      g_array_append_val (row->types, empty);
    }
  for (guint i = row->width; i < column; i++)
    {
      g_string_truncate (row->values->pdata[i], 0);
      g_array_index (row->types, KhCellType, i) = KH_CELL_EMPTY;
    }
  g_string_assign (row->values->pdata[column], text);
  g_array_index (row->types, KhCellType, column) = type;
  row->width = MAX (row->width, column + 1);
  return TRUE;
}

static gboolean
read_sheet (zip_t                *zip,
            const char           *name,
            const KhSheetLimits  *limits,
            SharedStrings        *ss,
            KhRowFunc             func,
            gpointer              user_data,
            GError              **error)
{
  Part p;
  SheetRow row = { 0 };
  g_autoptr(GString) value = g_string_new (NULL);
  g_autofree char *cell_type = NULL;
  gboolean in_row = FALSE, in_cell = FALSE, in_v = FALSE, in_is = FALSE, in_t = FALSE;
  gboolean has_formula = FALSE;
  int skip_depth = 0;
  guint row_number = 0, rows_seen = 0, column = 0, next_column = 0;
  int ret;
  gboolean ok = TRUE;

  if (!part_open (&p, zip, name, limits->max_bytes, FALSE, error))
    return FALSE;

  row.limits = limits;
  row.ss = ss;
  row.values = g_ptr_array_new_with_free_func (free_gstring);
  row.types = g_array_new (FALSE, TRUE, sizeof (KhCellType));

  while (ok && (ret = part_next (&p, error)) == 1)
    {
      if (is_element (&p, "row"))
        {
          if (!start_row (&p, limits, &row_number, &rows_seen, error))
            {
              ok = FALSE;
              break;
            }
          row.width = 0;
          next_column = 0;
          in_row = !xmlTextReaderIsEmptyElement (p.reader);
        }
      else if (is_end (&p, "row") && in_row)
        {
          in_row = FALSE;
          ok = emit_row (&row, row_number, func, user_data, error);
        }
      else if (in_row && is_element (&p, "c"))
        {
          g_autofree char *r = (char *) xmlTextReaderGetAttribute (p.reader, BAD_CAST "r");

          g_free (cell_type);
          cell_type = (char *) xmlTextReaderGetAttribute (p.reader, BAD_CAST "t");
          if (r == NULL || !parse_ref (r, &column, NULL))
            column = next_column;
          next_column = column + 1;
          g_string_truncate (value, 0);
          has_formula = FALSE;
          in_cell = !xmlTextReaderIsEmptyElement (p.reader);
        }
      else if (in_cell && is_element (&p, "f"))
        has_formula = TRUE;
      else if (in_cell && is_element (&p, "v") && !xmlTextReaderIsEmptyElement (p.reader))
        in_v = TRUE;
      else if (is_end (&p, "v"))
        in_v = FALSE;
      else if (in_cell && is_element (&p, "is") && !xmlTextReaderIsEmptyElement (p.reader))
        in_is = TRUE;
      else if (is_end (&p, "is"))
        in_is = FALSE;
      else if (in_is && is_element (&p, "rPh") && !xmlTextReaderIsEmptyElement (p.reader))
        skip_depth++;
      else if (in_is && is_end (&p, "rPh"))
        skip_depth--;
      else if (in_is && is_element (&p, "t") && !xmlTextReaderIsEmptyElement (p.reader))
        in_t = TRUE;
      else if (is_end (&p, "t"))
        in_t = FALSE;
      else if ((in_v || (in_is && in_t && skip_depth == 0)) && is_text (&p))
        {
          g_string_append (value, (const char *) xmlTextReaderConstValue (p.reader));
          if (value->len > limits->max_cell)
            {
              g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                           _("Row %u: a cell is longer than %lu bytes."),
                           row_number, (gulong) limits->max_cell);
              ok = FALSE;
            }
        }
      else if (in_cell && is_end (&p, "c"))
        {
          KhCellType type;
          const char *text;

          in_cell = FALSE;
          if (!cell_value (&row, p.part, cell_type, value, has_formula, &type, &text, error))
            {
              ok = FALSE;
              break;
            }
          if (type == KH_CELL_EMPTY)
            continue;
          if (!put_cell (&row, row_number, column, text, type, error))
            {
              ok = FALSE;
              break;
            }
        }
    }
  if (ok && ret < 0)
    ok = FALSE;
  part_close (&p);
  g_ptr_array_unref (row.values);
  g_array_unref (row.types);
  g_free (row.out);
  return ok;
}

static gboolean
read_archive (zip_t                *zip,
              const KhSheetLimits  *limits,
              KhRowFunc             func,
              gpointer              user_data,
              gboolean             *date1904,
              GError              **error)
{
  SharedStrings ss = { 0 };
  g_autofree char *sheet = NULL;
  gboolean d1904 = FALSE;
  gboolean ok;

  sheet = find_first_sheet (zip, &d1904, error);
  if (sheet == NULL)
    return FALSE;
  if (date1904 != NULL)
    *date1904 = d1904;
  ok = read_shared_strings (zip, limits, &ss, error)
       && read_sheet (zip, sheet, limits, &ss, func, user_data, error);
  shared_strings_clear (&ss);
  return ok;
}

static void
not_a_workbook (GError    **error,
                zip_error_t *zerr)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
               _("This is not an Excel workbook (.xlsx): %s. An old .xls file must be saved as .xlsx first."),
               zip_error_strerror (zerr));
}

gboolean
kh_xlsx_read_data (const char           *data,
                   gsize                 length,
                   const KhSheetLimits  *limits,
                   KhRowFunc             func,
                   gpointer              user_data,
                   gboolean             *date1904,
                   GError              **error)
{
  KhSheetLimits defaults;
  zip_error_t zerr;
  zip_source_t *src;
  zip_t *zip;
  gboolean ok;

  g_return_val_if_fail (func != NULL, FALSE);

  if (limits == NULL)
    {
      kh_sheet_limits_init (&defaults);
      limits = &defaults;
    }
  xmlInitParser ();
  zip_error_init (&zerr);
  src = zip_source_buffer_create (length > 0 ? data : "", length, 0, &zerr);
  if (src == NULL)
    {
      not_a_workbook (error, &zerr);
      zip_error_fini (&zerr);
      return FALSE;
    }
  zip = zip_open_from_source (src, ZIP_RDONLY, &zerr);
  if (zip == NULL)
    {
      zip_source_free (src);
      not_a_workbook (error, &zerr);
      zip_error_fini (&zerr);
      return FALSE;
    }
  zip_error_fini (&zerr);
  ok = read_archive (zip, limits, func, user_data, date1904, error);
  zip_discard (zip);
  return ok;
}

gboolean
kh_xlsx_read_file (const char           *path,
                   const KhSheetLimits  *limits,
                   KhRowFunc             func,
                   gpointer              user_data,
                   gboolean             *date1904,
                   GError              **error)
{
  KhSheetLimits defaults;
  zip_error_t zerr;
  zip_t *zip;
  int code = 0;
  gboolean ok;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (limits == NULL)
    {
      kh_sheet_limits_init (&defaults);
      limits = &defaults;
    }
  xmlInitParser ();
  zip = zip_open (path, ZIP_RDONLY, &code);
  if (zip == NULL)
    {
      if (code == ZIP_ER_OPEN || code == ZIP_ER_NOENT || code == ZIP_ER_READ)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                       _("Could not read “%s”: %s"), path, g_strerror (errno));
          return FALSE;
        }
      zip_error_init_with_code (&zerr, code);
      not_a_workbook (error, &zerr);
      zip_error_fini (&zerr);
      return FALSE;
    }
  ok = read_archive (zip, limits, func, user_data, date1904, error);
  zip_discard (zip);
  return ok;
}

/* Excel counts days from 1900-01-01 as 1, and believes 1900 was a leap year (serial 60 is a
 * 29 February that never was); the 1904 system, from old Macs, counts from 1904-01-01 as 0. */
gboolean
kh_xlsx_serial_to_date (double    serial,
                        gboolean  date1904,
                        char    **iso)
{
  g_autoptr(GDate) date = NULL;
  guint days;

  if (!(serial >= 1 && serial < 2958466))   /* up to 9999-12-31; refuses NaN */
    return FALSE;
  days = (guint) serial;
  date = g_date_new_dmy (1, G_DATE_JANUARY, date1904 ? 1904 : 1900);
  if (date1904)
    g_date_add_days (date, days);
  else if (days == 60)
    return FALSE;
  else
    g_date_add_days (date, days < 60 ? days - 1 : days - 2);
  if (iso != NULL)
    *iso = g_strdup_printf ("%04u-%02u-%02u", g_date_get_year (date), g_date_get_month (date),
                            g_date_get_day (date));
  return TRUE;
}
