/* fuzz-util.h: what the reader fuzz targets share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <string.h>

#include "kh-sheet.h"

/* A row callback that touches every byte handed over, so a bad pointer shows under a
 * sanitizer; @user_data is a gsize that counts them. */
static inline gboolean
fuzz_count_cb (guint          row,
               const KhCell  *cells,
               guint          n_cells,
               gpointer       user_data,
               GError       **error)
{
  gsize *bytes = user_data;

  for (guint i = 0; i < n_cells; i++)
    *bytes += strlen (cells[i].text) + (gsize) cells[i].type;
  return TRUE;
}
