/* kh-sheet.h: rows of cells, as the CSV and XLSX readers hand them over
 *
 * The readers stream: each row is given to a callback and forgotten, so a sheet of a million
 * rows never sits in memory at once. Limits keep a hostile file from taking the machine down.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  KH_CELL_EMPTY,
  KH_CELL_TEXT,    /* text as it was written */
  KH_CELL_NUMBER,  /* a number in C notation ("1250000", "45123.5", "1E+6"); dates are serials */
  KH_CELL_BOOL,    /* "1" or "0" */
  KH_CELL_ERROR,   /* a spreadsheet error value such as "#DIV/0!" */
} KhCellType;

typedef struct
{
  KhCellType  type;
  const char *text;  /* never NULL; "" when empty */
} KhCell;

/* Called once per row that has at least one cell. @row is the row number a person sees in the
 * spreadsheet (1 for the first line). Return FALSE with @error set to stop reading. */
typedef gboolean (*KhRowFunc) (guint          row,
                               const KhCell  *cells,
                               guint          n_cells,
                               gpointer       user_data,
                               GError       **error);

typedef struct
{
  gsize max_bytes;    /* uncompressed bytes of the sheet (and of the shared strings) */
  guint max_rows;     /* rows, header included */
  guint max_columns;  /* cells in one row */
  gsize max_cell;     /* bytes in one cell */
} KhSheetLimits;

/* Generous for any real list, small enough that a hostile file fails fast. */
#define KH_SHEET_DEFAULT_MAX_BYTES   ((gsize) 1 << 30)
#define KH_SHEET_DEFAULT_MAX_ROWS    1048576   /* Excel's own limit */
#define KH_SHEET_DEFAULT_MAX_COLUMNS 256
#define KH_SHEET_DEFAULT_MAX_CELL    32767     /* Excel's own limit, in characters */

static inline void
kh_sheet_limits_init (KhSheetLimits *limits)
{
  limits->max_bytes = KH_SHEET_DEFAULT_MAX_BYTES;
  limits->max_rows = KH_SHEET_DEFAULT_MAX_ROWS;
  limits->max_columns = KH_SHEET_DEFAULT_MAX_COLUMNS;
  limits->max_cell = KH_SHEET_DEFAULT_MAX_CELL * 4;
}

G_END_DECLS
